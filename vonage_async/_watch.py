"""One poll loop per source, shared by any number of consumers.

A ``Hub`` runs the loop while at least one consumer is subscribed. Each turn it reads the
union of what the consumers watch (``PollSource.read``: one whole ``Observation``, or None
when nothing changed), diffs it against what it knew (``diff_states``), awaits the
``on_poll`` hook if one is set, and hands every consumer the events for its extensions
through its own bounded queue. A consumer joining meanwhile sees the state before or after
a poll, never between. A consumer that falls ``max_queue`` events behind is not allowed to
grow memory: its queue is dropped and its next event is a ``Snapshot(resync=True)``.

After a failed read the source says how long to wait (or, for the few faults that cannot
be recovered, that the watch ends); by default the loop backs off (exponential, full
jitter, reset by a success) and resynchronises with a fresh full read, emitting only the
real differences.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import contextvars
import itertools
import logging
import operator
import time
from collections import deque
from collections.abc import AsyncGenerator, Awaitable, Callable, Collection
from datetime import datetime, timezone
from typing import Any, Generic, TypeVar

import attrs

from . import _validation as check, errors
from ._events import (
    Changed,
    Observation,
    WatchEvent,
    WatchState,
    diff_states,
    event_extension,
    first_state,
)
from ._hooks import Hooks, PollEvent
from ._lifecycle import AsyncScoped
from ._transport import Backoff
from ._watch_stats import (
    LIFECYCLE_TYPES,
    ConsumerDropped,
    ConsumerStats,
    LifecycleEvent,
    PollFailed,
    Reconnected,
    Resynced,
    WatchStats,
)

logger = logging.getLogger("vonage_async")

Filter = frozenset[str] | None  # None: every extension
OnPoll = Callable[[list[WatchEvent], WatchState], Awaitable[None]]

MAX_WAIT = 300.0  # the longest pause a Retry-After gets; longer ones are cut, with a warning


class PollSource(abc.ABC):
    """What a hub polls: how to read, what counts as ended or changed, how to handle faults."""

    #: pause after each successful read (0 for long polls, where the server does the waiting)
    interval: float = 0.0
    #: the least time between the starts of two reads that brought nothing new, so that a
    #: server answering "no change" at once cannot make the loop spin
    min_period: float = 0.1
    #: counters a source keeps for ``WatchStats``: new sessions it saw, 409s it got
    relogins: int = 0
    conflicts: int = 0

    @abc.abstractmethod
    async def read(self, extensions: Filter, *, first: bool) -> Observation | None:
        """One whole read; None means "no change" (a 304)."""

    @abc.abstractmethod
    def recover(self, exc: Exception, failures: int) -> float | None:
        """A read failed for the ``failures``-th time in a row: return seconds to wait before
        resynchronising (None: the hub's backoff), or raise to end every consumer's watch.
        Recovery work (a new login) belongs in the next ``read``, where its own faults are
        read faults."""

    @abc.abstractmethod
    def is_ended(self, call: Any) -> bool: ...

    @property
    def closed(self) -> bool:
        """The client closed: a failed read ends the watch cleanly instead of retrying."""
        return False

    def change_tests(self) -> tuple[Changed, Changed]:
        """What counts as a change of an extension and of a call, as plain functions of
        (before, after): leave out what ticks on its own, like durations."""
        return operator.ne, operator.ne

    def reset(self) -> None:  # noqa: B027 - optional hook
        """The hub forgot its state (nobody watching): forget anything kept between reads."""


_END = object()


class _Consumer:
    def __init__(self, extensions: Filter, max_queue: int, lifecycle: bool = False) -> None:
        self.extensions = extensions
        self.max_queue = max_queue
        self.lifecycle = lifecycle
        self.queue: deque[Any] = deque()
        self.ready = asyncio.Event()
        self.awaiting_snapshot = True
        self.behind = False  # dropped its queue; owes a resync Snapshot
        self.error: BaseException | None = None
        self.drops = 0
        self.dropped_events = 0

    def wants(self, event: WatchEvent) -> bool:
        number = event_extension(event)
        return self.extensions is None or number is None or number in self.extensions

    def end(self) -> None:
        self.queue.clear()
        self.queue.append(_END)
        self.behind = False
        self.ready.set()

    def put(self, item: Any) -> None:
        self.put_all((item,))

    def put_all(self, items: Collection[Any]) -> None:
        if not items:
            return
        if self.behind:
            self.dropped_events += len(items)
            return
        queued = len(self.queue)
        if self.lifecycle:  # lifecycle events do not count
            queued -= sum(1 for item in self.queue if isinstance(item, LIFECYCLE_TYPES))
        if queued + len(items) > self.max_queue:
            self.dropped_events += self.drop() + len(items)
            self.drops += 1
            self.behind = True
            logger.warning("a watch consumer fell %d events behind; it will resync", self.max_queue)
            self.notify(ConsumerDropped(self.name, self.max_queue, self.dropped_events))
        else:
            self.queue.extend(items)
        self.ready.set()

    name = ""  # the hub's, for lifecycle events

    def notify(self, event: LifecycleEvent) -> None:
        """A lifecycle event, for a consumer that asked for them: outside ``max_queue``."""
        if self.lifecycle:
            self.queue.append(event)
            self.ready.set()

    def drop(self) -> int:
        """Empty the queue but for lifecycle events (in place: the watch holds the deque);
        how many events were dropped."""
        kept = [item for item in self.queue if isinstance(item, LIFECYCLE_TYPES)]
        dropped = len(self.queue) - len(kept)
        self.queue.clear()
        self.queue.extend(kept)
        return dropped


@attrs.define
class HubStats:
    """How a hub's loop is doing (``Hub.watch_stats()`` shows it as a ``WatchStats``)."""

    polls: int = 0  # successful reads
    failures: int = 0  # failed reads in a row, 0 after a success
    last_error: str | None = None  # the last failed read's error, as text
    waiting_until: float | None = None  # loop.time() of the next read while waiting out a fault
    not_modified: int = 0
    failures_total: int = 0
    resyncs: int = 0
    last_success: datetime | None = None
    last_success_clock: float | None = None  # time.monotonic()
    failing_since: float | None = None  # time.monotonic() of the first failure in a row


class Hub:
    """Runs one source's poll loop for every consumer of it.

    ``initial_state``: what the first full read is diffed against (a watcher taking over
    from another emits only the real differences) instead of being taken as it is.
    ``on_poll(events, state)`` is awaited after every successful read once the hub has a
    state (a 304 too, with no events), with all of that read's events, before any consumer
    gets them; if it raises, the hub ends and every consumer's watch raises that exception.
    """

    def __init__(
        self,
        source: PollSource,
        *,
        backoff: Backoff,
        name: str,
        initial_state: WatchState | None = None,
        on_poll: OnPoll | None = None,
        hooks: Hooks | None = None,
    ) -> None:
        self.source = source
        self.hooks = hooks  # the client's: on_poll_start and on_poll_end frame each read
        self._poll_ids = itertools.count(1)
        self.backoff = backoff
        self.name = name
        self.initial_state = initial_state
        self.on_poll = on_poll
        self.state: WatchState | None = None
        self.stats = HubStats()
        self._consumers: list[_Consumer] = []
        self._polled: Filter = None
        self._task: asyncio.Task[None] | None = None
        self._read: asyncio.Task[Observation | None] | None = None
        self._closed = False
        self._delivered = 0  # events of the last read, for on_poll_end

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def _union(self) -> Filter:
        wanted: set[str] = set()
        for consumer in self._consumers:
            if consumer.extensions is None:
                return None
            wanted |= consumer.extensions
        return frozenset(wanted)

    def covers(self, extensions: Filter) -> bool:
        if self._polled is None:
            return True
        return extensions is not None and extensions <= self._polled

    def join(self, extensions: Filter, max_queue: int, lifecycle: bool = False) -> _Consumer:
        if self._closed:
            raise errors.ConfigurationError("the client is closed")
        consumer = _Consumer(extensions, max_queue, lifecycle)
        consumer.name = self.name
        self._consumers.append(consumer)
        if self.state is not None and self.covers(extensions):
            consumer.awaiting_snapshot = False
            consumer.put(self.state.snapshot(extensions))
        if not self.running:
            self._task = asyncio.ensure_future(self._run())
        elif self._union() != self._polled and self._read is not None:
            self._read.cancel()  # re-read at once with the wider filter
        return consumer

    async def leave(self, consumer: _Consumer) -> None:
        with contextlib.suppress(ValueError):
            self._consumers.remove(consumer)
        if not self._consumers:
            await self._stop()

    async def close(self) -> None:
        self._closed = True
        consumers, self._consumers = self._consumers, []
        for consumer in consumers:
            consumer.end()
        await self._stop()

    async def _stop(self) -> None:
        task, self._task = self._task, None
        # Forget before waiting: a caller cancelled while it waits (twice, as task groups
        # do) must not leave a state nobody kept up with for the next watch.
        self._forget()
        if task is not None:
            task.cancel()
            await asyncio.wait([task])  # returns when the loop is gone; the held request with it

    def _forget(self) -> None:
        self.state = None
        self._polled = None
        self.stats.waiting_until = None
        self.source.reset()

    async def _run(self) -> None:
        try:
            await self._loop()
        except Exception as exc:  # a bug of ours must not leave consumers waiting forever
            self._fail(exc)

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        source = self.source
        first = True
        why = "start"  # why the next full read happens: "start", "filter" or "fault"
        while self._consumers:
            wanted = self._union()
            if wanted != self._polled:
                if self.state is not None and wanted is not None:
                    self.state = _restrict(self.state, wanted)
                self._polled = wanted
                first = True
                why = "filter" if why == "start" and self.state is not None else why
            started = loop.time()
            poll = await self._poll_started(first)
            read = self._read = poll.context.run(
                asyncio.ensure_future, source.read(wanted, first=first)
            )
            try:
                await asyncio.wait([read])
            finally:
                self._read = None
                if not read.done():  # this loop was cancelled: abort the held request
                    read.cancel()
                    await asyncio.wait([read])
                    await self._poll_ended(poll, "cancelled")
            if read.cancelled():  # a wider filter joined under a held poll
                await self._poll_ended(poll, "cancelled")
                continue
            exc = read.exception()
            if exc is None:
                resync = first and self.state is not None
                self._reconnected()
                changed = await self._deliver(read.result())
                await self._poll_ended(poll, "changed" if changed else "unchanged")
                if resync:
                    self.stats.resyncs += 1
                    self._notify(Resynced(self.name, why))
                first = self.state is None
                why = "start"
                pause = source.interval
                if not changed:
                    pause = max(pause, source.min_period - (loop.time() - started))
                if pause > 0:
                    await asyncio.sleep(pause)
                continue
            await self._poll_ended(poll, "failed", exc)
            if not isinstance(exc, Exception):
                raise exc
            if not await self._recover(exc):
                return
            first = True
            why = "fault"

    # -- what the hub tells: hooks, lifecycle events, stats ------------------------------------

    async def _poll_started(self, full: bool) -> _Poll:
        """Call the on_poll_start hooks in a context of their own, which the read's task is
        then created in (so a tracing hook's current span is the read's parent)."""
        poll = _Poll(PollEvent(next(self._poll_ids), self.name, full), contextvars.copy_context())
        hooks = self.hooks
        if hooks is not None and hooks.on_poll_start:
            for pending in poll.context.run(hooks.start_poll, poll.event):
                try:
                    await pending
                except Exception:
                    logger.exception("%s: a poll hook failed", self.name)
        return poll

    async def _poll_ended(
        self, poll: _Poll, outcome: str, error: BaseException | None = None
    ) -> None:
        hooks = self.hooks
        if hooks is not None and hooks.on_poll_end:
            event = attrs.evolve(
                poll.event,
                outcome=outcome,
                events=self._delivered if outcome in ("changed", "unchanged") else 0,
                elapsed=time.monotonic() - poll.started,
                error=None if error is None else type(error).__name__,
            )
            await hooks.emit(hooks.on_poll_end, event)

    def _notify(self, event: LifecycleEvent) -> None:
        for consumer in self._consumers:
            consumer.notify(event)

    def _reconnected(self) -> None:
        stats = self.stats
        now = time.monotonic()
        if stats.failures and stats.failing_since is not None:
            self._notify(
                Reconnected(self.name, stats.failures, now - stats.failing_since, stats.last_error)
            )
        stats.failing_since = None
        stats.last_success = datetime.now(timezone.utc)
        stats.last_success_clock = now

    def watch_stats(self) -> WatchStats:
        """The loop's counters and its consumers' queues, as of now."""
        stats = self.stats
        since = stats.last_success_clock
        return WatchStats(
            watch=self.name,
            running=self.running,
            polls=stats.polls,
            not_modified=stats.not_modified,
            failures=stats.failures_total,
            failures_in_a_row=stats.failures,
            resyncs=stats.resyncs,
            relogins=self.source.relogins,
            conflicts=self.source.conflicts,
            last_success=stats.last_success,
            seconds_since_success=None if since is None else time.monotonic() - since,
            waiting_until=stats.waiting_until,
            last_error=stats.last_error,
            consumers=tuple(
                ConsumerStats(
                    extensions=None if c.extensions is None else tuple(sorted(c.extensions)),
                    queued=sum(1 for item in c.queue if item is not _END),
                    drops=c.drops,
                    dropped_events=c.dropped_events,
                    lifecycle=c.lifecycle,
                )
                for c in self._consumers
            ),
        )

    async def _deliver(self, observation: Observation | None) -> bool:
        """Diff a read into the state and hand its events out; whether anything changed."""
        source = self.source
        previous = self.state if self.state is not None else self.initial_state
        self.stats.polls += 1
        self.stats.failures = 0
        self._delivered = 0
        if observation is None:
            self.stats.not_modified += 1
            events: list[WatchEvent] = []
            state = self.state
        elif previous is None:
            events, state = [], first_state(observation, is_ended=source.is_ended)
        else:
            extension_changed, call_changed = source.change_tests()
            events, state = diff_states(
                previous,
                observation,
                is_ended=source.is_ended,
                extension_changed=extension_changed,
                call_changed=call_changed,
            )
        if state is None:
            return False
        if self.on_poll is not None:
            await self.on_poll(events, state)
        self.state = state
        self.initial_state = None  # used once: a restart later starts afresh
        self._delivered = len(events)
        for consumer in self._consumers:
            if consumer.awaiting_snapshot:
                if self.covers(consumer.extensions):
                    consumer.awaiting_snapshot = False
                    consumer.put(state.snapshot(consumer.extensions))
            elif consumer.extensions is None:
                consumer.put_all(events)
            elif events:
                consumer.put_all([event for event in events if consumer.wants(event)])
        return bool(events) or previous is None

    async def _recover(self, exc: Exception) -> bool:
        """Wait out a failed read; False when the watch has ended."""
        stats = self.stats
        stats.failures += 1
        stats.failures_total += 1
        if stats.failing_since is None:
            stats.failing_since = time.monotonic()
        stats.last_error = f"{type(exc).__name__}: {exc}"
        if self.source.closed:  # the client is closing: this is the end, not a fault
            self._end_all()
            return False
        try:
            delay = self.source.recover(exc, stats.failures)
        except Exception as fatal:
            self._fail(fatal)
            return False
        if delay is None:
            delay = self.backoff.delay(stats.failures - 1)
        if delay > MAX_WAIT:
            logger.warning(
                "%s: the server asked for a %.0f s pause; waiting %.0f s",
                self.name,
                delay,
                MAX_WAIT,
            )
            delay = MAX_WAIT
        logger.info("%s: read failed (%s); resync in %.2f s", self.name, type(exc).__name__, delay)
        failing_for = time.monotonic() - stats.failing_since
        self._notify(PollFailed(self.name, stats.failures, stats.last_error, failing_for, delay))
        stats.waiting_until = asyncio.get_running_loop().time() + delay
        try:
            await asyncio.sleep(delay)
        finally:
            stats.waiting_until = None
        return True

    def _fail(self, error: BaseException) -> None:
        logger.error("%s: watch stopped: %s", self.name, error)
        for consumer in self._consumers:
            consumer.error = error
            consumer.ready.set()
        self._consumers.clear()
        self._forget()

    def _end_all(self) -> None:
        for consumer in self._consumers:
            consumer.end()
        self._consumers.clear()
        self._forget()

    async def next_event(self, consumer: _Consumer) -> Any:
        """The consumer's next event, ``_END`` when the hub closed; raises the loop's error."""
        while True:
            if consumer.behind and self.state is not None:
                consumer.behind = False
                consumer.drop()
                return self.state.snapshot(consumer.extensions, resync=True)
            if consumer.queue:
                return consumer.queue.popleft()
            if consumer.error is not None:
                raise consumer.error
            consumer.ready.clear()
            await consumer.ready.wait()


@attrs.define
class _Poll:
    event: PollEvent
    context: contextvars.Context
    started: float = attrs.field(factory=time.monotonic)


def _restrict(state: WatchState, extensions: frozenset[str]) -> WatchState:
    """Forget what nobody watches any more, without events: no one is listening for them."""
    return WatchState(
        extensions={k: v for k, v in state.extensions.items() if k in extensions},
        calls={k: v for k, v in state.calls.items() if k[0] in extensions},
        ended={k: v for k, v in state.ended.items() if k[0] in extensions},
        availability=state.availability,
    )


E = TypeVar("E")
W = TypeVar("W", bound="_WatchBase[Any]")


class _WatchBase(AsyncScoped, Generic[E]):
    def __init__(
        self, hub: Hub, extensions: Filter, *, max_queue: int = 1000, lifecycle: bool = False
    ) -> None:
        self._hub = hub
        self._extensions = extensions
        self._max_queue = check.int_range("max_queue", max_queue, 1)
        self._lifecycle = lifecycle
        self._consumers: list[_Consumer] = []

    @property
    def waiting_until(self) -> float | None:
        """While the stream waits out a fault or a ``Retry-After``: the event loop's clock
        (``asyncio.get_running_loop().time()``) at which it polls again; None while polling."""
        return self._hub.stats.waiting_until

    def stats(self) -> WatchStats:
        """What the shared poll loop has done so far and how its consumers' queues stand."""
        return self._hub.watch_stats()

    def __repr__(self) -> str:
        watched = "all" if self._extensions is None else ",".join(sorted(self._extensions))
        return f"<{type(self).__name__} {self._hub.name} extensions={watched}>"

    def __aiter__(self) -> AsyncGenerator[E, None]:
        return self._events()

    async def _events(self) -> AsyncGenerator[E, None]:
        consumer = self._hub.join(self._extensions, self._max_queue, self._lifecycle)
        self._consumers.append(consumer)
        # A queue holding events is never behind (one that fell behind holds lifecycle
        # events at most, which come before its resync Snapshot): take them directly.
        queue = consumer.queue
        try:
            while True:
                event = queue.popleft() if queue else await self._hub.next_event(consumer)
                if event is _END:
                    return
                yield event
        finally:
            self._consumers.remove(consumer)
            await self._hub.leave(consumer)

    async def aclose(self) -> None:
        """End this watch's iteration(s) and leave the hub."""
        for consumer in list(self._consumers):
            consumer.end()
            await self._hub.leave(consumer)

    async def _close(self) -> None:
        await self.aclose()


class Watch(_WatchBase[WatchEvent]):
    """``async for event in watch``: events from a shared hub, for one consumer.

    Leaving the loop, cancelling the consuming task, ``await watch.aclose()`` or closing the
    client all unsubscribe; the poll loop stops (aborting a held request) when the last
    consumer of the hub leaves. Also usable as ``async with client...watch() as events``.
    ``stats()`` tells what the shared poll loop is doing.
    """


class LifecycleWatch(_WatchBase[WatchEvent | LifecycleEvent]):
    """A ``Watch`` that also yields lifecycle events (``watch(..., lifecycle=True)``):
    ``PollFailed`` after each failed read, ``Reconnected`` on the first success after them,
    ``Resynced`` once a full re-read was diffed, and ``ConsumerDropped`` when this consumer
    fell ``max_queue`` behind (its ``Snapshot(resync=True)`` follows). Lifecycle events do not
    count towards ``max_queue`` and are never dropped."""
