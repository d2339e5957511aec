"""Watchers joining, leaving and restarting, against the emulator: no event lost on the way."""

from __future__ import annotations

import asyncio
import logging

import pytest

from vonage_async import CallEnded, Snapshot
from vonage_async.emulator import Emulator


async def test_a_watch_joining_while_the_last_one_leaves_still_sees_the_call_end() -> None:
    async with Emulator(hold=0.3) as emu, emu.client() as client:
        call = emu.place_call("301", "302", hold_forever=True)
        await asyncio.sleep(0.5)
        first = client.legacy.live_status.watch().__aiter__()
        assert isinstance(await first.__anext__(), Snapshot)
        second = client.legacy.live_status.watch().__aiter__()
        leaving = asyncio.create_task(first.aclose())  # the hub starts stopping
        await asyncio.sleep(0)
        snapshot = await asyncio.wait_for(second.__anext__(), 5)  # joins mid-stop
        assert isinstance(snapshot, Snapshot) and len(snapshot.calls) == 2
        emu.hangup(call)
        await leaving
        ended = set()
        while len(ended) < 2:
            event = await asyncio.wait_for(second.__anext__(), 5)
            if isinstance(event, CallEnded):
                ended.add(event.extension)
        assert ended == {"301", "302"}
        await second.aclose()


async def test_snapshot_beside_a_watch_and_right_after_one_gets_no_conflict(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="vonage_async")
    async with Emulator(hold=5.0) as emu, emu.client() as client:
        live = client.legacy.live_status
        watching = live.watch(["301"]).__aiter__()
        assert isinstance(await watching.__anext__(), Snapshot)
        await asyncio.sleep(0.2)  # the poll is held now
        other = await live.snapshot(["302"])  # not covered by the watch
        assert [e.extension for e in other.extensions] == ["302"]
        await watching.aclose()
        after = await live.snapshot()  # the server may still hold the abandoned poll
        assert len(after.extensions) == 8
    assert not [r for r in caplog.records if "409" in r.getMessage()]


async def test_widening_the_watched_extensions_causes_no_conflict(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="vonage_async")
    async with Emulator(hold=5.0) as emu, emu.client() as client:
        watches = []
        for number in ("301", "302", "303"):
            events = client.legacy.live_status.watch([number], max_conflicts=0).__aiter__()
            snapshot = await asyncio.wait_for(events.__anext__(), 5)
            assert isinstance(snapshot, Snapshot) and list(snapshot.extensions) == [number]
            watches.append(events)
            await asyncio.sleep(0.2)
        for events in watches:
            await events.aclose()
    assert not [r for r in caplog.records if "409" in r.getMessage()]


async def test_a_restarted_telephony_watch_forgets_calls_that_ended_meanwhile() -> None:
    async with Emulator(ring_seconds=0.1) as emu, emu.client() as client:
        calls = [
            emu.place_call(a, b, hold_forever=True)
            for a, b in (("301", "302"), ("303", "304"), ("305", "306"))
        ]
        await asyncio.sleep(0.5)
        first = client.telephony.calls.watch(interval=0.1, page_size=1).__aiter__()
        snapshot = await first.__anext__()
        assert isinstance(snapshot, Snapshot) and len(snapshot.calls) == 3
        await asyncio.sleep(0.3)  # several multi-page walks
        await first.aclose()
        emu.hangup(calls[0])
        await asyncio.sleep(0.3)
        second = client.telephony.calls.watch(interval=0.1, page_size=1).__aiter__()
        snapshot = await second.__anext__()
        assert isinstance(snapshot, Snapshot)
        assert sorted(r.call.call_id for r in snapshot.calls) == sorted(calls[1:])
        await second.aclose()


async def test_a_cancelled_aclose_still_closes_the_session_when_retried() -> None:
    async with Emulator(hold=5.0) as emu:
        client = emu.client()
        events = client.legacy.live_status.watch().__aiter__()
        assert isinstance(await events.__anext__(), Snapshot)
        closing = asyncio.create_task(client.aclose())
        await asyncio.sleep(0)
        closing.cancel()
        await asyncio.gather(closing, return_exceptions=True)
        await client.aclose()
        session = client._transport._session
        assert session is not None and session.closed
        await events.aclose()


# -- issue 22 rule 6: closing the client at any point leaves nothing behind ----------------


def _ours() -> set[asyncio.Task[object]]:
    """Tasks running the package's code (the emulator's server side aside)."""
    found = set()
    for task in asyncio.all_tasks():
        code = getattr(task.get_coro(), "cr_code", None)
        filename = code.co_filename if code is not None else ""
        if "vonage_async" in filename and "emulator" not in filename:
            found.add(task)
    return found


@pytest.mark.parametrize("watcher", ["live_status", "telephony"])
@pytest.mark.parametrize("after", [0.0, 0.005, 0.05, 0.3])
async def test_closing_the_client_at_any_point_ends_every_watch_and_leaves_nothing(
    watcher: str, after: float
) -> None:
    from vonage_async import Backoff

    async with Emulator(hold=5.0) as emu:
        for _ in range(4):
            emu.place_call("301", "14155550100", hold_forever=True)
        before = _ours()
        client = emu.client()
        if watcher == "live_status":
            watch = client.legacy.live_status.watch(backoff=Backoff(0.01, 0.05))
        else:  # a walk of several pages, one request each
            watch = client.telephony.calls.watch(interval=0.01, page_size=1)
        seen: list[object] = []

        async def consume() -> None:
            async for event in watch:
                seen.append(event)

        consumer = asyncio.create_task(consume())
        await asyncio.sleep(after)  # before the first read, mid-walk, during a held poll...
        loop = asyncio.get_running_loop()
        started = loop.time()
        await asyncio.wait_for(client.aclose(), 1.0)
        await asyncio.wait_for(consumer, 1.0)  # ended cleanly: no error raised out of it
        assert loop.time() - started < 1.0
        assert client.closed
        session = client._transport._session
        assert session is None or (session.closed and session.connector is None)
        await asyncio.sleep(0)
        assert _ours() - before == set(), _ours() - before
        consumer.cancel()  # cancelling again after the end changes nothing
        await asyncio.sleep(0)
        assert consumer.done() and consumer.exception() is None
