"""Live Status: the snapshot, the pure diff, and the watch loop against a scripted server."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import warnings
from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import attrs
import pytest

from tests.dashui_server import PASSWORD, USERNAME, DashServer, serving
from vonage_async import Backoff, SessionLogin, Vonage, errors
from vonage_async._converter import structure
from vonage_async._events import (
    CallEnded,
    CallStarted,
    CallUpdated,
    ExtensionUpdated,
    Snapshot,
    WatchState,
    diff_states,
)
from vonage_async.legacy import CallStatus, LiveStatus
from vonage_async.legacy._live_status import (
    call_changed,
    extension_changed,
    observe,
)

FAST = Backoff(initial=0.01, maximum=0.05)

SEED_DOCUMENT: dict[str, Any] = {
    "availability": "AVAILABLE",
    "numAvailableExts": 1,
    "numUnavailableExts": 0,
    "extensions": [
        {
            "name": "John Doe",
            "status": "outbound",
            "extension": "302",
            "duration": 10325,
            "phoneNumbers": ["15557852675"],
            "onCallWith": "15556205255",
            "statusItems": {
                "uid": "3485262741359658008391-19905551019",
                "accountId": "99999",
                "lastCallTime": "1359658045357",
                "isRecorded": "true",
                "isRecordingCCR": "false",
                "callername": "Jane Doe",
                "isRecordingODCR": "true",
                "numberOriginallyDialed": "",
                "onCallWithName": "Jane Doe",
                "userId": "68005",
                "tapSessionId": "",
                "callStatus": "Disconnected",
                "StartTime": "1359658008601",
                "loginName": "jdoe",
                "startedWithClickToCall": "false",
                "available": "true",
                "presenceCallId": "4182737411359658008242",
                "customTag": "",
                "contactE": "jdoe@fakecompany.com",
            },
        }
    ],
}


@pytest.fixture
async def dash() -> AsyncIterator[DashServer]:
    async with serving(hold=0.3) as server:
        yield server


def make_client(dash: DashServer, password: str = PASSWORD) -> Vonage:
    return Vonage(
        legacy_auth=SessionLogin(USERNAME, password),
        legacy_url=dash.url,  # type: ignore[attr-defined]
    )


@pytest.fixture
async def client(dash: DashServer) -> AsyncIterator[Vonage]:
    async with make_client(dash) as vonage:
        yield vonage


# -- decoding and snapshot ------------------------------------------------------------------


def test_seed_document_decodes_with_one_status_item_and_mixed_case() -> None:
    doc = structure(SEED_DOCUMENT, LiveStatus)
    ext = doc.extensions[0]
    assert ext.extension == "302" and ext.phone_numbers == ["15557852675"]
    (call,) = ext.calls
    assert call.id == "3485262741359658008391-19905551019"
    assert call.state is CallStatus.DISCONNECTED and call.ended
    assert call.is_recorded is True and call.is_recording_ccr is False
    assert call.start_time is not None and call.start_time.year == 2013


def test_status_items_as_list_and_presence_id_fallback() -> None:
    doc = dict(SEED_DOCUMENT)
    doc["extensions"] = [
        {
            "extension": "301",
            "statusItems": [
                {"presenceCallId": "111", "callStatus": "RINGING"},
                {"uid": "u2", "callStatus": "parked-somewhere"},
            ],
        }
    ]
    calls = structure(doc, LiveStatus).extensions[0].calls
    assert [c.id for c in calls] == ["111", "u2"]
    assert calls[0].state is CallStatus.RINGING
    assert calls[1].state is not None and calls[1].state.value == "parked-somewhere"
    assert not calls[1].state.known


async def test_snapshot_reads_once_with_first_request(dash: DashServer, client: Vonage) -> None:
    await dash.set_call("301", "c1-1", "Connected")
    status = await client.legacy.live_status.snapshot(["301"])
    assert dash.filters == ["301"]
    assert [e.extension for e in status.extensions] == ["301"]
    assert status.extensions[0].calls[0].state is CallStatus.CONNECTED


@pytest.mark.parametrize("bad", ["1", "1234567", "30a", "../x", ""])
async def test_bad_filter_extension_is_refused_before_sending(
    dash: DashServer, client: Vonage, bad: str
) -> None:
    with pytest.raises(errors.ValidationError) as caught:
        await client.legacy.live_status.snapshot([bad])
    assert caught.value.parameter == "extensions"
    with pytest.raises(errors.ValidationError):
        client.legacy.live_status.watch(["301", bad])
    assert dash.logins == 0 and dash.polls == 0


# -- the pure diff ------------------------------------------------------------------------


def _doc(calls: dict[str, str], name: str = "Ann") -> Any:
    items = [{"uid": uid, "callStatus": status} for uid, status in calls.items()]
    document = structure(
        {
            "availability": "AVAILABLE",
            "extensions": [{"extension": "301", "name": name, "statusItems": items}],
        },
        LiveStatus,
    )
    return observe(document)


def _diff(state: WatchState, obs: Any) -> tuple[list[Any], WatchState]:
    return diff_states(
        state,
        obs,
        is_ended=lambda c: c.ended,
        extension_changed=extension_changed,
        call_changed=call_changed,
    )


def test_diff_starts_updates_and_ends_each_call_once() -> None:
    state = WatchState()
    events, state = _diff(state, _doc({}))
    assert [(type(e), e.previous) for e in events] == [(ExtensionUpdated, None)]  # it appeared
    events, state = _diff(state, _doc({"a": "Ringing"}))
    assert [type(e) for e in events] == [CallStarted]
    events, state = _diff(state, _doc({"a": "Connected"}))
    assert [type(e) for e in events] == [CallUpdated]
    assert events[0].previous.state is CallStatus.RINGING
    events, state = _diff(state, _doc({"a": "Disconnected"}))
    assert [type(e) for e in events] == [CallEnded]
    # The disconnected call lingers for a document, then vanishes: no second end.
    events, state = _diff(state, _doc({"a": "Disconnected"}))
    assert events == []
    events, state = _diff(state, _doc({}))
    assert events == []


def test_diff_call_seen_only_disconnected_is_started_and_ended() -> None:
    _, state = _diff(WatchState(), _doc({}))
    events, _ = _diff(state, _doc({"b": "disconnected"}))
    assert [type(e) for e in events] == [CallStarted, CallEnded]


def test_diff_vanished_call_ends_and_extension_changes_are_reported() -> None:
    _, state = _diff(WatchState(), _doc({"a": "Connected"}))
    events, state = _diff(state, _doc({}, name="Ann B."))
    assert [type(e) for e in events] == [ExtensionUpdated, CallEnded]
    assert events[0].previous.name == "Ann" and events[0].current.name == "Ann B."


# -- the watch loop -----------------------------------------------------------------------


def test_only_what_a_user_sees_change_makes_an_update() -> None:
    from vonage_async.legacy import LineStatus, LiveCall, LiveExtension

    call = LiveCall(uid="a", call_status=CallStatus.RINGING, last_call_time=datetime(2024, 1, 1))
    assert not call_changed(call, attrs.evolve(call, last_call_time=datetime(2024, 1, 2)))
    for field, value in [
        ("call_status", CallStatus.CONNECTED),
        ("callername", "Bo"),
        ("on_call_with_name", "Cy"),
        ("is_recorded", True),
        ("is_recording_ccr", True),
        ("is_recording_odcr", True),
        ("custom_tag", "t"),
        ("number_originally_dialed", "15551234567"),
        ("presence_call_id", "p1"),
    ]:
        assert call_changed(call, attrs.evolve(call, **{field: value})), field
    ext = LiveExtension(extension="301", name="Ann", status=LineStatus.INBOUND, duration=5)
    assert not extension_changed(ext, attrs.evolve(ext, duration=6, calls=[call]))
    for field, value in [("name", "Bo"), ("status", None), ("phone_numbers", ["15550000000"])]:
        assert extension_changed(ext, attrs.evolve(ext, **{field: value})), field


async def test_long_scripted_sequence_with_faults_starts_and_ends_each_call_once(
    dash: DashServer, client: Vonage
) -> None:
    seen: list[Any] = []
    # Two 409s among the faults below come within the conflict window: allow them.
    watch = client.legacy.live_status.watch(poll_timeout=1.0, backoff=FAST, max_conflicts=10)
    first = asyncio.Event()

    async def consume() -> None:
        async for event in watch:
            seen.append(event)
            first.set()

    consumer = asyncio.create_task(consume())
    await asyncio.wait_for(first.wait(), 5)
    assert isinstance(seen[0], Snapshot)

    async def until(predicate: Any) -> None:
        for _ in range(200):  # the stall fault costs one poll timeout (1 s)
            if predicate():
                return
            await asyncio.sleep(0.02)
        raise AssertionError(f"the watcher never saw it: {seen[-6:]} faults={list(dash.faults)}")

    def saw(kind: type, uid: str) -> bool:
        return any(isinstance(e, kind) and e.call.id == uid for e in seen)

    # A fault lands on every step: before the start, mid-call, and right as the call ends.
    faults = ["500", "reset", "truncate", "stall", "403", "409", "500", "reset", "truncate"]
    uids = []
    for n in range(18):
        ext = ("301", "302")[n % 2]
        uid = f"call{n}-{ext}"
        uids.append(uid)
        dash.faults.append(faults[n % len(faults)])
        await dash.set_call(ext, uid, "Ringing")
        await until(lambda uid=uid: saw(CallStarted, uid))
        dash.faults.append(faults[(n + 3) % len(faults)])
        await dash.set_call(ext, uid, "Connected")
        await asyncio.sleep(0.02)
        if n % 3 == 1:  # lingers as Disconnected before it goes
            await dash.set_call(ext, uid, "Disconnected")
            await asyncio.sleep(0.05)
        if n % 3 == 2:  # vanishes while the watcher is resynchronising
            dash.faults.append(faults[(n + 5) % len(faults)])
        await dash.drop_call(ext, uid)
    await until(lambda: all(saw(CallEnded, uid) for uid in uids))
    await asyncio.sleep(0.3)  # room for any duplicate to show up
    consumer.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await consumer

    started = Counter(e.call.id for e in seen if isinstance(e, CallStarted))
    ended = Counter(e.call.id for e in seen if isinstance(e, CallEnded))
    assert started == Counter(uids), "each call started exactly once"
    assert ended == Counter(uids), "each call ended exactly once"
    for uid in uids:
        start = next(
            i for i, e in enumerate(seen) if isinstance(e, CallStarted) and e.call.id == uid
        )
        end = next(i for i, e in enumerate(seen) if isinstance(e, CallEnded) and e.call.id == uid)
        assert start < end
    assert dash.max_in_flight == 1
    assert dash.logins >= 2  # the 403 and the 409 both led to a fresh login


async def test_two_consumers_share_one_poller(dash: DashServer, client: Vonage) -> None:
    live = client.legacy.live_status
    a_events: list[Any] = []
    b_events: list[Any] = []

    async def consume(watch: Any, into: list[Any]) -> None:
        async for event in watch:
            into.append(event)

    tasks = [
        asyncio.create_task(consume(live.watch(["301"], poll_timeout=2.0), a_events)),
        asyncio.create_task(consume(live.watch(poll_timeout=2.0), b_events)),
    ]
    await asyncio.sleep(0.2)
    await dash.set_call("301", "x-301", "Ringing")
    await dash.set_call("302", "y-302", "Ringing")
    await asyncio.sleep(0.3)
    await dash.drop_call("301", "x-301")
    await dash.drop_call("302", "y-302")
    await asyncio.sleep(0.3)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)

    assert dash.max_in_flight == 1 and dash.conflicts == 0
    a_calls = [(type(e).__name__, e.call.id) for e in a_events if hasattr(e, "call")]
    b_calls = [(type(e).__name__, e.call.id) for e in b_events if hasattr(e, "call")]
    assert a_calls == [("CallStarted", "x-301"), ("CallEnded", "x-301")]
    assert sorted(b_calls) == sorted(
        [
            ("CallStarted", "x-301"),
            ("CallEnded", "x-301"),
            ("CallStarted", "y-302"),
            ("CallEnded", "y-302"),
        ]
    )
    assert isinstance(a_events[0], Snapshot) and set(a_events[0].extensions) == {"301"}


async def test_cancel_mid_hold_is_prompt_and_leaves_nothing_behind(dash: DashServer) -> None:
    dash.hold = 30.0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        client = make_client(dash)
        got_snapshot = asyncio.Event()

        async def consume() -> None:
            async for event in client.legacy.live_status.watch(poll_timeout=45.0):
                if isinstance(event, Snapshot):
                    got_snapshot.set()

        task = asyncio.create_task(consume())
        await asyncio.wait_for(got_snapshot.wait(), 5)
        await asyncio.sleep(0.2)  # now the long poll is being held
        assert dash.in_flight == 1
        loop = asyncio.get_running_loop()
        started = loop.time()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        for _ in range(50):
            if dash.in_flight == 0:
                break
            await asyncio.sleep(0.01)
        assert loop.time() - started < 1.0
        assert dash.in_flight == 0, "the held request was aborted"
        hub = client.legacy.live_status._hub
        assert hub is not None and not hub.running
        await client.aclose()
        gc.collect()
    assert not [w for w in caught if "Unclosed" in str(w.message)]


async def test_breaking_out_stops_the_loop(dash: DashServer, client: Vonage) -> None:
    async for event in client.legacy.live_status.watch(poll_timeout=5.0):
        assert isinstance(event, Snapshot)
        break
    for _ in range(100):
        hub = client.legacy.live_status._hub
        if hub is not None and not hub.running:
            break
        await asyncio.sleep(0.01)
    assert hub is not None and not hub.running


async def test_closing_the_client_ends_every_watch(dash: DashServer) -> None:
    client = make_client(dash)
    seen: list[Any] = []

    async def consume() -> None:
        async for event in client.legacy.live_status.watch(poll_timeout=5.0):
            seen.append(event)

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.2)
    started = asyncio.get_running_loop().time()
    await client.aclose()
    await asyncio.wait_for(task, 1.0)  # ends cleanly, no exception
    assert asyncio.get_running_loop().time() - started < 1.0
    assert isinstance(seen[0], Snapshot)


async def test_always_failing_server_is_polled_with_backoff(
    dash: DashServer, client: Vonage, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Take the top of each jitter range so the schedule is deterministic: 0.05, 0.1, 0.2,
    # 0.4, then capped at 0.4.
    monkeypatch.setattr("vonage_async._transport.random.uniform", lambda low, high: high)
    dash.always = "500"
    watch = client.legacy.live_status.watch(
        poll_timeout=2.0, backoff=Backoff(initial=0.05, maximum=0.4)
    )
    task = asyncio.create_task(watch.__aiter__().__anext__())
    await asyncio.sleep(2.0)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    gaps = [b - a for a, b in zip(dash.poll_times, dash.poll_times[1:], strict=False)]
    # Hammering would be hundreds of polls; the schedule allows about 8 in 2 s.
    assert 5 <= dash.polls <= 9
    assert gaps[0] < gaps[1] < gaps[2] < gaps[3]  # the gaps grow
    assert all(gap < 0.4 + 0.15 for gap in gaps)  # and stop growing at the cap


async def test_refused_login_raises_out_of_the_iterator(dash: DashServer) -> None:
    async with make_client(dash, password="wrong") as client:
        with pytest.raises(errors.AuthenticationError) as caught:
            async for _ in client.legacy.live_status.watch(poll_timeout=2.0, backoff=FAST):
                pass
    assert dash.logins == 1
    assert "wrong" not in str(caught.value) and PASSWORD not in str(caught.value)


async def test_persistent_409_raises_session_conflict(dash: DashServer, client: Vonage) -> None:
    dash.always = "409"
    with pytest.raises(errors.SessionConflictError):
        async for _ in client.legacy.live_status.watch(
            poll_timeout=2.0, backoff=FAST, max_conflicts=2
        ):
            pass
    assert dash.logins == 3  # the first login, then one fresh session per conflict


async def test_slow_consumer_gets_a_resync_and_does_not_slow_the_other(
    dash: DashServer, client: Vonage
) -> None:
    live = client.legacy.live_status
    fast: list[Any] = []
    slow_watch = live.watch(poll_timeout=2.0, max_queue=3)
    slow = slow_watch.__aiter__()
    assert isinstance(await slow.__anext__(), Snapshot)

    async def consume() -> None:
        async for event in live.watch(poll_timeout=2.0):
            fast.append(event)

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.1)
    for n in range(10):
        await dash.set_call("301", f"s{n}-301", "Ringing")
        await asyncio.sleep(0.03)
    await asyncio.sleep(0.3)
    assert sum(isinstance(e, CallStarted) for e in fast) == 10
    resync = await slow.__anext__()
    assert isinstance(resync, Snapshot) and resync.resync
    assert len(resync.calls) == 10
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await slow.aclose()  # type: ignore[attr-defined]


async def test_snapshot_while_watching_does_not_start_a_second_poll(
    dash: DashServer, client: Vonage
) -> None:
    live = client.legacy.live_status
    it = live.watch(poll_timeout=5.0).__aiter__()
    assert isinstance(await it.__anext__(), Snapshot)
    await asyncio.sleep(0.1)
    status = await live.snapshot("301")
    assert [e.extension for e in status.extensions] == ["301"]
    assert dash.conflicts == 0 and dash.max_in_flight == 1
    await it.aclose()  # type: ignore[attr-defined]
