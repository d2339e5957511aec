"""The fan-out in process against a real redis-server: consumer death, trimming, a Redis
restart, fencing at the storage, the shared rate limit and token store."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from vonage_async import errors
from vonage_async._events import CallEnded, CallStarted, Snapshot, WatchState
from vonage_async.emulator import Emulator
from vonage_async.fanout import (
    Delivery,
    RedisFanout,
    RedisRateLimit,
    _Fenced,
    default_consumer,
)

TTL = 1.0


def _emulator() -> Emulator:
    return Emulator(
        hold=2.0, ring_seconds=0.3, talk_seconds=0.6, simulate=True, simulate_interval=0.2
    )


async def _take(events: AsyncIterator[Delivery], n: int, timeout: float = 15.0) -> list[Delivery]:
    got: list[Delivery] = []
    async with asyncio.timeout(timeout):
        async for delivery in events:
            got.append(delivery)
            if len(got) == n:
                break
    return got


_DYING = """
import asyncio, os, sys
from vonage_async import Vonage
from vonage_async.auth import SessionLogin
from vonage_async.fanout import RedisFanout

async def main():
    url, name = sys.argv[1], sys.argv[2]
    async with Vonage(legacy_auth=SessionLogin("u", "p"), legacy_url="http://127.0.0.1:9") as c:
        async with RedisFanout(url, c.legacy.live_status, name=name, lead=False) as fanout:
            async for d in fanout.events("g", "dying"):
                if not isinstance(d.event, __import__("vonage_async").Snapshot):
                    print(d.id, flush=True)
                    await asyncio.sleep(3600)  # never asks for the next one: never acks

