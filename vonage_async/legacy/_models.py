"""Typed models of the legacy API's JSON (seed 003), and the reshaping its bodies need first.

The service sends numbers as strings, "true"/"false" for booleans, the directory as objects
keyed by extension number, one call alone or several as a list, and call-history times as
``M/D/YYYY hh:mm:ss AM``: the ``*_document`` functions turn a body into the shape the models
declare, then the one converter does the rest.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

import attrs

from .._converter import OpenEnum, wire
from ._live_models import LineStatus

_ASCII_DIGITS = re.compile(r"[0-9]+")

__all__ = [
    "CallDirection",
    "CallHistoryRecord",
    "CallResult",
    "ConferenceInfo",
    "Directory",
    "DirectoryConference",
    "DirectoryExtension",
    "DirectoryQueue",
    "ExtensionInfo",
    "ExtensionStatus",
    "Presence",
    "QueueInfo",
]


class ExtensionStatus(OpenEnum):
    """An extension's state in the account directory."""

    AVAILABLE = "available"
    BUSY = "busy"
    DND = "dnd"


class CallDirection(OpenEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class CallResult(OpenEnum):
    """How a call in the call history ended; also the values of the ``result`` filter."""

    ANSWERED = "answered"
    UNANSWERED = "unanswered"
    VOICEMAIL = "voicemail"


@attrs.frozen
class DirectoryConference:
    """A conference bridge in the account directory."""

    __wire_case__ = "camel"

    number: str
    name: str | None = None
    calls: int | None = None


@attrs.frozen
class DirectoryQueue:
    """A call queue in the account directory."""

    __wire_case__ = "camel"

    number: str
    queue_id: str | None = None
    name: str | None = None
    calls: int | None = None


@attrs.frozen
class DirectoryExtension:
    """An extension in the account directory."""

    __wire_case__ = "camel"

    number: str
    name: str | None = None
    login_name: str | None = None
    status: ExtensionStatus | None = None


@attrs.frozen
class Directory:
    """Every conference bridge, call queue and extension on the account, keyed by number."""

    conferences: dict[str, DirectoryConference] = attrs.field(factory=dict)
    queues: dict[str, DirectoryQueue] = attrs.field(factory=dict)
    extensions: dict[str, DirectoryExtension] = attrs.field(factory=dict)


@attrs.frozen
class Presence:
    """One active call on an extension."""

    __wire_case__ = "camel"

    status: LineStatus | None = None
    duration_ms: int | None = attrs.field(default=None, metadata=wire("duration"))
    """Milliseconds the call has been connected (-1 before it is)."""
    on_call_with: str | None = None
    on_call_with_name: str | None = None
    is_recorded: bool | None = None
    started_with_click_to_call: bool | None = None
    presence_call_id: str | None = None
    """The id of the call's recording, for ``recordings.stream`` and ``recording_url``."""
    custom_tag: str | None = None


@attrs.frozen
class ExtensionInfo:
    """An extension and its active calls (``calls`` is empty when it has none)."""

    __wire_case__ = "camel"

    extension_number: str | None = None
    name: str | None = None
    login_name: str | None = None
    type: str | None = None
    calls: list[Presence] = attrs.field(factory=list, metadata=wire("presence"))


@attrs.frozen
class ConferenceInfo:
    """A conference bridge and who is on it (empty when it has no active call)."""

    __wire_case__ = "camel"

    extension_number: str | None = None
    name: str | None = None
    type: str | None = None
    participants: list[str] = attrs.field(factory=list)


@attrs.frozen
class QueueInfo:
    """A call queue: its callers and agents."""

    __wire_case__ = "camel"

    extension_number: str | None = None
    queue_id: str | None = None
    name: str | None = None
    type: str | None = None
    number_of_calls: int | None = None
    callers_on_hold: int | None = None
    callers_waiting: int | None = None
    average_wait_time: int | None = None
    agents_available: int | None = None
    agents_busy: int | None = None
    agents_logged_in: int | None = None


@attrs.frozen
class CallHistoryRecord:
    """One call from the call history.

    ``timestamp`` is read from the service's ``M/D/YYYY hh:mm:ss AM``, which states no time
    zone; it is taken as UTC, the zone the call-history filters are sent in.
    """

    __wire_case__ = "camel"

    timestamp: datetime | None = None
    from_: str | None = None
    to: str | None = None
    direction: CallDirection | None = None
    extension: str | None = None
    custom_tag: str | None = None
    caller_id: str | None = None
    """The other party's caller ID; None when unknown."""
    duration: int | None = None
    """Seconds."""
    result: CallResult | None = None
    recording_url: str | None = None

    @property
    def presence_call_id(self) -> str | None:
        """The recording's id (the end of ``recording_url``), or None when not recorded."""
        tail = (self.recording_url or "").rstrip("/").rpartition("/")[2]
        return tail if _ASCII_DIGITS.fullmatch(tail) else None


# -- reshaping bodies ---------------------------------------------------------------------------


def _many(value: Any) -> list[Any]:
    """Absent, one item or a list of items, as a list (the server's JSON writer varies; the
    converter does this for objects, not for a lone string such as one participant)."""
    if value is None or value == "":
        return []
    return list(value) if isinstance(value, list) else [value]


def details_document(data: Any) -> dict[str, Any]:
    """The top level merged with ``details``: extension info nests everything in ``details``,
    conference and queue info only some fields."""
    if not isinstance(data, Mapping):
        return {}
    details = data.get("details")
    flat = {k: v for k, v in data.items() if k != "details"}
    if isinstance(details, Mapping):
        flat.update(details)
    return flat


def _keyed(section: Any) -> dict[str, dict[str, Any]]:
    """A directory section keyed by number, each entry carrying its ``number``.

    Documented as an object keyed by number; a list of entries naming their number is
    accepted too.
    """
    if isinstance(section, Mapping):
        pairs = [(str(k), v) for k, v in section.items()]
    else:
        pairs = [
            (str(e.get("extensionNumber") or e.get("extension") or e.get("number") or ""), e)
            for e in _many(section)
            if isinstance(e, Mapping)
        ]
    return {number: {**entry, "number": number} for number, entry in pairs if number}


def directory_document(data: Any) -> dict[str, Any]:
    data = data if isinstance(data, Mapping) else {}
    return {key: _keyed(data.get(key)) for key in ("conferences", "queues", "extensions")}


def conference_document(data: Any) -> dict[str, Any]:
    flat = details_document(data)
    flat["participants"] = _many(flat.get("participants"))
    return flat


_HISTORY_TIME_FORMATS = ("%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %I:%M %p")


def parse_history_time(value: Any) -> Any:
    """``1/18/2013 03:45:00 PM`` as an aware UTC datetime; anything else is left to the
    converter (ISO 8601, epoch)."""
    if not isinstance(value, str):
        return value
    text = " ".join(value.split())
    for fmt in _HISTORY_TIME_FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=timezone.utc)
        except ValueError:
            continue
    return value


def history_document(data: Any) -> list[dict[str, Any]]:
    """The records of a call-history answer, timestamps parsed."""
    records = data.get("callHistoryList") if isinstance(data, Mapping) else data
    return [
        {**r, "timestamp": parse_history_time(r.get("timestamp"))}
        for r in _many(records)
        if isinstance(r, Mapping)
    ]
