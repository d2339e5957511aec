"""Many replicas, one poller: Live Status and Telephony events through Redis.

Replicas of a bot share one poll of the account (Live Status allows one caller per session; a
VBC token's quota is shared) through Redis: ``RedisFanout`` elects one leader with a lease
fenced at the storage, the leader publishes each poll's events to a Redis stream, and every
replica reads the stream, in consumer groups or as a broadcast.

Delivery is **at least once per group, exactly once in the stream**: an event is written
once, but a consumer that dies before acknowledging it leaves it to be delivered again (to
another consumer, after ``claim_idle``). ``delivery.key`` is a stable idempotency key for
handlers that must not act twice.

Needs the ``redis`` extra: ``pip install "vonage-async[redis]"``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from . import _validation as check, errors
from ._events import WatchEvent, WatchState, state_from_json, state_to_json
from ._fanout import _codec, _scripts
from ._lifecycle import AsyncScoped
from ._transport import Backoff, RateLimit
from ._watch import Filter, Hub, PollSource, Watch

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["Delivery", "RedisFanout", "RedisRateLimit", "RedisTokenStore"]

logger = logging.getLogger("vonage_async")

T = TypeVar("T")


def _redis_module() -> Any:
    try:
        import redis.asyncio
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise errors.ConfigurationError(
            'the fan-out needs redis-py: pip install "vonage-async[redis]"'
        ) from exc
    return redis.asyncio


def _connect(redis: Any) -> Any:
    """A client with its own connection pool, from a URL or another client's settings: a
    blocking read on one never delays a lease renewal on another."""
    aioredis = _redis_module()
    if isinstance(redis, str):
        return aioredis.Redis.from_url(redis)
    pool = redis.connection_pool
    return aioredis.Redis(
        connection_pool=aioredis.ConnectionPool(
            connection_class=pool.connection_class, **pool.connection_kwargs
        )
    )


def _is_redis_error(exc: BaseException) -> bool:
    import redis.exceptions

    return isinstance(exc, (redis.exceptions.RedisError, OSError))


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def default_consumer() -> str:
    """The host name and process id: a restarted pod (same host name) reclaims its own
    pending events first."""
    return f"{socket.gethostname()}-{os.getpid()}"


class _Fenced(Exception):
    """The lease is no longer this replica's: its poll publishes nothing."""


class Delivery:
    """One event from the stream, for one consumer."""

    __slots__ = ("_ack", "acked", "event", "id", "key", "redelivered")

    def __init__(
        self,
        event: WatchEvent,
        id: str,
        key: str,
        redelivered: bool,
        ack: Callable[[], Awaitable[None]] | None,
    ) -> None:
        self.event = event
        self.id = id
        self.key = key
        self.redelivered = redelivered
        self._ack = ack
        self.acked = ack is None

    def __repr__(self) -> str:
        kind = type(self.event).__name__
        return f"<Delivery {self.id} {kind} redelivered={self.redelivered}>"

    async def ack(self) -> None:
        """Acknowledge it to the group (also done when the consumer asks for the next one)."""
        if not self.acked and self._ack is not None:
            await self._ack()
        self.acked = True


