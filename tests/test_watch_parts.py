"""A poll handed out in parts: a busy poll's first events reach the consumers while the rest of
its document is decoded, and a consumer that joins, falls behind or sees a read fail between
two parts still sees every change once."""

from __future__ import annotations

import asyncio
import gc
import random
from collections import Counter
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from typing import Any

import attrs
import pytest
from aiohttp.test_utils import TestServer

from tests.dashui_server import PASSWORD, USERNAME, DashServer
from vonage_async import Backoff, CallStarted, CallUpdated, SessionLogin, Snapshot, Vonage
from vonage_async._collector import HELD_THRESHOLD
from vonage_async._events import (
    CallEnded,
    Differ,
    ExtensionUpdated,
    Observation,
    WatchEvent,
    WatchState,
    diff_states,
    first_state,
)
from vonage_async._watch import Hub, PollSource, Watch
from vonage_async.legacy import _live_status

EXTENSIONS = ("301", "302", "303", "304")
EVERY_ONE_RINGING = {number: (f"c{number}", "Ringing") for number in EXTENSIONS}
FAST = Backoff(initial=0.01, maximum=0.05)


@pytest.fixture
async def dash(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[DashServer]:
    monkeypatch.setattr(_live_status._DashuiSource, "PART", 1)  # each extension a part
    server = DashServer(hold=0.3, extensions=EXTENSIONS)
    test_server = TestServer(server.app, host="127.0.0.1")
    await test_server.start_server()
    server.url = str(test_server.make_url(""))  # type: ignore[attr-defined]
    yield server
    await test_server.close()


@pytest.fixture
async def client(dash: DashServer) -> AsyncIterator[Vonage]:
    async with Vonage(
        legacy_auth=SessionLogin(USERNAME, PASSWORD),
        legacy_url=dash.url,  # type: ignore[attr-defined]
    ) as vonage:
        yield vonage


Events = AsyncGenerator[WatchEvent, None]


async def _next(events: Events) -> Any:
    # Not asyncio.wait_for: its task would give the hub a pass of the loop, and these tests
    # count passes. A hang is cut short all the same.
    task = asyncio.current_task()
    assert task is not None
    deadline = asyncio.get_running_loop().call_later(5, task.cancel)
    try:
        return await events.__anext__()
    finally:
        deadline.cancel()


async def _next_call(events: Events) -> Any:
    """The next event but an extension's (a call makes its line status change, too)."""
    while isinstance(event := await _next(events), ExtensionUpdated):
        pass
    return event


def _watch(client: Vonage, *numbers: str, max_queue: int = 1000) -> Events:
    return client.legacy.live_status.watch(
        numbers or None, poll_timeout=2.0, max_queue=max_queue, backoff=FAST
    ).__aiter__()


async def test_a_busy_poll_s_first_events_arrive_before_the_rest_is_decoded(
    dash: DashServer, client: Vonage, monkeypatch: pytest.MonkeyPatch
) -> None:
    decoded: list[str] = []
    decode = _live_status._decode_extension

    def counting(raw: Any) -> Any:
        decoded.append(raw["extension"])
        return decode(raw)

    monkeypatch.setattr(_live_status, "_decode_extension", counting)
    decoded_when_started: dict[str | None, list[str]] = {}
    async with client.legacy.live_status.watch(poll_timeout=2.0) as watch:
        async for event in watch:
            if isinstance(event, Snapshot):
                decoded.clear()
                await dash.set_calls(EVERY_ONE_RINGING)
            elif isinstance(event, CallStarted):
                decoded_when_started[event.extension] = list(decoded)
                if len(decoded_when_started) == len(EXTENSIONS):
                    break
    assert decoded_when_started == {
        number: list(EXTENSIONS[: at + 1]) for at, number in enumerate(EXTENSIONS)
    }


async def test_a_watch_joining_between_parts_sees_each_change_once(
    dash: DashServer, client: Vonage
) -> None:
    first = _watch(client)
    assert isinstance(await _next(first), Snapshot)
    await dash.set_calls(EVERY_ONE_RINGING)
    started = await _next_call(first)
    assert isinstance(started, CallStarted) and started.extension == "301"
    # The hub is between the poll's first and second parts now.
    second = _watch(client)
    snapshot = await _next(second)
    assert isinstance(snapshot, Snapshot)
    assert [ref.extension for ref in snapshot.calls] == ["301"]
    for events in (second, first):
        rest = [await _next_call(events) for _ in EXTENSIONS[1:]]
        assert [(type(e), e.extension) for e in rest] == [
            (CallStarted, number) for number in EXTENSIONS[1:]
        ]
    await dash.set_call("301", "c301", "Connected")
    assert isinstance(await _next(second), CallUpdated)  # and nothing else came before it
    await first.aclose()
    await second.aclose()


async def test_a_call_that_vanished_ends_in_its_extension_s_part(
    dash: DashServer, client: Vonage
) -> None:
    await dash.set_call("301", "c301", "Connected")
    first = _watch(client)
    snapshot = await _next(first)
    assert [ref.extension for ref in snapshot.calls] == ["301"]
    dash.extensions["301"]["calls"].clear()
    await dash.set_calls({n: (f"c{n}", "Ringing") for n in EXTENSIONS[1:]})
    ended = await _next_call(first)
    assert isinstance(ended, CallEnded) and ended.extension == "301"
    second = _watch(client)  # between the first part and the rest
    snapshot = await _next(second)
    assert snapshot.calls == () and snapshot.extensions["301"].calls == []
    rest = [await _next_call(second) for _ in EXTENSIONS[1:]]
    assert [(type(e), e.extension) for e in rest] == [
        (CallStarted, number) for number in EXTENSIONS[1:]
    ]
    await first.aclose()
    await second.aclose()


async def test_an_extension_listed_twice_keeps_the_calls_of_both_entries(
    dash: DashServer, client: Vonage, monkeypatch: pytest.MonkeyPatch
) -> None:
    document = dash.document

    def listing_301_twice(wanted: set[str] | None) -> dict[str, Any]:
        answer = document(wanted)
        second = {"uid": "c301b", "presenceCallId": "c301b", "callStatus": "Connected"}
        answer["extensions"].append({"extension": "301", "statusItems": second})
        return answer

    monkeypatch.setattr(dash, "document", listing_301_twice)
    await dash.set_call("301", "c301a", "Connected")
    events = _watch(client)
    snapshot = await _next(events)
    assert sorted(ref.call.id for ref in snapshot.calls) == ["c301a", "c301b"]
    for number in ("302", "303"):  # neither 301 call is ended on the way
        await dash.set_call(number, f"c{number}", "Ringing")
        started = await _next_call(events)
        assert (type(started), started.extension) == (CallStarted, number)
    await events.aclose()


async def test_a_consumer_falling_behind_between_parts_is_resynced_to_what_it_missed(
    dash: DashServer, client: Vonage
) -> None:
    # A part's events: the extension's line status, then its call.
    events = _watch(client, max_queue=2)
    assert isinstance(await _next(events), Snapshot)
    await dash.set_calls(EVERY_ONE_RINGING)
    assert isinstance(await _next_call(events), CallStarted)
    for _ in range(2):  # busy: the hub hands out two more parts meanwhile
        await asyncio.sleep(0)
    resync = await _next(events)
    assert isinstance(resync, Snapshot) and resync.resync
    shown = {ref.extension for ref in resync.calls}
    assert "301" in shown and shown < set(EXTENSIONS)  # taken between two parts
    rest = [await _next_call(events) for _ in range(len(EXTENSIONS) - len(shown))]
    assert all(isinstance(e, CallStarted) for e in rest)
    assert {e.extension for e in rest} == set(EXTENSIONS) - shown
    await events.aclose()


async def test_a_document_failing_in_a_later_part_resyncs_without_repeats_or_losses(
    dash: DashServer, client: Vonage
) -> None:
    await dash.set_call("304", "c304", "Connected")  # on a part the failed read never reaches
    events = _watch(client)
    assert isinstance(await _next(events), Snapshot)
    for number, (uid, status) in EVERY_ONE_RINGING.items():
        if number != "304":
            dash.put_call(number, uid, status)
    dash.extensions["303"]["calls"]["garbled"] = 5  # its part cannot be decoded
    await dash.set_calls({})
    started = await _next_call(events)
    assert isinstance(started, CallStarted) and started.extension == "301"
    del dash.extensions["303"]["calls"]["garbled"]  # what the resync will read
    rest = [await _next_call(events) for _ in ("302", "303")]
    assert [(type(e), e.extension) for e in rest] == [
        (CallStarted, "302"),
        (CallStarted, "303"),
    ]
    assert dash.filters.count(None) >= 3  # the first read, the failed poll, the resync
    await dash.drop_call("304", "c304")
    ended = await _next_call(events)  # nothing was repeated before it, nor 304's call lost
    assert isinstance(ended, CallEnded) and ended.extension == "304"
    await events.aclose()


async def test_a_wider_watch_joining_mid_read_does_not_cut_the_read_short(
    dash: DashServer, client: Vonage
) -> None:
    narrow = _watch(client, *EXTENSIONS[:3])
    assert isinstance(await _next(narrow), Snapshot)
    await dash.set_calls(EVERY_ONE_RINGING)
    assert (await _next_call(narrow)).extension == "301"
    hub = client.legacy.live_status._hub
    assert hub is not None
    wider = hub.join(frozenset({"304"}), 10)  # a wider watch joins and leaves between parts
    await hub.leave(wider)
    # The rest of the read still comes, without waiting for another change on the server.
    rest = [await _next_call(narrow) for _ in ("302", "303")]
    assert [(type(e), e.extension) for e in rest] == [
        (CallStarted, "302"),
        (CallStarted, "303"),
    ]
    await narrow.aclose()


class _Parts(PollSource):
    """Reads of ten parts; each part notes whether the collector is held while it decodes."""

    def __init__(self) -> None:
        self.held_while_decoding: list[bool] = []

    async def read(self, extensions: Any, *, first: bool) -> int:
        await asyncio.sleep(0.01)
        return 1

    def observe_parts(self, received: int) -> Iterator[Observation]:
        for n in range(10):
            self.held_while_decoding.append(gc.get_threshold()[0] == HELD_THRESHOLD)
            yield Observation({str(n): object()}, {})

    async def recover(self, exc: Exception, failures: int) -> float | None:
        raise exc

    def is_ended(self, call: Any) -> bool:
        return False


class _Quiet(PollSource):
    """Reads that find no change (304s), as fast as the loop turns."""

    async def read(self, extensions: Any, *, first: bool) -> None:
        await asyncio.sleep(0)

    async def recover(self, exc: Exception, failures: int) -> float | None:
        raise exc

    def is_ended(self, call: Any) -> bool:
        return False


async def test_another_hub_s_reads_do_not_end_a_read_s_collector_hold() -> None:
    parts = _Parts()
    busy = Hub(parts, backoff=FAST, name="busy")
    quiet = Hub(_Quiet(), backoff=FAST, name="quiet")
    busy_events = Watch(busy, None).__aiter__()
    assert isinstance(await _next(busy_events), Snapshot)
    quiet_events = Watch(quiet, None).__aiter__()
    waiting = asyncio.ensure_future(quiet_events.__anext__())  # its hub polls meanwhile
    parts.held_while_decoding.clear()
    for _ in range(10):
        assert isinstance(await _next(busy_events), ExtensionUpdated)
    assert parts.held_while_decoding == [True] * 10
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)
    for events in (busy_events, quiet_events):
        await events.aclose()
    await busy.close()
    await quiet.close()


