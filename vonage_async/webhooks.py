"""Signed webhooks of the Integration Platform: verify, receive, subscribe.

- :func:`verify_signature` checks the ``signature`` of a delivery.
- :class:`WebhookReceiver` is an aiohttp application that takes deliveries and turns them into
  the SDK's watch events (``CallStarted``/``CallUpdated``/``CallEnded``, keyed by call id).
- :class:`Subscription` (``client.integration.subscribe(receiver, url=...)``) keeps a webhook
  registered, renewed and healthy, and reads the event log back after any gap, so that each call
  is started and ended exactly once across outages and restarts (across a restart, with
  :meth:`WebhookReceiver.checkpoint` saved and passed back).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import hashlib
import hmac
import json
import logging
from collections.abc import AsyncIterator, Iterable, Mapping
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import attrs
from aiohttp import web

from . import _validation as check, errors
from ._converter import structure, unstructure, wire_name
from ._events import CallEnded, CallStarted, CallUpdated, WatchEvent
from ._lifecycle import AsyncScoped
from ._serve import serve
from .integration._models import Event, EventState, MetadataPolicy, Webhook

if TYPE_CHECKING:
    from .integration import Integration

__all__ = [
    "Subscription",
    "WebhookReceiver",
    "canonical_json",
    "sign",
    "verify_signature",
]

_log = logging.getLogger("vonage_async.webhooks")

SIGNATURE_HEADER = "X-VON-Signature"
WEBHOOK_ID_HEADER = "X-VON-Webhook-Id"
DELIVERY_ID_HEADER = "X-VON-Delivery-Id"
ATTEMPT_HEADER = "X-VON-Attempt"


def canonical_json(event: Mapping[str, Any]) -> bytes:
    """The bytes a signature covers: the event's JSON, keys sorted, no whitespace, UTF-8."""
    return json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _key_bytes(key: str | bytes) -> bytes:
    if isinstance(key, str):
        key = key.encode()
    if not isinstance(key, bytes) or not key:
        raise errors.ValidationError("key", "expected a non-empty signing key")
    return key


def sign(event: Mapping[str, Any], key: str | bytes) -> str:
    """The hex HMAC-SHA256 of :func:`canonical_json` under ``key``."""
    return hmac.new(_key_bytes(key), canonical_json(event), hashlib.sha256).hexdigest()


def verify_signature(event: Mapping[str, Any], signature: str, key: str | bytes) -> bool:
    """Whether ``signature`` is the HMAC-SHA256 (hex) of ``event`` under ``key``.

    The signed text is the ``event`` object's JSON with its keys sorted alphabetically and no
    whitespace, as webhooks.md states the rule. The worked example printed there cannot be
    reproduced (its JSON has spaces after the colons and its values look redacted), so this
    follows the rule as written. Compared in constant time; a malformed signature is False.
    """
    if not isinstance(signature, str) or not isinstance(event, Mapping):
        return False
    try:
        expected = sign(event, key)
    except (TypeError, ValueError):  # not JSON-serialisable: nothing the platform signed
        return False
    return hmac.compare_digest(expected, signature.strip().lower())


# -- turning call events into watch events --------------------------------------------------------

_RANK = {EventState.INITIALIZING: 0, EventState.RINGING: 1}


def _rank(state: EventState | None) -> int:
    return _RANK.get(state, 2) if state is not None else 2


Credits = dict[str, "collections.Counter[Event]"]


class _CallTracker:
    """Each call started once and ended once, whatever order its events arrive in.

    A late event of an ended call is dropped; a non-final state that goes back (``RINGING``
    after ``ACTIVE``) is a late delivery and dropped too. Every record of an active call is
    counted, so that a backfill (which reads the log from before the gap) skips the records
    already delivered: a call held and unheld is not updated twice.
    """

    def __init__(self, remember: int) -> None:
        self.active: dict[str, Event] = {}
        self.seen: dict[str, collections.Counter[Event]] = {}
        self.ended: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._remember = remember

    def apply(self, event: Event, backfill: Credits | None = None) -> list[WatchEvent]:
        key = event.id
        if key is None or key in self.ended:
            return []
        seen = self.seen.get(key)
        if backfill is not None:  # skip as many copies of a record as were seen before
            credits = backfill.get(key)
            if credits is None:
                credits = backfill[key] = collections.Counter(seen or ())
            if credits[event] > 0:
                credits[event] -= 1
                return []
        if seen is None:
            seen = self.seen[key] = collections.Counter()
        seen[event] += 1
        before = self.active.get(key)
        state = event.state
        final = state is not None and state.final
        out: list[WatchEvent] = []
        if before is None:
            out.append(CallStarted(None, event))
        elif not final:
            if _rank(state) < _rank(before.state) or event == before:
                return []
            out.append(CallUpdated(None, event, before))
        if final:
            out.append(CallEnded(None, event))
            self.active.pop(key, None)
            self.seen.pop(key, None)
            self.ended[key] = None
            while len(self.ended) > self._remember:
                self.ended.popitem(last=False)
        else:
            self.active[key] = event
        return out


