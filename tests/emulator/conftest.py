"""Fixtures: a started emulator and a plain aiohttp session that keeps loopback cookies."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from vonage_async.emulator import Emulator, pytest_plugin

# The plugin's fixture, until the package's pytest11 entry point registers it.
emulator = pytest_plugin.emulator


@pytest_asyncio.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    # aiohttp refuses cookies from IP hosts unless the jar is "unsafe".
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        yield session


Grant = Callable[[Emulator], Awaitable[dict[str, Any]]]
Login = Callable[[Emulator], Awaitable[None]]


@pytest.fixture
def password_grant(http: aiohttp.ClientSession) -> Grant:
    """Runs the OAuth password grant against an emulator; answers the token document."""

    async def grant(emu: Emulator) -> dict[str, Any]:
        c = emu.credentials
        form = {
            "grant_type": "password",
            "username": c.username,
            "password": c.password,
            "client_id": c.client_id,
            "client_secret": c.client_secret,
            "scope": "openid",
        }
        async with http.post(emu.token_url, data=form) as r:
            assert r.status == 200
            data: dict[str, Any] = await r.json()
            return data

    return grant


@pytest_asyncio.fixture
async def vbc(emulator: Emulator, password_grant: Grant) -> dict[str, str]:
    """Headers with a bearer token for the ``emulator`` fixture."""
    return {"Authorization": "Bearer " + (await password_grant(emulator))["access_token"]}


@pytest.fixture
def registry(emulator: Emulator) -> dict[str, str]:
    """Basic auth headers for the Network Registry."""
    c = emulator.credentials
    raw = base64.b64encode(f"{c.api_key}:{c.api_secret}".encode()).decode()
    return {"Authorization": "Basic " + raw}


@pytest.fixture
def legacy_login(http: aiohttp.ClientSession) -> Login:
    """Logs ``http`` in to an emulator's legacy API (the cookie jar keeps the session)."""

    async def login(emu: Emulator) -> None:
        c = emu.credentials
        headers = {"login": c.legacy_username, "password": c.legacy_password}
        async with http.get(emu.legacy_url + "/appserver/rest/user/null", headers=headers) as r:
            assert r.status == 200

    return login