# -- the pure diff in parts ------------------------------------------------------------------


@attrs.frozen
class _Call:
    id: str
    status: int
    ended: bool


def _observation(rng: random.Random) -> Observation:
    extensions: dict[str, Any] = {}
    calls: dict[tuple[str | None, str], Any] = {}
    for n in rng.sample(range(6), rng.randint(0, 6)):
        number = str(300 + n)
        extensions[number] = f"{number}/{rng.randint(0, 2)}"
        for uid in rng.sample("abc", rng.randint(0, 3)):
            calls[(number, uid)] = _Call(uid, rng.randint(0, 2), rng.random() < 0.25)
    return Observation(extensions, calls, rng.choice(["AVAILABLE", "BUSY"]))


def _parts(whole: Observation, rng: random.Random) -> list[Observation]:
    numbers = list(whole.extensions)
    cuts = sorted(rng.sample(range(1, len(numbers)), rng.randint(0, max(len(numbers) - 1, 0))))
    groups = [numbers[a:b] for a, b in zip([0, *cuts], [*cuts, len(numbers)], strict=True)]
    return [
        Observation(
            {n: whole.extensions[n] for n in group},
            {key: call for key, call in whole.calls.items() if key[0] in group},
            whole.availability,
        )
        for group in groups or [[]]
    ]


