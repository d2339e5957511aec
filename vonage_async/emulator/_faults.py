"""Fault injection: errors, latency, resets, 429 bursts, lost sessions, stalled long polls, and
the chaos faults of the soak test (:meth:`Faults.inject`), with a record of every successful
poll the server actually sent (:meth:`Faults.record_polls`)."""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import json
import math
import random
import re
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs
from aiohttp import web

from ._common import VBC_PREFIX, Family, ctx, error_response, family_of, json_response

if TYPE_CHECKING:
    from ._auth import Handler, Sessions, Tokens

FAMILIES: frozenset[Family] = frozenset(("vbc", "legacy", "registry"))

DASHUI = "/presence/dashui"
LOGIN = "/appserver/rest/user/null"
TOKEN = "/token"
_ACTIVE_CALLS = re.compile(rf"^{re.escape(VBC_PREFIX)}/telephony/v3/cc/accounts/[^/]+/calls$")

#: Chaos faults (:meth:`Faults.inject`), by the request they break. The ``session_expired``,
#: ``token_expired`` and ``token_revoked`` ones act at once; the others break the next request.
DASHUI_FAULTS = (
    "reset_mid_body",
    "stall",
    "truncated_json",
    "empty_200",
    "html_200",
    "empty_object",
    "deep_nesting",
    "immediate_304",
    "http_408",
    "http_409",
    "http_5xx",
    "retry_after_seconds",
    "retry_after_date",
    "session_expired",
)
LOGIN_FAULTS = ("login_5xx", "expire_after_login")
CALLS_FAULTS = (
    "calls_5xx",
    "calls_reset_mid_body",
    "calls_truncated_json",
    "calls_empty_200",
    "calls_retry_after_seconds",
    "calls_retry_after_date",
)
TOKEN_FAULTS = ("token_5xx", "token_expired", "token_revoked")
CHAOS_FAULTS = DASHUI_FAULTS + LOGIN_FAULTS + CALLS_FAULTS + TOKEN_FAULTS
_AT_ONCE = frozenset(("session_expired", "token_expired", "token_revoked"))


@attrs.frozen
class Poll:
    """One successful poll as the server sent it (the whole body written).

    ``calls`` maps (extension, presenceCallId) to the callStatus shown for a Live Status
    document; for a page of Telephony's active calls, (the ``extension`` query or None,
    call_id) to the call's status, with the page's ``page``, ``pages`` and ``total``.
    """

    kind: str  # "dashui" or "calls"
    at: float  # time.monotonic() just before the body was written
    listed: frozenset[str]  # Live Status: the extensions the document lists
    calls: dict[tuple[str | None, str], str]
    extension: str | None = None
    page: int = 1
    pages: int = 1
    total: int = 0


@attrs.define
class _Burst:
    remaining: int
    retry_after: float
    family: Family | None


