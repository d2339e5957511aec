"""Events and watch states survive the trip through Redis (JSON), and keep their keys."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings, strategies as st

from vonage_async._converter import structure
from vonage_async._events import (
    AvailabilityChanged,
    CallEnded,
    CallStarted,
    CallUpdated,
    ExtensionUpdated,
    WatchState,
    state_from_json,
    state_to_json,
)
from vonage_async._fanout import _codec
from vonage_async.legacy import Availability, LiveCall, LiveExtension
from vonage_async.telephony import Call

text = st.text(max_size=8)
maybe = st.none() | text
calls = st.builds(
    lambda uid, status, name, recorded, start: structure(
        {
            "uid": uid,
            "callStatus": status,
            "callername": name,
            "isRecorded": recorded,
            "StartTime": start,
        },
        LiveCall,
    ),
    text.filter(bool),
    st.sampled_from(["Ringing", "Connected", "Disconnected", "whatever"]),
    maybe,
    st.sampled_from(["true", "false"]),
    st.integers(0, 2_000_000_000).map(lambda s: s * 1000),
)
extensions = st.builds(
    lambda number, name, status, phones, items: structure(
        {
            "extension": number,
            "name": name,
            "status": status,
            "phoneNumbers": phones,
            "statusItems": items,
        },
        LiveExtension,
    ),
    st.from_regex(r"[0-9]{2,6}", fullmatch=True),
    maybe,
    st.sampled_from(["idle", "busy", "ringing", "odd"]),
    st.lists(st.from_regex(r"[0-9]{5,11}", fullmatch=True), max_size=2),
    st.just([]),
)
telephony_calls = st.builds(
    lambda cid, status: structure({"call_id": cid, "status": status}, Call), text, text
)
availability = st.sampled_from([None, "AVAILABLE", "UNAVAILABLE", "strange"]).map(
    lambda v: None if v is None else Availability(v)
)
any_call = calls | telephony_calls
number = st.none() | st.from_regex(r"[0-9]{2,6}", fullmatch=True)
events = st.one_of(
    st.builds(CallStarted, number, any_call),
    st.builds(CallEnded, number, any_call),
    st.builds(CallUpdated, number, any_call, any_call),
    st.builds(
        ExtensionUpdated,
        st.from_regex(r"[0-9]{2,6}", fullmatch=True),
        st.none() | extensions,
        st.none() | extensions,
    ),
    st.builds(AvailabilityChanged, availability, availability),
)


@settings(max_examples=200, deadline=None)
@given(events)
def test_an_event_round_trips_with_its_key(event: Any) -> None:
    back = _codec.loads(_codec.dumps(event))
    assert back == event
    assert _codec.event_key("live", back) == _codec.event_key("live", event)


@settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(st.from_regex(r"[0-9]{2,6}", fullmatch=True), extensions, max_size=4),
    st.dictionaries(st.tuples(number, text), any_call, max_size=4),
    st.dictionaries(st.tuples(number, text), st.none(), max_size=4),
    availability,
)
def test_a_state_round_trips(exts: Any, active: Any, ended: Any, avail: Any) -> None:
    state = WatchState(extensions=exts, calls=active, ended=ended, availability=avail)
    back = state_from_json(json.loads(json.dumps(state_to_json(state))))
    assert back == state
    assert list(back.ended) == list(state.ended)  # the order of ends is kept (oldest dropped)
