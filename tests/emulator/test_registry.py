"""Network Registry: cursor paging, profile lifecycle, catalogue, errors."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from vonage_async.emulator import Emulator

PROFILE = {
    "countries": ["ES", "GB"],
    "contact_role": "CTO",
    "name": "Test profile",
    "organisation_type": "forProfitOrganisation",
    "tax_number": "B123",
    "privacy_policy_url": "https://example.com/privacy",
    "privacy_policy_manager_email": "privacy@example.com",
    "terms_and_conditions_accepted": True,
    "business_information": {
        "address_street_1": "Main Street 5",
        "postal_code": "W1 5DU",
        "country": "GB",
        "city": "London",
    },
}


async def _all(
    http: aiohttp.ClientSession, url: str, key: str, headers: dict[str, str]
) -> list[Any]:
    items: list[Any] = []
    next_url: str | None = url
    while next_url:
        async with http.get(next_url, headers=headers) as r:
            assert r.status == 200, await r.text()
            page = await r.json()
        assert page["_links"]["self"]["href"].startswith("http://127.0.0.1")
        items += page["_embedded"][key]
        next_url = page["_links"].get("next", {}).get("href")
    return items


@pytest.mark.asyncio
async def test_cursor_paging_follows_next_links(
    emulator: Emulator, http: aiohttp.ClientSession, registry: dict[str, str]
) -> None:
    url = emulator.network_registry_url + "/catalogue/csps?countries=ES,GB,DE"
    csps = await _all(http, url, "csps", registry)
    assert len(csps) == 10 and {c["country"] for c in csps} == {"ES", "GB", "DE"}
    everyone = await _all(http, emulator.network_registry_url + "/catalogue/csps", "csps", registry)
    assert len(everyone) == 22  # three pages of (at most) ten, by the next links
    # Seed 004 documents only `next` (and countries, all) for the catalogue's CSP list.
    async with http.get(url + "&limit=3", headers=registry) as r:
        assert r.status == 400
        assert (await r.json())["invalid_parameters"][0]["name"] == "limit"
    async with http.get(url + "&next=garbage!", headers=registry) as r:
        assert r.status == 400
        assert {"title", "detail"} <= (await r.json()).keys()


@pytest.mark.asyncio
async def test_business_and_application_profile_lifecycle(
    emulator: Emulator, http: aiohttp.ClientSession, registry: dict[str, str]
) -> None:
    base = emulator.network_registry_url
    async with http.post(base + "/business-profiles", json=PROFILE, headers=registry) as r:
        assert r.status == 201
        bp = await r.json()
    assert bp["status"]["status"] == "pending"
    csps = await _all(
        http,
        f"{base}/business-profiles/{bp['id']}/csps?limit=2",
        "business_profile_csp_statuses",
        registry,
    )
    assert {c["csp_id"] for c in csps} >= {"telefonica_es", "ee_gb"}
    every = await _all(
        http, f"{base}/business-profiles/*/csps", "business_profile_csp_statuses", registry
    )
    assert len(every) > len(csps)

    change = {"name": "Renamed"}
    async with http.put(
        f"{base}/business-profiles/{bp['id']}/change-request", json=change, headers=registry
    ) as r:
        assert r.status in (200, 201)
        assert (await r.json())["change_request"]["status"]["status"] == "pending"
    async with http.delete(
        f"{base}/business-profiles/{bp['id']}/change-request", headers=registry
    ) as r:
        assert r.status == 204 and await r.read() == b""
    async with http.delete(
        f"{base}/business-profiles/{bp['id']}/change-request", headers=registry
    ) as r:
        assert r.status == 404

    app_body = {
        "business_profile_id": bp["id"],
        "name": "App",
        "category_id": "finance",
        "network_apis": [
            {"network_api_id": "sim-swap", "purpose_ids": ["fraudPreventionAndDetection"]}
        ],
        "terms_and_conditions_accepted": True,
    }
    async with http.post(base + "/application-profiles", json=app_body, headers=registry) as r:
        assert r.status == 201
        ap = await r.json()
    async with http.post(
        f"{base}/application-profiles/{ap['id']}/shared", json={}, headers=registry
    ) as r:
        assert r.status == 204
    shared = await _all(
        http, f"{base}/application-profiles/{ap['id']}/shared", "account_ids", registry
    )
    assert shared == [{"account_id": emulator.state.partner_account_id}]
    async with http.delete(
        f"{base}/application-profiles/{ap['id']}/shared/{emulator.state.partner_account_id}",
        headers=registry,
    ) as r:
        assert r.status == 204
    async with http.post(
        f"{base}/application-profiles/{ap['id']}/notification/dismiss", headers=registry
    ) as r:
        assert r.status == 204

    async with http.delete(f"{base}/business-profiles/{bp['id']}", headers=registry) as r:
        assert r.status == 204
    async with http.get(f"{base}/application-profiles/{ap['id']}", headers=registry) as r:
        assert (await r.json())["delete_at"] is not None
    async with http.post(f"{base}/business-profiles/{bp['id']}/undelete", headers=registry) as r:
        assert r.status == 204
    async with http.get(f"{base}/business-profiles/{bp['id']}", headers=registry) as r:
        assert (await r.json())["delete_at"] is None


@pytest.mark.asyncio
async def test_shared_profiles_and_validation_errors(
    emulator: Emulator, http: aiohttp.ClientSession, registry: dict[str, str]
) -> None:
    base = emulator.network_registry_url
    shared = await _all(
        http, base + "/business-profiles?shared=true", "business_profiles", registry
    )
    assert [p["account_id"] for p in shared] == [emulator.state.partner_account_id]
    bad = dict(PROFILE, countries=["XX"])
    async with http.post(base + "/business-profiles", json=bad, headers=registry) as r:
        assert r.status == 400
        body = await r.json()
        assert body["invalid_parameters"][0]["name"] == "countries" and body["detail"]
    async with http.get(base + "/catalogue/vetting-levels/standard_level", headers=registry) as r:
        assert (await r.json())["extra_fields"]
    async with http.get(base + "/catalogue/countries") as r:
        assert r.status == 401
        assert (await r.json())["title"] == "Unauthorized"
