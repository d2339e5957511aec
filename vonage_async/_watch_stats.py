"""What a watch says about itself: ``watch.stats()`` and the lifecycle events a consumer can
opt into with ``watch(..., lifecycle=True)``.

Nothing here holds a credential: errors are shown by type and message (which the SDK's
errors keep free of secrets), never with the request that failed.
"""

from __future__ import annotations

from datetime import datetime

import attrs

__all__ = [
    "ConsumerDropped",
    "ConsumerStats",
    "LifecycleEvent",
    "PollFailed",
    "Reconnected",
    "Resynced",
    "WatchStats",
]


@attrs.frozen
class ConsumerStats:
    """One consumer (one ``async for``) of a watch's shared poll loop."""

    #: the extensions it watches, sorted; None for all of them
    extensions: tuple[str, ...] | None
    #: events waiting in its queue
    queued: int
    #: how many times it fell ``max_queue`` events behind and its queue was dropped
    drops: int
    #: events it lost that way (it was handed a ``Snapshot(resync=True)`` instead)
    dropped_events: int
    #: whether it takes lifecycle events
    lifecycle: bool


@attrs.frozen
class WatchStats:
    """A watch's poll loop at one moment (``watch.stats()``)."""

    #: which stream: "Live Status" or "Telephony calls"
    watch: str
    #: whether the poll loop is running
    running: bool
    #: successful reads, "no change" answers (304) included
    polls: int
    #: reads answered "no change" (Live Status' 304)
    not_modified: int
    #: failed reads, in all
    failures: int
    #: failed reads since the last successful one
    failures_in_a_row: int
    #: full reads after a fault, a new login or a wider filter, diffed against what was known
    resyncs: int
    #: new sessions the watch saw (Live Status), after the first login
    relogins: int
    #: 409 answers: another caller polled the same session (Live Status)
    conflicts: int
    #: when the last successful read ended (UTC), None before the first one
    last_success: datetime | None
    #: seconds since then, on the monotonic clock, as of this snapshot
    seconds_since_success: float | None
    #: while the loop waits out a fault or Retry-After: the event loop's clock
    #: (``asyncio.get_running_loop().time()``) at which it reads again
    waiting_until: float | None
    #: the last failed read's error (type and message), None when none failed yet
    last_error: str | None
    #: the consumers, in the order they joined
    consumers: tuple[ConsumerStats, ...]


@attrs.frozen
class PollFailed:
    """A read failed; the watch will read the whole state afresh in ``retry_in`` seconds.

    ``failures`` counts failed reads in a row and ``failing_for`` the seconds since the
    first of them, so a bot can alert on a stream that has been failing for minutes."""

    watch: str
    failures: int
    error: str
    failing_for: float
    retry_in: float


@attrs.frozen
class Reconnected:
    """A read succeeded after ``failures`` failed ones, ``down_for`` seconds after the first
    of them. The events of the resync that follow bring the consumer up to date."""

    watch: str
    failures: int
    down_for: float
    last_error: str | None


@attrs.frozen
class Resynced:
    """The whole state was read afresh and diffed against what was known: the events before
    this one were the real differences, and the consumer is in step again. ``reason`` is
    ``"fault"`` (after failed reads or a new session) or ``"filter"`` (a watch of more
    extensions joined)."""

    watch: str
    reason: str


@attrs.frozen
class ConsumerDropped:
    """This consumer fell ``max_queue`` events behind: its queued events were dropped and a
    ``Snapshot(resync=True)`` of the state comes next. ``dropped_events`` counts every event
    it lost so far."""

    watch: str
    max_queue: int
    dropped_events: int


LifecycleEvent = PollFailed | Reconnected | Resynced | ConsumerDropped
LIFECYCLE_TYPES = (PollFailed, Reconnected, Resynced, ConsumerDropped)
