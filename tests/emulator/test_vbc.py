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
    assert len(last["calls"]) == 1 and last["current_page"] == 2

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
        # telephony.yml: 401 "User is not permitted to make a request against this account"
        assert r.status == 401
        assert await r.json() == {
            "code": 401,
            "message": "User is not permitted to make a request against this account",
        }


async def _calls(emulator: Emulator, n: int) -> None:
    for i in range(n):
        emulator.place_call(str(301 + i % 8), f"1732555{i:04d}", hold_forever=True)


@pytest.mark.asyncio
async def test_telephony_pages_are_reached_only_through_their_links(
    emulator: Emulator, http: aiohttp.ClientSession, vbc: dict[str, str]
) -> None:
    await _calls(emulator, 5)
    base = emulator.vbc_url + "/telephony/v3"
    page = await _get(http, base + CALLS[len("/telephony/v3") :], vbc, page_size=2, order="asc")
    # No null links: what does not exist is left out (the file types them as strings).
    assert "previous_page_uri" not in page and None not in page.values()
    seen = [c["call_id"] for c in page["calls"]]
    pages = [page]
    while "next_page_uri" in page:
        assert "page=" not in page["next_page_uri"]  # an opaque token, not a page number
        page = await _get(http, base + page["next_page_uri"], vbc)
        pages.append(page)
        seen += [c["call_id"] for c in page["calls"]]
    assert [p["current_page"] for p in pages] == [1, 2, 3]
    assert "next_page" not in pages[-1] and None not in pages[-1].values()
    assert "previous_page_uri" in pages[-1]
    assert len(seen) == len(set(seen)) == 5
    # The filters and order travel in the links.
    starts = [c["start_time"] for p in pages for c in p["calls"]]
    assert starts == sorted(starts)
    # A page number the file never documented is refused, as is a forged token.
    for params in ({"page": "2"}, {"page_token": "Mg"}):
        async with http.get(emulator.vbc_url + CALLS, params=params, headers=vbc) as r:
            assert r.status == 400
            assert next(iter(params)) in (await r.json())["message"]


@pytest.mark.parametrize(
    ("path", "name"),
    [
        (CALLS + "?page=2", "page"),
        ("/telephony/v3/registration/accounts/self/devices?extension=301", "extension"),
        (CALLS + "/x/legs?page_size=2", "page_size"),
        (PROV + "/extensions?order=asc", "order"),
        (PROV + "/users/1?page=1", "page"),
        (PROV + "?debug=true", "debug"),
    ],
)
@pytest.mark.asyncio
async def test_vbc_refuses_undocumented_query_parameters(
    emulator: Emulator, http: aiohttp.ClientSession, vbc: dict[str, str], path: str, name: str
) -> None:
    async with http.get(emulator.vbc_url + path, headers=vbc) as r:
        assert r.status == 400
        body = await r.json()
    if "invalid_parameters" in body:
        assert [p["name"] for p in body["invalid_parameters"]] == [name]
    else:
        assert name in body["message"]


BAD_LEG_BODIES = [
    ({"stream": "AAA"}, "stream"),
    ({"stream": None}, "stream"),
    ({"state": None}, "state"),
    ({"state": "parked"}, "state"),
    ({"state": "active", "to": "301"}, "to"),
    ({"state": "active", "to": {"destination": 301, "type": "extension"}}, "to.destination"),
    ({"state": "active", "to": {"destination": "301", "type": "fax"}}, "to.type"),
    ({"state": "active", "to": {"destination": None, "type": "leg"}}, "to.destination"),
    ({"dtmf": 12}, "dtmf"),
    ({"dtmf": "12\n"}, "dtmf"),
    ({"stream": True, "stream_url": 5}, "stream_url"),
    ({"recording": "pause", "service": "ccr"}, "recording"),
    ({"recording": "start", "service": None}, "service"),
]
BAD_CALL_BODIES = [
    ({"state": "held"}, "state"),
    ({"state": None}, "state"),
    ({"state": "parked", "from": "301"}, "from"),
    ({"to": {"destination": "301", "type": "leg"}}, "to.type"),
    ({"to": {"destination": ["301"], "type": "extension"}}, "to.destination"),
    ({"to": None}, "to"),
]


@pytest.mark.asyncio
async def test_leg_and_call_put_refuse_bodies_the_file_forbids(
    emulator: Emulator, http: aiohttp.ClientSession, vbc: dict[str, str]
) -> None:
    call_id = emulator.place_call("301", "17325550000", hold_forever=True)
    call = emulator.vbc_url + f"{CALLS}/{call_id}"
    legs = await _get(http, call + "/legs", vbc)
    leg = f"{call}/legs/{legs[0]['leg_id']}"
    for url, cases in ((leg, BAD_LEG_BODIES), (call, BAD_CALL_BODIES)):
        for body, name in cases:
            async with http.put(url, json=body, headers=vbc) as r:
                assert r.status == 400, body
                answer = await r.json()
                assert answer["code"] == "400"
                assert answer["message"].startswith(f"Invalid request parameters: {name}:"), body
        json_null = {**vbc, "Content-Type": "application/json"}
        async with http.put(url, data=b"null", headers=json_null) as r:
            assert r.status == 400
            assert (await r.json())["message"].startswith("Invalid request parameters: body:")
    async with http.get(call, headers=vbc) as r:
        assert r.status == 200  # nothing above changed the call
        assert not emulator.state.calls[call_id].parked


@pytest.mark.parametrize("raw", ["2.5e16", "1.0", "-1", "١٢", "abc"])
@pytest.mark.asyncio
async def test_a_location_or_user_id_that_is_no_integer_is_not_found(
    emulator: Emulator, http: aiohttp.ClientSession, vbc: dict[str, str], raw: str
) -> None:
    # provisioning.yml documents only 200 and 404 for these two operations.
    for what in ("locations", "users"):
        async with http.get(emulator.vbc_url + f"{PROV}/{what}/{raw}", headers=vbc) as r:
            assert r.status == 404, (what, raw)
            assert (await r.json())["status"] == 404
