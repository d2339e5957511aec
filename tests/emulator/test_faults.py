"""Fault injection and the traffic simulator."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest

from vonage_async.emulator import Emulator

ACCOUNT = "/provisioning/api/accounts/self"


@pytest.mark.asyncio
async def test_rate_limit_burst_then_recovery(
    emulator: Emulator, http: aiohttp.ClientSession, vbc: dict[str, str]
) -> None:
    emulator.faults.rate_limit(2, retry_after=3)
    for _ in range(2):
        async with http.get(emulator.vbc_url + ACCOUNT, headers=vbc) as r:
            assert r.status == 429 and r.headers["Retry-After"] == "3"
    async with http.get(emulator.vbc_url + ACCOUNT, headers=vbc) as r:
        assert r.status == 200


@pytest.mark.asyncio
async def test_error_rate_is_scoped_by_family(
    emulator: Emulator, http: aiohttp.ClientSession, vbc: dict[str, str], registry: dict[str, str]
) -> None:
    emulator.faults.error_rate = 1.0
    emulator.faults.families = frozenset({"registry"})
    async with http.get(
        emulator.network_registry_url + "/catalogue/countries", headers=registry
    ) as r:
        assert r.status == 503 and "detail" in await r.json()
    async with http.get(emulator.vbc_url + ACCOUNT, headers=vbc) as r:
        assert r.status == 200
    emulator.faults.clear()
    async with http.get(
        emulator.network_registry_url + "/catalogue/countries", headers=registry
    ) as r:
        assert r.status == 200


@pytest.mark.asyncio
async def test_connection_resets_and_latency(
    emulator: Emulator, http: aiohttp.ClientSession, vbc: dict[str, str]
) -> None:
    emulator.faults.reset_rate = 1.0
    with pytest.raises(aiohttp.ClientError):
        async with http.get(emulator.vbc_url + ACCOUNT, headers=vbc) as r:
            await r.read()
    emulator.faults.reset_rate = 0.0
    emulator.faults.latency = 0.3
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with http.get(emulator.vbc_url + ACCOUNT, headers=vbc) as r:
        assert r.status == 200
    assert loop.time() - started >= 0.3


@pytest.mark.asyncio
async def test_dashui_truncation_and_stall(
    emulator: Emulator, http: aiohttp.ClientSession, legacy_login: Any
) -> None:
    await legacy_login(emulator)
    url = emulator.legacy_url + "/presence/dashui?firstRequest=true"
    emulator.faults.truncate_dashui()
    async with http.get(url) as r:
        assert r.status == 200
        with pytest.raises(json.JSONDecodeError):
            json.loads(await r.text())
    emulator.faults.stall_dashui(seconds=5)
    timeout = aiohttp.ClientTimeout(total=1.5)
    with pytest.raises(asyncio.TimeoutError):
        async with http.get(emulator.legacy_url + "/presence/dashui", timeout=timeout) as r:
            await r.read()


@pytest.mark.asyncio
async def test_simulator_makes_calls_that_end_in_history() -> None:
    async with Emulator(seed=7, ring_seconds=0.1, talk_seconds=0.2, history_per_extension=0) as emu:
        before = len(emu.state.history)
        emu.simulate(mean_interval=0.05)
        await asyncio.sleep(1.0)
        emu.stop_simulation()
        assert len(emu.state.history) > before


@pytest.mark.asyncio
async def test_client_is_wired_to_the_emulator(emulator: Emulator) -> None:
    async with emulator.client() as client:
        assert not client.closed