_CLOSED = object()

# -- checkpoints: plain JSON data ------------------------------------------------------------------

CHECKPOINT_VERSION = 1
_KINDS: dict[str, type[WatchEvent]] = {
    "started": CallStarted,
    "updated": CallUpdated,
    "ended": CallEnded,
}
_KIND_NAMES = {cls: name for name, cls in _KINDS.items()}


def _event_data(event: Event) -> dict[str, Any]:
    """``event`` as JSON data that structures back to an equal event."""
    data: dict[str, Any] = unstructure(event)
    for field in attrs.fields(Event):
        value = getattr(event, field.name)
        if isinstance(value, datetime):  # the converter writes whole epoch seconds: keep it all
            data[wire_name(Event, field)] = value.isoformat()
        elif isinstance(value, str) and value.__class__ is not str:  # an enum: its text
            data[wire_name(Event, field)] = str.__str__(value)
    return data


def _bad(problem: str) -> errors.ValidationError:
    return errors.ValidationError("checkpoint", problem)


def _event_of(data: Any) -> Event:
    event = structure(data, Event, what="a checkpoint's event")
    if not isinstance(event.id, str):
        raise _bad("an event has no call id")
    return event


def _ids(data: Any, what: str) -> list[str]:
    if not isinstance(data, list) or not all(isinstance(i, str) for i in data):
        raise _bad(f"{what} must be a list of ids")
    return data


_CallState = tuple[dict[str, Event], dict[str, "collections.Counter[Event]"], list[str]]


def _restore(
    checkpoint: Mapping[str, Any],
) -> tuple[_CallState, list[str], datetime | None, list[WatchEvent]]:
    if not isinstance(checkpoint, Mapping):
        raise _bad("expected the mapping checkpoint() returned")
    if checkpoint.get("version") != CHECKPOINT_VERSION:
        raise _bad(f"unknown version {checkpoint.get('version')!r}")
    try:
        active = {key: _event_of(data) for key, data in checkpoint["active"].items()}
        seen: dict[str, collections.Counter[Event]] = {}
        for key, pairs in checkpoint["seen"].items():
            counter = seen[key] = collections.Counter()
            for data, count in pairs:
                if not isinstance(count, int) or isinstance(count, bool) or count < 1:
                    raise _bad("a seen count must be a positive integer")
                counter[_event_of(data)] += count
        pending: list[WatchEvent] = []
        for item in checkpoint["pending"]:
            kind = _KINDS[item["kind"]]
            call = _event_of(item["call"])
            if kind is CallUpdated:
                pending.append(CallUpdated(None, call, _event_of(item["previous"])))
            else:
                pending.append(kind(None, call))  # type: ignore[call-arg]
        ended = _ids(checkpoint["ended"], "ended")
        deliveries = _ids(checkpoint["deliveries"], "deliveries")
        last = checkpoint["last_delivery"]
        last_delivery = None if last is None else datetime.fromisoformat(last)
    except errors.ValidationError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, errors.DecodeError) as exc:
        raise _bad(f"malformed ({type(exc).__name__}: {exc})") from None
    if any(key != event.id for key, event in active.items()):
        raise _bad("an active call is keyed by another call's id")
    if last_delivery is not None and last_delivery.tzinfo is None:
        raise _bad("last_delivery must carry its UTC offset")
    return (active, seen, ended), deliveries, last_delivery, pending


