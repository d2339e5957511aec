"""A watch says what it is doing: ``watch.stats()``, lifecycle events, poll hooks and poll
spans, against the scripted seed-003 server in ``tests/dashui_server.py``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from yarl import URL

from tests.dashui_server import PASSWORD, USERNAME, DashServer, serving
from vonage_async import (
    Backoff,
    CallStarted,
    ConsumerDropped,
    ExtensionUpdated,
    PollEvent,
    PollFailed,
    Reconnected,
    Resynced,
    SessionLogin,
    Snapshot,
    Vonage,
    otel,
)

FAST = Backoff(initial=0.01, maximum=0.05)


@pytest.fixture
async def dash() -> AsyncIterator[DashServer]:
    async with serving(hold=0.2) as server:
        yield server


def client_for(dash: DashServer, **options: Any) -> Vonage:
    return Vonage(
        legacy_auth=SessionLogin(USERNAME, PASSWORD),
        legacy_url=dash.url,  # type: ignore[attr-defined]
        **options,
    )


class Consumer:
    """Consumes a watch in a task, keeping everything it yields."""

    def __init__(self, watch: Any) -> None:
        self.watch = watch
        self.seen: list[Any] = []
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async for event in self.watch:
            self.seen.append(event)

    async def until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        for _ in range(int(timeout / 0.02)):
            if predicate():
                return
            if self.task.done():
                self.task.result()
                raise AssertionError("the watch ended")
            await asyncio.sleep(0.02)
        raise AssertionError(f"timed out; seen {self.seen[-6:]}")

    def started(self, uid: str) -> bool:
        return any(isinstance(e, CallStarted) and e.call.id == uid for e in self.seen)

    async def stop(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


async def test_stats_count_what_the_loop_did(dash: DashServer) -> None:
    async with client_for(dash) as client:
        watch = client.legacy.live_status.watch(poll_timeout=2.0, backoff=FAST)
        before = watch.stats()
        assert (before.running, before.polls, before.last_success) == (False, 0, None)
        consumer = Consumer(watch)
        await consumer.until(lambda: watch.stats().not_modified >= 2)  # quiet: 304s
        dash.faults.extend(["500", "409"])
        await consumer.until(lambda: not dash.faults and watch.stats().failures_in_a_row == 0)
        await dash.set_call("301", "c1-1", "Ringing")
        await consumer.until(lambda: consumer.started("c1-1"))
        stats = watch.stats()
        await consumer.stop()
    assert stats.running and stats.watch == "Live Status"
    assert stats.polls >= 4 and stats.not_modified >= 2
    assert stats.failures == 2 and stats.failures_in_a_row == 0
    assert stats.resyncs == 1  # the full read that succeeded after them
    assert stats.conflicts == dash.conflicts == 1
    assert stats.relogins == dash.logins - 1 == 1  # the new session after the 409
    assert stats.last_error is not None and stats.last_error.startswith("SessionConflictError")
    assert stats.last_success is not None
    assert stats.seconds_since_success is not None and stats.seconds_since_success < 5
    assert stats.waiting_until is None
    (only,) = stats.consumers
    assert (only.extensions, only.drops, only.dropped_events, only.lifecycle) == (
        None,
        0,
        0,
        False,
    )


async def test_lifecycle_events_tell_failures_recovery_and_resync(dash: DashServer) -> None:
    async with client_for(dash) as client:
        plain = Consumer(client.legacy.live_status.watch(poll_timeout=2.0, backoff=FAST))
        told = Consumer(
            client.legacy.live_status.watch(poll_timeout=2.0, backoff=FAST, lifecycle=True)
        )
        await told.until(lambda: bool(told.seen) and bool(plain.seen))
        dash.faults.extend(["500", "500"])
        dash.put_call("301", "c2-1", "Ringing")  # seen by the resync after the faults
        await told.until(lambda: any(isinstance(e, Resynced) for e in told.seen))
        await plain.until(lambda: plain.started("c2-1"))
        await plain.stop()
        await told.stop()
    news = [e for e in told.seen if not isinstance(e, (Snapshot, ExtensionUpdated))]
    failed = [e for e in news if isinstance(e, PollFailed)]
    assert [f.failures for f in failed] == [1, 2]
    assert all(f.error.startswith("ServerError") and f.retry_in >= 0 for f in failed)
    assert failed[1].failing_for >= failed[0].failing_for
    kinds = [type(e).__name__ for e in news]
    assert kinds == ["PollFailed", "PollFailed", "Reconnected", "CallStarted", "Resynced"]
    reconnected = news[2]
    assert isinstance(reconnected, Reconnected) and reconnected.failures == 2
    assert reconnected.down_for >= 0 and (reconnected.last_error or "").startswith("ServerError")
    assert news[4] == Resynced("Live Status", "fault")
    # The default output is unchanged: no lifecycle event for a watch that did not ask.
    assert [type(e).__name__ for e in plain.seen if not isinstance(e, ExtensionUpdated)] == [
        "Snapshot",
        "CallStarted",
    ]


async def test_a_wider_watch_joining_is_a_resync_for_the_filter(dash: DashServer) -> None:
    async with client_for(dash) as client:
        narrow = Consumer(
            client.legacy.live_status.watch("301", poll_timeout=2.0, backoff=FAST, lifecycle=True)
        )
        await narrow.until(lambda: bool(narrow.seen))
        wide = Consumer(client.legacy.live_status.watch(poll_timeout=2.0, backoff=FAST))
        await narrow.until(lambda: any(isinstance(e, Resynced) for e in narrow.seen))
        await wide.stop()
        await narrow.stop()
    assert Resynced("Live Status", "filter") in narrow.seen
    assert not any(isinstance(e, (PollFailed, Reconnected)) for e in narrow.seen)


async def test_a_consumer_that_falls_behind_is_told_and_counted(dash: DashServer) -> None:
    async with client_for(dash) as client:
        watch = client.legacy.live_status.watch(
            poll_timeout=2.0, backoff=FAST, max_queue=2, lifecycle=True
        )
        fast = Consumer(client.legacy.live_status.watch(poll_timeout=2.0, backoff=FAST))
        slow = watch.__aiter__()
        assert isinstance(await slow.__anext__(), Snapshot)
        dash.faults.append("500")  # news for the slow consumer, kept through its drop
        await fast.until(lambda: watch.stats().resyncs == 1)
        for n in range(4):  # one change a poll: the slow consumer takes none of them
            await dash.set_call("302", f"c3-{n}", "Ringing")
            await fast.until(lambda n=n: fast.started(f"c3-{n}"))  # type: ignore[misc]
        stats = watch.stats()
        mine = next(c for c in stats.consumers if c.lifecycle)
        assert (mine.drops, mine.queued) == (1, 4)  # dropped; only lifecycle events are left
        assert mine.dropped_events >= 4
        other = next(c for c in stats.consumers if not c.lifecycle)
        assert (other.drops, other.dropped_events) == (0, 0)
        kept = [type(await slow.__anext__()).__name__ for _ in range(3)]
        assert kept == ["PollFailed", "Reconnected", "Resynced"]
        dropped = await slow.__anext__()
        assert isinstance(dropped, ConsumerDropped)
        assert (dropped.max_queue, dropped.watch) == (2, "Live Status")
        assert 2 < dropped.dropped_events <= mine.dropped_events
        resync = await slow.__anext__()
        assert isinstance(resync, Snapshot) and resync.resync
        assert {ref.call.id for ref in resync.calls} == {f"c3-{n}" for n in range(4)}
        await slow.aclose()
        await fast.stop()


async def test_poll_hooks_frame_each_read(dash: DashServer) -> None:
    events: list[tuple[str, PollEvent]] = []
    client = client_for(dash)
    client.hooks.on_poll_start.append(lambda e: events.append(("start", e)))

    async def on_end(event: PollEvent) -> None:
        events.append(("end", event))

    client.hooks.on_poll_end.append(on_end)
    async with client:
        consumer = Consumer(client.legacy.live_status.watch(poll_timeout=2.0, backoff=FAST))
        await consumer.until(lambda: len([e for k, e in events if k == "end"]) >= 2)
        dash.faults.append("500")
        await dash.set_call("301", "c4-1", "Ringing")
        await consumer.until(lambda: consumer.started("c4-1"))
        await consumer.stop()
    ends = [e for kind, e in events if kind == "end"]
    starts = [e for kind, e in events if kind == "start"]
    assert [e.id for e in starts][: len(ends)] == [e.id for e in ends]
    assert ends[0].full and ends[0].outcome == "changed"  # the first read
    assert not ends[1].full and ends[1].outcome == "unchanged"  # a 304
    failed = next(e for e in ends if e.outcome == "failed")
    assert failed.error == "ServerError" and failed.events == 0
    after = ends[ends.index(failed) + 1]
    assert after.full and after.outcome in ("changed", "unchanged")
    assert all(e.elapsed is not None and e.elapsed >= 0 for e in ends)
    assert ends[-1].outcome == "cancelled" or len(starts) == len(ends)


async def test_each_poll_is_a_span_holding_its_requests(dash: DashServer) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    async with client_for(dash) as client:
        otel.instrument(client, tracer_provider=provider)
        consumer = Consumer(client.legacy.live_status.watch(poll_timeout=2.0, backoff=FAST))
        await consumer.until(lambda: bool(consumer.seen))
        dash.expire_sessions()  # the next poll logs in again inside the read
        await dash.set_call("301", "c5-1", "Ringing")
        await consumer.until(lambda: consumer.started("c5-1"))
        await consumer.stop()
    spans = exporter.get_finished_spans()
    polls = {s.context.span_id: s for s in spans if s.name == "Live Status poll"}
    requests = [s for s in spans if s.name == "GET"]
    assert len(polls) >= 3 and requests
    for request in requests:  # every request of the watch, logins too, is inside a poll
        assert request.parent is not None and request.parent.span_id in polls
    logins = [r for r in requests if "/appserver/" in str((r.attributes or {})["url.full"])]
    assert len(logins) >= 2
    first = min(polls.values(), key=lambda s: s.start_time or 0)
    assert (first.attributes or {})["vonage.poll.full"] is True
    assert (first.attributes or {})["vonage.poll.outcome"] == "changed"
    outcomes = {(s.attributes or {})["vonage.poll.outcome"] for s in polls.values()}
    assert {"changed", "unchanged"} <= outcomes
    assert all(URL(str((r.attributes or {})["url.full"])).host == "127.0.0.1" for r in requests)


async def test_the_telephony_watch_says_the_same(emulator: Any) -> None:
    from vonage_async import LifecycleWatch, RetryPolicy, Watch

    async with emulator.client(retry=RetryPolicy(attempts=1)) as client:
        assert isinstance(client.telephony.calls.watch(interval=0.1), Watch)
        watch = client.telephony.calls.watch(interval=0.1, backoff=FAST, lifecycle=True)
        assert isinstance(watch, LifecycleWatch)
        consumer = Consumer(watch)
        await consumer.until(lambda: bool(consumer.seen))
        emulator.faults.rate_limit(1, retry_after=0.01, family="vbc")
        await consumer.until(lambda: any(isinstance(e, Resynced) for e in consumer.seen))
        stats = watch.stats()
        await consumer.stop()
    kinds = [type(e).__name__ for e in consumer.seen if not isinstance(e, Snapshot)]
    assert kinds[:3] == ["PollFailed", "Reconnected", "Resynced"], kinds
    assert stats.watch == "Telephony calls" and stats.failures == 1 and stats.resyncs == 1
    assert (stats.relogins, stats.conflicts, stats.not_modified) == (0, 0, 0)
