"""Provisioning HAL paging and Telephony v3 calls, legs and devices."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from vonage_async.emulator import Emulator

PROV = "/provisioning/api/accounts/self"
CALLS = "/telephony/v3/cc/accounts/self/calls"


async def _get(
    http: aiohttp.ClientSession, url: str, headers: dict[str, str], **params: Any
) -> Any:
    async with http.get(url, headers=headers, params=params) as r:
        assert r.status == 200, await r.text()
        return await r.json()


@pytest.mark.asyncio
async def test_hal_pages_follow_links_and_keep_filters(
    emulator: Emulator, http: aiohttp.ClientSession, vbc: dict[str, str]
) -> None:
    page = await _get(http, emulator.vbc_url + PROV + "/extensions", vbc, page_size=3)
    assert (page["page"], page["total_pages"], page["total_items"]) == (1, 3, 8)
    assert "prev" not in page["_links"]
    seen = [e["extension_number"] for e in page["_embedded"]["data"]]
    while "next" in page["_links"]:
        page = await _get(http, page["_links"]["next"]["href"], vbc)
        seen += [e["extension_number"] for e in page["_embedded"]["data"]]
    assert seen == [str(n) for n in range(301, 309)]

    location_id = next(iter(emulator.state.locations))
    filtered = await _get(
        http, emulator.vbc_url + PROV + "/extensions", vbc, location_id=location_id, page_size=2
    )
    assert all(e["location_id"] == location_id for e in filtered["_embedded"]["data"])
    assert f"location_id={location_id}" in filtered["_links"]["next"]["href"]

    user = emulator.state.login_user
    users = await _get(http, emulator.vbc_url + PROV + "/users", vbc, login_name=user.login_name)
    assert [u["id"] for u in users["_embedded"]["data"]] == [user.id]
    one = await _get(http, emulator.vbc_url + PROV + f"/users/{user.id}", vbc)
    assert one["_embedded"]["data"]["extensions"][0]["extension_number"] == "301"


@pytest.mark.asyncio
async def test_extension_by_number_or_external_id_and_errors(
    emulator: Emulator, http: aiohttp.ClientSession, vbc: dict[str, str]
) -> None:
    base = emulator.vbc_url + PROV + "/extensions/"
    by_number = await _get(http, base + "302", vbc)
    external_id = by_number["_embedded"]["data"]["external_id"]
    by_id = await _get(http, base + external_id, vbc)
    assert by_id["_embedded"]["extension"]["extension_number"] == "302"
    async with http.get(base + "nosuchthing", headers=vbc) as r:
        assert r.status == 404
        assert await r.json() == {"msg": "Extension not found", "status": 404}
    async with http.get(emulator.vbc_url + PROV + "/users?page=zero", headers=vbc) as r:
        assert r.status == 400
        body = await r.json()
        assert body["invalid_parameters"][0]["name"] == "page"
        assert {"status", "title", "instance"} <= body.keys()


@pytest.mark.asyncio
async def test_telephony_pages_and_a_call_lifecycle(
    emulator: Emulator, http: aiohttp.ClientSession, vbc: dict[str, str]
) -> None:
    for ext in ("303", "304", "305"):
        emulator.place_call(ext, "17325550000", hold_forever=True)
    body = {
        "from": {"destination": "301", "type": "extension"},
        "to": {"destination": "14155550199", "type": "pstn"},
        "type": "click2dial",
    }
    async with http.post(emulator.vbc_url + CALLS, json=body, headers=vbc) as r:
        assert r.status == 200
        call_id = (await r.text()).strip()

    page = await _get(http, emulator.vbc_url + CALLS, vbc, page_size=3)
    assert (page["total"], page["pages"], page["current_page"]) == (4, 2, 1)
    assert page["next_page_uri"].startswith("/cc/accounts/self/calls?")
    last = await _get(http, emulator.vbc_url + "/telephony/v3" + page["next_page_uri"], vbc)
    assert len(last["calls"]) == 1 and last["next_page"] is None

    call = await _get(http, emulator.vbc_url + f"{CALLS}/{call_id}", vbc)
    assert call["status"] == "ringing" and call["direction"] == "outbound"
    await asyncio.sleep(0.3)  # ring_seconds=0.2
    legs = await _get(http, emulator.vbc_url + f"{CALLS}/{call_id}/legs", vbc)
    assert {leg["status"] for leg in legs} == {"on-call"}
    leg_url = emulator.vbc_url + f"{CALLS}/{call_id}/legs/{legs[0]['leg_id']}"
    async with http.put(leg_url, json={"state": "held"}, headers=vbc) as r:
        assert r.status == 200
        assert (await r.json())["call_state"] == "held"
    async with http.put(leg_url, json={"state": "held"}, headers=vbc) as r:
        assert r.status == 409
    for change in (
        {"state": "active"},
        {"dtmf": "*123#"},
        {"recording": "start", "service": "ccr"},
    ):
        async with http.put(leg_url, json=change, headers=vbc) as r:
            assert r.status == 200, change
    async with http.put(leg_url, json={"bogus": 1}, headers=vbc) as r:
        assert r.status == 400
        assert set(await r.json()) == {"code", "message"}
    async with http.delete(leg_url, headers=vbc) as r:
        assert r.status == 204
    async with http.get(emulator.vbc_url + f"{CALLS}/{call_id}", headers=vbc) as r:
        assert r.status == 404
    history = [h for h in emulator.state.history if h.presence_call_id]
    assert history[-1].extension == "301" and history[-1].recorded


@pytest.mark.asyncio
async def test_devices_page_and_lookup(
    emulator: Emulator, http: aiohttp.ClientSession, vbc: dict[str, str]
) -> None:
    url = emulator.vbc_url + "/telephony/v3/registration/accounts/self/devices"
    page = await _get(http, url, vbc, page_size=5, order="asc")
    assert page["pages"] == 2 and len(page["devices"]) == 5
    mac = page["devices"][0]["mac_address"]
    assert (await _get(http, f"{url}/{mac}", vbc))["mac_address"] == mac
    async with http.get(url.replace("self", "999"), headers=vbc) as r:
        assert r.status == 403