class Faults:
    """What the emulator does wrong, settable at any time (from tests or CLI flags).

    ``error_rate``, ``latency`` (seconds) and ``reset_rate`` apply to requests of the families
    in ``families`` (default: all of "vbc", "legacy", "registry"); the one-shot faults
    (:meth:`rate_limit`, :meth:`stall_dashui`, :meth:`truncate_dashui`) count down per request.
    """

    def __init__(self, tokens: Tokens, sessions: Sessions, *, seed: int = 0) -> None:
        self._tokens = tokens
        self._sessions = sessions
        self._rng = random.Random(seed)
        self.error_rate = 0.0
        self.latency = 0.0
        self.reset_rate = 0.0
        self.families: frozenset[Family] = FAMILIES
        self._bursts: list[_Burst] = []
        self._stalls: list[float | None] = []
        self._truncations = 0
        self._chaos: dict[str, deque[str]] = {"dashui": deque(), "login": deque(), "calls": deque()}
        self._chaos["token"] = deque()
        self.stall_seconds = 0.0  # 0: three times the hold
        self.retry_after = 1.0
        self.injected: list[tuple[float, str]] = []  # (time.monotonic(), kind) as applied
        self._on_poll: Callable[[Poll], None] | None = None

    def clear(self) -> None:
        """Stop every fault."""
        self.error_rate = self.latency = self.reset_rate = 0.0
        self.families = FAMILIES
        self._bursts.clear()
        self._stalls.clear()
        self._truncations = 0
        for armed in self._chaos.values():
            armed.clear()

    def inject(self, kind: str) -> None:
        """Arm one chaos fault (see ``CHAOS_FAULTS``): it breaks the next request it applies
        to, or acts at once (expiries, revocation). ``injected`` records when each applied."""
        if kind not in CHAOS_FAULTS:
            raise ValueError(f"unknown fault {kind!r}; known: {', '.join(CHAOS_FAULTS)}")
        if kind == "session_expired":
            self._sessions.expire()
        elif kind in ("token_expired", "token_revoked"):
            self._tokens.expire(refresh=kind == "token_revoked")
        elif kind == "stall":
            self._stalls.append(self.stall_seconds or None)
            return  # recorded when the poll takes it
        if kind in _AT_ONCE:
            self._applied(kind)
            return
        self._chaos[_target(kind)].append(kind)

    def pending(self, kind: str) -> int:
        """How many chaos faults are armed, not yet applied, for the request ``kind`` breaks."""
        if kind == "stall":
            return len(self._stalls)
        return len(self._chaos[_target(kind)]) if kind not in _AT_ONCE else 0

    def record_polls(self, on_poll: Callable[[Poll], None] | None) -> None:
        """Call ``on_poll`` with every successful Live Status or active-calls body, once it
        is written to the socket (None stops recording)."""
        self._on_poll = on_poll

    def _applied(self, kind: str) -> None:
        self.injected.append((time.monotonic(), kind))

    def rate_limit(self, n: int, *, retry_after: float = 1.0, family: Family | None = None) -> None:
        """Answer the next ``n`` requests (of ``family``, or any) with 429 and Retry-After."""
        self._bursts.append(_Burst(n, retry_after, family))

    def expire_sessions(self) -> None:
        """End every legacy session: the next legacy request gets 403 USER NOT LOGGED IN."""
        self._sessions.expire()

    def expire_tokens(self, *, refresh: bool = False) -> None:
        """Expire every OAuth access token (with ``refresh``, revoke refresh tokens too)."""
        self._tokens.expire(refresh=refresh)

    def stall_dashui(self, n: int = 1, *, seconds: float | None = None) -> None:
        """Hold the next ``n`` Live Status polls past any sane client timeout.

        ``seconds`` defaults to three times the hold; the poll then answers 304.
        """
        self._stalls.extend([seconds] * n)

    def truncate_dashui(self, n: int = 1) -> None:
        """Cut the next ``n`` Live Status documents in half (invalid JSON, status 200)."""
        self._truncations += n

    # -- used by the handlers -----------------------------------------------------------------

    def take_stall(self, hold: float) -> float | None:
        if not self._stalls:
            return None
        seconds = self._stalls.pop(0)
        self._applied("stall")
        return 3 * hold if seconds is None else seconds

    def take_truncation(self) -> bool:
        if self._truncations <= 0:
            return False
        self._truncations -= 1
        return True

    def _take_burst(self, family: Family) -> float | None:
        for burst in self._bursts:
            if burst.family in (None, family):
                burst.remaining -= 1
                if burst.remaining <= 0:
                    self._bursts.remove(burst)
                return burst.retry_after
        return None

    def _roll(self, rate: float) -> bool:
        return rate > 0 and self._rng.random() < rate


@web.middleware
async def fault_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    c = ctx(request)
    faults = c.faults
    family = family_of(request.path)
    if family is None:
        return await handler(request)
    target = _chaos_target(request)
    if target is not None and (faults._chaos[target] or faults._on_poll is not None):
        return await _chaos(request, handler, faults, target)
    retry_after = faults._take_burst(family)
    if retry_after is not None:
        response = error_response(family, request.path, 429, _too_many(family))
        response.headers["Retry-After"] = str(max(0, math.ceil(retry_after)))
        return response
    if family not in faults.families:
        return await handler(request)
    if faults.latency > 0:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(c.closing.wait(), faults.latency)
    if faults._roll(faults.reset_rate) and request.transport is not None:
        request.transport.abort()
        raise asyncio.CancelledError
    if faults._roll(faults.error_rate):
        if family == "legacy":
            return error_response(family, request.path, 500, "ERROR")
        return error_response(family, request.path, 503, "Service temporarily unavailable")
    return await handler(request)


def _too_many(family: Family) -> str:
    return "TOO MANY REQUESTS" if family == "legacy" else "Too many requests"


# -- chaos faults and the record of what was sent ------------------------------------------------


def _chaos_target(request: web.Request) -> str | None:
    path = request.path
    if path == DASHUI:
        return "dashui"
    if path == LOGIN:
        return "login"
    if path == TOKEN:
        return "token"
    if request.method == "GET" and _ACTIVE_CALLS.match(path):
        return "calls"
    return None


def _target(kind: str) -> str:
    if kind in DASHUI_FAULTS:
        return "dashui"
    if kind in LOGIN_FAULTS:
        return "login"
    return "token" if kind in TOKEN_FAULTS else "calls"


