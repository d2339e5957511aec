"""6. Fan-out through Redis: stream throughput, end-to-end latency, failover time.

A real ``redis-server`` runs on a unix socket in a temp dir (``--save '' --appendonly no``).

- Throughput: a leader's publish script writes events in batches of 100 (one script call per
  poll, as in production); then 1 and 4 consumer groups read them all (``events(group)``,
  acknowledging each one). Events per second, per group and in total.
- Latency: an in-process emulator; a call is placed and the time until its ``CallStarted``
  reaches a consumer is measured, through the fan-out (leader poll, Lua publish, stream,
  group read) and through an in-process ``watch()`` on the same changes, in the same run.
- Failover: three replica processes (``vonage-async watch --redis``, ``lease_ttl=1``) on the
  emulator's simulated calls; the leader is SIGKILLed and the time until the next leader's
  first event is in the stream is measured, over 10 kills.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from vonage_async import CallStarted
from vonage_async._events import WatchState
from vonage_async.emulator import Emulator
from vonage_async.fanout import RedisFanout
from vonage_async.legacy import LiveCall

from ._common import Result

TTL = 1.0
_EPHEMERAL = ("--save", "", "--appendonly", "no")


class _Redis:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="bench-redis-"))
        self.socket = self.dir / "redis.sock"
        self.url = f"unix://{self.socket}"
        server = shutil.which("redis-server")
        if server is None:
            raise SystemExit(
                "the fanout benchmark needs redis-server (apt-get install redis-server)"
            )
        self.process = subprocess.Popen(
            [server, "--port", "0", "--unixsocket", str(self.socket), *_EPHEMERAL],
            stdout=subprocess.DEVNULL,
        )
        while not self.socket.exists():
            time.sleep(0.02)

    def close(self) -> None:
        self.process.terminate()
        self.process.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


async def _throughput(url: str, total: int, groups: int) -> tuple[float, float]:
    """(publish events/s, consume events/s over all groups)."""
    name = f"tp{groups}"
    async with Emulator() as emu, emu.client() as client:
        fanout = RedisFanout(url, client.legacy.live_status, name=name, lead=False)
        async with fanout:
            # stand in for the leader: take the lease, then publish as its on_poll does
            redis = fanout._redis
            await redis.set(f"{name}:lease", fanout.holder)
            epoch = await redis.incr(f"{name}:epoch")
            fanout._renewed = time.monotonic() + 3600  # no renewal task: keep the lease fresh
            publish = fanout._publisher(int(epoch), announce=False)
            await publish([], WatchState())  # a stored state: a new group starts with it
            streams = [fanout.events(f"g{i}", "c") for i in range(groups)]
            for events in streams:  # each group is created, and its Snapshot taken
                await anext(events)
            batch = [
                CallStarted("301", LiveCall(uid=f"call-{i}", callername="Caller"))
                for i in range(100)
            ]
            started = time.perf_counter()
            for _ in range(total // 100):
                await publish(batch, WatchState())
            published = time.perf_counter() - started

            async def drain(events: Any) -> None:
                for _ in range(total):
                    await anext(events)

            started = time.perf_counter()
            await asyncio.gather(*(drain(events) for events in streams))
            consumed = time.perf_counter() - started
            for events in streams:
                await events.aclose()
    return total / published, groups * total / consumed


async def _latency(url: str, calls: int) -> tuple[list[float], list[float]]:
    """Seconds from placing a call to its CallStarted: (through the fan-out, watch())."""
    emu = Emulator(hold=30.0)
    fanned: dict[str, float] = {}
    direct: dict[str, float] = {}

    def note(seen: dict[str, float], event: Any) -> None:
        if isinstance(event, CallStarted) and event.call.id:
            seen.setdefault(event.call.id.rsplit("-", 1)[-1], time.perf_counter())

    async with emu, emu.client() as one, emu.client() as two:
        fanout = RedisFanout(url, one.legacy.live_status, name="lat", lease_ttl=5.0)
        async with fanout, two.legacy.live_status.watch() as watch:

            async def via_fanout() -> None:
                async for delivery in fanout.events("bench", "c"):
                    note(fanned, delivery.event)

            async def via_watch() -> None:
                async for event in watch:
                    note(direct, event)

            tasks = [asyncio.ensure_future(via_fanout()), asyncio.ensure_future(via_watch())]
            await asyncio.sleep(1.5)  # elected, and both consumers have their snapshot
            placed: dict[str, float] = {}
            for i in range(calls):
                number = f"1234{i:07d}"
                placed[number] = time.perf_counter()
                call = emu.place_call("301", number, ring_seconds=0.05, hold_forever=True)
                for _ in range(200):
                    if number in fanned and number in direct:
                        break
                    await asyncio.sleep(0.005)
                emu.hangup(call)
                await asyncio.sleep(0.1)
            for task in tasks:
                task.cancel()
            await asyncio.wait(tasks)
    return (
        [fanned[n] - t for n, t in placed.items() if n in fanned],
        [direct[n] - t for n, t in placed.items() if n in direct],
    )


async def _failover(url: str, kills: int) -> list[float]:
    emu = Emulator(
        hold=2.0, ring_seconds=0.3, talk_seconds=0.6, simulate=True, simulate_interval=0.2
    )
    from redis.asyncio import Redis

    redis: Any = Redis.from_url(url)
    async with emu:
        creds = emu.credentials
        env = {
            **os.environ,
            "VONAGE_LEGACY_URL": emu.legacy_url,
            "VONAGE_LEGACY_USERNAME": creds.legacy_username,
            "VONAGE_LEGACY_PASSWORD": creds.legacy_password,
        }
        command = [sys.executable, "-m", "vonage_async", "watch", "--redis", url]
        command += ["--group", "g", "--name", "fo", "--lease-ttl", str(TTL)]

        async def start() -> asyncio.subprocess.Process:
            return await asyncio.create_subprocess_exec(
                *command, env=env, stdout=asyncio.subprocess.DEVNULL
            )

        replicas = [await start() for _ in range(3)]
        times: list[float] = []
        try:
            for _ in range(kills):
                holder = b""
                while True:
                    holder = await redis.get("fo:lease") or b""
                    leader = next((p for p in replicas if f"-{p.pid}-".encode() in holder), None)
                    if leader is not None and await redis.exists("fo:state"):
                        break
                    await asyncio.sleep(0.05)
                await asyncio.sleep(1.0)
                epoch = int(await redis.get("fo:epoch"))
                killed = time.time()
                leader.send_signal(signal.SIGKILL)
                await leader.wait()
                replicas.remove(leader)
                replicas.append(await start())
                while True:
                    entries = await redis.xrevrange("fo:stream", count=1)
                    if entries and int(entries[0][1][b"ep"]) > epoch:
                        times.append(int(entries[0][0].split(b"-")[0]) / 1000 - killed)
                        break
                    await asyncio.sleep(0.02)
        finally:
            for process in replicas:
                process.terminate()
                await process.wait()
            await redis.aclose()
    return times


def _pct(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(pct / 100 * len(ordered)))]


def run(quick: bool = False) -> Result:
    result = Result("fanout")
    server = _Redis()
    try:
        total = 2_000 if quick else 20_000
        for groups in (1, 4):
            published, consumed = asyncio.run(_throughput(server.url, total, groups))
            result.note(
                f"{total} events: published {published:,.0f}/s (100 a script call); "
                f"{groups} group(s) read {consumed:,.0f}/s in total"
            )
            result.row(
                f"6. fan-out: stream to {groups} group(s)",
                f"{consumed:,.0f} events/s",
                f"publish {published:,.0f}/s",
                "-",
                "-",
                None,
            )
        fanned, direct = asyncio.run(_latency(server.url, 20 if quick else 60))
        for label, values in (("fan-out", fanned), ("watch()", direct)):
            result.note(
                f"latency {label}: p50 {_pct(values, 50) * 1000:.1f} ms, "
                f"p99 {_pct(values, 99) * 1000:.1f} ms ({len(values)} calls)"
            )
        result.row(
            "6. fan-out: change to consumer p50/p99",
            f"{_pct(fanned, 50) * 1000:.1f}/{_pct(fanned, 99) * 1000:.1f} ms",
            f"watch() {_pct(direct, 50) * 1000:.1f}/{_pct(direct, 99) * 1000:.1f} ms",
            f"+{(statistics.median(fanned) - statistics.median(direct)) * 1000:.1f} ms p50",
            "-",
            None,
        )
        kills = 3 if quick else 10
        times = asyncio.run(_failover(server.url, kills))
        result.note(
            "failover (leader SIGKILLed to the next leader's first event), lease_ttl 1 s: "
            + ", ".join(f"{t:.2f}" for t in times)
            + " s"
        )
        result.row(
            f"6. fan-out: failover over {kills} kills",
            f"max {max(times):.2f} s",
            f"median {statistics.median(times):.2f} s",
            f"{max(times) / TTL:.2f}x ttl",
            "< 2x lease_ttl",
            max(times) < 2 * TTL,
        )
    finally:
        server.close()
    return result
