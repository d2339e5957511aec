"""What the Redis fan-out builds on: a Hub started from a stored state, the ``on_poll`` hook,
sources from the public objects, and a WatchState that goes to JSON and back. And the diff
itself, as a pure function of two states, under random sequences of observations."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from hypothesis import given, settings, strategies as st

from tests.dashui_server import PASSWORD, USERNAME, DashServer, serving
from tests.test_telephony_watch import CallsServer
from vonage_async import (
    Backoff,
    BearerToken,
    CallEnded,
    CallStarted,
    ExtensionUpdated,
    SessionLogin,
    Snapshot,
    Vonage,
    Watch,
)
from vonage_async._events import (
    Observation,
    WatchEvent,
    WatchState,
    diff_states,
    state_from_json,
    state_to_json,
)
from vonage_async._watch import Hub
from vonage_async.legacy import Availability, CallStatus, LineStatus, LiveCall, LiveExtension

FAST = Backoff(initial=0.01, maximum=0.05)


@pytest.fixture
async def dash() -> AsyncIterator[tuple[DashServer, Vonage]]:
    async with (
        serving(hold=0.3) as server,
        Vonage(legacy_auth=SessionLogin(USERNAME, PASSWORD), legacy_url=server.url) as client,
    ):
        yield server, client


class Polls:
    """An ``on_poll`` that records what it was given."""

    def __init__(self, fail_at: int | None = None) -> None:
        self.calls: list[tuple[list[WatchEvent], WatchState]] = []
        self.fail_at = fail_at

    async def __call__(self, events: list[WatchEvent], state: WatchState) -> None:
        self.calls.append((events, state))
        if len(self.calls) == self.fail_at:
            raise RuntimeError("the store is down")


async def first_event(watch: Watch) -> Any:
    events = watch.__aiter__()
    event = await asyncio.wait_for(events.__anext__(), 5)
    await events.aclose()  # type: ignore[attr-defined]
    return event


async def test_a_hub_from_a_stored_state_emits_only_real_differences(
    dash: tuple[DashServer, Vonage],
) -> None:
    server, client = dash
    await server.set_call("301", "stays-1", "Connected")
    await server.set_call("301", "goes-1", "Connected")
    live = client.legacy.live_status
    polls = Polls()
    leader = Hub(live._poll_source(), backoff=FAST, name="leader 1", on_poll=polls)
    snapshot = await first_event(Watch(leader, None))
    assert {ref.call.id for ref in snapshot.calls} == {"stays-1", "goes-1"}
    stored = json.dumps(state_to_json(polls.calls[-1][1]))  # what the leader kept in Redis
    await leader.close()

    await server.drop_call("301", "goes-1")  # ended while no leader watched
    state = state_from_json(json.loads(stored))
    polls = Polls()
    successor = Hub(
        live._poll_source(), backoff=FAST, name="leader 2", initial_state=state, on_poll=polls
    )
    snapshot = await first_event(Watch(successor, None))
    assert isinstance(snapshot, Snapshot)
    assert [ref.call.id for ref in snapshot.calls] == ["stays-1"]
    events, after = polls.calls[0]
    assert [(type(e), e.call.id) for e in events] == [(CallEnded, "goes-1")]
    assert list(after.calls) == [("301", "stays-1")]
    await successor.close()


async def test_on_poll_sees_every_event_first_and_its_failure_ends_every_watch(
    dash: tuple[DashServer, Vonage],
) -> None:
    server, client = dash
    polls = Polls(fail_at=2)
    hub = Hub(
        client.legacy.live_status._poll_source(["301"]), backoff=FAST, name="t", on_poll=polls
    )
    watch = Watch(hub, frozenset({"302"}))  # sees none of 301's events; on_poll sees all
    events = watch.__aiter__()
    assert isinstance(await events.__anext__(), Snapshot)
    await server.set_call("301", "c1-1", "Ringing")
    with pytest.raises(RuntimeError, match="the store is down"):
        await asyncio.wait_for(events.__anext__(), 5)
    assert [type(e) for e in polls.calls[1][0]] == [ExtensionUpdated, CallStarted]
    assert server.filters[-1] == "301"  # the source reads what it was made for
    assert not hub.running


async def test_a_telephony_source_from_the_public_object() -> None:
    server = CallsServer()
    server.add("t1")
    test_server = TestServer(server.app, host="127.0.0.1")
    await test_server.start_server()
    url = str(test_server.make_url("/t/vbc.prod"))
    async with Vonage(vbc_auth=BearerToken("tok"), vbc_url=url) as client:
        polls = Polls()
        source = client.telephony.calls._poll_source("self", interval=0.01)
        hub = Hub(source, backoff=FAST, name="calls", on_poll=polls)
        snapshot = await first_event(Watch(hub, None))
        assert [ref.call.call_id for ref in snapshot.calls] == ["t1"]
        stored = json.loads(json.dumps(state_to_json(polls.calls[0][1])))
        assert state_from_json(stored) == polls.calls[0][1]
        await hub.close()
    await test_server.close()


# -- the state as JSON ----------------------------------------------------------------------

keys = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8)
texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=8)
times = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(timezone.utc)
)
statuses = st.one_of(st.sampled_from(CallStatus), texts.map(CallStatus))
live_calls = st.builds(
    LiveCall,
    uid=texts,
    call_status=st.none() | statuses,
    callername=st.none() | texts,
    is_recorded=st.none() | st.booleans(),
    start_time=st.none() | times,
    custom_tag=st.none() | texts,
)
numbers = st.from_regex(r"[0-9]{2,6}", fullmatch=True)
live_extensions = st.builds(
    LiveExtension,
    extension=numbers,
    name=st.none() | texts,
    status=st.none() | st.sampled_from(LineStatus),
    duration=st.none() | st.integers(0, 10**9),
    phone_numbers=st.lists(texts, max_size=2),
    calls=st.lists(live_calls, max_size=2),
)
live_states = st.builds(
    WatchState,
    extensions=st.dictionaries(numbers, live_extensions, max_size=3),
    calls=st.dictionaries(st.tuples(numbers, keys), live_calls, max_size=3),
    ended=st.dictionaries(st.tuples(numbers, keys), st.none(), max_size=3),
    availability=st.none() | st.sampled_from(Availability),
)


@settings(max_examples=60, deadline=None)
@given(live_states)
def test_a_live_status_state_survives_json(state: WatchState) -> None:
    data = json.loads(json.dumps(state_to_json(state)))
    again = state_from_json(data)
    assert again == state
    assert list(again.ended) == list(state.ended)  # the order that bounds it, too


# -- the diff, as a pure function -----------------------------------------------------------

# A call is (status, detail); "x" is ended. Observations are random dicts of calls.
calls = st.dictionaries(
    st.tuples(st.sampled_from(["301", "302"]), st.sampled_from("abcdef")),
    st.tuples(st.sampled_from(["ringing", "up", "x"]), st.integers(0, 2)),
    max_size=6,
)


@settings(max_examples=100, deadline=None)
@given(st.lists(calls, min_size=1, max_size=12))
def test_each_call_starts_and_ends_once_and_the_events_lead_to_the_state(
    observations: list[dict[tuple[str, str], tuple[str, int]]],
) -> None:
    state = WatchState()
    active: dict[tuple[str | None, str], Any] = {}
    started: Counter[tuple[str | None, str]] = Counter()
    ended: Counter[tuple[str | None, str]] = Counter()
    for seen in observations:
        current = {key: (*call, key) for key, call in seen.items()}  # a call knows its key
        events, state = diff_states(
            state, Observation(extensions={}, calls=current), is_ended=lambda c: c[0] == "x"
        )
        for event in events:
            key = event.call[2]
            assert key[0] == event.extension
            if isinstance(event, CallStarted):
                started[key] += 1
                active[key] = event.call
            elif isinstance(event, CallEnded):
                ended[key] += 1
                active.pop(key, None)
            else:  # CallUpdated
                assert key in active and event.previous == active[key]
                active[key] = event.call
        # Replaying the events gives the state's active calls, in their current form.
        assert active == dict(state.calls)
    assert all(n == 1 for n in started.values()) and all(n == 1 for n in ended.values())
    assert set(ended) <= set(started) and set(started) - set(ended) == set(state.calls)