class WebhookReceiver(AsyncScoped):
    """Takes signed webhook deliveries and yields watch events.

    Run it alone with ``await receiver.start(host, port)`` (and ``await receiver.stop()``, or
    ``async with receiver``), or mount it in your own application with
    ``app.router.add_post(receiver.path, receiver.handle)``. ``receiver.app`` is a ready
    ``web.Application`` serving ``path``.

    Each delivery is answered at once, the work queued: the signature (header
    ``X-VON-Signature`` or body ``metadata.signature``) is checked before anything else is read,
    and a missing or wrong one gets 401 with nothing recorded; a ``deliveryId`` already taken
    gets 200 and is dropped; a backlog over ``max_pending`` gets 503, so the platform retries.
    ``async for event in receiver.events()`` consumes ``CallStarted``/``CallUpdated``/
    ``CallEnded`` (extension None, ``call`` the :class:`~vonage_async.integration.Event`).

    Restarts: what the receiver has taken lives in the process unless you save it.
    ``receiver.checkpoint()`` returns it as plain JSON data (calls in progress and the records
    seen of each, ended call ids and taken ``deliveryId``s, each bounded by ``remember``; the
    last delivery's time; events queued but not yet taken). Save it after handling the events
    you took (after each, or periodically) and pass it back as ``checkpoint=`` on restart: the
    subscription's start backfill then repeats nothing already handled, and what was handled
    after the last save is delivered again (at least once). A malformed checkpoint raises
    ``ValidationError`` naming ``checkpoint``.
    """

    def __init__(
        self,
        signing_key: str | bytes,
        *,
        path: str = "/vonage/events",
        max_pending: int = 100_000,
        remember: int = 100_000,
        max_body: int = 256 * 1024,
        checkpoint: Mapping[str, Any] | None = None,
    ) -> None:
        self._key = _key_bytes(signing_key)
        if not isinstance(path, str) or not path.startswith("/"):
            raise errors.ValidationError("path", "must start with '/'")
        self.path = path
        self._max_pending = max_pending
        self._max_body = max_body
        self._deliveries: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._remember = remember
        self._tracker = _CallTracker(remember)
        # (event, None) from a delivery, (event, credits) from one backfill batch
        self._inbox: collections.deque[tuple[Mapping[str, Any] | Event, Credits | None]] = (
            collections.deque()
        )
        self._out: asyncio.Queue[Any] = asyncio.Queue()
        self._draining = False
        self._runner: web.AppRunner | None = None
        self._app: web.Application | None = None
        self.url: str | None = None
        #: When the last delivery was accepted (UTC), for a subscription's backfill.
        self.last_delivery: datetime | None = None
        self.accepted = 0
        self.rejected = 0
        self.duplicates = 0
        if checkpoint is not None:
            calls, deliveries, self.last_delivery, pending = _restore(checkpoint)
            tracker = self._tracker
            tracker.active, tracker.seen = calls[0], calls[1]
            tracker.ended.update(dict.fromkeys(calls[2][-remember:]))
            self._deliveries.update(dict.fromkeys(deliveries[-remember:]))
            for item in pending:
                self._out.put_nowait(item)

    def checkpoint(self) -> dict[str, Any]:
        """What the receiver has taken, as plain JSON data for ``checkpoint=`` on a restart.

        Save it after handling the events you took from :meth:`events`: the events queued but
        not yet taken are in it and come out again first after a restore.
        """
        self._drain()  # accepted deliveries enter the tracker (their events join the queue)
        queued: list[Any] = []
        while not self._out.empty():
            queued.append(self._out.get_nowait())
        for item in queued:  # put back, same order
            self._out.put_nowait(item)
        tracker = self._tracker
        return {
            "version": CHECKPOINT_VERSION,
            "active": {key: _event_data(event) for key, event in tracker.active.items()},
            "seen": {
                key: [[_event_data(event), count] for event, count in counter.items()]
                for key, counter in tracker.seen.items()
            },
            "ended": list(tracker.ended),
            "deliveries": list(self._deliveries),
            "last_delivery": self.last_delivery.isoformat() if self.last_delivery else None,
            "pending": [
                {
                    "kind": _KIND_NAMES[type(item)],
                    "call": _event_data(item.call),
                    "previous": _event_data(item.previous)
                    if isinstance(item, CallUpdated)
                    else None,
                }
                for item in queued
                if item is not _CLOSED
            ],
        }

    def __repr__(self) -> str:
        return f"<WebhookReceiver {self.url or self.path}>"

    @property
    def app(self) -> web.Application:
        if self._app is None:
            self._app = web.Application(client_max_size=self._max_body)
            self._app.router.add_post(self.path, self.handle)
        return self._app

    # -- HTTP -------------------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.Response:
        """The POST handler: verify, drop repeats, queue, answer."""
        if request.content_length is not None and request.content_length > self._max_body:
            return web.Response(status=413)
        try:
            body = json.loads(await request.read())
        except (ValueError, web.HTTPException):
            return web.Response(status=400, text="expected a JSON object")
        event = body.get("event") if isinstance(body, dict) else None
        if not isinstance(event, dict):
            return web.Response(status=400, text="expected an event object")
        meta = body.get("metadata")
        meta = meta if isinstance(meta, dict) else {}
        signature = request.headers.get(SIGNATURE_HEADER) or meta.get("signature")
        if not isinstance(signature, str) or not verify_signature(event, signature, self._key):
            self.rejected += 1
            return web.Response(status=401, text="bad or missing signature")
        delivery = request.headers.get(DELIVERY_ID_HEADER) or meta.get("deliveryId")
        if isinstance(delivery, str) and delivery in self._deliveries:
            self.duplicates += 1  # a retry of a delivery already taken
            return web.Response(status=200)
        if len(self._inbox) + self._out.qsize() >= self._max_pending:
            return web.Response(status=503, text="busy")
        if isinstance(delivery, str):
            self._deliveries[delivery] = None
            if len(self._deliveries) > self._remember:
                self._deliveries.popitem(last=False)
        self.accepted += 1
        self.last_delivery = datetime.now(timezone.utc)
        self._queue(event, None)
        return web.Response(status=200)

    def _queue(self, event: Mapping[str, Any] | Event, backfill: Credits | None) -> None:
        self._inbox.append((event, backfill))
        if not self._draining:
            self._draining = True
            asyncio.get_running_loop().call_soon(self._drain)

    def _drain(self) -> None:
        self._draining = False
        inbox, tracker, out = self._inbox, self._tracker, self._out
        while inbox:
            raw, backfill = inbox.popleft()
            try:
                event = raw if isinstance(raw, Event) else structure(raw, Event, what="an event")
            except errors.DecodeError:
                _log.warning("dropped a call event that could not be decoded")
                continue
            for item in tracker.apply(event, backfill):
                out.put_nowait(item)

    def feed(self, events: Iterable[Event | Mapping[str, Any]]) -> None:
        """Put events read back from the log, in order, through the same path as deliveries.

        The batch is a backfill: a record of an active call already taken (delivered, or fed
        before) is skipped as many times as it was taken, so the batch may overlap them.
        """
        credits: Credits = {}
        for event in events:
            self._queue(event, credits)

    # -- consuming --------------------------------------------------------------------------------

    async def events(self) -> AsyncIterator[WatchEvent]:
        """The watch events, until :meth:`stop` (one consumer takes each event)."""
        while True:
            item = await self._out.get()
            if item is _CLOSED:
                self._out.put_nowait(_CLOSED)  # for any other consumer
                return
            yield item

    # -- running alone ----------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on ``host:port`` (0: a free port); answers the URL of ``path``."""
        if self._runner is not None:
            raise RuntimeError("the receiver is already running")
        self._runner, bound_host, bound_port = await serve(self.app, host, port)
        self.url = f"http://{bound_host}:{bound_port}{self.path}"
        return self.url

    async def pause(self) -> None:
        """Stop serving but keep state and pending events (``start`` again to resume)."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
        self._app = None  # an application cannot be set up twice

    async def stop(self) -> None:
        """Stop serving; ``events()`` ends once what was queued is consumed."""
        await self.pause()
        self._drain()
        self._out.put_nowait(_CLOSED)

    async def _open(self) -> None:
        if self._runner is None:
            await self.start()

    async def _close(self) -> None:
        await self.stop()


# -- subscription ---------------------------------------------------------------------------------


class Subscription(AsyncScoped):
    """A webhook kept registered and healthy for one receiver, with backfill after gaps.

    On start it adopts the webhook registered for ``url`` (a registration at that URL under
    another signing key is removed) or creates one, then reads the event log since the gap
    (``statistics.lastSuccess`` or the receiver's own last delivery, whichever is earlier, less
    ``margin`` seconds; ``since`` overrides on start) into the receiver. The earlier of the two
    is kept on purpose: a receiver restored from a checkpoint has the checkpoint's last
    delivery, and what was accepted after that save (``lastSuccess`` counts it) must be read
    again; the restored state makes the overlap repeat nothing. Every
    ``check_interval`` seconds it renews the webhook when less than ``renew_before`` is left
    before ``expireAt`` or when the platform marked it failed, and backfills after a failure or
    expiry. ``delete_on_exit`` removes the webhook when the subscription stops.
    """

    def __init__(
        self,
        integration: Integration,
        receiver: WebhookReceiver,
        *,
        url: str,
        metadata_policy: MetadataPolicy | str = "HEADER",
        check_interval: float = 60.0,
        renew_before: timedelta = timedelta(days=2),
        margin: float = 5.0,
        since: datetime | None = None,
        delete_on_exit: bool = False,
    ) -> None:
        if str(metadata_policy).upper() == "NONE":
            raise errors.ValidationError("metadata_policy", "NONE carries no signature")
        if check_interval <= 0:
            raise errors.ValidationError("check_interval", "must be > 0")
        try:
            self._key = receiver._key.decode()
        except UnicodeDecodeError:
            raise errors.ValidationError("signing_key", "the platform takes a text key") from None
        check.url("url", url)
        self._integration = integration
        self._receiver = receiver
        self.url = url
        self._policy = metadata_policy
        self._interval = check_interval
        self._renew_before = renew_before
        self._margin = timedelta(seconds=margin)
        self._since = since
        self._delete = delete_on_exit
        self._task: asyncio.Task[None] | None = None
        self._started = datetime.now(timezone.utc)
        self.webhook: Webhook | None = None
        self.renewals = 0
        self.backfilled = 0

    def __repr__(self) -> str:
        return f"<Subscription {self.url} webhook={self.webhook.id if self.webhook else None}>"

    async def start(self) -> Subscription:
        self._started = datetime.now(timezone.utc)
        self.webhook = await self._adopt_or_create()
        await self._backfill(self._since or self._gap_start(self.webhook))
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._delete and self.webhook is not None and self.webhook.id:
            with contextlib.suppress(errors.NotFoundError):
                await self._integration.webhooks.delete(self.webhook.id)

    async def _open(self) -> None:
        await self.start()

    async def _close(self) -> None:
        await self.stop()

    async def _adopt_or_create(self) -> Webhook:
        hooks = self._integration.webhooks
        key = self._key
        for hook in await hooks.list():
            if hook.url != self.url or not hook.id:
                continue
            if hook.signing_key in (None, key):
                return hook
            await hooks.delete(hook.id)  # signs with another key: every delivery would fail
        return await hooks.create(self.url, signing_key=key, metadata_policy=self._policy)

    def _gap_start(self, hook: Webhook | None) -> datetime:
        times = [self._receiver.last_delivery]
        if hook is not None and hook.statistics is not None:
            times.append(hook.statistics.last_success)
        known = [t for t in times if t is not None]
        return (min(known) if known else self._started) - self._margin

    async def _backfill(self, since: datetime) -> None:
        pager = self._integration.events.list(from_date=since, order="ASC", size=100)
        page: list[Event] = []
        async for event in pager:
            page.append(event)
        self.backfilled += len(page)
        self._receiver.feed(page)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.check()
            except asyncio.CancelledError:
                raise
            except errors.VonageError as exc:  # try again at the next check
                _log.warning("webhook check failed: %s", exc)

    async def check(self) -> None:
        """One round: renew the webhook if it needs it, backfill after a gap."""
        hooks = self._integration.webhooks
        hook_id = self.webhook.id if self.webhook is not None else None
        if not hook_id:
            raise RuntimeError("the subscription is not started")
        try:
            hook = await hooks.get(hook_id)
        except errors.NotFoundError:  # purged or removed: register again, read what was missed
            gap = self._gap_start(self.webhook)
            self.webhook = await self._adopt_or_create()
            await self._backfill(gap)
            return
        now = datetime.now(timezone.utc)
        failed = bool(hook.statistics and hook.statistics.failed)
        expiry = hook.expire_datetime
        expired = expiry is not None and expiry <= now
        due = expiry is not None and expiry - now <= self._renew_before
        if failed or expired or due:
            gap = self._gap_start(hook)
            hook = await hooks.renew(hook_id)
            self.renewals += 1
            if failed or expired:
                await self._backfill(gap)
        self.webhook = hook
