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
import logging
import operator
from collections import deque
from collections.abc import AsyncGenerator, Awaitable, Callable, Collection
from types import TracebackType
from typing import Any

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
from ._transport import Backoff

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
    def __init__(self, extensions: Filter, max_queue: int) -> None:
        self.extensions = extensions
        self.max_queue = max_queue
        self.queue: deque[Any] = deque()
        self.ready = asyncio.Event()
        self.awaiting_snapshot = True
        self.behind = False  # dropped its queue; owes a resync Snapshot
        self.error: BaseException | None = None

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
        if self.behind or not items:
            return
        if len(self.queue) + len(items) > self.max_queue:
            self.queue.clear()
            self.behind = True
            logger.warning("a watch consumer fell %d events behind; it will resync", self.max_queue)
        else:
            self.queue.extend(items)
        self.ready.set()


@attrs.define
class HubStats:
    """How a hub's loop is doing, for a consumer to look at."""

    polls: int = 0  # successful reads
    failures: int = 0  # failed reads in a row, 0 after a success
    last_error: str | None = None  # the last failed read's error, as text
    waiting_until: float | None = None  # loop.time() of the next read while waiting out a fault


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
    ) -> None:
        self.source = source
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

    def join(self, extensions: Filter, max_queue: int) -> _Consumer:
        if self._closed:
            raise errors.ConfigurationError("the client is closed")
        consumer = _Consumer(extensions, max_queue)
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
        while self._consumers:
            wanted = self._union()
            if wanted != self._polled:
                if self.state is not None and wanted is not None:
                    self.state = _restrict(self.state, wanted)
                self._polled = wanted
                first = True
            started = loop.time()
            read = self._read = asyncio.ensure_future(source.read(wanted, first=first))
            try:
                await asyncio.wait([read])
            finally:
                self._read = None
                if not read.done():  # this loop was cancelled: abort the held request
                    read.cancel()
                    await asyncio.wait([read])
            if read.cancelled():  # a wider filter joined under a held poll
                continue
            exc = read.exception()
            if exc is None:
                changed = await self._deliver(read.result())
                first = self.state is None
                pause = source.interval
                if not changed:
                    pause = max(pause, source.min_period - (loop.time() - started))
                if pause > 0:
                    await asyncio.sleep(pause)
                continue
            if not isinstance(exc, Exception):
                raise exc
            if not await self._recover(exc):
                return
            first = True

    async def _deliver(self, observation: Observation | None) -> bool:
        """Diff a read into the state and hand its events out; whether anything changed."""
        source = self.source
        previous = self.state if self.state is not None else self.initial_state
        self.stats.polls += 1
        self.stats.failures = 0
        if observation is None:
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
                consumer.queue.clear()
                return self.state.snapshot(consumer.extensions, resync=True)
            if consumer.queue:
                return consumer.queue.popleft()
            if consumer.error is not None:
                raise consumer.error
            consumer.ready.clear()
            await consumer.ready.wait()


def _restrict(state: WatchState, extensions: frozenset[str]) -> WatchState:
    """Forget what nobody watches any more, without events: no one is listening for them."""
    return WatchState(
        extensions={k: v for k, v in state.extensions.items() if k in extensions},
        calls={k: v for k, v in state.calls.items() if k[0] in extensions},
        ended={k: v for k, v in state.ended.items() if k[0] in extensions},
        availability=state.availability,
    )


class Watch:
    """``async for event in watch``: events from a shared hub, for one consumer.

    Leaving the loop, cancelling the consuming task, ``await watch.aclose()`` or closing the
    client all unsubscribe; the poll loop stops (aborting a held request) when the last
    consumer of the hub leaves. Also usable as ``async with client...watch() as events``.
    """

    def __init__(self, hub: Hub, extensions: Filter, *, max_queue: int = 1000) -> None:
        self._hub = hub
        self._extensions = extensions
        self._max_queue = check.int_range("max_queue", max_queue, 1)
        self._consumers: list[_Consumer] = []

    @property
    def waiting_until(self) -> float | None:
        """While the stream waits out a fault or a ``Retry-After``: the event loop's clock
        (``asyncio.get_running_loop().time()``) at which it polls again; None while polling."""
        return self._hub.stats.waiting_until

    def __repr__(self) -> str:
        watched = "all" if self._extensions is None else ",".join(sorted(self._extensions))
        return f"<Watch {self._hub.name} extensions={watched}>"

    def __aiter__(self) -> AsyncGenerator[WatchEvent, None]:
        return self._events()

    async def _events(self) -> AsyncGenerator[WatchEvent, None]:
        consumer = self._hub.join(self._extensions, self._max_queue)
        self._consumers.append(consumer)
        queue = consumer.queue  # a queue holding events is never behind: take them directly
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

    async def __aenter__(self) -> Watch:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
