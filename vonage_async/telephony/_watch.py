"""Live call events from Telephony v3, without the legacy session.

The active-calls list is walked (all pages) every ``interval`` seconds and each complete walk
goes through the same diff and hub as Live Status, so the guarantees are the same: every call
started once and ended once, one poller per (account, extension) on a client, backoff on
failure. A 429 stretches the interval instead of failing.

When the list spans several pages a call can slip between two page reads, so a call missing
from one multi-page walk is kept; it ends when it is missing from two walks in a row (its
CallEnded comes one interval later). A call that fits on one page ends at the first absence.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from .. import _validation as check, errors
from .._events import Changed, Observation
from .._watch import Filter, PollSource
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
        self,
        calls: Calls,
        *,
        account_id: str,
        extension: str | None,
        interval: float,
        page_size: int | None,
    ) -> None:
        self._calls = calls
        self._account_id = account_id
        self._extension = extension
        self._page_size = page_size
        self._last: dict[str, Call] = {}
        self._carried: set[str] = set()
        self.base_interval = interval
        self.interval = interval

    async def read(self, extensions: Filter, *, first: bool) -> Observation | None:
        seen: dict[str, Call] = {}
        total: int | None = None
        walked = 0
        pager = self._calls.list(
            self._account_id, extension=self._extension, page_size=self._page_size
        )
        async for page in pager.pages():
            walked += 1
            if total is None:
                total = page.total_items
            for call in page.items:
                if call.call_id:
                    seen[call.call_id] = call
        if total is not None and total != len(seen):
            # A call moved between pages mid-walk: a missing one would look ended.
            raise _Inconsistent(f"walk found {len(seen)} calls, the server counted {total}")
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
        self.interval = self.base_interval
        return Observation(
            extensions={},
            calls={(self._extension, call_id): call for call_id, call in seen.items()},
        )

    def reset(self) -> None:
        self._last.clear()
        self._carried.clear()
        self.interval = self.base_interval

    def configure(self, *, interval: float, page_size: int | None) -> None:
        self.base_interval = self.interval = interval
        self._page_size = page_size

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

    def change_tests(self) -> tuple[Changed, Changed]:
        return super().change_tests()[0], _call_changed  # no extensions are observed here


def _call_changed(before: Call, after: Call) -> bool:
    return _view(before) != _view(after)


def _view(call: Call) -> object:
    return (call.status, call.from_, call.to, [(leg.leg_id, leg.status) for leg in call.legs])


def watch_key(
    account_id: str, extension: str | int | None, interval: float, page_size: int | None
) -> tuple[str, str | None]:
    """Validate a watch's arguments; the key under which watches share a poller."""
    account = check.path_segment("account_id", account_id)
    number = None if extension is None else check.extension_number("extension", extension)
    check.positive_seconds("interval", interval)
    if page_size is not None:
        check.int_range("page_size", page_size, 1)
    return account, number
