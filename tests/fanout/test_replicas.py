"""Replica processes sharing one poller through a real redis-server, killed with real signals."""

from __future__ import annotations

import asyncio
import collections
import signal
import time
from typing import Any

from vonage_async.emulator import Emulator
from vonage_async.fanout import Delivery, RedisFanout

from .conftest import Replica, start_replica

TTL = 1.0
OUTSIDE = "12345678901"  # not a number the emulator's simulation dials


def _emulator() -> Emulator:
    # A killed or frozen leader cannot cancel the poll the server holds for it: the poll stays
    # under way until a change or the hold ends. With a hold shorter than the earliest
    # takeover (2/3 ttl after the leader's stop) the one-poller count holds by construction,
    # not by the simulation happening to change something in time.
    return Emulator(
        hold=0.3, ring_seconds=0.4, talk_seconds=0.8, simulate=True, simulate_interval=0.25
    )


async def _leader(redis: Any, replicas: list[Replica], name: str) -> Replica:
    for _ in range(200):
        holder = await redis.get(f"{name}:lease")
        for replica in replicas:
            if holder and f"-{replica.pid}-" in holder.decode():
                return replica
        await asyncio.sleep(0.05)
    raise AssertionError("no replica leads")


async def _entries(redis: Any, name: str) -> list[tuple[str, dict[str, str]]]:
    raw = await redis.xrange(f"{name}:stream")
    return [(i.decode(), {k.decode(): v.decode() for k, v in f.items()}) for i, f in raw]


def _call_keys(keys: Any) -> tuple[set[str], set[str]]:
    keys = list(keys)
    started = {k.rsplit("|", 1)[0] for k in keys if k.endswith("|started")}
    ended = {k.rsplit("|", 1)[0] for k in keys if k.endswith("|ended")}
    return started, ended


async def _published(redis: Any, name: str, text: str, *, anywhere: bool = False) -> None:
    async with asyncio.timeout(10):
        while True:
            keys = [f["k"] for _, f in await _entries(redis, name)]
            if any((text in k) if anywhere else k.endswith(text) for k in keys):
                return
            await asyncio.sleep(0.05)


async def _collect(fanout: RedisFanout, group: str, into: list[Delivery]) -> None:
    async for delivery in fanout.events(group, "test"):
        into.append(delivery)


async def _wait_all_ended(redis: Any, name: str, deadline: float) -> None:
    """Until every call the stream started has ended (the emulator's calls are short)."""
    while time.monotonic() < deadline:
        entries = await _entries(redis, name)
        started, ended = _call_keys(f["k"] for _, f in entries)
        if started and started <= ended:
            return
        await asyncio.sleep(0.2)


