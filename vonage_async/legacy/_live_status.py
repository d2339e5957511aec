"""Live Status (``/presence/dashui``): one-shot snapshots and the shared watch loop.

The service is a long poll: without ``firstRequest=true`` it holds the request up to 30 s
and answers 200 with the whole document when something changed, or 304 when nothing did.
A second concurrent poll on one session gets 409, so every ``watch()`` on a client shares
one poll loop (see ``_watch.Hub``).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import marshal
from collections.abc import Iterable, Iterator
from typing import Any

import attrs

from .. import _collector, _validation as check, errors
from .._converter import structure
from .._events import Changed, Observation, Snapshot
from .._service import Service
from .._transport import Backoff, Response
from .._watch import Filter, Hub, PollSource, Watch
from ..auth import SessionLogin
from ._live_models import LiveCall, LiveExtension, LiveStatus as LiveStatusDocument

logger = logging.getLogger("vonage_async")

DASHUI_PATH = ("presence", "dashui")


def extension_filter(extensions: Iterable[str | int] | str | int | None) -> Filter:
    """Validated ``filterExtension`` values (2 to 6 digits each), or None for all."""
    if extensions is None:
        return None
    if isinstance(extensions, (str, int)):
        extensions = [extensions]
    numbers = frozenset(check.extension_number("extensions", e) for e in extensions)
    if not numbers:
        raise errors.ValidationError("extensions", "give at least one extension, or None for all")
    return numbers


def observe(extensions: Iterable[LiveExtension], availability: Any) -> Observation:
    """What the diff needs from (a part of) a Live Status document."""
    calls: dict[tuple[str | None, str], LiveCall] = {}
    numbered: dict[str, LiveExtension] = {}
    for ext in extensions:
        numbered[ext.extension] = ext
        for call in ext.calls:
            if call.id:
                calls[(ext.extension, call.id)] = call
    return Observation(extensions=numbered, calls=calls, availability=availability)


class _Resync(Exception):
    """The session was renewed during a poll: the server lost our place, read afresh."""


class _DashuiSource(PollSource):
    #: extensions decoded and diffed per part: a busy account's first events reach the
    #: consumers while the rest of its document is still being decoded
    PART = 50

    def __init__(self, service: Service, *, poll_timeout: float, max_conflicts: int) -> None:
        self._service = service
        self._poll_timeout = poll_timeout
        self._max_conflicts = max_conflicts
        self._conflicts = 0
        self.last_document: LiveStatusDocument | None = None
        self._decoder = DocumentDecoder()
        # A long poll we gave up on may still be held by the server, and the session answers
        # 409 to anything else until it ends: the next request logs in afresh first.
        self.abandoned = False

    def configure(self, *, poll_timeout: float, max_conflicts: int) -> None:
        self._poll_timeout = poll_timeout
        self._max_conflicts = max_conflicts

    @property
    def _login(self) -> SessionLogin | None:
        auth = self._service.binding.auth
        return auth if isinstance(auth, SessionLogin) else None

    async def fresh_session(self) -> None:
        """Log in afresh if a held poll was abandoned on the current session."""
        login = self._login
        if self.abandoned and login is not None:
            await login.login(self._service.transport)
        self.abandoned = False

    async def read(self, extensions: Filter, *, first: bool) -> Response | None:
        await self.fresh_session()
        login = self._login
        generation = login.generation if login else 0
        try:
            response = await request(
                self._service, extensions, first=first, timeout=self._poll_timeout
            )
        except asyncio.CancelledError:
            self.abandoned = not first
            raise
        if not first and login is not None and login.generation != generation:
            raise _Resync()
        self._conflicts = 0
        return response

    def observe_parts(self, received: Response) -> Iterator[Observation]:
        data = _json_object(received)
        with _located(received):
            head, raw_extensions = _split(data)
        models = self._decoder.models(raw_extensions)
        decoded: list[LiveExtension] = []
        # A part holds all the calls of its extensions: one listed twice makes one part.
        size = max(len(raw_extensions), 1) if _repeats(raw_extensions) else self.PART
        while True:
            with _located(received):
                part = list(itertools.islice(models, size))
            if part or not decoded:  # at least one part, for the availability
                decoded += part
                yield observe(part, head.availability)
            if len(part) < size:
                break
        self.last_document = attrs.evolve(head, extensions=decoded)

    async def recover(self, exc: Exception, failures: int) -> float | None:
        if isinstance(exc, _Resync):
            return 0.0
        if isinstance(exc, errors.SessionConflictError):
            self._conflicts += 1
            if self._conflicts > self._max_conflicts:
                raise exc
            logger.warning(
                "Live Status: another caller is polling this session (409); logging in again"
            )
            login = self._login
            if login is not None:
                await login.login(self._service.transport)
            return None
        if isinstance(exc, errors.RateLimitedError):
            return exc.retry_after
        if isinstance(exc, (errors.ServerError, errors.TransportError, errors.DecodeError)):
            return None
        raise exc  # auth refused, permission denied, bad request: retrying won't help

    def is_ended(self, call: Any) -> bool:
        return bool(call.ended)

    def change_tests(self) -> tuple[Changed, Changed]:
        return extension_changed, call_changed


def _repeats(raw_extensions: list[Any]) -> bool:
    """Whether a document lists an extension twice."""
    numbers = {
        str(raw.get("extension")) if isinstance(raw, dict) else None for raw in raw_extensions
    }
    return len(numbers) < len(raw_extensions)


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
        "GET", service.path(*DASHUI_PATH), params=params, timeout=timeout, retry=retry
    )
    return None if response.status == 304 else response


def decode(response: Response, decoder: DocumentDecoder) -> LiveStatusDocument:
    """The document of a dashui response."""
    data = _json_object(response)
    with _located(response):
        return decoder.decode(data)


def _json_object(response: Response) -> dict[str, Any]:
    data = response.json()
    if not isinstance(data, dict):
        raise errors.DecodeError(
            "Live Status answered without a JSON object", method="GET", url=response.url
        )
    return data


@contextlib.contextmanager
def _located(response: Response) -> Iterator[None]:
    """Decoding errors say which request's answer they are about."""
    try:
        yield
    except errors.DecodeError as exc:
        raise errors.DecodeError(str(exc), method="GET", url=response.url) from exc