def _retry_after(faults: Faults, kind: str) -> str:
    seconds = max(1, math.ceil(faults.retry_after))
    if kind.endswith("date"):
        # One second more: an HTTP date has whole seconds, so the wait is at least ``seconds``.
        return email.utils.formatdate(time.time() + seconds + 1, usegmt=True)
    return str(seconds)


async def _chaos(
    request: web.Request, handler: Handler, faults: Faults, target: str
) -> web.StreamResponse:
    armed = faults._chaos[target]
    kind = armed.popleft() if armed else None
    path = request.path
    family = family_of(path)
    if kind is not None:
        faults._applied(kind)
        bare = kind.removeprefix("calls_")
        if bare in ("5xx", "login_5xx", "token_5xx", "http_5xx"):
            status = faults._rng.choice((500, 502, 503))
            return error_response(family, path, status, "ERROR" if family == "legacy" else "")
        if bare.startswith("retry_after"):
            response = error_response(family, path, 429, _too_many(family or "vbc"))
            response.headers["Retry-After"] = _retry_after(faults, bare)
            return response
        if bare == "http_408":
            return web.Response(status=408, text="Request Timeout", content_type="text/plain")
        if bare == "http_409":
            return web.Response(
                status=409, text="SESSION IN USE BY ANOTHER REQUEST", content_type="text/plain"
            )
        if bare == "immediate_304":
            return web.Response(status=304)
        if bare == "empty_200":
            return web.Response(body=b"", content_type="application/json")
        if bare == "html_200":
            page = "<html><body><h1>Maintenance</h1></body></html>"
            return web.Response(text=page, content_type="text/html")
        if bare == "empty_object":
            return json_response({})
        if bare == "deep_nesting":
            depth = 100_000
            deep = b'{"extensions":' + b"[" * depth + b"]" * depth + b"}"
            return web.Response(body=deep, content_type="application/json")
    answered = await handler(request)
    if kind == "expire_after_login":
        faults._sessions.expire()
        return answered
    if not isinstance(answered, web.Response) or answered.status != 200:
        return answered
    response, body = answered, answered.body
    if not isinstance(body, bytes):
        return response
    if kind in ("truncated_json", "calls_truncated_json"):
        response.body = body[: len(body) // 2]
        return response
    if kind in ("reset_mid_body", "calls_reset_mid_body"):
        return await _reset_mid_body(request, response, body)
    on_poll = faults._on_poll
    if on_poll is None or target not in ("dashui", "calls"):
        return response
    # Recorded only once the whole body is written: what the client could have read.
    # Timed before the write: the client may read and act on it before the write returns.
    at = time.monotonic()
    try:
        await response.prepare(request)
        await response.write_eof()
    except ConnectionError:  # the client went away: nothing was sent
        return response
    poll = _poll(target, request, body, at)
    if poll is not None:
        on_poll(poll)
    return response


async def _reset_mid_body(
    request: web.Request, response: web.Response, body: bytes
) -> web.StreamResponse:
    partial = web.StreamResponse(status=200, headers={"Content-Type": response.content_type})
    partial.content_length = len(body)
    await partial.prepare(request)
    await partial.write(body[: len(body) // 2])
    if request.transport is not None:
        request.transport.abort()
    raise asyncio.CancelledError


def _poll(target: str, request: web.Request, body: bytes, now: float) -> Poll | None:
    try:
        doc = json.loads(body)
    except ValueError:
        return None
    if not isinstance(doc, dict):
        return None
    if target == "dashui":
        return _dashui_poll(doc, now)
    extension = request.query.get("extension")
    calls = {
        (extension, str(c.get("call_id"))): str(c.get("status"))
        for c in doc.get("calls") or ()
        if isinstance(c, dict)
    }
    return Poll(
        "calls",
        now,
        frozenset(),
        calls,
        extension=extension,
        page=_int(doc.get("current_page"), 1),
        pages=_int(doc.get("pages"), 1),
        total=_int(doc.get("total"), len(calls)),
    )


def _dashui_poll(doc: dict[str, Any], now: float) -> Poll:
    entries = doc.get("extensions") or []
    if isinstance(entries, dict):
        entries = [entries]
    listed: set[str] = set()
    calls: dict[tuple[str | None, str], str] = {}
    for entry in entries:
        number = str(entry.get("extension"))
        listed.add(number)
        items = entry.get("statusItems") or []
        for item in [items] if isinstance(items, dict) else items:
            calls[(number, str(item.get("presenceCallId")))] = str(item.get("callStatus"))
    return Poll("dashui", now, frozenset(listed), calls)


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default
