"""The emulator's chaos faults (``Faults.inject``) and its record of sent polls, seen raw."""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from vonage_async.emulator import Emulator
from vonage_async.emulator._faults import CHAOS_FAULTS, Poll

DASHUI = "/presence/dashui?firstRequest=true"


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(hold=0.2, extensions=4) as emulator:
        yield emulator


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        yield session


async def login(emu: Emulator, http: aiohttp.ClientSession) -> int:
    c = emu.credentials
    headers = {"login": c.legacy_username, "password": c.legacy_password}
    async with http.get(emu.url + "/appserver/rest/user/null", headers=headers) as r:
        await r.read()
        return r.status


async def get(http: aiohttp.ClientSession, url: str, **kw: Any) -> tuple[int, str, bytes, Any]:
    async with http.get(url, **kw) as r:
        return r.status, r.content_type, await r.read(), r.headers


def _retry_after_seconds(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        return email.utils.parsedate_to_datetime(value).timestamp() - time.time()


@pytest.mark.parametrize(
    ("kind", "status", "check"),
    [
        ("http_5xx", None, None),
        ("http_408", 408, None),
        ("http_409", 409, b"SESSION IN USE BY ANOTHER REQUEST"),
        ("immediate_304", 304, b""),
        ("empty_200", 200, b""),
        ("html_200", 200, b"<html>"),
        ("empty_object", 200, b"{}"),
    ],
)
async def test_dashui_fault_answers(
    emu: Emulator, http: aiohttp.ClientSession, kind: str, status: int | None, check: bytes | None
) -> None:
    assert await login(emu, http) == 200
    emu.faults.inject(kind)
    got, _, body, _ = await get(http, emu.url + DASHUI)
    assert got == status if status else got in (500, 502, 503)
    if check is not None:
        assert body.startswith(check)
    assert [k for _, k in emu.faults.injected] == [kind]
    # One request only: the next one is served.
    got, _, body, _ = await get(http, emu.url + DASHUI)
    assert got == 200 and json.loads(body)["extensions"]


@pytest.mark.parametrize("kind", ["truncated_json", "deep_nesting"])
async def test_dashui_bodies_that_do_not_decode(
    emu: Emulator, http: aiohttp.ClientSession, kind: str
) -> None:
    await login(emu, http)
    emu.faults.inject(kind)
    status, content_type, body, _ = await get(http, emu.url + DASHUI)
    assert (status, content_type) == (200, "application/json")
    with pytest.raises((ValueError, RecursionError)):
        json.loads(body)


async def test_reset_mid_body(emu: Emulator, http: aiohttp.ClientSession) -> None:
    await login(emu, http)
    emu.faults.inject("reset_mid_body")
    with pytest.raises(aiohttp.ClientError):
        await get(http, emu.url + DASHUI)


@pytest.mark.parametrize("kind", ["retry_after_seconds", "retry_after_date"])
async def test_retry_after_in_both_forms(
    emu: Emulator, http: aiohttp.ClientSession, kind: str
) -> None:
    await login(emu, http)
    emu.faults.retry_after = 2
    emu.faults.inject(kind)
    status, _, _, headers = await get(http, emu.url + DASHUI)
    assert status == 429
    value = headers["Retry-After"]
    assert value.isdigit() == (kind == "retry_after_seconds")
    assert 1 <= _retry_after_seconds(value) <= 4


async def test_session_faults(emu: Emulator, http: aiohttp.ClientSession) -> None:
    emu.faults.inject("login_5xx")
    assert await login(emu, http) in (500, 502, 503)
    emu.faults.inject("expire_after_login")
    assert await login(emu, http) == 200
    assert (await get(http, emu.url + DASHUI))[0] == 403  # expired right after the login
    assert await login(emu, http) == 200
    assert (await get(http, emu.url + DASHUI))[0] == 200
    emu.faults.inject("session_expired")
    assert (await get(http, emu.url + DASHUI))[0] == 403


async def _token(emu: Emulator, http: aiohttp.ClientSession, **form: str) -> tuple[int, Any]:
    c = emu.credentials
    data = {"client_id": c.client_id, "client_secret": c.client_secret, **form}
    async with http.post(emu.token_url, data=data) as r:
        return r.status, await r.json(content_type=None)


async def test_telephony_faults(emu: Emulator, http: aiohttp.ClientSession) -> None:
    c = emu.credentials
    password = {"grant_type": "password", "username": c.username, "password": c.password}
    status, tokens = await _token(emu, http, **password)
    assert status == 200
    calls = emu.vbc_url + "/telephony/v3/cc/accounts/self/calls"
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    for kind, expected in [
        ("calls_5xx", {500, 502, 503}),
        ("calls_retry_after_seconds", {429}),
        ("calls_retry_after_date", {429}),
        ("calls_empty_200", {200}),
    ]:
        emu.faults.inject(kind)
        assert (await get(http, calls, headers=auth))[0] in expected, kind
    emu.faults.inject("calls_reset_mid_body")
    with pytest.raises(aiohttp.ClientError):
        await get(http, calls, headers=auth)
    emu.faults.inject("token_5xx")
    assert (await _token(emu, http, **password))[0] in (500, 502, 503)
    emu.faults.inject("token_expired")
    assert (await get(http, calls, headers=auth))[0] == 401
    emu.faults.inject("token_revoked")
    refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    assert (await _token(emu, http, **refresh))[0] == 400


async def test_unknown_fault_is_refused(emu: Emulator) -> None:
    with pytest.raises(ValueError, match="known: reset_mid_body"):
        emu.faults.inject("gremlins")
    assert "gremlins" not in CHAOS_FAULTS


async def test_only_polls_written_whole_are_recorded(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    polls: list[Poll] = []
    emu.faults.record_polls(polls.append)
    await login(emu, http)
    call_id = emu.place_call("301", "302", hold_forever=True)
    pid = emu.state.calls[call_id].presence_call_id
    assert (await get(http, emu.url + DASHUI))[0] == 200
    for kind in ("truncated_json", "empty_object", "http_5xx"):
        emu.faults.inject(kind)
        await get(http, emu.url + DASHUI)
    emu.faults.inject("reset_mid_body")
    with pytest.raises(aiohttp.ClientError):
        await get(http, emu.url + DASHUI)
    assert len(polls) == 1
    assert polls[0].listed == frozenset(emu.state.extensions)
    assert polls[0].calls == {("301", pid): "ringing", ("302", pid): "ringing"}
    # A page of Telephony's active calls, with its place in the walk.
    _, tokens = await _token(
        emu,
        http,
        grant_type="password",
        username=emu.credentials.username,
        password=emu.credentials.password,
    )
    url = emu.vbc_url + "/telephony/v3/cc/accounts/self/calls?extension=301"
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert (await get(http, url, headers=headers))[0] == 200
    page = polls[-1]
    assert (page.kind, page.extension, page.page, page.pages, page.total) == (
        "calls",
        "301",
        1,
        1,
        1,
    )
    assert page.calls == {("301", call_id): "ringing"}