asyncio.run(main())
"""


async def test_a_dead_consumers_events_go_to_another(redis: Any, redis_server: Any) -> None:
    name = "death"
    async with _emulator() as emu, emu.client() as client:
        leader = RedisFanout(redis_server.url, client.legacy.live_status, name=name, lease_ttl=TTL)
        survivor = RedisFanout(
            redis_server.url, client.legacy.live_status, name=name, lead=False, claim_idle=0.5
        )
        async with leader, survivor:
            events = survivor.events("g", "survivor")
            first = await _take(events, 1)  # creates the group: its snapshot
            assert isinstance(first[0].event, Snapshot)
            dying = await asyncio.create_subprocess_exec(
                sys.executable, "-c", _DYING, redis_server.url, name, stdout=asyncio.subprocess.PIPE
            )
            assert dying.stdout is not None
            async with asyncio.timeout(20):
                pending_id = (await dying.stdout.readline()).decode().strip()
            dying.send_signal(signal.SIGKILL)
            await dying.wait()
            assert pending_id
            async with asyncio.timeout(20):
                async for delivery in events:
                    if delivery.id == pending_id:
                        break
            assert delivery.redelivered
            await events.aclose()  # type: ignore[attr-defined]


async def test_a_trimmed_position_resyncs(redis: Any, redis_server: Any) -> None:
    name = "trim"
    async with _emulator() as emu, emu.client() as client:
        leader = RedisFanout(
            redis_server.url, client.legacy.live_status, name=name, lease_ttl=TTL, maxlen=3
        )
        async with leader:
            group = leader.events("slow")
            broadcast = leader.events()
            before_group = await _take(group, 2)
            before_broadcast = await _take(broadcast, 2)
            # the slow consumers sleep while the stream moves on past maxlen
            start = await redis.xlen(f"{name}:stream")

            async def moved_on() -> bool:
                return bool((await redis.xinfo_stream(f"{name}:stream"))["entries-added"] >= 40)

            await _until(moved_on, 15)
            assert start <= 3
            for events, before in ((group, before_group), (broadcast, before_broadcast)):
                after = await _take(events, 6)
                resyncs = [d for d in after if isinstance(d.event, Snapshot) and d.event.resync]
                assert len(resyncs) == 1, after
                at = after.index(resyncs[0])
                # nothing repeated after it: everything later is newer than the snapshot
                later = after[at + 1 :]
                assert all(_id(d.id) > _id(resyncs[0].id) for d in later)
                assert all(_id(d.id) > _id(b.id) for d in after[:at] for b in before)
                await events.aclose()  # type: ignore[attr-defined]


async def _until(check: Callable[[], Awaitable[bool]], timeout: float) -> None:
    async with asyncio.timeout(timeout):
        while True:
            if await check():
                return
            await asyncio.sleep(0.05)


def _id(text: str) -> tuple[int, int]:
    ms, seq = text.split("-")
    return int(ms), int(seq)


async def test_redis_restart_reelects_and_publishes_a_fresh_snapshot(
    redis: Any, redis_server: Any
) -> None:
    name = "restart"
    async with _emulator() as emu, emu.client() as one, emu.client() as two:
        first = RedisFanout(redis_server.url, one.legacy.live_status, name=name, lease_ttl=TTL)
        second = RedisFanout(redis_server.url, two.legacy.live_status, name=name, lease_ttl=TTL)
        async with first, second:
            events = first.events("g")
            await _take(events, 3)
            redis_server.kill()  # its data goes with it (--save '' --appendonly no)
            await asyncio.sleep(TTL)
            redis_server.start()
            async with asyncio.timeout(20):
                async for delivery in events:
                    if isinstance(delivery.event, Snapshot):
                        break
            assert first.is_leader or second.is_leader
            entries = await redis.xrange(f"{name}:stream")
            assert json.loads(entries[0][1][b"e"])["type"] == "Snapshot"
            # Elected afresh: the epoch counts again from the empty store (a leader starved of
            # CPU on a loaded machine may lose its lease once more, so it is not pinned at 1).
            assert 1 <= int(await redis.get(f"{name}:epoch")) <= 3
            later = await _take(events, 2)
            assert all(not isinstance(d.event, Snapshot) for d in later)
            await events.aclose()  # type: ignore[attr-defined]
        assert emu.max_concurrent_polls == 1


async def test_a_publish_is_fenced_at_the_storage(redis: Any, redis_server: Any) -> None:
    name = "fence"
    async with _emulator() as emu, emu.client() as client:
        fanout = RedisFanout(redis_server.url, client.legacy.live_status, name=name, lease_ttl=5)
        async with fanout:

            async def published() -> bool:
                return bool(await redis.exists(f"{name}:state"))

            await _until(published, 10)
            epoch = int(await redis.get(f"{name}:epoch"))
            publish = fanout._publisher(epoch, announce=False)
            # the lease moved on (taken by another replica), but this one's clock says it holds
            await redis.set(f"{name}:lease", "someone-else")
            await redis.incr(f"{name}:epoch")
            length = await redis.xlen(f"{name}:stream")
            emu.stop_simulation()
            with pytest.raises(_Fenced):
                await publish([CallStarted("301", None)], WatchState())
            assert await redis.xlen(f"{name}:stream") == length


async def test_leaving_gives_the_lease_up_at_once(redis: Any, redis_server: Any) -> None:
    """A replica shut down (a rolling deploy) frees its lease for the next one at once; one
    that does not hold it leaves the holder's lease alone."""
    async with Emulator() as emu, emu.client() as one, emu.client() as two:
        first = RedisFanout(redis_server.url, one.legacy.live_status, name="bye", lease_ttl=30)
        second = RedisFanout(redis_server.url, two.legacy.live_status, name="bye", lease_ttl=30)
        async with first:

            async def leading() -> bool:
                return first.is_leader

            await _until(leading, 10)
            async with second:
                await asyncio.sleep(0.2)  # it tried, and found the lease held
                assert not second.is_leader
            assert await redis.get("bye:lease") == first.holder.encode()
        assert await redis.get("bye:lease") is None