class RedisFanout(AsyncScoped):
    """One poller among replicas, its events in a Redis stream. ``async with`` joins the
    election; ``is_leader`` says whether this replica polls now; ``events()`` reads.

    ``source`` is ``client.legacy.live_status`` (``extensions`` to watch, default all) or
    ``client.telephony.calls`` (``account_id``, and one extension or None). ``name`` prefixes
    every key. The leader holds a lease of ``lease_ttl`` seconds, renewed every third of it;
    one that could not renew within two thirds stops polling at once, and every publish is
    a script that writes only while the lease holds this leader's epoch. The stream keeps
    ``maxlen`` events; a consumer whose position was trimmed away gets a
    ``Snapshot(resync=True)`` from the state kept in Redis. ``lead=False`` only reads.
    """

    def __init__(
        self,
        redis: str | Redis,
        source: Any,
        *,
        name: str,
        lease_ttl: float = 10.0,
        maxlen: int = 100_000,
        extensions: Iterable[str | int] | str | int | None = None,
        account_id: str = "self",
        claim_idle: float = 30.0,
        backoff: Backoff | None = None,
        lead: bool = True,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise errors.ValidationError("name", "give a key prefix")
        if isinstance(lease_ttl, bool) or not isinstance(lease_ttl, (int, float)):
            raise errors.ValidationError("lease_ttl", "must be a number of seconds")
        if not lease_ttl >= 0.3:
            raise errors.ValidationError("lease_ttl", "must be at least 0.3 s")
        if isinstance(claim_idle, bool) or not claim_idle > 0:
            raise errors.ValidationError("claim_idle", "must be a positive number of seconds")
        check.int_range("maxlen", maxlen, 1)
        self.name = name
        self.lead = lead  # False: only read, never poll
        self.lease_ttl = float(lease_ttl)
        self.maxlen = maxlen
        self.claim_idle = float(claim_idle)
        self.backoff = backoff or Backoff(initial=0.1, maximum=2.0)
        self._source_id, self._make_source, self._filter = _source(source, extensions, account_id)
        self._redis_arg = redis
        self._redis: Any = None
        self._lease_redis: Any = None
        self.holder = f"{default_consumer()}-{uuid.uuid4().hex[:8]}"
        self._keys = {
            k: f"{name}:{k}" for k in ("lease", "epoch", "stream", "state", "last", "pub")
        }
        self._epoch: int | None = None
        self._renewed = 0.0
        self._task: asyncio.Task[None] | None = None
        self.terms = 0  # leadership terms so far, for tests and metrics
        self.published = 0  # events this replica published

    def __repr__(self) -> str:
        return f"<RedisFanout {self.name} leader={self.is_leader}>"

    @property
    def stream_key(self) -> str:
        return self._keys["stream"]

    @property
    def is_leader(self) -> bool:
        """Whether this replica polls now (holds the lease, renewed in time)."""
        return self._epoch is not None and self._lease_fresh()

    def _lease_fresh(self) -> bool:
        return time.monotonic() - self._renewed < self.lease_ttl * 2 / 3

    async def _open(self) -> None:
        self._redis = _connect(self._redis_arg)
        self._lease_redis = _connect(self._redis_arg)
        if self.lead:
            self._task = asyncio.ensure_future(self._elect())

    async def _close(self) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Leave the election (giving the lease up at once) and close the connections."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.wait([task])
        self._epoch = None  # (the cancelled election has already cleared it)
        if self.lead and self._lease_redis is not None:
            # Only our own lease is deleted (the script checks the holder): the next replica
            # takes over at once instead of after the ttl.
            with contextlib.suppress(Exception):
                await self._lease_redis.eval(_scripts.RELEASE, 1, self._keys["lease"], self.holder)
        for client in (self._redis, self._lease_redis):
            if client is not None:
                await client.aclose()
        self._redis = self._lease_redis = None

    # -- election and leadership ---------------------------------------------------------------

    async def _retrying(self, what: str, call: Callable[[], Awaitable[T]]) -> T:
        """Redis errors are retried with backoff, and logged."""
        failures = 0
        while True:
            try:
                return await call()
            except Exception as exc:
                if not _is_redis_error(exc):
                    raise
                failures += 1
                delay = self.backoff.delay(failures - 1)
                logger.warning(
                    "%s: Redis %s failed (%s); retrying in %.2f s", self.name, what, exc, delay
                )
                await asyncio.sleep(delay)

    async def _elect(self) -> None:
        ttl_ms = str(int(self.lease_ttl * 1000))
        keys = self._keys
        while True:
            sent = time.monotonic()
            epoch = await self._retrying(
                "lease",
                lambda: self._lease_redis.eval(
                    _scripts.ACQUIRE, 2, keys["lease"], keys["epoch"], self.holder, ttl_ms
                ),
            )
            if epoch:
                self._epoch, self._renewed = int(epoch), sent
                self.terms += 1
                logger.info("%s: leading (epoch %s)", self.name, epoch)
                try:
                    await self._lead(int(epoch))
                except Exception as exc:  # logged, and the election goes on
                    logger.error("%s: leader failed: %r", self.name, exc)
                finally:
                    self._epoch = None
                logger.info("%s: stepped down (epoch %s)", self.name, epoch)
            await asyncio.sleep(self.lease_ttl / 4)

    async def _lead(self, epoch: int) -> None:
        keys = self._keys
        stored = await self._retrying("read", lambda: self._redis.get(keys["state"]))
        initial = state_from_json(json.loads(stored)["state"]) if stored else None
        publish = self._publisher(epoch, announce=initial is None)
        hub = Hub(
            self._make_source(),
            backoff=self.backoff,
            name=f"{self.name} leader",
            initial_state=initial,
            on_poll=publish,
        )
        poll = asyncio.ensure_future(self._poll(hub))
        renew = asyncio.ensure_future(self._renew(epoch))
        try:
            await asyncio.wait([poll, renew], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (poll, renew):
                task.cancel()
            await asyncio.wait([poll, renew])
            await hub.close()
        for task in (poll, renew):
            if not task.cancelled() and task.exception() is not None:
                exc = task.exception()
                if not isinstance(exc, _Fenced):
                    logger.error("%s: leader stopped: %r", self.name, exc)

    async def _poll(self, hub: Hub) -> None:
        async with Watch(hub, self._filter, max_queue=1_000_000) as watch:
            async for _ in watch:
                pass  # the events went to the stream in on_poll

    async def _renew(self, epoch: int) -> None:
        """Renew every ttl/3; return (stepping down) when refused or not renewed in 2/3 ttl."""
        keys = self._keys
        ttl_ms = str(int(self.lease_ttl * 1000))
        while True:
            await asyncio.sleep(max(0.0, self._renewed + self.lease_ttl / 3 - time.monotonic()))
            while True:
                left = self._renewed + self.lease_ttl * 2 / 3 - time.monotonic()
                if left <= 0:
                    logger.warning("%s: lease not renewed in time; stepping down", self.name)
                    return
                sent = time.monotonic()
                try:
                    held = await asyncio.wait_for(
                        self._lease_redis.eval(
                            _scripts.RENEW,
                            2,
                            keys["lease"],
                            keys["epoch"],
                            self.holder,
                            str(epoch),
                            ttl_ms,
                        ),
                        left,
                    )
                except asyncio.TimeoutError:
                    continue
                except Exception as exc:
                    if not _is_redis_error(exc):
                        raise
                    logger.warning("%s: lease renewal failed (%s); retrying", self.name, exc)
                    await asyncio.sleep(min(self.backoff.initial, max(0.0, left)))
                    continue
                if not held:
                    logger.warning("%s: the lease is someone else's; stepping down", self.name)
                    return
                self._renewed = sent
                break

    def _publisher(
        self, epoch: int, *, announce: bool
    ) -> Callable[[list[WatchEvent], WatchState], Awaitable[None]]:
        keys = self._keys
        pending_snapshot = announce  # no state was stored: the first read is published whole

        async def publish(events: list[WatchEvent], state: WatchState) -> None:
            nonlocal pending_snapshot
            if pending_snapshot:
                events = [state.snapshot(), *events]
            args: list[str] = []
            for event in events:
                args += (_codec.event_key(self._source_id, event), _codec.dumps(event))
            stored = json.dumps(
                {"source": self._source_id, "state": state_to_json(state)}, separators=(",", ":")
            )
            publication = uuid.uuid4().hex
            while True:
                if not self._lease_fresh():
                    raise _Fenced()  # a paused leader wakes up here: its stale poll is dropped
                try:
                    result = await self._redis.eval(
                        _scripts.PUBLISH,
                        6,
                        keys["lease"],
                        keys["epoch"],
                        keys["stream"],
                        keys["state"],
                        keys["last"],
                        keys["pub"],
                        self.holder,
                        str(epoch),
                        str(self.maxlen),
                        stored,
                        publication,
                        str(len(events)),
                        *args,
                    )
                    break
                except Exception as exc:
                    if not _is_redis_error(exc):
                        raise
                    logger.warning("%s: publish failed (%s); retrying", self.name, exc)
                    await asyncio.sleep(self.backoff.initial)
            if int(result[0]) == 0:
                logger.warning("%s: publish refused, the lease moved on (fenced)", self.name)
                raise _Fenced()
            pending_snapshot = False
            self.published += len(events)

        return publish

    # -- reading -----------------------------------------------------------------------------

    def events(
        self,
        group: str | None = None,
        consumer: str | None = None,
        *,
        since: str | None = None,
        count: int = 100,
        block: float = 1.0,
    ) -> AsyncIterator[Delivery]:
        """The stream's events as ``Delivery`` objects.

        With a ``group``, each event goes to one consumer of the group and is acknowledged
        when the consumer asks for the next one (or calls ``ack()``); a new group starts with
        a Snapshot of the stored state, then what follows it. Pending events of a consumer
        that died go to another after ``claim_idle`` seconds, ``redelivered=True``;
        ``consumer`` defaults to the host name plus process id.

        Without a group every reader sees every event: ``since=None`` from now (a Snapshot
        first), ``since="0"`` from the stream's start, or from a saved ``delivery.id``.
        """
        if self._redis is None:
            raise errors.ConfigurationError("use the fan-out inside 'async with fanout:'")
        check.int_range("count", count, 1)
        if group is None:
            if consumer is not None:
                raise errors.ValidationError("consumer", "consumers belong to a group")
            return self._broadcast(since, count, block)
        if since is not None:
            raise errors.ValidationError("since", "a group keeps its own position")
        if not isinstance(group, str) or not group:
            raise errors.ValidationError("group", "give a group name")
        return self._group(group, consumer or default_consumer(), count, block)

    def _snapshot(self, stored: Any, last: Any, *, resync: bool) -> Delivery | None:
        if not stored:
            return None
        state = state_from_json(json.loads(stored)["state"])
        snapshot = state.snapshot(resync=resync)
        return Delivery(
            snapshot, _text(last), _codec.event_key(self._source_id, snapshot), False, None
        )

    async def _broadcast(
        self, since: str | None, count: int, block: float
    ) -> AsyncIterator[Delivery]:
        keys = self._keys
        reader = _connect(self._redis_arg)
        try:
            check_gap = True
            if since is None:
                stored, last = await self._retrying(
                    "read", lambda: self._redis.mget(keys["state"], keys["last"])
                )
                position = _text(last) if last else "0-0"
                first = self._snapshot(stored, position, resync=False)
                if first is not None:
                    yield first
            else:
                position = "0-0" if since in ("0", "0-0") else since
                check_gap = position != "0-0"
            while True:
                at = position
                found = await self._retrying(
                    "read",
                    lambda at=at: reader.xread(  # type: ignore[misc]
                        {keys["stream"]: at}, count=count, block=int(block * 1000)
                    ),
                )
                entries = found[0][1] if found else []
                if entries and check_gap and _text(entries[0][1].get(b"p", b"")) != position:
                    stored, last = await self._retrying(
                        "read", lambda: self._redis.mget(keys["state"], keys["last"])
                    )
                    if last:
                        resync = self._snapshot(stored, last, resync=True)
                        position = _text(last)
                        if resync is not None:
                            yield resync
                        continue
                check_gap = True
                for entry_id, fields in entries:
                    position = _text(entry_id)
                    yield _delivery(position, fields, False, None)
        finally:
            await reader.aclose()

    async def _group(
        self, group: str, consumer: str, count: int, block: float
    ) -> AsyncIterator[Delivery]:
        keys = self._keys
        reader = _connect(self._redis_arg)
        previous: Delivery | None = None

        def acker(entry_id: str) -> Callable[[], Awaitable[None]]:
            async def ack() -> None:
                await self._retrying(
                    "ack", lambda: self._redis.xack(keys["stream"], group, entry_id)
                )

            return ack

        async def create() -> Delivery | None:
            created = await self._retrying(
                "group",
                lambda: self._redis.eval(
                    _scripts.CREATE_GROUP, 3, keys["stream"], keys["state"], keys["last"], group
                ),
            )
            if int(created[0]) == 1:
                return self._snapshot(created[1], created[2], resync=False)
            return None

        try:
            first = await create()
            if first is not None:
                yield first
            # Our own pending events first (a restarted consumer of the same name).
            own = await self._retrying(
                "read",
                lambda: self._redis.xreadgroup(
                    group, consumer, {keys["stream"]: "0"}, count=10_000
                ),
            )
            for entry_id, fields in own[0][1] if own else []:
                delivery = await self._pending(group, entry_id, fields, acker)
                if delivery is not None:
                    if previous is not None:
                        await previous.ack()
                    previous = delivery
                    yield delivery
            next_claim = 0.0
            while True:
                if time.monotonic() >= next_claim:
                    next_claim = time.monotonic() + self.claim_idle / 2
                    claimed = await self._retrying(
                        "claim",
                        lambda: self._redis.xautoclaim(
                            keys["stream"],
                            group,
                            consumer,
                            int(self.claim_idle * 1000),
                            "0-0",
                            count=count,
                        ),
                    )
                    for entry_id, fields in claimed[1]:
                        delivery = await self._pending(group, entry_id, fields, acker)
                        if delivery is not None:
                            if previous is not None:
                                await previous.ack()
                            previous = delivery
                            yield delivery
                result = await self._retrying(
                    "read",
                    lambda: self._redis.eval(
                        _scripts.GROUP_READ,
                        3,
                        keys["stream"],
                        keys["state"],
                        keys["last"],
                        group,
                        consumer,
                        str(count),
                    ),
                )
                kind = _text(result[0])
                if kind == "nogroup":  # Redis lost its data: start the group afresh
                    first = await create()
                    if first is not None:
                        yield first
                    continue
                if kind == "resync":
                    resync = self._snapshot(result[1], result[2], resync=True)
                    if resync is not None:
                        if previous is not None:
                            await previous.ack()
                            previous = None
                        yield resync
                    continue
                if kind == "read":
                    for entry_id, flat in result[1]:
                        fields = dict(zip(flat[::2], flat[1::2], strict=True))
                        if previous is not None:
                            await previous.ack()
                        previous = _delivery(_text(entry_id), fields, False, acker(_text(entry_id)))
                        yield previous
                    continue
                last = _text(result[1])
                wait = int(min(block, self.claim_idle / 2) * 1000)
                await self._retrying(
                    "read",
                    lambda last=last, wait=wait: reader.xread(  # type: ignore[misc]
                        {keys["stream"]: last}, count=1, block=wait
                    ),
                )
        finally:
            await reader.aclose()

    async def _pending(
        self,
        group: str,
        entry_id: Any,
        fields: Any,
        acker: Callable[[str], Callable[[], Awaitable[None]]],
    ) -> Delivery | None:
        key = _text(entry_id)
        if not fields:  # trimmed away while pending: nothing left to deliver
            await self._retrying("ack", lambda: self._redis.xack(self._keys["stream"], group, key))
            return None
        return _delivery(key, fields, True, acker(key))


def _delivery(
    entry_id: str, fields: Any, redelivered: bool, ack: Callable[[], Awaitable[None]] | None
) -> Delivery:
    fields = {_text(k): v for k, v in fields.items()}
    event = _codec.loads(fields["e"])
    return Delivery(event, entry_id, _text(fields["k"]), redelivered, ack)


def _source(
    source: Any, extensions: Any, account_id: str
) -> tuple[str, Callable[[], PollSource], Filter]:
    """(source id for keys, a factory of fresh poll sources, the hub filter)."""
    from .legacy._live_status import LiveStatusAPI, extension_filter
    from .telephony._api import Calls

    if isinstance(source, LiveStatusAPI):
        wanted = extension_filter(extensions)
        return "live", lambda: source._poll_source(extensions), wanted
    if isinstance(source, Calls):
        source._poll_source(account_id, extensions)  # validates
        return (
            f"calls:{account_id}",
            lambda: source._poll_source(account_id, extensions),
            None,
        )
    raise errors.ValidationError(
        "source", "expected client.legacy.live_status or client.telephony.calls"
    )


class RedisRateLimit:
    """At most ``calls`` requests per ``period`` seconds across every replica that shares
    ``key`` (a sliding window kept in Redis, on Redis's clock). Pass it as
    ``Vonage(vbc_rate_limit=RedisRateLimit(...))``.

    The window counts when a request is let go; its arrival at the server may differ by the
    network's jitter.
    """

    def __init__(
        self,
        redis: str | Redis,
        calls: int = 10,
        period: float = 60.0,
        *,
        key: str = "vonage-async:rate",
    ) -> None:
        check.int_range("calls", calls, 1)
        if isinstance(period, bool) or not isinstance(period, (int, float)) or period <= 0:
            raise errors.ValidationError("period", "must be a positive number of seconds")
        self.calls = calls
        self.period = float(period)
        self.limit = RateLimit(calls, self.period)
        self.key = key
        self._redis_arg = redis
        self._redis: Any = None
        self._lock: asyncio.Lock | None = None
        self._backoff = Backoff(initial=0.1, maximum=2.0)

    def __repr__(self) -> str:
        return f"RedisRateLimit(calls={self.calls}, period={self.period}, key={self.key!r})"

    async def acquire(self) -> None:
        """Wait until a request may start."""
        if self._redis is None:
            self._redis = _connect(self._redis_arg)
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:  # FIFO within the replica
            failures = 0
            while True:
                member = uuid.uuid4().hex
                try:
                    wait_ms = await self._redis.eval(
                        _scripts.RATE_LIMIT,
                        1,
                        self.key,
                        str(self.calls),
                        str(int(self.period * 1000)),
                        member,
                    )
                except Exception as exc:
                    if not _is_redis_error(exc):
                        raise
                    failures += 1
                    delay = self._backoff.delay(failures - 1)
                    logger.warning("rate limit: Redis failed (%s); retrying in %.2f s", exc, delay)
                    await asyncio.sleep(delay)
                    continue
                if int(wait_ms) == 0:
                    return
                await asyncio.sleep(int(wait_ms) / 1000)

    async def aclose(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None


class RedisTokenStore:
    """OAuth tokens shared by replicas: one refresh at a time across all of them, and the
    rotated (single-use) refresh token kept in Redis.

    ``store.oauth2(client_id, client_secret, username=..., password=...)`` makes an
    ``OAuth2`` that saves every new TokenSet to Redis; before a grant the replica takes a
    short lock and adopts a token another replica stored meanwhile, so a refresh token is
    never spent twice.
    """

    def __init__(
        self, redis: str | Redis, *, key: str = "vonage-async:tokens", lock_ttl: float = 10.0
    ) -> None:
        self.key = key
        self.lock_ttl = lock_ttl
        self._redis_arg = redis
        self._redis: Any = None

    def __repr__(self) -> str:
        return f"RedisTokenStore(key={self.key!r})"

    def _client(self) -> Any:
        if self._redis is None:
            self._redis = _connect(self._redis_arg)
        return self._redis

    def oauth2(self, client_id: str, client_secret: str, **options: Any) -> Any:
        from ._fanout._tokens import SharedOAuth2

        return SharedOAuth2(self, client_id, client_secret, **options)

    async def load(self) -> dict[str, Any] | None:
        raw = await self._client().get(self.key)
        return json.loads(raw) if raw else None

    async def save(self, data: dict[str, Any]) -> None:
        await self._client().set(self.key, json.dumps(data))

    @contextlib.asynccontextmanager
    async def lock(self) -> AsyncIterator[None]:
        """The short cross-replica lock around a grant."""
        client = self._client()
        token = uuid.uuid4().hex
        ttl_ms = int(self.lock_ttl * 1000)
        while True:
            if await client.set(f"{self.key}:lock", token, nx=True, px=ttl_ms):
                break
            await asyncio.sleep(0.05)  # a grant takes a moment; no notification to wait on
        try:
            yield
        finally:
            await client.eval(_scripts.UNLOCK, 1, f"{self.key}:lock", token)

    async def aclose(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None
