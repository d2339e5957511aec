"""The chaos soak of issue 22: both watchers against the emulator, every fault at random.

A driver, seeded, places calls on many extensions, injects every fault kind the emulator
knows for the watcher (``vonage_async.emulator._faults``) and cancels consumers (once, or
twice as ``asyncio.wait_for`` and task groups do) and lets them re-join. The emulator records
every successful poll body it actually wrote; the ``Checker`` turns those into what each
consumer was owed while it was subscribed and compares with what it got. The emulator's
record of each call (the ``Call`` it placed) is the ground truth of who was on it.

Only the timing of the loop is not replayed by a seed (the network and the backoff's jitter
decide it); every choice of the driver is.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import gc
import os
import random
import time
from collections.abc import Callable, Iterable
from typing import Any

import attrs

from vonage_async import (
    CallEnded,
    CallStarted,
    CallUpdated,
    ExtensionUpdated,
    Snapshot,
)
from vonage_async._transport import Backoff
from vonage_async.emulator import Emulator
from vonage_async.emulator._faults import (
    CALLS_FAULTS,
    DASHUI_FAULTS,
    LOGIN_FAULTS,
    TOKEN_FAULTS,
    Poll,
)

SEED_ENV = "VONAGE_SOAK_SEED"
SECONDS_ENV = "VONAGE_SOAK_SECONDS"
ONLY_ENV = "VONAGE_SOAK_FAULTS"  # comma-separated: inject only these kinds
SKIP_ENV = "VONAGE_SOAK_SKIP"  # comma-separated: never inject these kinds

#: Not a server fault: consumers cancelled twice (as asyncio.wait_for and task groups do).
CANCEL_TWICE = "cancel_twice"
LIVE_FAULTS = (*DASHUI_FAULTS, *LOGIN_FAULTS, CANCEL_TWICE)
TELEPHONY_FAULTS = (*CALLS_FAULTS, *TOKEN_FAULTS, CANCEL_TWICE)

#: A poll's events reach a consumer well within this after the server wrote it; the polls of
#: the last GRACE seconds of a subscription are not owed to it (it may leave before taking them).
GRACE = 1.0
#: A poll written this close to a consumer joining may be one the hub abandoned to re-read
#: with the wider filter: what only it showed is not owed.
RACE = 0.5
#: Calls whose last poll is older than this are judged and forgotten (bounded memory).
HORIZON = 20.0

POLL_TIMEOUT = 1.5  # Live Status read timeout (the emulator holds HOLD)
HOLD = 0.5
INTERVAL = 0.2  # Telephony walk interval
PAGE_SIZE = 3  # several pages a walk
BACKOFF = Backoff(initial=0.05, maximum=0.5)
#: Persistent 409s end a watch by design (SessionConflictError); the soak injects them far
#: more often than any real server would, so the allowance is raised out of the way.
MAX_CONFLICTS = 1_000_000

Key = tuple[str | None, str]  # (extension, presenceCallId) or (watched extension, call_id)


@attrs.define
class Settings:
    seed: int
    seconds: float
    faults: tuple[str, ...]

    @classmethod
    def from_env(cls, kinds: tuple[str, ...], *, seconds: float | None = None) -> Settings:
        """The seed, duration and fault kinds, from the environment where set."""
        raw_seed = os.environ.get(SEED_ENV)
        seed = int(raw_seed) if raw_seed else random.SystemRandom().randrange(2**32)
        if seconds is None:
            seconds = float(os.environ.get(SECONDS_ENV) or 30)
        only = _names(os.environ.get(ONLY_ENV))
        skip = _names(os.environ.get(SKIP_ENV))
        chosen = tuple(k for k in kinds if (not only or k in only) and k not in skip)
        return cls(seed=seed, seconds=seconds, faults=chosen)


def _names(raw: str | None) -> set[str]:
    return {part.strip() for part in (raw or "").split(",") if part.strip()}


@attrs.define
class Report:
    watcher: str
    settings: Settings
    polls: int = 0
    events: int = 0
    calls_placed: int = 0
    calls_checked: int = 0  # (subscription, call) pairs judged
    subscriptions: int = 0
    cancels: collections.Counter[str] = attrs.Factory(collections.Counter)
    faults: collections.Counter[str] = attrs.Factory(collections.Counter)
    resyncs: int = 0
    rss_growth: int | None = None  # bytes, from the end of the warm-up to the end
    elapsed: float = 0.0
    violations: list[str] = attrs.Factory(list)

    @property
    def replay(self) -> str:
        kinds = ",".join(self.settings.faults)
        return (
            f"seed {self.settings.seed} (replay: {SEED_ENV}={self.settings.seed} "
            f"{SECONDS_ENV}={self.settings.seconds:g} {ONLY_ENV}={kinds})"
        )

    def summary(self) -> str:
        rss = "n/a" if self.rss_growth is None else f"{self.rss_growth / 2**20:+.2f} MiB"
        faults = ", ".join(f"{k}={n}" for k, n in sorted(self.faults.items())) or "none"
        return (
            f"{self.watcher} soak, {self.elapsed:.0f} s, {self.replay}\n"
            f"  polls {self.polls}, events {self.events}, calls placed {self.calls_placed}, "
            f"calls checked {self.calls_checked}, subscriptions {self.subscriptions}, "
            f"cancels {dict(self.cancels)}, resync snapshots {self.resyncs}, "
            f"RSS growth after warm-up {rss}\n"
            f"  faults injected ({sum(self.faults.values())}): {faults}"
        )

    def failure(self) -> str:
        shown = self.violations[:15]
        more = len(self.violations) - len(shown)
        lines = [f"{len(self.violations)} violation(s); {self.replay}", *shown]
        if more:
            lines.append(f"... and {more} more")
        return "\n".join(lines)


# -- the consumers ----------------------------------------------------------------------------


@attrs.define(eq=False)
class Subscription:
    """One consumer's time subscribed, and what it was told."""

    name: str
    filter: frozenset[str] | None  # Live Status filter; None: every extension
    hub: str | None  # Telephony: the extension watched (None: all); Live Status: "live"
    joined: float
    lag: float = 0.0  # the most a full queue holds it back: max_queue * seconds per event
    left: float | None = None
    active: set[Key] = attrs.Factory(set)
    ended: set[Key] = attrs.Factory(set)
    dropped: set[Key] = attrs.Factory(set)  # active, then missing from a resync Snapshot
    reported: set[Key] = attrs.Factory(set)
    gaps: list[tuple[float, float]] = attrs.Factory(list)
    last_event: float = 0.0
    got_snapshot: bool = False
    error: BaseException | None = None
    died_at: float = 0.0
    events: int = 0
    task: asyncio.Task[None] | None = None

    def covers(self, key: Key) -> bool:
        if self.hub != "live":
            return key[0] == self.hub
        return self.filter is None or key[0] in self.filter