def _replay(state: WatchState, events: list[WatchEvent]) -> tuple[dict[Any, Any], dict[Any, Any]]:
    """What a consumer that took ``state`` as its snapshot knows after ``events``."""
    extensions, calls = dict(state.extensions), dict(state.calls)
    for event in events:
        if isinstance(event, ExtensionUpdated):
            if event.current is None:
                del extensions[event.extension]
            else:
                extensions[event.extension] = event.current
        elif isinstance(event, CallStarted | CallUpdated):
            calls[(event.extension, event.call.id)] = event.call
        elif isinstance(event, CallEnded):
            calls.pop((event.extension, event.call.id), None)
    return extensions, calls


def test_a_diff_in_parts_gives_the_events_of_the_whole_and_a_state_true_between_parts() -> None:
    rng = random.Random(7)
    checked_between = 0
    for _ in range(400):
        state = first_state(_observation(rng), is_ended=lambda c: c.ended)
        for _ in range(5):
            whole = _observation(rng)
            expected, after = diff_states(state, whole, is_ended=lambda c: c.ended)
            differ = Differ(state, is_ended=lambda c: c.ended)
            handed: list[list[WatchEvent]] = []
            between: list[WatchState] = []
            shown_numbers: set[str] = set()
            shown_calls: set[tuple[str | None, str]] = set()
            for part in _parts(whole, rng):
                handed.append(differ.add(part))
                between.append(differ.state)
                # An extension shown so far has only the calls the parts showed on it.
                shown_numbers |= set(part.extensions)
                shown_calls |= set(part.calls)
                assert {k for k in differ.state.calls if k[0] in shown_numbers} <= shown_calls
            handed.append(differ.finish())
            assert Counter(e for events in handed for e in events) == Counter(expected)
            assert differ.state == after
            # A consumer shown the state between parts, then handed the rest, knows what
            # every other consumer knows: nothing lost, nothing twice.
            for at, shown in enumerate(between):
                rest = [e for events in handed[at + 1 :] for e in events]
                assert _replay(shown, rest) == (dict(after.extensions), dict(after.calls))
                checked_between += 1
            state = after
    assert checked_between > 2000


def test_a_finished_diff_takes_no_more_parts() -> None:
    differ = Differ(WatchState(), is_ended=lambda c: False)
    differ.finish()
    with pytest.raises(RuntimeError):
        differ.add(Observation({}, {}))
