"""Live Status decoding that reuses unchanged extensions (``decode_reusing``), checked against
decoding the whole document afresh (``json.loads`` + ``decode_document``) on any layout."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from vonage_async import errors
from vonage_async.legacy import CallStatus
from vonage_async.legacy._live_status import decode_document, decode_reusing


def afresh(body: bytes) -> Any:
    """What decoding the whole body gives: a document, or the DecodeError type."""
    try:
        return decode_document(json.loads(body))
    except (ValueError, RecursionError, errors.DecodeError):
        return errors.DecodeError


def reusing(body: bytes, known: dict[str, Any]) -> Any:
    """What ``decode_reusing`` gives: a document, None (decode afresh), or the DecodeError type."""
    try:
        return decode_reusing(body, known)
    except errors.DecodeError:
        return errors.DecodeError


def dumps(document: Any, separators: tuple[str, str] = (", ", ": ")) -> bytes:
    return json.dumps(document, separators=separators).encode()


def document(status_301: str) -> dict[str, Any]:
    return {
        "availability": "AVAILABLE",
        "extensions": [
            {"extension": "301", "statusItems": {"uid": "a", "callStatus": status_301}},
            {"extension": "302", "name": "Bob"},
        ],
    }


def test_unchanged_extensions_are_not_decoded_again() -> None:
    known: dict[str, Any] = {}
    before = decode_reusing(dumps(document("Ringing")), known)
    after = decode_reusing(dumps(document("Connected")), known)
    assert before is not None and after is not None
    assert after.extensions[1] is before.extensions[1]  # the same JSON: the same model
    assert after.extensions[0] is not before.extensions[0]
    assert after.extensions[0].calls[0].state is CallStatus.CONNECTED
    assert after == decode_document(document("Connected"))  # as decoding afresh gives


def test_an_extension_that_moved_keeps_its_model() -> None:
    known: dict[str, Any] = {}
    first = document("Ringing")
    first["extensions"].append({"extension": "303"})
    before = decode_reusing(dumps(first), known)
    first["extensions"][:2] = first["extensions"][1::-1]
    after = decode_reusing(dumps(first), known)
    assert before is not None and after is not None
    assert after.extensions[0] is before.extensions[1]
    assert after.extensions[1] is before.extensions[0]


def test_a_document_failing_to_decode_is_left_to_the_whole_path() -> None:
    known: dict[str, Any] = {}
    good = decode_reusing(dumps({"extensions": [{"extension": "301", "name": "Ann"}]}), known)
    bad = dumps(
        {
            "extensions": [
                {"extension": "301", "name": "Ann"},
                {"extension": "302", "phoneNumbers": 5},
            ]
        }
    )
    assert decode_reusing(bad, known) is None  # decoding it whole says what is wrong
    assert afresh(bad) is errors.DecodeError
    again = decode_reusing(dumps({"extensions": [{"extension": "301", "name": "Ann"}]}), known)
    assert good is not None and again is not None
    assert again.extensions[0] is good.extensions[0]  # what was known is kept


def test_a_hostile_name_costs_a_bounded_number_of_parses(monkeypatch: pytest.MonkeyPatch) -> None:
    name = "}, " * 5000  # every "}" in it looks like an element's end
    body = dumps({"extensions": [{"extension": "301", "name": name}]})
    parses = 0
    loads = json.loads

    def counting(text: Any, **kwargs: Any) -> Any:
        nonlocal parses
        parses += 1
        return loads(text, **kwargs)

    monkeypatch.setattr(json, "loads", counting)
    assert decode_reusing(body, {}) is None  # its own "}" is too far: decoded whole
    assert parses <= 64
    monkeypatch.undo()
    assert afresh(body).extensions[0].name == name


@pytest.mark.parametrize(
    "body",
    [
        # the array's key twice: json.loads keeps the last
        b'{"extensions": [{"extension": "301"}], "extensions": ""}',
        b'{"extensions": [{"extension": "301"}], "extensions": [{"extension": "302"}]}',
        # a nested "extensions" before the real one
        b'{"x": {"extensions": [{"extension": "301"}]}, "extensions": ""}',
        # the key's text inside a string, and escaped quotes before it
        b'{"a": ",\\"extensions\\": [{\\"extension\\": \\"1\\"}]", "extensions": []}',
        b'{"my\\"extensions": [{"extension": "301"}], "extensions": ""}',
        # elements whose strings hold "}," and "}]"
        b'{"extensions": [{"extension": "301", "name": "a},{\\"extension\\": \\"9\\"}"}]}',
        b'{"extensions": [{"extension": "301", "name": "}]} "}, {"extension": "302"}]}',
        # nested objects ending inside an element, several calls
        b'{"extensions": [{"extension": "301", "statusItems": [{"uid": "a"}, {"uid": "b"}]}]}',
        # not an object of objects, trailing text, truncated, whitespace everywhere
        b'{"extensions": [1, {"extension": "301"}]}',
        b'{"extensions": [{"extension": "301"}, ]}',  # a trailing comma
        b'{"extensions": [{"extension": "301"},]}',
        b'{"extensions": [ ]}',
        b'{"extensions": [{"extension": "301"}]} x',
        b'{"extensions": [{"extension": "301"}',
        b'[{"extensions": []}]',
        b' \n{ "extensions" :\t[ {"extension":"301"} ,\r\n{"extension":"302"} ] } \n',
        b'\xef\xbb\xbf{"extensions": [{"extension": "301"}]}',  # a byte order mark
        b'{"extensions": [{"extension": "301", "name": "\xff"}]}',  # not UTF-8
        b'{"extensions": [{"extension": true}]}',
        # an element that does not decode, under a key that is not the document's own
        b'{"x": {"extensions": [{"extension": true}]}, "extensions": []}',
        b'{"extensions": [{"extension": true}], "extensions": []}',
        b'{"extensions": [{"extension": "1", "phoneNumbers": 5}], "extensions": []}',
        b' {"extensions" :{"extension":"10"}, "x":{"extensions":[{"extension":true}]}}\n',
        b'\xef\xbb\xbf{"x": {"extensions": [{"extension": true}]}, "extensions": []}',
        b'{"extensions": {"extension": "301"}}',  # one extension, bare
    ],
)
def test_layouts_decode_as_afresh_or_not_at_all(body: bytes) -> None:
    known: dict[str, Any] = {}
    got = reusing(body, known)
    assert got is None or got == afresh(body)


# -- any document, any layout ------------------------------------------------------------------

tricky = st.text(alphabet=st.sampled_from(list('ab},{]["\\: \n\u00e9\u263a')), max_size=8)
calls = st.fixed_dictionaries(
    {"uid": tricky, "callStatus": st.sampled_from(["Ringing", "connected", "odd"])},
    optional={"callername": tricky, "isRecorded": st.sampled_from(["true", "false"])},
)
extension = st.fixed_dictionaries(
    {"extension": st.from_regex(r"\A[1-9][0-9]{1,3}\Z")},
    optional={
        "name": tricky,
        "status": st.sampled_from(["intrapbx", "inbound", "odd"]),
        "phoneNumbers": st.lists(st.from_regex(r"\A[0-9]{4}\Z"), max_size=2),
        "statusItems": calls | st.lists(calls, max_size=3),
        "extensions": tricky,  # the array's key inside an element
    },
)
head = st.fixed_dictionaries(
    {},
    optional={
        "availability": st.sampled_from(["AVAILABLE", "MIXED"]),
        "numAvailableExts": st.integers(0, 9),
    },
)
layout = st.tuples(
    st.sampled_from([(", ", ": "), (",", ":"), (" ,\n ", " :\t")]),
    st.sampled_from([None, 1]),
    st.booleans(),
)


def render(head: dict[str, Any], extensions: list[Any], where: int, layout: Any) -> bytes:
    """The document with its array at position ``where`` among the head's keys."""
    separators, indent, ascii_only = layout
    items = list(head.items())
    items.insert(min(where, len(items)), ("extensions", extensions))
    text = json.dumps(dict(items), separators=separators, indent=indent, ensure_ascii=ascii_only)
    return text.encode()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    head=head,
    pool=st.lists(extension, min_size=1, max_size=6),
    picks=st.lists(st.lists(st.integers(0, 5), max_size=6), min_size=1, max_size=4),
    where=st.integers(0, 2),
    layout=layout,
    splice=st.none()
    | st.tuples(
        st.integers(0, 400), st.sampled_from([b"", b"}", b",", b'"', b"]", b"\x00", b"\xff"])
    ),
)
def test_any_document_decodes_as_afresh(
    head: dict[str, Any],
    pool: list[Any],
    picks: list[list[int]],
    where: int,
    layout: Any,
    splice: tuple[int, bytes] | None,
) -> None:
    known: dict[str, Any] = {}
    models: dict[str, Any] = {}  # element text: the model the last decoded document had for it
    for picked in picks:  # each poll some of the same extensions, in any order
        extensions = [pool[n % len(pool)] for n in picked]
        body = render(head, extensions, where, layout)
        if splice is not None and splice[0] < len(body):  # damaged bodies too
            body = body[: splice[0]] + splice[1] + body[splice[0] + 1 :]
        expected = afresh(body)
        got = reusing(body, known)
        if splice is None and layout[1] is None:
            assert got is not None  # what a server writes always takes this way
        assert got is None or got == expected
        if isinstance(got, type) or got is None or splice is not None or layout[1] is not None:
            continue
        texts = [
            json.dumps(e, separators=layout[0], ensure_ascii=layout[2])
            + (n == len(extensions) - 1) * "]"
            for n, e in enumerate(extensions)
        ]  # what follows an element is part of its text: the last one's "]" tells it apart
        for text, model in zip(texts, got.extensions, strict=True):
            if text in models:
                assert model is models[text]  # kept, not decoded again
        models = dict(zip(texts, got.extensions, strict=True))
