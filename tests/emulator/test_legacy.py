"""The legacy API: Live Status long poll, click to call, history, recordings, directory."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import pytest

from vonage_async.emulator import Emulator

DASHUI = "/presence/dashui"


async def _poll(
    http: aiohttp.ClientSession, emu: Emulator, first: bool = False, ext: str = "301,302"
) -> tuple[int, Any]:
    params = {"filterExtension": ext}
    if first:
        params["firstRequest"] = "true"
    async with http.get(emu.legacy_url + DASHUI, params=params) as r:
        return r.status, (await r.json() if r.status == 200 else await r.text())


def _items(doc: dict[str, Any], ext: str) -> list[dict[str, Any]]:
    entry = next(e for e in doc["extensions"] if e["extension"] == ext)
    items = entry.get("statusItems", [])
    return [items] if isinstance(items, dict) else items


@pytest.mark.asyncio
async def test_dashui_holds_then_answers_changes(
    emulator: Emulator, http: aiohttp.ClientSession, legacy_login: Any
) -> None:
    await legacy_login(emulator)
    status, doc = await _poll(http, emulator, first=True)
    assert status == 200 and doc["availability"] == "AVAILABLE"
    assert [e["extension"] for e in doc["extensions"]] == ["301", "302"]

    started = time.monotonic()
    assert (await _poll(http, emulator))[0] == 304  # nothing changed: held for hold=1 s
    assert 0.9 <= time.monotonic() - started < 2

    held = asyncio.create_task(_poll(http, emulator))
    await asyncio.sleep(0.1)
    assert await _poll(http, emulator) == (409, "SESSION IN USE BY ANOTHER REQUEST")
    emulator.set_extension_status("302", "dnd")
    status, doc = await held  # the held poll continued and saw the change
    assert status == 200 and doc["availability"] == "MIXED"
    assert (doc["numAvailableExts"], doc["numUnavailableExts"]) == (1, 1)

    emulator.faults.expire_sessions()
    assert await _poll(http, emulator) == (403, "USER NOT LOGGED IN")


@pytest.mark.asyncio
async def test_call_lifecycle_in_live_status_history_and_extension_info(
    emulator: Emulator, http: aiohttp.ClientSession, legacy_login: Any
) -> None:
    await legacy_login(emulator)
    await _poll(http, emulator, first=True, ext="301")
    emulator.place_call("301", "17325550123", recorded=True)
    emulator.place_call("14155550999", "14155550100", hold_forever=True)  # inbound to 301's DID
    statuses: list[set[str]] = []
    shapes: set[type] = set()
    while True:
        status, doc = await _poll(http, emulator, ext="301")
        assert status == 200
        entry = doc["extensions"][0]
        if "statusItems" in entry:
            shapes.add(type(entry["statusItems"]))
        statuses.append({i["callStatus"].lower() for i in _items(doc, "301")})
        if "disconnected" in statuses[-1]:
            break
    assert {"ringing"} <= statuses[0] and any("connected" in s for s in statuses)
    assert shapes == {list}  # two calls at once: statusItems is a list

    async with http.get(emulator.legacy_url + "/presence/rest/extension/301") as r:
        info = await r.json()
    assert info["details"]["presence"]["status"] == "inbound"  # one call left: an object
    status, doc = await _poll(http, emulator, ext="301")  # at once: the ended call is gone
    assert status == 200 and [i["callStatus"] for i in _items(doc, "301")] == ["Connected"]
    assert isinstance(doc["extensions"][0]["statusItems"], dict)  # one call: an object

    async with http.get(emulator.legacy_url + "/presence/rest/callhistory/301") as r:
        history = (await r.json())["callHistoryList"]
    assert len(history) == 100
    newest = history[0]
    assert newest["to"] == "17325550123" and newest["direction"] == "Outbound"
    assert newest["recordingUrl"].endswith(_items_id(emulator))
    filtered = "/presence/rest/callhistory/301?result=unanswered&start=2000-01-01T00:00:00"
    async with http.get(emulator.legacy_url + filtered) as r:
        assert {h["result"] for h in (await r.json())["callHistoryList"]} == {"Unanswered"}

    async with http.get(
        emulator.legacy_url + "/presence/rest/callrecording/" + _items_id(emulator)
    ) as r:
        assert r.status == 200 and r.content_type == "audio/mpeg"
        chunks = [c async for c in r.content.iter_chunked(8192)]
    data = b"".join(chunks)
    assert data.startswith(b"ID3") and len(data) == emulator.state.recording_size


def _items_id(emulator: Emulator) -> str:
    return next(h.presence_call_id for h in reversed(emulator.state.history) if h.recorded)


@pytest.mark.asyncio
async def test_click_to_call_answers(
    emulator: Emulator, http: aiohttp.ClientSession, legacy_login: Any
) -> None:
    await legacy_login(emulator)
    expected = {
        "6788079084": (200, "OK"),
        "123": (400, "BAD USER PHONE"),
        "0114488079084": (403, "INTERNATIONAL BLOCKED"),
        "303": (200, "OK"),
    }
    for number, answer in expected.items():
        async with http.get(emulator.legacy_url + f"/presence/rest/clicktocall/{number}") as r:
            assert (r.status, await r.text()) == answer, number
    calls = emulator.state.calls_of("301")
    assert {c.to for c in calls} == {"16788079084", "303"}
    assert all(c.click_to_call for c in calls)
    emulator.state.account_active = False
    async with http.get(emulator.legacy_url + "/presence/rest/clicktocall/6788079084") as r:
        assert (r.status, await r.text()) == (404, "ACCOUNT INACTIVE")


@pytest.mark.asyncio
async def test_directory_conference_and_queue(
    emulator: Emulator, http: aiohttp.ClientSession, legacy_login: Any
) -> None:
    await legacy_login(emulator)
    emulator.set_extension_status("303", "dnd")
    emulator.place_call("304", "8991", ring_seconds=0, hold_forever=True)
    await asyncio.sleep(0.05)
    async with http.get(emulator.legacy_url + "/presence/rest/directory") as r:
        d = await r.json()
    assert d["extensions"]["303"]["status"] == "dnd" and d["extensions"]["304"]["status"] == "busy"
    assert d["conferences"]["8991"]["calls"] == 1
    async with http.get(emulator.legacy_url + "/presence/rest/conference/8991") as r:
        assert (await r.json())["details"]["participants"] == ["304"]
    async with http.get(emulator.legacy_url + "/presence/rest/queue/9013") as r:
        q = await r.json()
    assert q["type"] == "queue" and q["details"]["agentsLoggedIn"].isdigit()
    async with http.get(emulator.legacy_url + "/presence/rest/callrecording/abc") as r:
        assert (r.status, await r.text()) == (400, "ILLEGAL CALL ID")
    async with http.get(emulator.legacy_url + "/presence/rest/callrecording/42") as r:
        assert (r.status, await r.text()) == (404, "RECORDING NOT FOUND")


@pytest.mark.asyncio
async def test_stop_is_prompt_with_a_held_poll(
    http: aiohttp.ClientSession, legacy_login: Any
) -> None:
    emu = await Emulator(hold=30).start()
    await legacy_login(emu)
    await _poll(http, emu, first=True)
    held = asyncio.create_task(_poll(http, emu))
    await asyncio.sleep(0.2)
    started = time.monotonic()
    await emu.stop()
    assert time.monotonic() - started < 2
    status, _ = await held
    assert status == 304


@pytest.mark.asyncio
async def test_dashui_never_logs_in_from_the_request(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    # Seed 003: Live Status "will not perform authentication as part of the request".
    c = emulator.credentials
    login = {"htmlLogin": c.legacy_username, "htmlPassword": c.legacy_password}
    params = {**login, "firstRequest": "true"}
    async with http.get(emulator.legacy_url + DASHUI, params=params) as r:
        assert (r.status, await r.text()) == (403, "USER NOT LOGGED IN")
    headers = {"login": c.legacy_username, "password": c.legacy_password}
    async with http.get(emulator.legacy_url + DASHUI, params=params, headers=headers) as r:
        assert r.status == 403
    assert not list(http.cookie_jar)  # no session was opened


@pytest.mark.asyncio
async def test_the_first_dashui_poll_without_first_request_is_a_long_poll(
    emulator: Emulator, http: aiohttp.ClientSession, legacy_login: Any
) -> None:
    await legacy_login(emulator)
    held = asyncio.create_task(_poll(http, emulator))
    await asyncio.sleep(0.3)
    assert not held.done()  # held, not answered at once
    emulator.set_extension_status("301", "dnd")
    status, doc = await held
    assert status == 200 and doc["numUnavailableExts"] == 1


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/presence/rest/directory?page=2", "page"),
        ("/presence/rest/extension/301?details=1", "details"),
        ("/presence/rest/callhistory/301?limit=5", "limit"),
        ("/presence/dashui?firstRequest=true&htmlLogin=admin", "htmlLogin"),
        ("/presence/dashui?firstRequest=true&filterextension=301", "filterextension"),
    ],
)
@pytest.mark.asyncio
async def test_legacy_services_refuse_undocumented_query_parameters(
    emulator: Emulator, http: aiohttp.ClientSession, legacy_login: Any, path: str, name: str
) -> None:
    await legacy_login(emulator)
    async with http.get(emulator.legacy_url + path) as r:
        assert r.status == 400
        assert name in await r.text()
    documented = "/presence/rest/callhistory/301?start=2013-01-18T03:45:00&minduration=0000"
    async with http.get(emulator.legacy_url + documented) as r:
        assert r.status == 200