async def test_sigkill_the_leader_mid_stream(redis: Any, redis_server: Any) -> None:
    name = "kill"
    async with _emulator() as emu, emu.client() as client:
        args = ("--group", "a", "--name", name, "--lease-ttl", str(TTL), "--claim-idle", "1")
        replicas = [await start_replica(emu, redis_server.url, *args) for _ in range(3)]
        group_b: list[Delivery] = []
        reader = RedisFanout(redis_server.url, client.legacy.live_status, name=name, lead=False)
        try:
            async with reader:
                collecting = asyncio.ensure_future(_collect(reader, "b", group_b))
                leader = await _leader(redis, replicas, name)
                await _published(redis, name, "|snapshot|", anywhere=True)
                # a call published by the leader that ends while nobody leads
                gap_call = emu.place_call("301", OUTSIDE, ring_seconds=0.1, hold_forever=True)
                await _published(redis, name, f"-{OUTSIDE}|started")
                await asyncio.sleep(1.0)
                epoch = int(await redis.get(f"{name}:epoch"))
                killed_at = time.time()
                leader.signal(signal.SIGKILL)
                emu.hangup(gap_call)
                # failover: leader killed to the first event published by the next one
                failover = None
                while failover is None and time.time() < killed_at + 10:
                    for entry_id, fields in await _entries(redis, name):
                        if int(fields["ep"]) > epoch:
                            failover = int(entry_id.split("-")[0]) / 1000 - killed_at
                            break
                    await asyncio.sleep(0.05)
                assert failover is not None and failover < 2 * TTL, failover
                await asyncio.sleep(2.0)
                emu.stop_simulation()
                await _wait_all_ended(redis, name, time.monotonic() + 10)
                await asyncio.sleep(1.5)  # the groups read the last events; claims run
                collecting.cancel()
                await asyncio.wait([collecting])
        finally:
            for replica in replicas:
                await replica.stop()
        assert emu.max_concurrent_polls == 1

    entries = await _entries(redis, name)
    in_stream = collections.Counter(f["k"] for _, f in entries)
    started, ended = _call_keys(in_stream)
    assert started and started <= ended
    assert any(key.endswith(f"-{OUTSIDE}") for key in ended)  # its end was not lost
    # exactly once in the stream
    assert all(n == 1 for k, n in in_stream.items() if "|started" in k or "|ended" in k)
    # at least once per group: every call started and ended (or shown by a snapshot)
    seen_a = {line["key"] for replica in replicas for line in replica.lines}
    seen_b = {d.key for d in group_b}
    for seen in (seen_a, seen_b):
        got_started, got_ended = _call_keys(seen)
        assert got_ended >= ended
        assert got_started >= started - _snapshot_started(entries)


def _snapshot_started(entries: list[tuple[str, dict[str, str]]]) -> set[str]:
    import json

    calls = set()
    for _, fields in entries:
        event = json.loads(fields["e"])
        if event["type"] == "Snapshot":
            for ext, call in event["calls"]:
                value = call["value"]
                calls.add(f"live|{ext}|{value.get('uid') or value.get('presenceCallId')}")
    return calls


async def test_sigstop_past_the_ttl_fences_the_old_leader(redis: Any, redis_server: Any) -> None:
    name = "stop"
    async with _emulator() as emu:
        args = ("--group", "a", "--name", name, "--lease-ttl", str(TTL))
        replicas = [await start_replica(emu, redis_server.url, *args) for _ in range(2)]
        try:
            leader = await _leader(redis, replicas, name)
            await asyncio.sleep(1.0)
            old_epoch = int(await redis.get(f"{name}:epoch"))
            leader.signal(signal.SIGSTOP)
            await asyncio.sleep(3 * TTL)
            taken = int(await redis.get(f"{name}:epoch"))
            assert taken > old_epoch  # another took over
            leader.signal(signal.SIGCONT)
            await asyncio.sleep(2 * TTL)
            # It stepped down: the lease is the other one's, unless that one in turn missed
            # its renewals (a loaded machine) and the old leader won a later, fenced-apart
            # term; it never leads in the term it was stopped in.
            async with asyncio.timeout(10):
                while True:
                    holder = await redis.get(f"{name}:lease")
                    if holder is not None:
                        break
                    await asyncio.sleep(0.05)
            epoch = int(await redis.get(f"{name}:epoch"))
            assert f"-{leader.pid}-" not in holder.decode() or epoch > taken
            emu.stop_simulation()
            await _wait_all_ended(redis, name, time.monotonic() + 10)
        finally:
            for replica in replicas:
                await replica.stop()
        assert emu.max_concurrent_polls == 1

    entries = await _entries(redis, name)
    # fenced: after the next leader's first entry, nothing carries the old epoch
    first_new = next(i for i, (_, f) in enumerate(entries) if int(f["ep"]) > old_epoch)
    assert all(int(f["ep"]) > old_epoch for _, f in entries[first_new:])
    in_stream = collections.Counter(f["k"] for _, f in entries)
    assert all(n == 1 for k, n in in_stream.items() if "|started" in k or "|ended" in k)
    started, ended = _call_keys(in_stream)
    assert started and started <= ended