@attrs.define
class _Track:
    seen: list[float] = attrs.Factory(list)  # when successful polls showed the call
    ended_at: float | None = None  # when a successful poll first showed it ended or gone
    absent: int = 0


class Checker:
    """What each subscription was owed, from the polls the server sent, against what it got."""

    def __init__(self, *, telephony: bool, report: Report) -> None:
        self.telephony = telephony
        self.report = report
        self.ground: dict[str, Any] = {}  # presenceCallId or call_id -> the emulator's Call
        self.tracks: dict[Key, _Track] = {}
        self.active_on: dict[str | None, set[Key]] = collections.defaultdict(set)
        self.joins: collections.deque[float] = collections.deque()
        self.idle_since: dict[str | None, float] = {}
        self.idle_after: dict[str | None, str] = {}  # how the last consumer left
        self.subs: list[Subscription] = []
        self._walks: dict[str | None, tuple[Poll, dict[int, Poll]]] = {}
        self.changed = asyncio.Event()
        # What consumers were told, checked against the polls when the call is judged:
        # key -> [(where, "ended" or "stale (...)", since, when told)]
        self.claims: dict[Key, list[tuple[str, str, float, float]]] = collections.defaultdict(list)

    def violation(self, text: str) -> None:
        self.report.violations.append(text)

    # -- what the server sent ----------------------------------------------------------------

    def on_poll(self, poll: Poll) -> None:
        if poll.kind == "dashui":
            self.report.polls += 1
            self._dashui(poll)
        else:
            self._page(poll)

    def _dashui(self, poll: Poll) -> None:
        shown_active: set[Key] = set()
        for key, status in poll.calls.items():
            self._seen(key, poll.at)
            if status.lower() == "disconnected":
                self._end(key, poll.at)
            else:
                shown_active.add(key)
                self.active_on[key[0]].add(key)
        for number in poll.listed:
            for key in list(self.active_on.get(number, ())):
                if key not in shown_active:
                    self._end(key, poll.at)

    def _page(self, poll: Poll) -> None:
        # The emulator reaches a page only through the previous page's next_page_uri (an
        # opaque token), so a walk is page 1, 2, ... in order, and it ends at the page that
        # by its own count is the last: the list may have grown or shrunk since page 1
        # counted its pages (a page 2 that counts 3 pages links to a page 3, which the
        # watcher reads). Page 1 again starts a new walk (the last one failed).
        if poll.page == 1:
            self._walks[poll.extension] = (poll, {1: poll})
        elif poll.extension in self._walks:
            self._walks[poll.extension][1].setdefault(poll.page, poll)
        else:
            return
        first, pages = self._walks[poll.extension]
        if poll.page < poll.pages or any(n not in pages for n in range(1, poll.page)):
            return
        del self._walks[poll.extension]
        calls: dict[Key, str] = {}
        for page in pages.values():
            calls.update(page.calls)
        if len(calls) != first.total:
            return  # the list moved under the walk: not a successful poll
        self.report.polls += 1
        self._walk(poll.extension, calls, max(p.at for p in pages.values()), len(pages) > 1)

    def _walk(self, hub: str | None, calls: dict[Key, str], at: float, paged: bool) -> None:
        for key in calls:
            self._seen(key, at)
            self.active_on[hub].add(key)
            self.tracks[key].absent = 0
        for key in list(self.active_on[hub]):
            if key in calls:
                continue
            track = self.tracks[key]
            track.absent += 1
            # A call missing from a walk of several pages may have slipped between two of
            # them: the watcher keeps it until a second walk misses it too.
            if track.absent >= 2 or not paged:
                self._end(key, at)

    def _seen(self, key: Key, at: float) -> None:
        track = self.tracks.get(key)
        if track is None:
            track = self.tracks[key] = _Track()
        track.seen.append(at)

    def _end(self, key: Key, at: float) -> None:
        track = self.tracks.get(key)
        if track is not None and track.ended_at is None:
            track.ended_at = at
        self.active_on[key[0]].discard(key)

    # -- what the consumers got --------------------------------------------------------------

    def key_of(self, extension: str | None, call: Any) -> Key:
        if self.telephony:
            return (extension, str(call.call_id))
        return (extension, str(call.presence_call_id))

    def on_event(self, sub: Subscription, event: Any, now: float) -> None:
        self.report.events += 1
        sub.events += 1
        where = f"{sub.name}: {type(event).__name__}"
        if isinstance(event, Snapshot):
            self._snapshot(sub, event, now, where)
        elif not sub.got_snapshot:
            self.violation(f"{where} before any Snapshot")
        elif isinstance(event, CallStarted):
            key = self._call_key(sub, event.extension, event.call, where)
            if key in sub.reported:
                self.violation(f"{where} {key}: started again")
            sub.active.add(key)
            sub.reported.add(key)
        elif isinstance(event, CallEnded):
            key = self._call_key(sub, event.extension, event.call, where)
            if key in sub.ended or key in sub.dropped:
                self.violation(f"{where} {key}: ended again")
            elif key not in sub.active:
                self.violation(f"{where} {key}: ended, never started")
            # Judged with the call: the poll may be recorded just after the watch acted on it.
            self.claims[key].append((where, "ended", float("-inf"), now))
            sub.active.discard(key)
            sub.ended.add(key)
        elif isinstance(event, CallUpdated):
            key = self._call_key(sub, event.extension, event.call, where)
            if key not in sub.active:
                self.violation(f"{where} {key}: updated, not active")
        elif isinstance(event, ExtensionUpdated):
            self._extension_allowed(sub, event.extension, where)
        sub.last_event = now
        self.changed.set()

    def _snapshot(self, sub: Subscription, event: Snapshot, now: float, where: str) -> None:
        if event.resync:
            self.report.resyncs += 1
            where += "(resync)"
            if not sub.got_snapshot:
                self.violation(f"{where} came first")
        elif sub.got_snapshot:
            self.violation(f"{where}: a second first Snapshot")
        for number in event.extensions:
            self._extension_allowed(sub, number, where)
        keys = {self._call_key(sub, ref.extension, ref.call, where) for ref in event.calls}
        idle = self.idle_since.get(sub.hub, float("-inf"))
        stale = f"its last consumer was cancelled {self.idle_after.get(sub.hub)}"
        for key in keys:
            self.claims[key].append((where, stale, idle, now))
        if event.resync:
            for key in keys & (sub.ended | sub.dropped):
                self.violation(f"{where} shows {key} again after its end")
            # What the dropped queue held came from polls up to a full queue's lag earlier.
            sub.gaps.append((sub.last_event - sub.lag - GRACE, now))
            sub.dropped |= sub.active - keys
            sub.active = keys - sub.ended - sub.dropped
        else:
            sub.active = set(keys)
        sub.reported |= keys
        sub.got_snapshot = True

    def _call_key(self, sub: Subscription, extension: str | None, call: Any, where: str) -> Key:
        key = self.key_of(extension, call)
        self._extension_allowed(sub, extension, where)
        truth = self.ground.get(key[1])
        if truth is None:
            self.violation(f"{where} {key}: no such call was placed")
        elif extension is not None and extension not in truth.extensions:
            self.violation(f"{where} {key}: the call is not on extension {extension}")
        return key

    def _extension_allowed(self, sub: Subscription, extension: str | None, where: str) -> None:
        if sub.hub != "live":
            if extension != sub.hub:
                self.violation(f"{where}: extension {extension}, watching {sub.hub}")
        elif sub.filter is not None and extension not in sub.filter:
            self.violation(f"{where}: extension {extension} is outside {sorted(sub.filter)}")

    # -- judging -----------------------------------------------------------------------------

    def judge(self, now: float, *, final: bool = False) -> None:
        """Judge (and forget) every call no poll has shown for HORIZON seconds (all, if final)."""
        cutoff = now if final else now - HORIZON
        done = [
            key
            for key, track in self.tracks.items()
            if track.seen[-1] < cutoff and (final or track.ended_at is not None or self._over(key))
        ]
        for key in done:
            track = self.tracks.pop(key)
            self._claims(key, track)
            for sub in self.subs:
                if sub.covers(key) and sub.joined < track.seen[-1]:
                    self._owed(sub, key, track, now)
                sub.active.discard(key)
                sub.ended.discard(key)
                sub.dropped.discard(key)
                sub.reported.discard(key)
            self.active_on[key[0]].discard(key)
        if final:  # calls no poll ever showed
            for key in list(self.claims):
                self._claims(key, _Track())
        # Joins and subscriptions are needed while a call they may excuse or be owed is
        # still undecided.
        oldest = min((t.seen[0] for t in self.tracks.values()), default=now)
        while self.joins and self.joins[0] < oldest - RACE:
            self.joins.popleft()
        self.subs = [s for s in self.subs if s.left is None or s.left > oldest - GRACE]

    def _claims(self, key: Key, track: _Track) -> None:
        for where, what, since, told in self.claims.pop(key, ()):
            if what == "ended":
                if track.ended_at is None or track.ended_at > told:
                    self.violation(f"{where} {key}: ended while every successful poll showed it on")
            elif not any(since <= at <= told for at in track.seen):
                self.violation(
                    f"{where} shows {key}, which no successful poll showed since the watch "
                    f"started: stale state from the watch before? ({what})"
                )

    def _over(self, key: Key) -> bool:
        """Whether the call has ended (a watch that stopped polling never shows the end)."""
        call = self.ground.get(key[1])
        return call is None or call.end_time is not None

    def forget_calls(self, *, ended_before: float) -> None:
        """Drop the ground truth of calls long over (wall clock, as the emulator keeps it)."""
        for name, call in list(self.ground.items()):
            if call.end_time is not None and call.end_time < ended_before:
                del self.ground[name]

    def _owed(self, sub: Subscription, key: Key, track: _Track, now: float) -> None:
        self.report.calls_checked += 1
        until = (sub.left if sub.left is not None else now) - GRACE

        def owed(at: float) -> bool:
            if not sub.joined + RACE < at < until:
                return False
            if any(abs(at - j) < RACE for j in self.joins):
                return False
            return not any(a <= at <= b for a, b in sub.gaps)

        if key not in sub.reported:
            shown = [at for at in track.seen if owed(at)]
            if shown:
                self.violation(
                    f"{sub.name}: {key} shown by a poll at t={shown[0] - self._t0:.2f}, "
                    f"subscribed t={sub.joined - self._t0:.2f}..{_t(sub.left, self._t0)}, "
                    "never reported"
                )
        elif key in sub.active and track.ended_at is not None and owed(track.ended_at):
            self.violation(
                f"{sub.name}: {key} ended in a poll at t={track.ended_at - self._t0:.2f}, "
                f"subscribed t={sub.joined - self._t0:.2f}..{_t(sub.left, self._t0)}, "
                "no CallEnded"
            )

    _t0 = 0.0


