"""Fault injection: errors, latency, resets, 429 bursts, lost sessions, stalled long polls."""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
from typing import TYPE_CHECKING

import attrs
from aiohttp import web

from ._common import Family, ctx, error_response, family_of

if TYPE_CHECKING:
    from ._auth import Handler, Sessions, Tokens

FAMILIES: frozenset[Family] = frozenset(("vbc", "legacy", "registry"))


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

    def clear(self) -> None:
        """Stop every fault."""
        self.error_rate = self.latency = self.reset_rate = 0.0
        self.families = FAMILIES
        self._bursts.clear()
        self._stalls.clear()
        self._truncations = 0

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
