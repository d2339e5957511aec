"""Watch events, and the one pure function that turns two observations into them.

Both watchers (Live Status and Telephony's active calls) describe what they read as an
``Observation`` and hand it to ``diff_states`` with the ``WatchState`` they kept. The state
remembers recently ended calls, so a call is started once and ended once whatever the wire
does: a disconnected call that lingers, a resync that shows it again, a call that ended
between two reads (it is started and ended in the same batch).
"""

from __future__ import annotations

import enum
import operator
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from ._converter import positional_maker

__all__ = [
    "AvailabilityChanged",
    "CallEnded",
    "CallRef",
    "CallStarted",
    "CallUpdated",
    "Differ",
    "ExtensionUpdated",
    "Observation",
    "Snapshot",
    "WatchEvent",
    "WatchState",
    "diff_states",
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


# The diff makes an event per change, 500 a poll on a busy account: skip __init__'s frozen setattr.
_started = positional_maker(CallStarted)
_updated = positional_maker(CallUpdated)
_ended = positional_maker(CallEnded)
_extension_updated = positional_maker(ExtensionUpdated)


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
    differ = Differ(
        previous,
        is_ended=is_ended,
        extension_changed=extension_changed,
        call_changed=call_changed,
        remember=remember,
    )
    events = differ.add(current)
    events += differ.finish()
    return events, differ.state


class Differ:
    """``diff_states`` an observation at a time, in parts: each ``add`` returns the events of
    one part, ``finish`` those of what no part showed (removed extensions, their calls, and
    calls of no extension that vanished). A part holds all the calls of its extensions.

    ``state`` is, at every step, the state that the events returned so far lead to: what a
    consumer joining between two parts is shown, and what a read that fails after some parts
    leaves behind, so that the resync neither repeats nor loses an event.
    """

    def __init__(
        self,
        previous: WatchState,
        *,
        is_ended: Callable[[Any], bool],
        extension_changed: Changed = operator.ne,
        call_changed: Changed = operator.ne,
        remember: int = 10_000,
    ) -> None:
        self._previous = previous
        self._is_ended = is_ended
        self._extension_changed = extension_changed
        self._call_changed = call_changed
        self._remember = remember
        self._extensions: dict[str, Any] = {}  # the current ones, in the order parts showed them
        self._active: dict[CallKey, Any] = {}
        self._ended = dict(previous.ended)
        self._calls_on: dict[str | None, list[CallKey]] = {}  # the earlier calls, by extension
        for key in previous.calls:
            self._calls_on.setdefault(key[0], []).append(key)
        self._availability = previous.availability
        self._begun = False
        self._final: WatchState | None = None

    def add(self, part: Observation) -> list[WatchEvent]:
        """The events of one part: its extensions, and the calls on them."""
        if self._final is not None:
            raise RuntimeError("the diff is finished")
        previous = self._previous
        events: list[WatchEvent] = []
        if not self._begun:
            self._begun = True
            self._availability = part.availability
            if previous.availability != part.availability and previous.availability is not None:
                events.append(AvailabilityChanged(previous.availability, part.availability))

        seen = self._extensions
        earlier = previous.extensions
        changed = self._extension_changed
        for number, ext in part.extensions.items():
            before = seen[number] if number in seen else earlier.get(number)
            if before is None:
                events.append(_extension_updated(number, None, ext))
            elif before is not ext and changed(before, ext):
                events.append(_extension_updated(number, before, ext))
            seen[number] = ext

        active = self._active
        ended = self._ended
        earlier_calls = previous.calls
        is_ended = self._is_ended
        changed = self._call_changed
        for key, call in part.calls.items():
            if key in ended:
                continue  # a ghost of a call that already ended
            before = active[key] if key in active else earlier_calls.get(key)
            over = is_ended(call)
            if before is None:
                events.append(_started(key[0], call))
            elif not over and before is not call and changed(before, call):
                events.append(_updated(key[0], call, before))
            if over:
                events.append(_ended(key[0], call))
                ended[key] = None
                active.pop(key, None)
            else:
                active[key] = call
        # A part shows all the calls of its extensions: one it lacks has vanished, and ends
        # here, so that the state between parts never has a call its extension lost.
        calls_on, shown = self._calls_on, part.calls
        for number in part.extensions:
            for key in calls_on.get(number, ()):
                if key not in shown and key not in ended:
                    events.append(_ended(number, active.pop(key, earlier_calls[key])))
                    ended[key] = None
        return events

    def finish(self) -> list[WatchEvent]:
        """The events of what the parts did not show: extensions gone, calls vanished."""
        if self._final is not None:
            raise RuntimeError("the diff is finished")
        previous = self._previous
        events: list[WatchEvent] = []
        for number, before in previous.extensions.items():
            if number not in self._extensions:
                events.append(_extension_updated(number, before, None))
        active, ended = self._active, self._ended
        for key, before in previous.calls.items():
            if key not in active and key not in ended:
                events.append(_ended(key[0], before))
                ended[key] = None
        while len(ended) > self._remember:
            del ended[next(iter(ended))]
        self._final = WatchState(
            extensions=self._extensions,
            calls=active,
            ended=ended,
            availability=self._availability,
        )
        return events

    @property
    def state(self) -> WatchState:
        if self._final is not None:
            return self._final
        # Between parts: what no part showed yet is as it was.
        previous, active, ended = self._previous, self._active, self._ended
        calls = {k: c for k, c in previous.calls.items() if k not in active and k not in ended}
        calls.update(active)
        return WatchState(
            extensions={**previous.extensions, **self._extensions},
            calls=calls,
            ended=dict(ended),
            availability=self._availability,
        )


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


# -- JSON, for a state or events kept outside the process (see fanout) --------------------------


def _models() -> dict[str, type]:
    """The models a watch state holds, by name (imported late: they import this module)."""
    from .legacy._live_models import Availability, LiveCall, LiveExtension
    from .telephony._models import Call

    return {cls.__name__: cls for cls in (Availability, LiveCall, LiveExtension, Call)}


def value_to_json(value: Any) -> Any:
    """A model (or None) as JSON that names its type, so ``value_from_json`` needs no hint."""
    from ._converter import unstructure

    name = type(value).__name__
    if _models().get(name) is not type(value):
        if value is None or type(value) in (str, int, float, bool):
            return value  # an unknown value kept as it came
        raise TypeError(f"cannot keep a {name} as JSON")
    if isinstance(value, enum.Enum):
        return {"type": name, "value": value.value}
    return {"type": name, "value": unstructure(value)}


def value_from_json(data: Any) -> Any:
    from ._converter import structure

    if not isinstance(data, dict):
        return data
    cls = _models()[data["type"]]
    if issubclass(cls, enum.Enum):
        return cls(data["value"])
    if data["value"] == {}:  # every field at its default (the converter's shape cache trips on {})
        return cls()
    return structure(data["value"], cls, what="a stored watch state")


def state_to_json(state: WatchState) -> dict[str, Any]:
    """A WatchState as JSON (``state_from_json`` reads it back)."""
    return {
        "extensions": {k: value_to_json(v) for k, v in state.extensions.items()},
        "calls": [[ext, cid, value_to_json(call)] for (ext, cid), call in state.calls.items()],
        "ended": [[ext, cid] for ext, cid in state.ended],
        "availability": value_to_json(state.availability),
    }


def state_from_json(data: dict[str, Any]) -> WatchState:
    return WatchState(
        extensions={k: value_from_json(v) for k, v in data["extensions"].items()},
        calls={(ext, cid): value_from_json(call) for ext, cid, call in data["calls"]},
        ended={(ext, cid): None for ext, cid in data["ended"]},
        availability=value_from_json(data["availability"]),
    )
