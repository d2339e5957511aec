"""Live Status (``/presence/dashui``): one-shot snapshots and the shared watch loop.

The service is a long poll: without ``firstRequest=true`` it holds the request up to 30 s
and answers 200 with the whole document when something changed, or 304 when nothing did.
A second concurrent poll on one session gets 409, so every ``watch()`` on a client shares
one poll loop (see ``_watch.Hub``).

One poll, from the socket to a consumer: ``_DashuiSource.read`` sends the request
(``request``), decodes the answer into models (``_decode``: ``decode_reusing`` parses and
decodes only the extensions whose JSON text changed since the last poll) and returns it as an
``Observation`` (``observe``); the hub diffs that against its state
(``_events.diff_states``) and queues the events.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import json
import logging
import re
import time
from collections.abc import Iterable, Iterator
from typing import Any, Literal, overload

import attrs

from .. import _validation as check, errors
from .._converter import structure
from .._events import Changed, Observation, Snapshot
from .._service import Service
from .._transport import Backoff, Response
from .._watch import Filter, Hub, LifecycleWatch, PollSource, Watch
from ..auth import SessionLogin
from ._live_models import LiveCall, LiveExtension, LiveStatus as LiveStatusDocument

logger = logging.getLogger("vonage_async")

DASHUI_PATH = ("presence", "dashui")


def extension_filter(extensions: Iterable[str | int] | str | int | None) -> Filter:
    """Validated ``filterExtension`` values (2 to 6 digits each), or None for all."""
    return check.check_extensions("extensions", extensions)


class _Resync(Exception):
    """The session was renewed during a poll: the server lost our place, read afresh."""


class _DashuiSource(PollSource):
    #: conflicts (409) counted over this many seconds: more than ``max_conflicts`` of them
    #: mean another caller really polls this session
    CONFLICT_WINDOW = 600.0

    def __init__(
        self,
        service: Service,
        *,
        poll_timeout: float,
        max_conflicts: int,
        fixed: Filter = None,
    ) -> None:
        self._service = service
        self._fixed = fixed  # what to read whatever the hub asks for (None: what it asks)
        self._poll_timeout = poll_timeout
        self._max_conflicts = max_conflicts
        self._conflicts: collections.deque[float] = collections.deque()  # time.monotonic()
        self._known: dict[bytes, LiveExtension] = {}  # see decode_reusing
        self.last_document: LiveStatusDocument | None = None
        self._generation: int | None = None  # the session generation last seen, for relogins
        # A long poll we gave up on may still be held by the server, and the session answers
        # 409 to anything else until it ends; a 403 or 401 means the session is gone. Either
        # way the next read logs in afresh first.
        self.relogin = False

    def configure(self, *, poll_timeout: float, max_conflicts: int) -> None:
        self._poll_timeout = poll_timeout
        self._max_conflicts = max_conflicts

    @property
    def _login(self) -> SessionLogin | None:
        auth = self._service.binding.auth
        return auth if isinstance(auth, SessionLogin) else None

    @property
    def closed(self) -> bool:
        return self._service.transport.closed

    async def fresh_session(self) -> None:
        """Log in afresh if the last poll left the session unusable."""
        login = self._login
        if self.relogin and login is not None:
            await login.login(self._service.transport)
        self.relogin = False

    async def read(self, extensions: Filter, *, first: bool) -> Observation | None:
        try:
            await self.fresh_session()
        finally:
            self._count_relogins()
        login = self._login
        generation = login.generation if login else 0
        if self._fixed is not None:
            extensions = self._fixed
        try:
            response = await request(
                self._service, extensions, first=first, timeout=self._poll_timeout
            )
        except asyncio.CancelledError:
            self.relogin = self.relogin or not first
            raise
        self._count_relogins()
        if not first and login is not None and login.generation != generation:
            raise _Resync()
        if response is None:
            return None
        document = _decode(response, self._known)
        self.last_document = document
        return observe(document)

    def _count_relogins(self) -> None:
        login = self._login
        if login is None:
            return
        if self._generation and login.generation > self._generation:  # not the first login
            self.relogins += login.generation - self._generation
        self._generation = login.generation

    def recover(self, exc: Exception, failures: int) -> float | None:
        if isinstance(exc, _Resync):
            return 0.0
        if isinstance(exc, errors.AuthenticationError) and _is_login(exc):
            raise exc  # the server refused our credentials: retrying won't change its mind
        if isinstance(exc, errors.ConfigurationError):
            raise exc
        if isinstance(exc, errors.SessionConflictError):
            self.conflicts += 1
            now = time.monotonic()
            conflicts = self._conflicts
            conflicts.append(now)
            while conflicts and now - conflicts[0] > self.CONFLICT_WINDOW:
                conflicts.popleft()
            if len(conflicts) > self._max_conflicts:
                raise exc
            logger.warning("Live Status: another caller is polling this session (409)")
        if isinstance(
            exc,
            (
                errors.SessionConflictError,
                errors.PermissionDeniedError,
                errors.AuthenticationError,
                errors.TransportError,  # a timed-out poll may still be held by the server
            ),
        ):
            self.relogin = True
        if isinstance(exc, errors.RateLimitedError):
            return exc.retry_after
        return None  # any other fault: back off and read afresh

    def reset(self) -> None:
        self._known = {}

    def is_ended(self, call: Any) -> bool:
        return bool(call.ended)

    def change_tests(self) -> tuple[Changed, Changed]:
        return extension_changed, call_changed


def _is_login(exc: errors.HTTPError) -> bool:
    """Whether an error came from the login request rather than from ``dashui``."""
    return not str(exc.url).split("?")[0].endswith("/" + "/".join(DASHUI_PATH))


def observe(document: LiveStatusDocument) -> Observation:
    """What the diff needs from a Live Status document."""
    calls: dict[tuple[str | None, str], LiveCall] = {}
    numbered: dict[str, LiveExtension] = {}
    for ext in document.extensions:
        number = ext.extension
        numbered[number] = ext
        for call in ext.calls:
            call_id = call.id
            if call_id:
                calls[(number, call_id)] = call
    return Observation(extensions=numbered, calls=calls, availability=document.availability)


def extension_changed(before: LiveExtension, after: LiveExtension) -> bool:
    """What makes an ExtensionUpdated: status, name, numbers (not the ticking duration)."""
    return (
        before.status != after.status
        or before.name != after.name
        or before.phone_numbers != after.phone_numbers
    )


def call_changed(before: LiveCall, after: LiveCall) -> bool:
    """What makes a CallUpdated: everything but lastCallTime, which may tick on its own."""
    return (
        before.call_status != after.call_status
        or before.callername != after.callername
        or before.on_call_with_name != after.on_call_with_name
        or before.is_recorded != after.is_recorded
        or before.is_recording_ccr != after.is_recording_ccr
        or before.is_recording_odcr != after.is_recording_odcr
        or before.custom_tag != after.custom_tag
        or before.number_originally_dialed != after.number_originally_dialed
        or before.presence_call_id != after.presence_call_id
    )


async def request(
    service: Service,
    extensions: Filter,
    *,
    first: bool,
    timeout: float | None = None,
    retry: bool = False,
) -> Response | None:
    """One dashui request: the response with a document, or None on 304 (no change)."""
    params: dict[str, str] = {}
    if extensions is not None:
        params["filterExtension"] = ",".join(sorted(extensions))
    if first:
        params["firstRequest"] = "true"
    response = await service.request(
        "GET",
        service.path(*DASHUI_PATH),
        params=params,
        timeout=timeout,
        retry=retry,
        not_modified=True,  # seed 003: "No change and no other data is returned"
    )
    return None if response.status == 304 else response


def _decode(
    response: Response, known: dict[bytes, LiveExtension] | None = None
) -> LiveStatusDocument:
    """The document of a dashui response; with ``known``, reusing models (``decode_reusing``)."""
    with _located(response):
        if known is not None:
            document = decode_reusing(response.body, known)
            if document is not None:
                return document
        return decode_document(response.json())


def decode_document(data: Any) -> LiveStatusDocument:
    """A Live Status document from its JSON."""
    if not isinstance(data, dict):
        raise errors.DecodeError("Live Status answered without a JSON object")
    raw_extensions = data.get("extensions")
    if isinstance(raw_extensions, dict):  # one extension: the server's writer sends it bare
        raw_extensions = [raw_extensions]
    # A wrong shape is a bad answer, not an account without extensions: taken as one, every
    # call would be ended while it lives on.
    if not isinstance(raw_extensions, list):
        raise errors.DecodeError("Live Status answered without its extensions list")
    for raw in raw_extensions:
        _check_number(raw)
    return structure(data, LiveStatusDocument, what="Live Status")


def _check_number(raw: Any) -> None:
    number = raw.get("extension") if isinstance(raw, dict) else None
    if isinstance(number, bool) or not isinstance(number, (str, int)):
        raise errors.DecodeError("Live Status answered with an extension without its number")


# JSON's whitespace; the "extensions" key and its array where a key can start (after "{" or
# ","); a "}" that may end an element, with what follows it: a comma, or the array's end.
_WS = rb"[ \t\n\r]*"
_EXTENSIONS_KEY = re.compile(rb'[{,]%s"extensions"%s:%s(?P<array>\[)%s' % (_WS, _WS, _WS, _WS))
_ELEMENT_END = re.compile(rb"}%s(?:,%s|\])" % (_WS, _WS))
# How many "}" an element may hold before its own, each a parse of the text so far: enough
# for an extension on many calls, and a bound on the work a hostile name ("}, }, ...") makes.
_MAX_ENDS = 64


def decode_reusing(body: bytes, known: dict[bytes, LiveExtension]) -> LiveStatusDocument | None:
    """A Live Status document from its body, keeping the model of every extension whose JSON
    text is the same as in the last document. ``known`` maps each element's text (with the
    comma or "]" after it) to its model, in document order, and is updated here. None when the
    body is not laid out as expected, or something in it does not decode: then decode it whole
    with ``decode_document``, which says what is wrong.

    On a busy account most of each poll is as it was, and parsing and decoding only what
    changed is what keeps a watcher's latency low (benchmarks/live_status.py: 1,000 extensions,
    50 changing). It stays exact because JSON parses one way only: every element text is one
    that ``json.loads`` read whole as an object, now or last time (a complete object that
    starts the text is the element there), and the rest, with ``""`` in place of the array,
    must parse as one object, with nothing nested and no key twice, whose ``extensions`` is
    that ``""``. (One limit: where the json module's depth limit does not follow Python's
    stack, as from 3.12, an element nested to within two levels of it parses alone although
    the whole body would not.)
    """
    key = _EXTENSIONS_KEY.search(body)
    if key is None:
        return None
    # The last document's elements in order: an element that is where it was (most are) is
    # checked with one comparison; any other is looked for by _element.
    previous = iter(known.items())
    seen: dict[bytes, LiveExtension] = {}
    models: list[LiveExtension] = []
    pos = key.end()
    at_end = body.startswith(b"]", pos)  # an empty array
    pos += at_end
    while not at_end:
        expected = next(previous, None)
        if expected is not None and body.startswith(expected[0], pos):
            chunk, model = expected
        else:
            found = _element(body, pos, known)
            if found is None:
                return None
            chunk, model = found
        seen[chunk] = model
        models.append(model)
        pos += len(chunk)
        at_end = chunk.endswith(b"]")
    objects: list[list[tuple[str, Any]]] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        objects.append(items)
        return dict(items)

    try:
        rest = (body[: key.start("array")] + b'""' + body[pos:]).decode()  # pos: past "]"
        head = json.loads(rest, object_pairs_hook=pairs)
    except (ValueError, RecursionError):
        return None
    flat = len(objects) == 1 and isinstance(head, dict)  # no object but the document
    if not flat or len(objects[0]) != len(head):  # ... and no key twice
        return None  # not what the server writes
    del head["extensions"]  # the "" in place of the array
    document = structure(head, LiveStatusDocument, what="Live Status")
    known.clear()
    known.update(seen)
    return attrs.evolve(document, extensions=models)


def _element(
    body: bytes, pos: int, known: dict[bytes, LiveExtension]
) -> tuple[bytes, LiveExtension] | None:
    """The array element starting at ``pos``, as (its text with what follows it, its model);
    None when it is not an object that decodes."""
    if not body.startswith(b"{", pos):
        return None
    ends = itertools.islice(_ELEMENT_END.finditer(body, pos), _MAX_ENDS)
    for end in ends:  # the first "}" after which the text reads as one object is its own
        chunk = body[pos : end.end()]
        model = known.get(chunk)  # it moved
        if model is not None:
            return chunk, model
        try:
            raw = json.loads(body[pos : end.start() + 1].decode())  # UTF-8, as the whole
        except (ValueError, RecursionError):
            continue  # that "}" closes something inside the element
        try:  # decoded before the rest of the body is checked: its errors are not yet ours
            _check_number(raw)
            return chunk, structure(raw, LiveExtension, what="a Live Status extension")
        except errors.DecodeError:
            return None
    return None


@contextlib.contextmanager
def _located(response: Response) -> Iterator[None]:
    """Decoding errors say which request's answer they are about."""
    try:
        yield
    except errors.DecodeError as exc:
        raise errors.DecodeError(str(exc), method="GET", url=response.url) from exc
    except errors.VonageError:
        raise
    except Exception as exc:  # what a malformed answer makes a decoder raise: too deep, ...
        raise errors.DecodeError(
            f"unreadable Live Status answer ({type(exc).__name__})", method="GET", url=response.url
        ) from exc


