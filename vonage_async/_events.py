"""Watch events, and the one pure function that turns two observations into them.

Both watchers (Live Status and Telephony's active calls) describe what they read as an
``Observation`` and hand it to ``diff_states`` with the ``WatchState`` they kept. The state
remembers recently ended calls, so a call is started once and ended once whatever the wire
does: a disconnected call that lingers, a resync that shows it again, a call that ended
between two reads (it is started and ended in the same batch).

A ``WatchState`` goes to JSON and back (``state_to_json``/``state_from_json``), so that a
watcher taking over from another can start from what that one knew.
"""

from __future__ import annotations

import enum
import functools
import operator
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs

from . import errors
from ._converter import get_converter, structure, wire_name

if TYPE_CHECKING:
    import cattrs

__all__ = [
    "AvailabilityChanged",
    "CallEnded",
    "CallRef",
    "CallStarted",
    "CallUpdated",
    "ExtensionUpdated",
    "Observation",
    "Snapshot",
    "WatchEvent",
    "WatchState",
    "diff_states",
    "state_from_json",
    "state_to_json",
]

CallKey = tuple[str | None, str]  # (extension, call id); no extension for Telephony watches
Changed = Callable[[Any, Any], bool]  # (before, after): is the difference worth an event?


class WatchEvent:
    """Base class of everything a watcher yields."""

    __slots__ = ()


@attrs.frozen
class CallRef:
    """A call as seen on one extension (None when the watch is not per extension)."""

    extension: str | None
    call: Any


@attrs.frozen
class Snapshot(WatchEvent):
    """The whole state: first, and again when a consumer fell behind (``resync=True``).

    ``calls`` are the calls active now; they were started before this snapshot, so no
    ``CallStarted`` follows for them, but each gets its ``CallEnded``.
    """

    extensions: Mapping[str, Any]
    calls: tuple[CallRef, ...]
    availability: Any = None
    resync: bool = False


@attrs.frozen
class CallStarted(WatchEvent):
    extension: str | None
    call: Any


@attrs.frozen
class CallUpdated(WatchEvent):
    """The call's state or details changed; ``previous`` is how it was."""

    extension: str | None
    call: Any
    previous: Any


@attrs.frozen
class CallEnded(WatchEvent):
    """The call turned disconnected or vanished, whichever was seen first. ``call`` is its last
    known form."""

    extension: str | None
    call: Any


@attrs.frozen
class ExtensionUpdated(WatchEvent):
    """Status, name or numbers changed. ``previous`` is None for an extension that appeared,
    ``current`` None for one that went away."""

    extension: str
    previous: Any
    current: Any


@attrs.frozen
class AvailabilityChanged(WatchEvent):
    previous: Any
    current: Any


@attrs.frozen
class Observation:
    """One complete read of the watched state."""

    extensions: Mapping[str, Any]
    calls: Mapping[CallKey, Any]
    availability: Any = None


@attrs.frozen
class WatchState:
    """What a watcher knows: the last observation's extensions, active calls, recent ends."""

    extensions: Mapping[str, Any] = attrs.field(factory=dict)
    calls: Mapping[CallKey, Any] = attrs.field(factory=dict)
    ended: Mapping[CallKey, None] = attrs.field(factory=dict)  # insertion-ordered
    availability: Any = None

    def snapshot(
        self, extensions: Iterable[str] | None = None, *, resync: bool = False
    ) -> Snapshot:
        """The state as a Snapshot, limited to ``extensions`` when given."""
        wanted = None if extensions is None else frozenset(extensions)
        return Snapshot(
            extensions={k: v for k, v in self.extensions.items() if wanted is None or k in wanted},
            calls=tuple(
                CallRef(ext, call)
                for (ext, _), call in self.calls.items()
                if wanted is None or ext in wanted
            ),
            availability=self.availability,
            resync=resync,
        )


