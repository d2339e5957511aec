"""One poll loop per source, shared by any number of consumers.

A ``Hub`` runs the loop while at least one consumer is subscribed: it reads the union of
what the consumers watch, diffs each read against what it knew (``Differ``) and hands
every consumer the events for its extensions through its own bounded queue. A read is
decoded and handed out in parts, the consumers taking each part's events before the next
is decoded, so the first events of a busy read do not wait for all of it. A consumer that
falls ``max_queue`` events behind is not allowed to grow memory: its queue is dropped and its
next event is a ``Snapshot(resync=True)`` of the state at that moment.

After a failed read the loop backs off (exponential, full jitter, reset by a success) and
resynchronises with a fresh full read, emitting only the real differences.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import logging
import operator
from collections import deque
from collections.abc import AsyncGenerator, Awaitable, Callable, Collection, Iterable
from types import TracebackType
from typing import Any

from . import _collector, _validation as check, errors
from ._events import (
    Changed,
    Differ,
    Observation,
    WatchEvent,
    WatchState,
    event_extension,
    first_state,
)
from ._transport import Backoff

logger = logging.getLogger("vonage_async")

Filter = frozenset[str] | None  # None: every extension
OnPoll = Callable[[list[WatchEvent], WatchState], Awaitable[None]]


class PollSource(abc.ABC):
    """What a hub polls: how to read, what counts as ended or changed, how to handle faults."""

    #: pause after each successful read (0 for long polls, where the server does the waiting)
    interval: float = 0.0

    @abc.abstractmethod
    async def read(self, extensions: Filter, *, first: bool) -> Any:
        """One read as received, for ``observe_parts``; None means "no change" (a 304)."""

    def observe_parts(self, received: Any) -> Iterable[Observation]:
        """What ``read`` received, as Observations decoded as they are taken: the hub hands
        each part's events out before the next is decoded. At least one part; the first one's
        availability is the read's, and a part holds all the calls of its extensions. By
        default ``read`` returns one whole Observation."""
        return (received,)

    @abc.abstractmethod
    async def recover(self, exc: Exception, failures: int) -> float | None:
        """A read failed for the ``failures``-th time in a row: return seconds to wait before
        resynchronising (None: the hub's backoff), or raise to end every consumer's watch."""

    @abc.abstractmethod
    def is_ended(self, call: Any) -> bool: ...

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


class Hub:
    """Runs one source's poll loop for every consumer of it."""

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
        # A state kept elsewhere (a replica taking over): the first read is diffed against it.
        self.state: WatchState | None = initial_state
        # Awaited with each read's whole event list and state before consumers get them.
        self._on_poll = on_poll
        self._poll_error: BaseException | None = None
        self.reads = 0  # successful reads, for tests and metrics
        self._consumers: list[_Consumer] = []
        self._polled: Filter = None
        self._task: asyncio.Task[None] | None = None
        self._read: asyncio.Task[None] | None = None
        self._differ: Differ | None = None  # while a read's parts are handed out
        self._holding = False  # this hub holds the collector (see _collector)
        self._closed = False
        self._stopping = False

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

    def join(self, extensions: Filter, max_queue: int) -> _Consumer:
        if self._closed:
            raise errors.ConfigurationError("the client is closed")
        consumer = _Consumer(extensions, max_queue)
        self._consumers.append(consumer)
        if self._stopping:  # the state is going away; _stop restarts the loop for us
            return consumer
        state = self._state_now()
        if state is not None and self.covers(extensions):
            consumer.awaiting_snapshot = False
            consumer.put(state.snapshot(extensions))
        if not self.running:
            self._task = asyncio.ensure_future(self._run())
        elif self._union() != self._polled and self._read is not None and self._differ is None:
            # Re-read at once with the wider filter. (Not while a read is handed out: the
            # loop re-reads right after it.)
            self._read.cancel()
        return consumer

    async def leave(self, consumer: _Consumer) -> None:
        with contextlib.suppress(ValueError):
            self._consumers.remove(consumer)
        if not self._consumers:
            await self._stop()

    async def close(self) -> None:
        self._closed = True
        await self._stop()
        for consumer in self._consumers:
            consumer.end()
        self._consumers.clear()

    async def _stop(self) -> None:
        task = self._task
        if task is not None:
            self._stopping = True
            try:
                task.cancel()
                # Every caller (a leaving consumer, the closing client) waits for the loop to
                # be gone; asyncio.wait does not swallow a cancellation of the caller itself.
                await asyncio.wait([task])
            finally:
                self._stopping = False
            if self._task is task:
                self._task = None
        self._forget()
        if self._consumers and not self._closed and not self.running:
            self._task = asyncio.ensure_future(self._run())  # someone joined meanwhile

    def _state_now(self) -> WatchState | None:
        """The state the events handed out so far lead to (mid-read, too)."""
        return self.state if self._differ is None else self._differ.state

    def _forget(self) -> None:
        self.state = None  # nobody kept up with it; the next watcher starts afresh
        self._polled = None
        self.source.reset()

    def covers(self, extensions: Filter) -> bool:
        if self._polled is None:
            return True
        return extensions is not None and extensions <= self._polled

    async def _run(self) -> None:
        try:
            await self._loop()
        except Exception as exc:  # a bug of ours must not leave consumers waiting forever
            self._fail(exc)
        finally:
            self._read = None
            self._release()

    async def _loop(self) -> None:
        failures = 0
        first = True
        while self._consumers:
            wanted = self._union()
            if wanted != self._polled or self.state is None:
                if self.state is not None and wanted is not None:
                    self.state = _restrict(self.state, wanted)
                self._polled = wanted
                first = True
            self._read = asyncio.ensure_future(self._read_and_deliver(wanted, first))
            try:
                await asyncio.wait([self._read])
            finally:
                if not self._read.done():
                    self._read.cancel()
                    await asyncio.wait([self._read])
                if not self._read.cancelled():
                    self._read.exception()  # retrieved here, whatever happens next
            if self._read.cancelled():  # the filter changed under a held poll
                continue
            exc = self._read.exception()
            if exc is not None and exc is self._poll_error:
                self._fail(exc)  # on_poll refused the read: this hub ends
                return
            if exc is None:
                failures = 0
                first = False
                if self.source.interval:
                    await asyncio.sleep(self.source.interval)
                continue
            if not isinstance(exc, Exception):
                raise exc
            failures += 1
            try:
                delay = await self.source.recover(exc, failures)
            except Exception as fatal:
                self._fail(fatal)
                return
            if delay is None:
                delay = self.backoff.delay(failures - 1)
            logger.info(
                "%s: read failed (%s); resync in %.2f s", self.name, type(exc).__name__, delay
            )
            await asyncio.sleep(delay)
            first = True

    async def _read_and_deliver(self, extensions: Filter, first: bool) -> None:
        self._release()  # in case the last poll's release never got its turn
        received = await self.source.read(extensions, first=first)
        if received is None:
            return
        # Decoding, diffing and queueing a poll is one burst of allocation (see _collector).
        # Only the hub that took the hold ends it: another hub's reads must not cut it short.
        self._holding = _collector.hold()
        try:
            await self._deliver(self.source.observe_parts(received))
        except BaseException:
            self._release()
            raise
        if self._holding:
            # The events just queued, and the models they replace, die as soon as the consumers
            # woken above have read them: release after their turn on the loop, so reference
            # counting frees them instead of a young collection promoting them. (With 500
            # changes a poll, releasing at once meant a full collection every ~140 polls.)
            asyncio.get_running_loop().call_soon(self._release)

    def _release(self) -> None:
        if self._holding:
            self._holding = False
            _collector.release()

    async def _deliver(self, parts: Iterable[Observation]) -> None:
        if self._on_poll is not None:
            await self._deliver_after_poll(parts, self._on_poll)
            return
        source = self.source
        if self.state is None:
            self.state = first_state(_whole(parts), is_ended=source.is_ended)
        else:
            extension_changed, call_changed = source.change_tests()
            differ = Differ(
                self.state,
                is_ended=source.is_ended,
                extension_changed=extension_changed,
                call_changed=call_changed,
            )
            self._differ = differ
            try:
                for part in parts:
                    self._hand_out(differ.add(part))
                    # The consumers take this part's events before the next one is decoded.
                    await asyncio.sleep(0)
                self._hand_out(differ.finish())
            finally:
                # On a fault, too: the state the consumers were led to, so that the resync
                # neither repeats nor loses what was handed out.
                self.state = differ.state
                self._differ = None
        self.reads += 1
        for consumer in self._consumers:
            if consumer.awaiting_snapshot and self.covers(consumer.extensions):
                consumer.awaiting_snapshot = False
                consumer.put(self.state.snapshot(consumer.extensions))

    async def _deliver_after_poll(self, parts: Iterable[Observation], on_poll: OnPoll) -> None:
        """The whole read is diffed, then ``on_poll`` sees it, then the consumers do."""
        source = self.source
        if self.state is None:
            events: list[WatchEvent] = []
            state = first_state(_whole(parts), is_ended=source.is_ended)
        else:
            extension_changed, call_changed = source.change_tests()
            differ = Differ(
                self.state,
                is_ended=source.is_ended,
                extension_changed=extension_changed,
                call_changed=call_changed,
            )
            events = []
            for part in parts:
                events += differ.add(part)
            events += differ.finish()
            state = differ.state
        try:
            await on_poll(events, state)
        except Exception as exc:
            self._poll_error = exc
            raise
        had_state = self.state is not None
        self.state = state
        self.reads += 1
        if had_state:
            self._hand_out(events)
        for consumer in self._consumers:
            if consumer.awaiting_snapshot and self.covers(consumer.extensions):
                consumer.awaiting_snapshot = False
                consumer.put(state.snapshot(consumer.extensions))

    def _hand_out(self, events: list[WatchEvent]) -> None:
        if not events:
            return
        for consumer in self._consumers:
            if consumer.awaiting_snapshot:
                continue
            if consumer.extensions is None:
                consumer.put_all(events)
            else:
                consumer.put_all([event for event in events if consumer.wants(event)])

    def _fail(self, error: BaseException) -> None:
        logger.error("%s: watch stopped: %s", self.name, error)
        for consumer in self._consumers:
            consumer.error = error
            consumer.ready.set()
        self._consumers.clear()
        self._forget()

    async def next_event(self, consumer: _Consumer) -> Any:
        """The consumer's next event, ``_END`` when the hub closed; raises the loop's error."""
        while True:
            state = self._state_now() if consumer.behind else None
            if state is not None:
                consumer.behind = False
                consumer.queue.clear()
                return state.snapshot(consumer.extensions, resync=True)
            if consumer.queue:
                return consumer.queue.popleft()
            if consumer.error is not None:
                raise consumer.error
            consumer.ready.clear()
            await consumer.ready.wait()


def _whole(parts: Iterable[Observation]) -> Observation:
    extensions: dict[str, Any] = {}
    calls: dict[Any, Any] = {}
    availability = None
    for n, part in enumerate(parts):
        extensions.update(part.extensions)
        calls.update(part.calls)
        if n == 0:
            availability = part.availability
    return Observation(extensions=extensions, calls=calls, availability=availability)


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
