"""Live call events from Telephony v3, without the legacy session.

The active-calls list is walked (all pages) every ``interval`` seconds and each complete walk
goes through the same diff and hub as Live Status, so the guarantees are the same: every call
started once and ended once, one poller per (account, extension) on a client, backoff on
failure. A 429 stretches the interval instead of failing.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

from .. import _validation as check
from .. import errors
from .._events import Observation
from .._watch import Filter, Hub, PollSource
from ._models import Call, CallStatus

if TYPE_CHECKING:
    from ._api import Calls

logger = logging.getLogger("vonage_async")

ENDED = frozenset({CallStatus.BUSY, CallStatus.FAILED, CallStatus.UNANSWERED})
MAX_INTERVAL = 60.0


class _Inconsistent(Exception):
    """The list changed under a page walk: some calls may be missing from it."""


class ActiveCallsSource(PollSource):
    def __init__(
        self, calls: Calls, *, account_id: str, extension: str | None, interval: float
    ) -> None:
        self._calls = calls
        self._account_id = account_id
        self._extension = extension
        self.base_interval = interval
        self.interval = interval

    async def read(self, extensions: Filter, *, first: bool) -> Observation | None:
        seen: dict[str, Call] = {}
        total: int | None = None
        pager = self._calls.list(self._account_id, extension=self._extension, page_size=100)
        async for page in pager.pages():
            if total is None:
                total = page.total_items
            for call in page.items:
                if call.call_id:
                    seen[call.call_id] = call
        if total is not None and total != len(seen):
            # A call moved between pages mid-walk: a missing one would look ended.
            raise _Inconsistent(f"walk found {len(seen)} calls, the server counted {total}")
        self.interval = self.base_interval
        return Observation(
            extensions={},
            calls={(self._extension, call_id): call for call_id, call in seen.items()},
        )

    async def recover(self, exc: Exception, failures: int) -> float | None:
        if isinstance(exc, _Inconsistent):
            return 0.0 if failures == 1 else None
        if isinstance(exc, errors.RateLimitedError):
            self.interval = min(MAX_INTERVAL, max(self.interval * 2, exc.retry_after or 0.0))
            logger.warning("Telephony watch rate limited; polling every %.1f s", self.interval)
            return max(exc.retry_after or 0.0, self.interval)
        if isinstance(
            exc,
            (errors.ServerError, errors.TransportError, errors.DecodeError, errors.NotFoundError),
        ):
            return None  # a 404 mid-walk is a page that vanished: walk again after a pause
        raise exc

    def is_ended(self, call: Any) -> bool:
        c: Call = call
        return c.end_time is not None or c.status in ENDED

    def call_view(self, call: Any) -> Hashable:
        c: Call = call
        return (c.status, c.from_, c.to, tuple((leg.leg_id, leg.status) for leg in c.legs))


def hub_for(
    calls: Calls, account_id: str, extension: str | int | None, interval: float, backoff: Any
) -> tuple[tuple[str, str | None], Hub]:
    """A new hub polling one account's active calls, and the key to share it under."""
    account = check.path_segment("account_id", account_id)
    number = None if extension is None else check.extension_number("extension", extension)
    if isinstance(interval, bool) or not isinstance(interval, (int, float)) or interval <= 0:
        raise errors.ValidationError("interval", "must be a positive number of seconds")
    source = ActiveCallsSource(calls, account_id=account, extension=number, interval=interval)
    return (account, number), Hub(source, backoff=backoff, name="Telephony calls")