def diff_states(
    previous: WatchState,
    current: Observation,
    *,
    is_ended: Callable[[Any], bool],
    extension_changed: Changed = operator.ne,
    call_changed: Changed = operator.ne,
    remember: int = 10_000,
) -> tuple[list[WatchEvent], WatchState]:
    """The events that lead from ``previous`` to ``current``, and the new state.

    ``extension_changed``/``call_changed`` (before, after) say what counts as a change (not
    durations that tick every second). ``remember`` bounds how many ended calls are kept to
    ignore their ghosts.
    """
    events: list[WatchEvent] = []
    if previous.availability is not None and previous.availability != current.availability:
        events.append(AvailabilityChanged(previous.availability, current.availability))

    earlier = previous.extensions
    for number, ext in current.extensions.items():
        before = earlier.get(number)
        if before is None:
            events.append(ExtensionUpdated(number, None, ext))
        elif before is not ext and extension_changed(before, ext):
            events.append(ExtensionUpdated(number, before, ext))
    for number, before in earlier.items():
        if number not in current.extensions:
            events.append(ExtensionUpdated(number, before, None))

    active: dict[CallKey, Any] = {}
    ended = dict(previous.ended)
    for key, call in current.calls.items():
        if key in ended:
            continue  # a ghost of a call that already ended
        before = previous.calls.get(key)
        if before is call:  # the very model of the last read (models are frozen): as it was
            active[key] = call
            continue
        over = is_ended(call)
        if before is None:
            events.append(CallStarted(key[0], call))
        elif not over and before is not call and call_changed(before, call):
            events.append(CallUpdated(key[0], call, before))
        if over:
            events.append(CallEnded(key[0], call))
            ended[key] = None
        else:
            active[key] = call
    for key, before in previous.calls.items():
        if key not in active and key not in ended:  # vanished: ends in its last known form
            events.append(CallEnded(key[0], before))
            ended[key] = None
    while len(ended) > remember:
        del ended[next(iter(ended))]
    state = WatchState(
        extensions=dict(current.extensions),
        calls=active,
        ended=ended,
        availability=current.availability,
    )
    return events, state


def first_state(current: Observation, *, is_ended: Callable[[Any], bool]) -> WatchState:
    """The state after the very first read: its disconnected calls count as already ended."""
    return WatchState(
        extensions=dict(current.extensions),
        calls={k: c for k, c in current.calls.items() if not is_ended(c)},
        ended={k: None for k, c in current.calls.items() if is_ended(c)},
        availability=current.availability,
    )


def event_extension(event: WatchEvent) -> str | None:
    """The extension an event concerns, None for account-wide events."""
    return getattr(event, "extension", None)


@functools.cache
def _state_converter() -> cattrs.Converter:
    """The package's converter, writing times as ISO 8601 (its own epoch seconds would drop
    milliseconds) and enums as their values: what it reads back is what was written."""
    from cattrs.gen import make_dict_unstructure_fn, override  # with the converter, lazily

    conv = get_converter().copy()
    conv.register_unstructure_hook(datetime, datetime.isoformat)
    conv.register_unstructure_hook_func(
        lambda tp: isinstance(tp, type) and issubclass(tp, enum.Enum), lambda e: e.value
    )

    def model(cls: type) -> Callable[[Any], Any]:  # the package's, bound to this converter
        renames: dict[str, Any] = {
            f.name: override(rename=wire_name(cls, f)) for f in attrs.fields(cls)
        }
        return make_dict_unstructure_fn(cls, conv, _cattrs_omit_if_default=True, **renames)

    conv.register_unstructure_hook_factory(attrs.has, model)
    return conv


def _models() -> dict[str, type]:
    """The models a watch state holds, by name (imported late: they import this module)."""
    from .legacy._live_models import Availability, LiveCall, LiveExtension
    from .telephony._models import Call

    return {cls.__name__: cls for cls in (Availability, LiveCall, LiveExtension, Call)}


def value_to_json(value: Any) -> Any:
    """A model (or None) as JSON that names its type, so ``value_from_json`` needs no hint."""
    name = type(value).__name__
    if _models().get(name) is not type(value):
        if value is None or type(value) in (str, int, float, bool):
            return value  # an unknown value kept as it came
        raise TypeError(f"cannot keep a {name} as JSON")
    return {"type": name, "value": _state_converter().unstructure(value)}


def value_from_json(data: Any) -> Any:
    if not isinstance(data, dict):
        return data
    cls = _models()[data["type"]]
    if issubclass(cls, enum.Enum):
        return cls(data["value"])
    return structure(data["value"], cls, what="a stored watch state")


def state_to_json(state: WatchState) -> dict[str, Any]:
    """The state as plain JSON data, each model tagged with its type, for ``state_from_json``."""
    return {
        "extensions": {k: value_to_json(v) for k, v in state.extensions.items()},
        "calls": [[ext, cid, value_to_json(call)] for (ext, cid), call in state.calls.items()],
        "ended": [[ext, cid] for ext, cid in state.ended],
        "availability": value_to_json(state.availability),
    }


def state_from_json(data: Mapping[str, Any]) -> WatchState:
    """A state from ``state_to_json``'s data; DecodeError on a wrong shape."""
    try:
        return WatchState(
            extensions={str(k): value_from_json(v) for k, v in data["extensions"].items()},
            calls={(ext, str(cid)): value_from_json(call) for ext, cid, call in data["calls"]},
            ended={(ext, str(cid)): None for ext, cid in data["ended"]},
            availability=value_from_json(data["availability"]),
        )
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise errors.DecodeError(f"not a stored watch state: {exc}") from exc
