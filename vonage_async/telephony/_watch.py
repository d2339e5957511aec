"""Live call events from Telephony v3, without the legacy session.

The active-calls list is walked (all pages) and each complete walk goes through the same diff
and hub as Live Status, so the guarantees are the same: every call started once and ended
once, one poller per (account, extension) on a client, backoff on failure. A VBC token's
quota is small (10 requests a minute by default) and a walk costs one request a page, so after
a walk of n pages the watch waits n times ``interval``, by default half the client's
``vbc_rate_limit`` (the rest is left for the application's own calls). A 429 stretches the
interval instead of failing.

When the list spans several pages a call can slip between two page reads, so a call missing
from one multi-page walk is kept; it ends when it is missing from two walks in a row (its
CallEnded comes one interval later). A call that fits on one page ends at the first absence.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .. import _validation as check, errors
from .._events import Changed, Observation
from .._transport import RateLimit
from .._watch import Filter, PollSource
from ._models import Call, CallStatus

if TYPE_CHECKING:
    from .._paging import AsyncPager

logger = logging.getLogger("vonage_async")

ENDED = frozenset({CallStatus.BUSY, CallStatus.FAILED, CallStatus.UNANSWERED})
MAX_INTERVAL = 60.0
#: a VBC application's quota per token when the client was given no ``vbc_rate_limit``
#: ("default 10PerMin" in the VBC developer docs)
DEFAULT_QUOTA = RateLimit(calls=10, period=60.0)
#: the share of the quota the watch spends by default
WATCH_SHARE = 0.5
#: refused grants: the credentials themselves are wrong, not the token's moment
REFUSED_GRANTS = frozenset({"invalid_grant", "invalid_client"})


def default_interval(quota: RateLimit | None) -> float:
    """Seconds per page walked that spend ``WATCH_SHARE`` of the quota."""
    quota = quota or DEFAULT_QUOTA
    return quota.period / (quota.calls * WATCH_SHARE)


def warn_if_over(interval: float, quota: RateLimit | None) -> None:
    """Say once, at start, that a chosen interval spends more than the whole quota."""
    quota = quota or DEFAULT_QUOTA
    if interval * quota.calls < quota.period:
        logger.warning(
            "Telephony watch: interval=%.3g s makes %.0f requests a minute per page, above the "
            "token's quota of %d per %.0f s; expect 429s (omit interval for a fitting default)",
            interval,
            60.0 / interval,
            quota.calls,
            quota.period,
        )


class _Inconsistent(Exception):
    """The list changed under a page walk: some calls may be missing from it."""


class ActiveCallsSource(PollSource):
    """Walks the active-call list: ``walk(page_size)`` starts one walk's pager (bound to the
    account and extension), ``is_closed()`` says the client is closing."""

    def __init__(
        self,
        walk: Callable[[int | None], AsyncPager[Call]],
        *,
        is_closed: Callable[[], bool],
        extension: str | None,
        interval: float | None,
        page_size: int | None,
        quota: RateLimit | None,
    ) -> None:
        self._walk = walk
        self._is_closed = is_closed
        self._extension = extension
        self._quota = quota
        self._last: dict[str, Call] = {}
        self._carried: set[str] = set()
        self._started = False
        self._resets = 0  # a walk that outlives a reset must not store what it saw
        self.configure(interval=interval, page_size=page_size)

    @property
    def closed(self) -> bool:
        return self._is_closed()

    async def read(self, extensions: Filter, *, first: bool) -> Observation | None:
        if not self._started:
            self._started = True
            if self._chosen:
                warn_if_over(self.base_interval, self._quota)
        resets = self._resets
        seen: dict[str, Call] = {}
        total: int | None = None
        walked = 0
        async for page in self._walk(self._page_size).pages():
            if not _lists_calls(page.raw):
                # ``{}`` (or a page without its list) is a bad answer, not an empty account:
                # taken as one it would end every live call, then start them again.
                raise errors.DecodeError("Telephony answered a page without its calls list")
            walked += 1
            if total is None:
                total = page.total_items
            for call in page.items:
                if call.call_id:
                    seen[call.call_id] = call
        if total is not None and total != len(seen):
            # A call moved between pages mid-walk: a missing one would look ended.
            raise _Inconsistent(f"walk found {len(seen)} calls, the server counted {total}")
        if resets != self._resets:
            # The watch stopped (its hub forgot) while this walk's last page was on its way:
            # stored, these calls would be carried into the next watch, or a first slip
            # between pages there taken for a second absence.
            return None
        carried: set[str] = set()
        if walked > 1:
            # Pages are not read atomically: a live call can slip between two of them. One
            # absence from a multi-page walk is not an end; two in a row are.
            for call_id, call in self._last.items():
                if call_id not in seen and call_id not in self._carried and not self.is_ended(call):
                    seen[call_id] = call
                    carried.add(call_id)
        self._carried = carried
        self._last = seen
        self.interval = self.base_interval * max(walked, 1)  # every page counts
        return Observation(
            extensions={},
            calls={(self._extension, call_id): call for call_id, call in seen.items()},
        )

    def reset(self) -> None:
        self._resets += 1
        self._last.clear()
        self._carried.clear()
        self._started = False
        self.interval = self.base_interval

    def configure(self, *, interval: float | None, page_size: int | None) -> None:
        self._chosen = interval is not None
        self.base_interval = default_interval(self._quota) if interval is None else interval
        self.interval = self.base_interval  # per page walked
        self._page_size = page_size

    def recover(self, exc: Exception, failures: int) -> float | None:
        if isinstance(exc, _Inconsistent):
            return 0.0 if failures == 1 else None
        if isinstance(exc, errors.AuthenticationError) and exc.error in REFUSED_GRANTS:
            raise exc  # every grant the strategy had was refused: a new token won't come
        if isinstance(exc, errors.ConfigurationError):
            raise exc
        if isinstance(exc, errors.RateLimitedError):
            self.interval = min(MAX_INTERVAL, max(self.interval * 2, exc.retry_after or 0.0))
            logger.warning("Telephony watch rate limited; polling every %.1f s", self.interval)
            return max(exc.retry_after or 0.0, self.interval)
        # Anything else (5xx, resets, malformed answers, a page that vanished, a token that
        # expired or was revoked): back off and walk again.
        return None

    def is_ended(self, call: Any) -> bool:
        c: Call = call
        return c.end_time is not None or c.status in ENDED

    def change_tests(self) -> tuple[Changed, Changed]:
        return super().change_tests()[0], _call_changed  # no extensions are observed here


def _lists_calls(body: Any) -> bool:
    """Whether a page holds a ``calls`` list (at its top or under ``_embedded``)."""
    if not isinstance(body, Mapping):
        return False
    embedded = body.get("_embedded")
    return isinstance(body.get("calls"), list) or (
        isinstance(embedded, Mapping) and isinstance(embedded.get("calls"), list)
    )


def _call_changed(before: Call, after: Call) -> bool:
    return _view(before) != _view(after)


def _view(call: Call) -> object:
    return (call.status, call.from_, call.to, [(leg.leg_id, leg.status) for leg in call.legs])


def watch_key(
    account_id: str, extension: str | int | None, interval: float | None, page_size: int | None
) -> tuple[str, str | None]:
    """Validate a watch's arguments; the key under which watches share a poller."""
    account = check.path_segment("account_id", account_id)
    number = None if extension is None else check.extension_number("extension", extension)
    if interval is not None:
        check.positive_seconds("interval", interval)
    if page_size is not None:
        check.int_range("page_size", page_size, 1)
    return account, number