async def fetch(service: Service, extensions: Filter, *, first: bool) -> LiveStatusDocument | None:
    """One dashui read, retried on faults: the document, or None on 304."""
    response = await request(service, extensions, first=first, retry=True)
    return None if response is None else _decode(response)


class LiveStatusAPI:
    """Live Status: ``snapshot()`` for one read, ``watch()`` for a stream of events."""

    def __init__(self, service: Service) -> None:
        self._service = service
        self._hub: Hub | None = None
        self._source: _DashuiSource | None = None

    def __repr__(self) -> str:
        return f"<LiveStatusAPI {self._service.base_url}>"

    async def snapshot(
        self, extensions: Iterable[str | int] | str | int | None = None
    ) -> LiveStatusDocument:
        """Read the current real-time status once (``firstRequest=true``).

        While a ``watch()`` runs on this client the answer comes through its poll loop: a
        second request on the session would make the server answer 409 to one of the two.
        """
        wanted = extension_filter(extensions)
        hub, source = self._hub, self._source
        if hub is not None and source is not None and hub.running:
            async with contextlib.aclosing(Watch(hub, wanted).__aiter__()) as events:
                async for event in events:
                    if isinstance(event, Snapshot):
                        return _document(event, source.last_document)
        if source is not None:
            await source.fresh_session()
        try:
            document = await fetch(self._service, wanted, first=True)
        except errors.SessionConflictError:
            # Another caller holds a poll on this session: take a fresh one, once.
            auth = self._service.binding.auth
            if not isinstance(auth, SessionLogin):
                raise
            await auth.login(self._service.transport)
            document = await fetch(self._service, wanted, first=True)
        return document or LiveStatusDocument()  # a 304 to a first request shows nothing

    @overload
    def watch(
        self,
        extensions: Iterable[str | int] | str | int | None = None,
        *,
        poll_timeout: float = 45.0,
        backoff: Backoff | None = None,
        max_queue: int = 1000,
        max_conflicts: int = 3,
        lifecycle: Literal[False] = False,
    ) -> Watch: ...

    @overload
    def watch(
        self,
        extensions: Iterable[str | int] | str | int | None = None,
        *,
        poll_timeout: float = 45.0,
        backoff: Backoff | None = None,
        max_queue: int = 1000,
        max_conflicts: int = 3,
        lifecycle: Literal[True],
    ) -> LifecycleWatch: ...

    def watch(
        self,
        extensions: Iterable[str | int] | str | int | None = None,
        *,
        poll_timeout: float = 45.0,
        backoff: Backoff | None = None,
        max_queue: int = 1000,
        max_conflicts: int = 3,
        lifecycle: bool = False,
    ) -> Watch | LifecycleWatch:
        """Stream Live Status as events: a ``Snapshot``, then ``CallStarted``, ``CallUpdated``,
        ``CallEnded``, ``ExtensionUpdated`` and ``AvailabilityChanged``.

        Every call is started once and ended once (when it turns disconnected or vanishes,
        whichever is seen first), across faults and resyncs. Any number of watches on one
        client share one poll loop (the first one's ``poll_timeout``/``backoff`` apply); each
        gets its own queue of ``max_queue`` events, after which it is handed a fresh
        ``Snapshot(resync=True)`` instead of growing. ``poll_timeout`` must exceed the
        server's 30 s hold.

        Faults (5xx, 408, resets, timeouts, malformed answers, an expired session, 429)
        back off and resynchronise. Only two end the watch, raised out of the loop: a login
        the server refuses (``AuthenticationError``), and more than ``max_conflicts`` 409s
        (another caller polling this session) within ten minutes (``SessionConflictError``).

        ``lifecycle=True`` adds the loop's own news to the stream (``PollFailed``,
        ``Reconnected``, ``Resynced``, ``ConsumerDropped``); ``watch.stats()`` tells the same
        as counters.
        """
        wanted = extension_filter(extensions)
        check.positive_seconds("poll_timeout", poll_timeout)  # must also exceed the hold
        check.int_range("max_conflicts", max_conflicts, 0)
        backoff = backoff or Backoff(initial=0.5, maximum=30.0)
        if self._hub is None or self._source is None:
            self._source = _DashuiSource(
                self._service, poll_timeout=poll_timeout, max_conflicts=max_conflicts
            )
            self._hub = Hub(
                self._source,
                backoff=backoff,
                name="Live Status",
                hooks=self._service.transport.hooks,
            )
            self._service.transport.on_close(self._hub.close)
        elif not self._hub.running:  # nobody is watching: this watch's settings apply
            self._source.configure(poll_timeout=poll_timeout, max_conflicts=max_conflicts)
            self._hub.backoff = backoff
        if lifecycle:
            return LifecycleWatch(self._hub, wanted, max_queue=max_queue, lifecycle=True)
        return Watch(self._hub, wanted, max_queue=max_queue)

    def _poll_source(
        self,
        extensions: Iterable[str | int] | str | int | None = None,
        *,
        poll_timeout: float = 45.0,
        max_conflicts: int = 3,
    ) -> PollSource:
        """A new Live Status source bound to this client, for a ``Hub`` built elsewhere (the
        fan-out module): ``Hub(source, backoff=..., name=..., initial_state=..., on_poll=...)``.
        With ``extensions`` it always reads those, whatever its hub's consumers watch. It
        shares the client's session: do not run it beside a ``watch()`` on the same client."""
        wanted = extension_filter(extensions)
        check.positive_seconds("poll_timeout", poll_timeout)
        check.int_range("max_conflicts", max_conflicts, 0)
        return _DashuiSource(
            self._service, poll_timeout=poll_timeout, max_conflicts=max_conflicts, fixed=wanted
        )


def _document(snapshot: Snapshot, last: LiveStatusDocument | None) -> LiveStatusDocument:
    """A Live Status document from a watch's Snapshot (counts from the last document read)."""
    return LiveStatusDocument(
        availability=snapshot.availability,
        num_available_exts=last.num_available_exts if last else None,
        num_unavailable_exts=last.num_unavailable_exts if last else None,
        extensions=list(snapshot.extensions.values()),
    )
