"""OAuth grants, token expiry, single-use refresh tokens, legacy login sessions."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import aiohttp
import pytest

from vonage_async.emulator import Emulator

ACCOUNT = "/provisioning/api/accounts/self"


@pytest.mark.asyncio
async def test_password_grant_then_refresh_is_single_use(
    emulator: Emulator, http: aiohttp.ClientSession, password_grant: Any
) -> None:
    tokens = await password_grant(emulator)
    assert set(tokens) == {"access_token", "expires_in", "refresh_token", "scope", "token_type"}
    c = emulator.credentials
    form = {
        "grant_type": "refresh_token",
        "refresh_token": tokens["refresh_token"],
        "client_id": c.client_id,
        "client_secret": c.client_secret,
    }
    async with http.post(emulator.token_url, data=form) as r:
        assert r.status == 200
        fresh = await r.json()
    assert fresh["refresh_token"] != tokens["refresh_token"]
    async with http.post(emulator.token_url, data=form) as r:  # the old one is spent
        assert r.status == 400
        assert (await r.json())["error"] == "invalid_grant"


@pytest.mark.asyncio
async def test_wrong_password_and_missing_suffix_are_refused(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    c = emulator.credentials
    base = {"grant_type": "password", "client_id": c.client_id, "client_secret": c.client_secret}
    for username, password in [(c.username, "nope"), (c.username.split("@")[0], c.password)]:
        form = {**base, "username": username, "password": password}
        async with http.post(emulator.token_url, data=form) as r:
            assert r.status == 400
            body = await r.json()
            assert body["error"] == "invalid_grant" and body["error_description"]


@pytest.mark.asyncio
async def test_authorization_code_grant_with_basic_client(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    c = emulator.credentials
    params = {"client_id": c.client_id, "redirect_uri": "http://app.test/cb", "state": "xyz"}
    async with http.get(emulator.url + "/authorize", params=params, allow_redirects=False) as r:
        assert r.status == 302
        location = r.headers["Location"]
    code = location.split("code=")[1].split("&")[0]
    auth = base64.b64encode(f"{c.client_id}:{c.client_secret}".encode()).decode()
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": "http://app.test/cb"}
    headers = {"Authorization": f"Basic {auth}"}
    async with http.post(emulator.token_url, data=form, headers=headers) as r:
        assert r.status == 200
    async with http.post(emulator.token_url, data=form, headers=headers) as r:
        assert r.status == 400  # codes are single-use


@pytest.mark.asyncio
async def test_vbc_needs_a_live_bearer_token(
    emulator: Emulator, http: aiohttp.ClientSession, vbc: dict[str, str]
) -> None:
    async with http.get(emulator.vbc_url + ACCOUNT) as r:
        assert r.status == 401
        assert (await r.json())["fault"]["code"] == 900901
    headers = vbc
    async with http.get(emulator.vbc_url + ACCOUNT, headers=headers) as r:
        assert r.status == 200
    emulator.faults.expire_tokens()
    async with http.get(emulator.vbc_url + ACCOUNT, headers=headers) as r:
        assert r.status == 401
        assert (await r.json())["fault"]["message"] == "Invalid Credentials"


@pytest.mark.asyncio
async def test_tokens_expire_after_their_ttl(
    http: aiohttp.ClientSession, password_grant: Any
) -> None:
    async with Emulator(token_ttl=0.3) as emu:
        headers = {"Authorization": "Bearer " + (await password_grant(emu))["access_token"]}
        async with http.get(emu.vbc_url + ACCOUNT, headers=headers) as r:
            assert r.status == 200
        await asyncio.sleep(0.4)
        async with http.get(emu.vbc_url + ACCOUNT, headers=headers) as r:
            assert r.status == 401


@pytest.mark.asyncio
async def test_legacy_login_sets_cookies_and_sessions_expire(
    http: aiohttp.ClientSession, legacy_login: Any
) -> None:
    async with Emulator(session_ttl=0.3) as emu:
        bad = {"login": emu.credentials.legacy_username, "password": "wrong"}
        async with http.get(emu.legacy_url + "/appserver/rest/user/null", headers=bad) as r:
            assert r.status == 401
            assert r.content_type == "text/plain"
        await legacy_login(emu)
        names = {cookie.key for cookie in http.cookie_jar}
        assert {"JSESSIONID", "HDAP-ID", "AWSALB"} <= names
        async with http.get(emu.legacy_url + "/presence/rest/directory") as r:
            assert r.status == 200
        await asyncio.sleep(0.4)
        async with http.get(emu.legacy_url + "/presence/rest/directory") as r:
            assert r.status == 403
            assert await r.text() == "USER NOT LOGGED IN"


@pytest.mark.parametrize("kept", ["JSESSIONID", "HDAP-ID"])
@pytest.mark.asyncio
async def test_either_session_cookie_alone_keeps_the_session(
    emulator: Emulator, http: aiohttp.ClientSession, legacy_login: Any, kept: str
) -> None:
    # Seed 003: "the session information will be returned in HDAP-ID and/or JSESSIONID cookies"
    # (no load-balancer cookie is named).
    await legacy_login(emulator)
    cookies = {c.key: c.value for c in http.cookie_jar if c.key == kept}
    for path in ("/presence/rest/directory", "/presence/dashui?firstRequest=true"):
        async with (
            aiohttp.ClientSession(cookies=cookies) as other,
            other.get(emulator.legacy_url + path) as r,
        ):
            assert r.status == 200, (path, await r.text())
    async with (
        aiohttp.ClientSession(cookies={kept: "not-a-session"}) as other,
        other.get(emulator.legacy_url + "/presence/rest/directory") as r,
    ):
        assert r.status == 403


@pytest.mark.asyncio
async def test_legacy_login_by_query_on_any_service(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    c = emulator.credentials
    params = {"htmlLogin": c.legacy_username, "htmlPassword": c.legacy_password}
    async with http.get(emulator.legacy_url + "/presence/rest/directory", params=params) as r:
        assert r.status == 200
    async with http.get(emulator.legacy_url + "/presence/rest/directory") as r:
        assert r.status == 200  # the cookies it set carry the session
