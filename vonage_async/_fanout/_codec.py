"""Watch events as JSON stream entries, and their idempotency keys."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from .._events import (
    AvailabilityChanged,
    CallEnded,
    CallRef,
    CallStarted,
    CallUpdated,
    ExtensionUpdated,
    Snapshot,
    WatchEvent,
    value_from_json,
    value_to_json,
)

_TYPES: dict[str, type[WatchEvent]] = {
    cls.__name__: cls
    for cls in (
        Snapshot,
        CallStarted,
        CallUpdated,
        CallEnded,
        ExtensionUpdated,
        AvailabilityChanged,
    )
}


def event_to_json(event: WatchEvent) -> dict[str, Any]:
    if isinstance(event, Snapshot):
        return {
            "type": "Snapshot",
            "extensions": {k: value_to_json(v) for k, v in event.extensions.items()},
            "calls": [[ref.extension, value_to_json(ref.call)] for ref in event.calls],
            "availability": value_to_json(event.availability),
            "resync": event.resync,
        }
    data: dict[str, Any] = {"type": type(event).__name__}
    for name in ("extension", "call", "previous", "current"):
        if hasattr(event, name):
            value = getattr(event, name)
            data[name] = value if name == "extension" else value_to_json(value)
    return data


def event_from_json(data: dict[str, Any]) -> WatchEvent:
    kind = data["type"]
    if kind == "Snapshot":
        return Snapshot(
            extensions={k: value_from_json(v) for k, v in data["extensions"].items()},
            calls=tuple(CallRef(ext, value_from_json(call)) for ext, call in data["calls"]),
            availability=value_from_json(data["availability"]),
            resync=bool(data["resync"]),
        )
    fields = {
        k: (v if k == "extension" else value_from_json(v)) for k, v in data.items() if k != "type"
    }
    return _TYPES[kind](**fields)


def dumps(event: WatchEvent) -> str:
    return json.dumps(event_to_json(event), separators=(",", ":"), sort_keys=True)


def loads(text: str | bytes) -> WatchEvent:
    return event_from_json(json.loads(text))


def _digest(value: Any) -> str:
    text = json.dumps(value_to_json(value), sort_keys=True, default=str)
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:12]


def call_id(call: Any) -> str:
    return str(getattr(call, "id", None) or getattr(call, "call_id", None) or "")


def event_key(source: str, event: WatchEvent) -> str:
    """Stable across replicas and failovers: source, extension, call id, event type, transition."""
    if isinstance(event, CallStarted):
        return f"{source}|{event.extension or ''}|{call_id(event.call)}|started"
    if isinstance(event, CallEnded):
        return f"{source}|{event.extension or ''}|{call_id(event.call)}|ended"
    if isinstance(event, CallUpdated):
        transition = f"{_digest(event.previous)}>{_digest(event.call)}"
        return f"{source}|{event.extension or ''}|{call_id(event.call)}|updated|{transition}"
    if isinstance(event, ExtensionUpdated):
        transition = f"{_digest(event.previous)}>{_digest(event.current)}"
        return f"{source}|{event.extension}||extension|{transition}"
    if isinstance(event, AvailabilityChanged):
        return f"{source}|||availability|{event.previous}>{event.current}"
    text = dumps(event)
    return f"{source}|||snapshot|{hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()}"