def _t(at: float | None, t0: float) -> str:
    return "end" if at is None else f"{at - t0:.2f}"


def rss() -> int | None:
    """This process's resident set size in bytes (Linux), None elsewhere."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return None


# -- the driver --------------------------------------------------------------------------------


@attrs.define
class Consumer:
    name: str
    filter: frozenset[str] | None
    hub: str | None
    max_queue: int
    delay: float  # seconds per event: the slow one falls behind


WatchFactory = Callable[[Consumer], Any]


async def soak(
    watcher: str,
    settings: Settings,
    *,
    warm_up: float | None = None,
    log: Callable[[str], None] | None = None,
) -> Report:
    """Run one watcher's soak for ``settings.seconds``; the report lists every violation."""
    telephony = watcher == "telephony"
    report = Report(watcher, settings)
    rng = random.Random(settings.seed)
    emu = Emulator(seed=settings.seed, hold=HOLD, extensions=10, history_per_extension=0)
    async with emu:
        emu.faults.stall_seconds = POLL_TIMEOUT + 0.5
        emu.faults.retry_after = 1.0
        # The Integration Platform's event log is no part of this ground truth: kept small, it
        # fills during the warm-up, so the RSS figure is the watcher's, not the log's.
        emu.integration.log_kept = 100
        checker = Checker(telephony=telephony, report=report)
        emu.faults.record_polls(checker.on_poll)
        numbers = sorted(emu.state.extensions, key=int)
        async with emu.client() as client:
            consumers = _consumers(numbers, telephony)

            def watch(c: Consumer) -> Any:
                if telephony:
                    return client.telephony.calls.watch(
                        extension=c.hub,
                        interval=INTERVAL,
                        backoff=BACKOFF,
                        max_queue=c.max_queue,
                        page_size=PAGE_SIZE,
                    )
                return client.legacy.live_status.watch(
                    c.filter,
                    poll_timeout=POLL_TIMEOUT,
                    backoff=BACKOFF,
                    max_queue=c.max_queue,
                    max_conflicts=MAX_CONFLICTS,
                )

            driver = _Driver(emu, checker, report, rng, watch, numbers, log or (lambda _: None))
            await driver.run(consumers, settings, warm_up)
    return report


