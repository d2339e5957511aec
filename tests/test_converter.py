"""The one converter: wire names, lenient scalars, open enums, and what goes back on the wire."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import attrs
import pytest

from vonage_async import OpenEnum, errors
from vonage_async._converter import structure, to_datetime, unstructure, wire


class CallState(OpenEnum):
    RINGING = "ringing"
    ON_CALL = "on-call"


@attrs.frozen
class Leg:
    leg_id: str = ""
    from_: str | None = None
    to: str | None = None
    status: CallState | None = None
    start_time: datetime | None = None


@attrs.frozen
class Call:
    call_id: str = ""
    legs: list[Leg] = attrs.field(factory=list)
    duration: int | None = None
    price: float | None = None
    recorded: bool = False
    account_id: str = ""
    started: datetime | None = attrs.field(default=None, metadata=wire("StartTime"))
    caller_name: str | None = None


@attrs.frozen
class Presence:
    __wire_case__ = "camel"

    extension_number: str = ""
    do_not_disturb: bool = False
    last_update: datetime | None = None


UTC = timezone.utc
MOMENT = datetime(2020, 7, 28, 18, 2, 16, tzinfo=UTC)  # 1595959336


def test_wire_names_and_unknown_fields() -> None:
    call = structure(
        {
            "call_id": "c1",
            "StartTime": 1595959336,
            "legs": [{"leg_id": "l1", "from": "15551234", "to": "100", "colour": "blue"}],
            "something_new": {"nested": True},
        },
        Call,
    )
    assert call.call_id == "c1"
    assert call.started == MOMENT
    assert call.legs == [Leg(leg_id="l1", from_="15551234", to="100")]


def test_camel_case_classes() -> None:
    presence = structure(
        {"extensionNumber": 101, "doNotDisturb": "true", "lastUpdate": "1595959336000"}, Presence
    )
    assert presence == Presence("101", True, MOMENT)
    assert unstructure(presence) == {
        "extensionNumber": "101",
        "doNotDisturb": True,
        "lastUpdate": 1595959336,
    }


def test_missing_fields_take_their_defaults() -> None:
    assert structure({}, Call) == Call()


def test_an_empty_object_is_a_model_of_defaults_for_every_package_model() -> None:
    # Issue 17.7: {} is a valid (if useless) answer; it once raised from generated code.
    from tests.test_fastpath import MODELS
    from vonage_async.provisioning import Extension
    from vonage_async.telephony import Call as TelephonyCall, Leg as TelephonyLeg

    for cls in (TelephonyCall, TelephonyLeg, Extension):
        assert structure({}, cls) == cls()
    for cls in MODELS:
        required = [f.name for f in attrs.fields(cls) if f.default is attrs.NOTHING and f.init]
        if not required:
            made = structure({}, cls)
            assert type(made) is cls and made == cls()


def test_links_that_are_not_objects_are_other_properties_the_files_allow() -> None:
    # provisioning.yml's Links is an open object: Prism -d puts {"x": true} beside "self".
    from vonage_async.provisioning import Extension, Link

    made = structure({"_links": {"self": {"href": "/e/1"}, "x": True, "y": "z"}}, Extension)
    assert made.links == {"self": Link(href="/e/1")}


def test_unknown_enum_values_are_kept() -> None:
    known = structure({"status": "RINGING"}, Leg).status
    unknown = structure({"status": "parked-elsewhere"}, Leg).status
    assert known is CallState.RINGING and known.known
    assert unknown is not None and not unknown.known
    assert unknown.value == "parked-elsewhere" and str(unknown) == "parked-elsewhere"
    assert unstructure(Leg(status=unknown)) == {"status": "parked-elsewhere"}
    assert CallState("On-Call") is CallState.ON_CALL


@pytest.mark.parametrize(
    "value",
    [
        1595959336,
        1595959336000,
        1595959336.0,
        "1595959336",
        "1595959336000",
        "2020-07-28T18:02:16Z",
        "2020-07-28T18:02:16+00:00",
        "2020-07-28T20:02:16+02:00",
        "2020-07-28T18:02:16",  # naive means UTC
    ],
)
def test_times_become_aware_datetimes(value: object) -> None:
    started = structure({"start_time": value}, Leg).start_time
    assert started == MOMENT
    assert started is not None and started.tzinfo is not None


@pytest.mark.parametrize(
    ("value", "expected"),
    [("true", True), ("false", False), ("TRUE", True), (True, True), (0, False), ("", False)],
)
def test_booleans(value: object, expected: bool) -> None:
    assert structure({"recorded": value}, Call).recorded is expected


@pytest.mark.parametrize("empty", ["", None])
def test_empty_optional_scalars_are_none(empty: object) -> None:
    call = structure(
        {"duration": empty, "price": empty, "StartTime": empty, "caller_name": empty}, Call
    )
    assert (call.duration, call.price, call.started, call.caller_name) == (None,) * 4
    assert structure({"status": empty}, Leg).status is None


def test_numbers_and_strings_swap() -> None:
    call = structure({"duration": "42", "price": "0.25", "account_id": 1234}, Call)
    assert (call.duration, call.price, call.account_id) == (42, 0.25, "1234")
    assert structure({"duration": 42.0, "account_id": 12.0}, Call).account_id == "12"
    assert structure({"duration": " 7 "}, Call).duration == 7


def test_unstructure_drops_defaults_and_writes_wire_names() -> None:
    call = Call(call_id="c1", started=MOMENT, legs=[Leg(leg_id="l1", from_="100")])
    assert unstructure(call) == {
        "call_id": "c1",
        "StartTime": 1595959336,
        "legs": [{"leg_id": "l1", "from": "100"}],
    }


@pytest.mark.parametrize(
    "data",
    [{"duration": "long"}, {"recorded": "maybe"}, {"StartTime": "yesterday"}, ["not", "a", "dict"]],
)
def test_a_body_of_the_wrong_shape_raises_decode_error(data: object) -> None:
    with pytest.raises(errors.DecodeError, match="Call"):
        structure(data, Call)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1941-01-08T05:27:11.0+00:00", datetime(1941, 1, 8, 5, 27, 11, tzinfo=timezone.utc)),
        ("2020-01-01T00:00:00.5Z", datetime(2020, 1, 1, 0, 0, 0, 500000, tzinfo=timezone.utc)),
        (
            "2020-01-01T00:00:00.123456789+00:00",
            datetime(2020, 1, 1, 0, 0, 0, 123456, tzinfo=timezone.utc),
        ),
    ],
)
def test_iso_times_with_any_number_of_fraction_digits(text: str, expected: datetime) -> None:
    # Prism and real servers send 1 to 9 digits; Python 3.10 parses only 3 or 6 by itself.
    assert to_datetime(text) == expected


@pytest.mark.parametrize("stamp", ["99999999999999999999", 10**30])
def test_a_timestamp_out_of_range_is_a_decode_error(stamp: object) -> None:
    @attrs.frozen
    class Stamped:
        at: datetime | None = None

    with pytest.raises(errors.DecodeError):
        structure({"at": stamp}, Stamped)


def test_decoded_models_are_ordinary_frozen_instances_of_their_class() -> None:
    call = structure({"call_id": "c1", "legs": [{"leg_id": "l1"}]}, Call)
    assert type(call) is Call and type(call.legs[0]) is Leg
    assert call == Call(call_id="c1", legs=[Leg(leg_id="l1")])
    assert hash(call.legs[0]) == hash(Leg(leg_id="l1"))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        call.call_id = "c2"  # type: ignore[misc]
    assert attrs.evolve(call, duration=5).duration == 5


@attrs.frozen(cache_hash=True)
class CachedHash:
    name: str = ""


def test_a_class_with_extra_slots_is_built_through_init() -> None:
    first = structure({"name": "a"}, CachedHash)
    assert type(first) is CachedHash and hash(first) == hash(CachedHash("a"))


@pytest.mark.parametrize(
    ("legs", "expected"),
    [
        ({"leg_id": "only"}, [Leg(leg_id="only")]),  # one object where a list is documented
        ([], []),
        ([{"leg_id": "a"}], [Leg(leg_id="a")]),
        ([{"leg_id": "a"}, {"leg_id": 2}], [Leg(leg_id="a"), Leg(leg_id="2")]),
        (None, []),
        ("", []),
        ((leg for leg in [{"leg_id": "gen"}]), [Leg(leg_id="gen")]),
    ],
)
def test_lists_of_models_take_what_servers_send(legs: object, expected: list[Leg]) -> None:
    assert structure({"legs": legs}, Call).legs == expected


@attrs.frozen
class Numbers:
    values: list[str] = attrs.field(factory=list)


@pytest.mark.parametrize(
    ("values", "expected"),
    [([], []), ([7], ["7"]), (["a"], ["a"]), (["a", 7, 1.0, True], ["a", "7", "1", "true"])],
)
def test_list_items_are_converted_one_by_one(values: list[object], expected: list[str]) -> None:
    assert structure({"values": values}, Numbers).values == expected


def test_parsed_times_are_remembered_within_a_bound() -> None:
    from vonage_async import _converter

    for n in range(_converter._TIMES_KEPT + 100):
        to_datetime(str(1_600_000_000 + n))
    assert len(_converter._TIMES) <= _converter._TIMES_KEPT
    assert to_datetime("1600000000") == datetime(2020, 9, 13, 12, 26, 40, tzinfo=UTC)
    assert to_datetime("1600000000") is to_datetime("1600000000")  # parsed once
    with pytest.raises(ValueError):
        to_datetime("not a time")
    with pytest.raises(ValueError):
        to_datetime("not a time")  # failures are not remembered as None


def test_the_converter_is_built_once_when_threads_race_for_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import threading
    import time

    from vonage_async import _converter

    built = []
    real = _converter.make_converter

    def slow_build() -> Any:
        built.append(1)
        time.sleep(0.05)
        return real()

    monkeypatch.setattr(_converter, "_converter", None)
    monkeypatch.setattr(_converter, "make_converter", slow_build)
    seen = []
    threads = [
        threading.Thread(target=lambda: seen.append(_converter.get_converter())) for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(built) == 1 and len({id(c) for c in seen}) == 1


def test_a_field_is_read_from_its_alias_when_its_wire_name_is_absent() -> None:
    from vonage_async.integration._models import User, WebhookStatistics

    # integration-platform.yml spells it "acountLabel"; a corrected server may not.
    assert structure({"accountLabel": "x"}, User).account_label == "x"
    assert structure({"acountLabel": "y", "accountLabel": "x"}, User).account_label == "y"
    assert structure({"isFailed": True}, WebhookStatistics).failed is True
