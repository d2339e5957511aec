"""``vonage-async watch --health-port``: /healthz for Kubernetes probes, tested with the CLI and
the standalone emulator as real processes."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from vonage_async import SessionLogin, Vonage
from vonage_async._health import HealthServer, watch_health
from vonage_async.emulator._auth import Credentials


@contextlib.asynccontextmanager
async def process(*args: str, env: dict[str, str] | None = None) -> AsyncIterator[Any]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "vonage_async",
        *args,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        yield proc
    finally:
        if proc.returncode is None:
            os.kill(proc.pid, signal.SIGCONT)  # in case the test left it stopped
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except asyncio.TimeoutError:
                proc.kill()
                await proc.wait()


async def line_matching(stream: asyncio.StreamReader, pattern: str) -> re.Match[str]:
    async def read() -> re.Match[str]:
        while True:
            line = (await stream.readline()).decode()
            if not line:
                raise AssertionError(f"the process ended before printing {pattern!r}")
            found = re.search(pattern, line)
            if found:
                return found

    return await asyncio.wait_for(read(), 30)


async def health(session: aiohttp.ClientSession, url: str) -> tuple[int, dict[str, Any]]:
    async with session.get(url) as response:
        return response.status, json.loads(await response.text())


async def until_status(
    session: aiohttp.ClientSession, url: str, status: int, timeout: float = 20.0
) -> dict[str, Any]:
    seen: list[int] = []
    for _ in range(int(timeout / 0.1)):
        code, body = await health(session, url)
        if code == status:
            return body
        seen.append(code)
        await asyncio.sleep(0.1)
    raise AssertionError(f"/healthz never answered {status}; saw {seen[-5:]}")


async def test_healthz_follows_the_poll_loop_of_the_cli(tmp_path: Any) -> None:
    credentials = Credentials()
    async with process(
        "emulator", "--host", "127.0.0.1", "--port", "0", "--hold", "0.3", "--error-rate", "0.1"
    ) as emulator:
        assert emulator.stdout is not None
        url = (await line_matching(emulator.stdout, r"Vonage emulator on (\S+)"))[1]
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("VONAGE_")},
            "VONAGE_LEGACY_URL": url,
            "VONAGE_LEGACY_USERNAME": credentials.legacy_username,
            "VONAGE_LEGACY_PASSWORD": credentials.legacy_password,
        }
        watch_args = ("watch", "--health-port", "0", "--health-host", "127.0.0.1")
        async with process(*watch_args, "--health-max-age", "1.5", env=env) as cli:
            assert cli.stderr is not None
            healthz = (await line_matching(cli.stderr, r"health on (\S+)"))[1]
            async with aiohttp.ClientSession() as session:
                body = await until_status(session, healthz, 200)  # despite 10% of faults
                assert body["healthy"] and body["running"] and body["polls"] >= 1
                assert body["seconds_since_success"] < 1.5
                os.kill(emulator.pid, signal.SIGSTOP)  # the server hangs: polls go silent
                try:
                    stalled = await until_status(session, healthz, 503)
                finally:
                    os.kill(emulator.pid, signal.SIGCONT)
                assert not stalled["healthy"] and stalled["running"]
                assert stalled["seconds_since_success"] >= 1.5
                await until_status(session, healthz, 200)  # the held poll answers again
                async with session.get(healthz.replace("/healthz", "/other")) as response:
                    assert response.status == 404
            assert cli.returncode is None, "the watch kept running throughout"
            for text in (json.dumps(body), json.dumps(stalled)):
                assert credentials.legacy_password not in text


async def test_healthz_is_503_until_the_loop_runs(loopback: Any) -> None:
    client = Vonage(legacy_auth=SessionLogin("u", "p"), legacy_url="http://127.0.0.1:9")
    watch = client.legacy.live_status.watch()
    server = HealthServer(watch_health(watch, 30.0), host="127.0.0.1", port=0)
    host, port = await server.start()
    try:
        async with aiohttp.ClientSession() as session:
            code, body = await health(session, f"http://{host}:{port}/healthz")
    finally:
        await server.stop()
        await client.aclose()
    assert code == 503
    assert (body["healthy"], body["running"], body["last_success"]) == (False, False, None)


@pytest.mark.parametrize("args", [["--health-port", "x"], ["--health-max-age", "0"]])
def test_bad_health_options_are_usage_errors(args: list[str]) -> None:
    from vonage_async._cli import main

    assert main(["watch", "--emulator", *args]) == 2