async def test_telephony_calls_through_the_fanout_within_a_shared_rate_limit(
    redis: Any, redis_server: Any
) -> None:
    """``client.telephony.calls`` as the source, under a ``RedisRateLimit`` given as
    ``vbc_rate_limit`` (the poll interval is fitted to its ``limit``)."""
    limit = RedisRateLimit(redis_server.url, calls=40, period=1.0, key="tel-rate")
    async with Emulator() as emu, emu.client(vbc_rate_limit=limit) as client:
        fanout = RedisFanout(
            redis_server.url, client.telephony.calls, name="tel", lease_ttl=TTL, account_id="self"
        )
        async with fanout:
            events = fanout.events("g")
            first = await _take(events, 1)
            assert isinstance(first[0].event, Snapshot)
            call_id = emu.place_call("301", "12345678901", ring_seconds=0.1, hold_forever=True)
            async with asyncio.timeout(8):  # the default interval would be 12 s
                async for delivery in events:
                    if isinstance(delivery.event, CallStarted):
                        break
            assert delivery.event.call.call_id == call_id
            assert delivery.key == f"calls:self||{call_id}|started"
            emu.hangup(call_id)
            async with asyncio.timeout(8):  # the default interval would be 12 s
                async for delivery in events:
                    if isinstance(delivery.event, CallEnded):
                        break
            assert delivery.key == f"calls:self||{call_id}|ended"
            await events.aclose()  # type: ignore[attr-defined]
    await limit.aclose()


async def test_broadcast_from_now_from_the_start_or_from_a_saved_id(
    redis: Any, redis_server: Any
) -> None:
    async with _emulator() as emu, emu.client() as client:
        fanout = RedisFanout(redis_server.url, client.legacy.live_status, name="bc", lease_ttl=TTL)
        async with fanout:

            async def six() -> bool:
                return bool(await redis.xlen("bc:stream") >= 6)

            await _until(six, 15)
            stream = [i.decode() for i, _ in await redis.xrange("bc:stream", count=6)]
            from_start = await _take(fanout.events(since="0"), 5)
            assert [d.id for d in from_start] == stream[:5]
            assert isinstance(from_start[0].event, Snapshot) and not from_start[0].event.resync
            from_saved = await _take(fanout.events(since=from_start[2].id), 2)
            assert [d.id for d in from_saved] == stream[3:5]
            last = (await redis.get("bc:last")).decode()
            now = await _take(fanout.events(), 2)
            assert isinstance(now[0].event, Snapshot) and not now[0].event.resync
            assert _id(now[0].id) >= _id(last) and _id(now[1].id) > _id(now[0].id)


async def test_a_restarted_consumer_takes_its_own_pending_events_first(
    redis: Any, redis_server: Any
) -> None:
    """``consumer`` defaults to host name and process id: the same name after a restart, whose
    unacknowledged events come back first (long before ``claim_idle``)."""
    async with _emulator() as emu, emu.client() as client:
        fanout = RedisFanout(redis_server.url, client.legacy.live_status, name="own", lease_ttl=TTL)
        async with fanout:
            before = await _take(fanout.events("g"), 2)  # the group's Snapshot, then one event
            assert isinstance(before[0].event, Snapshot) and not before[1].redelivered
            consumers = await redis.xinfo_consumers("own:stream", "g")
            assert [c["name"].decode() for c in consumers] == [default_consumer()]
            assert default_consumer() == f"{socket.gethostname()}-{os.getpid()}"
            again = await _take(fanout.events("g"), 1)  # "restarted": never asked for the next
            assert again[0].id == before[1].id and again[0].redelivered
            assert again[0].key == before[1].key


async def test_a_leader_that_cannot_renew_stops_before_its_lease_ends(
    redis: Any, redis_server: Any
) -> None:
    """Renewals that hang (a stuck connection): the leader stops polling 2/3 ttl after its
    last renewal, by its own monotonic clock, while Redis still holds its lease, so it has
    stopped before any other replica can take over."""
    ttl = 3.0
    async with _emulator() as emu, emu.client() as client:
        fanout = RedisFanout(
            redis_server.url, client.legacy.live_status, name="hang", lease_ttl=ttl
        )
        async with fanout:

            async def leading() -> bool:
                return fanout.is_leader and bool(await redis.exists("hang:state"))

            await _until(leading, 10)
            real = fanout._lease_redis

            class Stuck:
                async def eval(self, *args: Any) -> Any:
                    await asyncio.Event().wait()

            fanout._lease_redis = Stuck()
            try:

                async def stepped_down() -> bool:
                    return fanout._epoch is None  # cleared once the poll was cancelled

                await _until(stepped_down, 2 * ttl)
                assert time.monotonic() - fanout._renewed < ttl  # before its lease ends
                assert await redis.pttl("hang:lease") > 0  # its lease had not run out yet
                assert fanout.terms == 1
            finally:
                fanout._lease_redis = real


