"""Rendering for the command line: models and watch events as JSON-ready dicts or one text line.

``record`` differs from ``_converter.unstructure`` on purpose: that one shapes request bodies
(defaults dropped, epoch seconds), while output for jq wants every field, ISO 8601 times.
Keys are the wire names, so a record reads like the API documentation.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from ._converter import wire_name
from ._events import (
    AvailabilityChanged,
    CallEnded,
    CallStarted,
    CallUpdated,
    ExtensionUpdated,
    Snapshot,
    WatchEvent,
)

__all__ = ["event_line", "event_record", "json_line", "record"]

_WORD = re.compile(r"(?<!^)(?=[A-Z])")


def record(value: Any) -> Any:
    """``value`` as plain JSON data: models by wire name, enums by value, datetimes in ISO."""
    if attrs.has(type(value)):
        cls = type(value)
        return {wire_name(cls, f): record(getattr(value, f.name)) for f in attrs.fields(cls)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): record(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [record(v) for v in value]
    return value


def json_line(data: Any) -> str:
    """One line of JSON; anything JSON lacks a type for is written as text."""
    return json.dumps(data, ensure_ascii=False, default=str)


def event_record(event: WatchEvent, at: datetime) -> dict[str, Any]:
    """A watch event as ``{"type": "call_started", "time": ..., <its fields>}``."""
    data: dict[str, Any] = {
        "type": _WORD.sub("_", type(event).__name__).lower(),
        "time": at.isoformat(),
    }
    if attrs.has(type(event)):
        data.update(record(event))
    return data


def event_line(event: WatchEvent, at: datetime) -> str:
    """A watch event as one readable line, e.g.
    ``12:00:01  CALL STARTED  ext 301  call 34857531…  ringing  from Jane Doe``."""
    clock = at.strftime("%H:%M:%S")
    if isinstance(event, Snapshot):
        what = "RESYNC" if event.resync else "SNAPSHOT"
        summary = f"{len(event.extensions)} extensions, {len(event.calls)} active calls"
        if event.availability is not None:
            summary += f", {event.availability}"
        return _columns(clock, what, summary)
    if isinstance(event, (CallStarted, CallUpdated, CallEnded)):
        call = event.call
        state = _text(getattr(call, "state", None)) or "?"
        if isinstance(event, CallUpdated):
            before = _text(getattr(event.previous, "state", None))
            if before and before != state:
                state = f"{before} → {state}"
        label = {CallStarted: "CALL STARTED", CallUpdated: "CALL UPDATED", CallEnded: "CALL ENDED"}
        return _columns(
            clock,
            label[type(event)],
            f"ext {event.extension}",
            f"call {_short(getattr(call, 'id', None))}",
            state,
            _party(call),
        )
    if isinstance(event, ExtensionUpdated):
        if event.current is None:
            change = "removed"
        elif event.previous is None:
            change = "added"
        else:
            status = _text(getattr(event.current, "status", None))
            change = f"{status} call" if status else "idle"
        return _columns(clock, "EXTENSION", f"ext {event.extension}", change)
    if isinstance(event, AvailabilityChanged):
        return _columns(clock, "AVAILABILITY", f"{event.previous} → {event.current}")
    return _columns(clock, type(event).__name__.upper())


def _columns(clock: str, label: str, *rest: str) -> str:
    return "  ".join([clock, f"{label:<12}", *(part for part in rest if part)])


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _short(call_id: str | None) -> str:
    if not call_id:
        return "?"
    return call_id if len(call_id) <= 9 else call_id[:8] + "…"


def _party(call: Any) -> str:
    """Who the extension is talking to: ``from`` them when they placed the call."""
    other = getattr(call, "on_call_with_name", None) or getattr(
        call, "number_originally_dialed", None
    )
    if not other:
        return ""
    caller = getattr(call, "callername", None)
    return f"from {other}" if other == caller else f"to {other}"