def _consumers(numbers: list[str], telephony: bool) -> list[Consumer]:
    a, b, c, d, e, f, g = numbers[:7]
    if telephony:
        return [
            Consumer("all", None, None, 1000, 0.0),
            Consumer("slow-all", None, None, 4, 0.02),
            Consumer(f"ext{a}", frozenset({a}), a, 1000, 0.0),
            Consumer(f"ext{b}", frozenset({b}), b, 1000, 0.0),
            Consumer(f"ext{c}", frozenset({c}), c, 1000, 0.0),
        ]
    return [
        Consumer("all", None, "live", 1000, 0.0),
        Consumer("pair", frozenset({a, b}), "live", 1000, 0.0),
        Consumer("one", frozenset({c}), "live", 1000, 0.0),
        Consumer("four", frozenset({b, d, e, f}), "live", 1000, 0.0),
        Consumer("slow", frozenset({a, c, d, e, f, g}), "live", 4, 0.02),
    ]


class _Driver:
    def __init__(
        self,
        emu: Emulator,
        checker: Checker,
        report: Report,
        rng: random.Random,
        watch: WatchFactory,
        numbers: list[str],
        log: Callable[[str], None],
    ) -> None:
        self.emu = emu
        self.checker = checker
        self.report = report
        self.rng = rng
        self.watch = watch
        self.numbers = numbers
        self.log = log
        self.live: dict[str, Subscription] = {}  # consumer name -> its open subscription
        self.rejoin: list[tuple[float, Consumer]] = []
        self.recent_faults: collections.deque[tuple[float, str]] = collections.deque(maxlen=40)
        self.counter = 0
        self.dead: Subscription | None = None
        self.server_faults: list[str] = []
        self.twice = True

    # -- consumers ---------------------------------------------------------------------------

    def join(self, consumer: Consumer) -> None:
        self.counter += 1
        now = time.monotonic()
        sub = Subscription(
            f"{consumer.name}#{self.counter}",
            consumer.filter,
            consumer.hub,
            now,
            lag=consumer.max_queue * consumer.delay,
            last_event=now,
        )
        self.checker.subs.append(sub)
        self.checker.joins.append(now)
        self.report.subscriptions += 1
        self.live[consumer.name] = sub
        sub.task = asyncio.ensure_future(self._consume(sub, consumer))

    async def _consume(self, sub: Subscription, consumer: Consumer) -> None:
        sub.joined = time.monotonic()
        try:
            async for event in self.watch(consumer):
                self.checker.on_event(sub, event, time.monotonic())
                if consumer.delay:
                    await asyncio.sleep(consumer.delay)
            raise RuntimeError("the watch ended by itself")
        except Exception as exc:
            sub.error, sub.died_at = exc, time.monotonic()
            self.dead = self.dead or sub
            self.checker.changed.set()

    async def leave(self, name: str, *, twice: bool) -> None:
        sub = self.live.pop(name)
        task = sub.task
        assert task is not None
        sub.left = time.monotonic()
        task.cancel()
        if twice:
            # As asyncio.wait_for and task groups do: a second cancel lands while the first
            # is being handled (in the watch's clean-up).
            for _ in range(self.rng.randrange(3)):
                await asyncio.sleep(0)
            task.cancel()
        self.report.cancels["twice" if twice else "once"] += 1
        done, _ = await asyncio.wait([task], timeout=5.0)
        if not done:
            self.checker.violation(f"{sub.name}: still running 5 s after being cancelled")
        if not any(s.hub == sub.hub for s in self.live.values()):
            self.checker.idle_since[sub.hub] = time.monotonic()
            self.checker.idle_after[sub.hub] = "twice" if twice else "once"

    # -- the run -----------------------------------------------------------------------------

    async def run(
        self, consumers: list[Consumer], settings: Settings, warm_up: float | None
    ) -> None:
        self.server_faults = [k for k in settings.faults if k != CANCEL_TWICE]
        self.twice = CANCEL_TWICE in settings.faults
        start = self.checker._t0 = time.monotonic()
        end = start + settings.seconds
        warm_end = start + (warm_up if warm_up is not None else settings.seconds / 5)
        rss_start: int | None = None
        next_judge = start + 5.0
        for consumer in consumers:
            self.join(consumer)
        try:
            while time.monotonic() < end and self.dead is None:
                await asyncio.sleep(self.rng.uniform(0.01, 0.15))
                now = time.monotonic()
                self._step(consumers, settings, now)
                await self._cancel_some(consumers)
                self._collect_faults()
                if now >= next_judge:
                    next_judge = now + 5.0
                    self.checker.judge(now)
                    self.checker.forget_calls(ended_before=time.time() - 3 * HORIZON)
                    del self.emu.state.history[:-100]
                if rss_start is None and now >= warm_end:
                    gc.collect()
                    rss_start = rss()
            if self.dead is None:
                await self._probe(consumers)
            if rss_start is not None and self.dead is None:
                gc.collect()
                rss_end = rss()
                if rss_end is not None:
                    self.report.rss_growth = rss_end - rss_start
        finally:
            self._collect_faults()
            for name in list(self.live):
                await self.leave(name, twice=False)
            self.report.elapsed = time.monotonic() - start
        if self.dead is not None:
            self._report_death(self.dead)
        self.checker.judge(time.monotonic(), final=True)

    def _step(self, consumers: list[Consumer], settings: Settings, now: float) -> None:
        for due, consumer in [r for r in self.rejoin if r[0] <= now]:
            self.rejoin.remove((due, consumer))
            self.join(consumer)
        roll = self.rng.random()
        if roll < 0.55:
            if len(self.emu.state.calls) < 8:
                self._place_call()
        elif roll < 0.70 and self.server_faults:
            kind = self.rng.choice(self.server_faults)
            # Armed faults wait for their request: a login or token request is rare.
            if self.emu.faults.pending(kind) < 2:
                self.emu.faults.inject(kind)

    async def _cancel_some(self, consumers: list[Consumer]) -> None:
        roll = self.rng.random()
        names = sorted(self.live)
        if roll < 0.05 and names:
            chosen = [self.rng.choice(names)]
        elif roll < 0.06:
            chosen = names  # everyone: the hub goes idle and must forget its state
        else:
            return
        by_name = {c.name: c for c in consumers}
        for name in chosen:
            await self.leave(name, twice=self.rng.random() < 0.5 and self.twice)
            due = time.monotonic() + self.rng.uniform(0.0, 0.6)
            self.rejoin.append((due, by_name[name]))

    def _place_call(self, src: str | None = None, dst: str | None = None) -> None:
        rng = self.rng
        ext = rng.choice(self.numbers)
        kind = rng.choice(("outbound", "inbound", "intrapbx"))
        if src is not None and dst is not None:
            kind, ext = "probe", src
        outside = f"1{rng.randrange(200, 999)}555{rng.randrange(10000):04d}"
        if kind == "probe":
            pass
        elif kind == "outbound":
            src, dst = ext, outside
        elif kind == "inbound":
            src, dst = outside, self.emu.state.extensions[ext].dids[0].phone_number
        else:
            src, dst = ext, rng.choice([n for n in self.numbers if n != ext])
        assert src is not None and dst is not None
        if kind == "probe":  # long enough for several polls to show it
            call_id = self.emu.place_call(src, dst, ring_seconds=0.6, talk_seconds=1.0)
        else:
            call_id = self.emu.place_call(
                src,
                dst,
                answer=rng.random() < 0.85,
                ring_seconds=rng.uniform(0.05, 1.0),
                talk_seconds=rng.uniform(0.05, 2.0),
            )
        call = self.emu.state.calls[call_id]
        self.checker.ground[call.call_id if self.checker.telephony else call.presence_call_id] = (
            call
        )
        self.report.calls_placed += 1

    def _collect_faults(self) -> None:
        injected = self.emu.faults.injected
        for at, kind in injected:
            self.report.faults[kind] += 1
            self.recent_faults.append((at, kind))
        injected.clear()

    async def _probe(self, consumers: list[Consumer]) -> None:
        """Faults off, everyone back: each consumer must see fresh calls start and end."""
        self.emu.faults.clear()
        for _, consumer in self.rejoin:
            self.join(consumer)
        self.rejoin.clear()
        before = set(self.checker.ground)
        pairs = list(zip(self.numbers[0::2], self.numbers[1::2], strict=False))
        for src, dst in pairs:
            self._place_call(src, dst)
        probes = set(self.checker.ground) - before
        deadline = time.monotonic() + 30.0
        while self.dead is None:
            missing = self._probes_missing(probes)
            if not missing:
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                for name, keys in missing.items():
                    self.checker.violation(
                        f"{name}: is the watch still running? 30 s after the faults stopped, "
                        f"probe calls {sorted(keys)} had not been started and ended"
                    )
                return
            self.checker.changed.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.checker.changed.wait(), remaining)

    def _probes_missing(self, probes: set[str]) -> dict[str, set[Key]]:
        missing: dict[str, set[Key]] = {}
        for sub in self.live.values():
            owed = {
                key
                for call_id in probes
                for key in self._keys(sub, self.checker.ground[call_id])
                if sub.covers(key)
            }
            lacking = owed - sub.ended - sub.dropped
            if lacking:
                missing[sub.name] = lacking
        return missing

    def _keys(self, sub: Subscription, call: Any) -> Iterable[Key]:
        if self.checker.telephony:
            if sub.hub is None or sub.hub in call.extensions:
                yield (sub.hub, call.call_id)
        else:
            for number in call.extensions:
                yield (number, call.presence_call_id)

    def _report_death(self, sub: Subscription) -> None:
        exc = sub.error
        window = [
            f"{kind}@t={at - self.checker._t0:.2f}"
            for at, kind in self.recent_faults
            if sub.died_at - 5.0 <= at <= sub.died_at
        ]
        self.checker.violation(
            f"{sub.name}: the watch died at t={sub.died_at - self.checker._t0:.2f} with "
            f"{type(exc).__name__}: {exc}; faults injected in the 5 s before (the last is "
            f"the likely cause): {', '.join(window) or 'none'} (to run without one: "
            f"{SKIP_ENV}=<kind>)"
        )
