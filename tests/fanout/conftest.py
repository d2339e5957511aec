"""A real redis-server on a unix socket in a temp dir, and replica processes."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

if not os.environ.get("CI"):  # under CI a missing extra fails the imports below instead
    pytest.importorskip("redis", reason="the fan-out tests need the redis extra")

REDIS = shutil.which("redis-server")


class RedisServer:
    def __init__(self, directory: Path) -> None:
        self.socket = directory / "redis.sock"
        self.url = f"unix://{self.socket}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        assert REDIS is not None
        self.process = subprocess.Popen(
            [
                REDIS,
                "--port",
                "0",
                "--unixsocket",
                str(self.socket),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )
        for _ in range(200):
            if self.socket.exists():
                return
            import time

            time.sleep(0.02)
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
            self.process = None
            self.socket.unlink(missing_ok=True)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    if REDIS is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is missing, and CI is set: .ci/run installs it")
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
async def redis(redis_server: RedisServer) -> AsyncIterator[Any]:
    from redis.asyncio import Redis

    client = Redis.from_url(redis_server.url)
    try:
        yield client
    finally:
        await client.aclose()


class Replica:
    """A process running ``vonage-async watch --redis``, its JSON lines collected."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[dict[str, Any]] = []
        self._reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        import json

        assert self.process.stdout is not None
        async for raw in self.process.stdout:
            self.lines.append(json.loads(raw))

    @property
    def pid(self) -> int:
        return self.process.pid

    def signal(self, number: int) -> None:
        self.process.send_signal(number)

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.terminate()
        await self.process.wait()
        await self._reader


async def start_replica(emu: Any, redis_url: str, *args: str) -> Replica:
    creds = emu.credentials
    env = {
        **os.environ,
        "VONAGE_LEGACY_URL": emu.legacy_url,
        "VONAGE_LEGACY_USERNAME": creds.legacy_username,
        "VONAGE_LEGACY_PASSWORD": creds.legacy_password,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "vonage_async",
        "watch",
        "--redis",
        redis_url,
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
    )
    return Replica(process)