def _split(data: dict[str, Any]) -> tuple[LiveStatusDocument, list[Any]]:
    """A document without its extensions, and their JSON for ``DocumentDecoder.models``."""
    raw_extensions = data.get("extensions")
    if isinstance(raw_extensions, dict):  # one extension: the server's writer sends it bare
        raw_extensions = [raw_extensions]
    elif raw_extensions is None:
        raw_extensions = []
    head = {key: value for key, value in data.items() if key != "extensions"}
    if not isinstance(raw_extensions, list):
        head["extensions"] = raw_extensions  # let the converter say what is wrong with it
        raw_extensions = []
    return structure(head, LiveStatusDocument, what="Live Status"), raw_extensions


async def fetch(service: Service, extensions: Filter, *, first: bool) -> LiveStatusDocument | None:
    """One dashui read, retried on faults: the document, or None on 304."""
    response = await request(service, extensions, first=first, retry=True)
    if response is None:
        return None
    with _collector.held():  # decode is a call: its parsed JSON is freed before this ends
        return decode(response, DocumentDecoder())


class DocumentDecoder:
    """Decodes Live Status documents, reusing the model of every extension whose JSON is the
    same as in an earlier document: most polls change one extension of many.

    A busy account, where every extension on a call ticks, changes whole documents; there
    recognising extensions costs more than it saves. So a sample of extensions spread over
    the document is looked at first, and when none of them was seen before, the rest are
    decoded without looking; the sample is remembered beside what was seen before it.
    """

    SAMPLE = 8

    def __init__(self) -> None:
        self._known: dict[bytes, LiveExtension] = {}
        self._turn = 0

    def decode(self, data: dict[str, Any]) -> LiveStatusDocument:
        """A whole document."""
        head, raw_extensions = _split(data)
        return attrs.evolve(head, extensions=list(self.models(raw_extensions)))

    def models(self, raw_extensions: list[Any]) -> Iterator[LiveExtension]:
        """The extensions' models, decoded as they are taken."""
        known = self._known
        count = len(raw_extensions)
        sample: dict[int, bytes | None] = {}
        if known and count > self.SAMPLE:
            # The places sampled last time (compared like with like, so an account that just
            # went quiet is seen at once) and the next ones (so that busy extensions sitting
            # in the sampled places cannot hide the quiet rest for long).
            step = -(-count // self.SAMPLE)
            self._turn += 1
            for turn in (self._turn - 1, self._turn):
                for at in range(turn % step, count, step):
                    sample[at] = _fingerprint(raw_extensions[at])
            if not any(text in known for text in sample.values()):
                sampled: dict[bytes, LiveExtension] = {}
                for at, raw in enumerate(raw_extensions):
                    model = _decode_extension(raw)
                    text = sample.get(at)
                    if text is not None:
                        sampled[text] = model
                    yield model
                # What a busy account's samples add is kept to about one document's worth.
                if len(known) > count + 2 * self.SAMPLE:
                    known.clear()
                known.update(sampled)
                return
        fresh: dict[bytes, LiveExtension] = {}
        for at, raw in enumerate(raw_extensions):
            text = sample[at] if at in sample else _fingerprint(raw)
            seen = known.get(text) if text is not None else None
            model = _decode_extension(raw) if seen is None else seen
            if text is not None:
                fresh[text] = model
            yield model
        self._known = fresh


def _fingerprint(raw: Any) -> bytes | None:
    """The extension's JSON as bytes that keep JSON types apart (1 == True == 1.0, but they
    decode differently); marshal version 2 has no back-references, so equal values give equal
    bytes. Cheaper than repr, and 3x cheaper than decoding the extension again."""
    try:
        return marshal.dumps(raw, 2)
    except ValueError:  # nested deeper than marshal goes: decode, don't keep
        return None


def _decode_extension(raw: Any) -> LiveExtension:
    return structure(raw, LiveExtension, what="a Live Status extension")


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

    def _poll_source(
        self, extensions: Iterable[str | int] | str | int | None = None
    ) -> _DashuiSource:
        """A fresh poll source on this client's session, for a hub run elsewhere (fan-out)."""
        extension_filter(extensions)  # validated here, applied by the hub's consumers
        return _DashuiSource(self._service, poll_timeout=45.0, max_conflicts=3)

    def watch(
        self,
        extensions: Iterable[str | int] | str | int | None = None,
        *,
        poll_timeout: float = 45.0,
        backoff: Backoff | None = None,
        max_queue: int = 1000,
        max_conflicts: int = 3,
    ) -> Watch:
        """Stream Live Status as events: a ``Snapshot``, then ``CallStarted``, ``CallUpdated``,
        ``CallEnded``, ``ExtensionUpdated`` and ``AvailabilityChanged``.

        Every call is started once and ended once (when it turns disconnected or vanishes,
        whichever is seen first), across faults and resyncs. Any number of watches on one
        client share one poll loop (the first one's ``poll_timeout``/``backoff`` apply); each
        gets its own queue of ``max_queue`` events, after which it is handed a fresh
        ``Snapshot(resync=True)`` instead of growing. ``poll_timeout`` must exceed the
        server's 30 s hold. A refused login raises ``AuthenticationError`` out of the loop;
        409 (another caller on the session) logs in again, and raises
        ``SessionConflictError`` after ``max_conflicts`` in a row.
        """
        wanted = extension_filter(extensions)
        if poll_timeout <= 0:
            raise errors.ValidationError("poll_timeout", "must be positive (and exceed the hold)")
        check.int_range("max_conflicts", max_conflicts, 0)
        backoff = backoff or Backoff(initial=0.5, maximum=30.0)
        if self._hub is None or self._source is None:
            self._source = _DashuiSource(
                self._service, poll_timeout=poll_timeout, max_conflicts=max_conflicts
            )
            self._hub = Hub(self._source, backoff=backoff, name="Live Status")
            self._service.transport.on_close(self._hub.close)
        elif not self._hub.running:  # nobody is watching: this watch's settings apply
            self._source.configure(poll_timeout=poll_timeout, max_conflicts=max_conflicts)
            self._hub.backoff = backoff
        return Watch(self._hub, wanted, max_queue=max_queue)


def _document(snapshot: Snapshot, last: LiveStatusDocument | None) -> LiveStatusDocument:
    """A Live Status document from a watch's Snapshot (counts from the last document read)."""
    return LiveStatusDocument(
        availability=snapshot.availability,
        num_available_exts=last.num_available_exts if last else None,
        num_unavailable_exts=last.num_unavailable_exts if last else None,
        extensions=list(snapshot.extensions.values()),
    )