_LIMITED = """
import asyncio, sys
from vonage_async import Vonage
from vonage_async.auth import OAuth2
from vonage_async.fanout import RedisRateLimit

async def main():
    url, vbc, token, cid, secret, user, password = sys.argv[1:8]
    limit = RedisRateLimit(url, calls=4, period=1.0, key="shared")
    auth = OAuth2(cid, secret, user, password, token_url=token)
    async with Vonage(vbc_auth=auth, vbc_url=vbc, vbc_rate_limit=limit) as client:
        for _ in range(6):
            await client.telephony.calls.list("self").first()
    await limit.aclose()

asyncio.run(main())
"""


async def test_replicas_share_one_rate_limit(redis: Any, redis_server: Any) -> None:
    emu = Emulator()
    arrivals: list[float] = []

    async def record(request: Any, response: Any) -> None:
        if "/calls" in request.path:
            arrivals.append(time.monotonic())

    emu.app.on_response_prepare.append(record)
    async with emu:
        c = emu.credentials
        argv = [redis_server.url, emu.vbc_url, emu.token_url, c.client_id, c.client_secret]
        argv += [c.username, c.password]
        processes = [
            await asyncio.create_subprocess_exec(sys.executable, "-c", _LIMITED, *argv)
            for _ in range(3)
        ]
        for process in processes:
            assert await process.wait() == 0
    assert len(arrivals) == 18
    arrivals.sort()
    # never more than 4 in any second (less the jitter between letting go and arriving)
    assert all(b - a >= 0.9 for a, b in zip(arrivals, arrivals[4:], strict=False))


def test_validation() -> None:
    with pytest.raises(errors.ValidationError):
        RedisRateLimit("redis://x", calls=0)
    with pytest.raises(errors.ValidationError):
        RedisFanout("redis://x", object(), name="x")
    with pytest.raises(errors.ValidationError):
        RedisFanout("redis://x", object(), name="")


async def test_events_need_the_context(redis_server: Any) -> None:
    async with Emulator() as emu, emu.client() as client:
        fanout = RedisFanout(redis_server.url, client.legacy.live_status, name="x")
        with pytest.raises(errors.ConfigurationError):
            fanout.events()


async def test_replicas_share_tokens_and_refresh_once(redis: Any, redis_server: Any) -> None:
    from vonage_async import Vonage
    from vonage_async.fanout import RedisTokenStore

    async with Emulator() as emu:
        c = emu.credentials
        stores = [RedisTokenStore(redis_server.url, key="tokens") for _ in range(2)]
        auths = [
            store.oauth2(
                c.client_id,
                c.client_secret,
                username=c.username,
                password=c.password,
                token_url=emu.token_url,
            )
            for store in stores
        ]
        clients = [Vonage(vbc_auth=auth, vbc_url=emu.vbc_url) for auth in auths]
        try:

            async def call_all() -> None:
                await asyncio.gather(
                    *(client.telephony.calls.list("self").first() for client in clients)
                )

            await call_all()
            assert sum(auth.token_requests for auth in auths) == 1  # the other adopted it
            for auth in auths:  # both decide to renew at once
                auth._renew_at = 0.0
            await call_all()
            # one refresh for both; its rotated refresh token is the one stored
            assert sum(auth.token_requests for auth in auths) == 2
            stored = json.loads(await redis.get("tokens"))
            assert stored["refresh_token"] == auths[0]._refresh_token == auths[1]._refresh_token
        finally:
            for client in clients:
                await client.aclose()
            for store in stores:
                await store.aclose()
