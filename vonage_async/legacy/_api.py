"""The legacy Business Solutions API (seed 003): ``client.legacy``.

Every endpoint hangs off ``{legacy_url}/presence/rest/``; the session cookies come from
``SessionLogin``, which logs in again when the server says ``USER NOT LOGGED IN``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

from yarl import URL

from .. import _validation as check
from .._converter import structure
from .._service import Service
from ..errors import ValidationError
from . import _models as m
from ._errors import reasons
from ._live_status import LiveStatusAPI
from ._recordings import Recordings

T = TypeVar("T")

logger = logging.getLogger("vonage_async")

HISTORY_LIMIT = 100
"""The most records one call-history request returns."""

_FORMATTING = re.compile(r"[\s\-.()]")


def dial_string(name: str, value: Any) -> str:
    """A number for click to call, formatting removed: an extension (2 to 6 digits), an outside
    number (at least 6 digits) or an international one with 011 (at least 9 digits)."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValidationError(name, f"expected a phone number or extension, got {value!r}")
    text = _FORMATTING.sub("", str(value))
    text = text[1:] if text.startswith("+") else text
    if not text.isascii() or not text.isdigit():
        raise ValidationError(
            name, f"{value!r} has characters other than digits, spaces, - . ( ) and a leading +"
        )
    if len(text) < 2:
        raise ValidationError(name, f"{value!r} is too short for an extension or phone number")
    if 6 < len(text) < 9 and text.startswith("011"):
        raise ValidationError(name, f"{value!r}: an international number needs 011 + 6 digits")
    return text


def _wall(value: datetime) -> datetime:
    """The wall-clock time the service sees: naive as given, aware in UTC."""
    return value.astimezone(timezone.utc).replace(tzinfo=None) if value.tzinfo else value


def _history_time(name: str, value: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS``."""
    if not isinstance(value, datetime):
        raise ValidationError(name, f"expected a datetime, got {value!r}")
    return _wall(value).strftime("%Y-%m-%dT%H:%M:%S")


def _results(value: str | m.CallResult | Iterable[str | m.CallResult]) -> str:
    items = [value] if isinstance(value, str) else list(value)
    if not items:
        raise ValidationError("result", "give at least one of answered, unanswered, voicemail")
    names = {check.enum_value("result", str(item).lower(), m.CallResult) for item in items}
    return ",".join(sorted(names))


def _seconds(name: str, value: int | timedelta) -> int:
    if isinstance(value, timedelta):
        value = int(value.total_seconds())
    return check.int_range(name, value, 0)


def _history_key(record: m.CallHistoryRecord) -> tuple[Any, ...]:
    return (record.timestamp, record.from_, record.to, record.extension)


def _before(record: m.CallHistoryRecord, end: datetime | None) -> bool:
    """Inside a window ending at ``end``: anything newer was yielded by an earlier window."""
    return end is None or record.timestamp is None or record.timestamp <= end


class Legacy:
    """``client.legacy``: click to call, directory, extensions, conferences, queues, call
    history, recordings (``recordings``) and Live Status (``live_status``)."""

    def __init__(self, service: Service) -> None:
        self._service = service
        self.recordings = Recordings(service)
        self.live_status = LiveStatusAPI(service)

    def __repr__(self) -> str:
        return f"<Legacy {self._service.base_url}>"

    def _url(self, *segments: str) -> URL:
        return self._service.url("presence", "rest", *segments)

    async def _get(self, url: URL, model: type[T], reshape: Callable[[Any], Any]) -> T:
        with reasons():
            response = await self._service.request("GET", url)
        return structure(reshape(response.json()), model)

    async def click_to_call(self, number: str | int) -> None:
        """This web service initiates a call from an extension.

        The user's default extension (else their lowest-numbered one) rings; once answered,
        ``number`` is dialed. ``number`` is an extension or a phone number; spaces, ``-``,
        ``.``, parentheses and a leading ``+`` are removed, anything else is refused before
        sending. Never retried: a retry could ring twice.

        Raises ``BadPhoneNumberError``, ``InternationalBlockedError``, ``NoExtensionError``,
        ``AccountInactiveError`` (all ``HTTPError``) with the reason in words.
        """
        url = self._url("clicktocall", dial_string("number", number))
        with reasons():
            await self._service.request("GET", url, retry=False)

    async def directory(self) -> m.Directory:
        """This web service returns JSON data that identifies all the conference bridges, call
        queues, and extensions on the account as well as status data for each."""
        return await self._get(self._url("directory"), m.Directory, m.directory_document)

    async def extension(self, number: str | int) -> m.ExtensionInfo:
        """This web service returns current information about the specified extension.

        ``calls`` lists its active calls (empty when it has none).
        """
        number = check.extension_number("number", number)
        return await self._get(self._url("extension", number), m.ExtensionInfo, m.details_document)

    async def conference(self, number: str | int) -> m.ConferenceInfo:
        """This web service returns information about the specified conference bridge."""
        number = check.extension_number("number", number)
        return await self._get(
            self._url("conference", number), m.ConferenceInfo, m.conference_document
        )

    async def queue(self, number: str | int) -> m.QueueInfo:
        """This web service returns information about the specified call queue."""
        number = check.extension_number("number", number)
        return await self._get(self._url("queue", number), m.QueueInfo, m.details_document)

    async def call_history(
        self,
        extension: str | int,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        from_: str | None = None,
        to: str | None = None,
        result: str | m.CallResult | Iterable[str | m.CallResult] | None = None,
        caller_id: str | None = None,
        custom_tag: str | None = None,
        min_duration: int | timedelta | None = None,
        max_duration: int | timedelta | None = None,
        is_recorded: bool | None = None,
    ) -> list[m.CallHistoryRecord]:
        """This web service returns call history information for the extension(s) of the
        current authenticated user.

        The service returns at most 100 records (newest first) per request: to read a longer
        period, use ``call_history_all``, which walks back through time.

        ``start``/``end`` are sent as ``YYYY-MM-DDTHH:MM:SS`` (naive datetimes as given, aware
        ones in UTC; ``end`` defaults to now on the server). ``from_``/``to`` match all or part
        of a number, ``caller_id`` part of the caller ID, ``custom_tag`` the whole tag (both
        case-insensitive); ``result`` is any of answered, unanswered, voicemail; durations are
        seconds (calls longer than ``min_duration``, shorter than ``max_duration``).
        """
        url, params = self._history_request(
            extension,
            start=start,
            end=end,
            from_=from_,
            to=to,
            result=result,
            caller_id=caller_id,
            custom_tag=custom_tag,
            min_duration=min_duration,
            max_duration=max_duration,
            is_recorded=is_recorded,
        )
        return await self._history_page(url, params)

    def call_history_all(
        self,
        extension: str | int,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        from_: str | None = None,
        to: str | None = None,
        result: str | m.CallResult | Iterable[str | m.CallResult] | None = None,
        caller_id: str | None = None,
        custom_tag: str | None = None,
        min_duration: int | timedelta | None = None,
        max_duration: int | timedelta | None = None,
        is_recorded: bool | None = None,
    ) -> AsyncIterator[m.CallHistoryRecord]:
        """Every call-history record matching the filters, newest first, past the limit of 100.

        Takes the arguments of ``call_history`` (checked now). After a full window of 100 the
        next request ends at the oldest time seen; records already yielded (same timestamp,
        from, to and extension) are dropped, so none repeat. Stops at a window of fewer than
        100 or at ``start``. If 100 records share one second, the walk steps back a second
        past them, which may skip others from that same second.
        """
        url, params = self._history_request(
            extension,
            start=start,
            end=end,
            from_=from_,
            to=to,
            result=result,
            caller_id=caller_id,
            custom_tag=custom_tag,
            min_duration=min_duration,
            max_duration=max_duration,
            is_recorded=is_recorded,
        )
        return self._walk_history(url, params, None if start is None else _wall(start))

    def _history_request(
        self,
        extension: str | int,
        *,
        start: datetime | None,
        end: datetime | None,
        from_: str | None,
        to: str | None,
        result: str | m.CallResult | Iterable[str | m.CallResult] | None,
        caller_id: str | None,
        custom_tag: str | None,
        min_duration: int | timedelta | None,
        max_duration: int | timedelta | None,
        is_recorded: bool | None,
    ) -> tuple[URL, dict[str, str]]:
        number = check.extension_number("extension", extension)
        if is_recorded is not None and not isinstance(is_recorded, bool):
            raise ValidationError("is_recorded", f"expected True or False, got {is_recorded!r}")
        params = check.query(
            start=None if start is None else _history_time("start", start),
            end=None if end is None else _history_time("end", end),
            **{"from": None if from_ is None else check.text("from_", from_, max_len=64)},
            to=None if to is None else check.text("to", to, max_len=64),
            result=None if result is None else _results(result),
            callerid=None if caller_id is None else check.text("caller_id", caller_id),
            customtag=None if custom_tag is None else check.text("custom_tag", custom_tag),
            minduration=None if min_duration is None else _seconds("min_duration", min_duration),
            maxduration=None if max_duration is None else _seconds("max_duration", max_duration),
            isrecorded=is_recorded,
        )
        return self._url("callhistory", number), params

    async def _history_page(self, url: URL, params: dict[str, str]) -> list[m.CallHistoryRecord]:
        with reasons():
            response = await self._service.request("GET", url, params=params)
        return structure(m.history_document(response.json()), list[m.CallHistoryRecord])

    async def _walk_history(
        self, url: URL, params: dict[str, str], floor: datetime | None
    ) -> AsyncIterator[m.CallHistoryRecord]:
        seen: set[tuple[Any, ...]] = set()
        end: datetime | None = None
        while True:
            page = await self._history_page(url, params)
            fresh = [r for r in page if _history_key(r) not in seen and _before(r, end)]
            for record in fresh:
                yield record
            times = [r.timestamp for r in page if r.timestamp is not None]
            if len(page) < HISTORY_LIMIT or not times:
                return
            oldest = min(times)
            if not fresh:  # a whole window inside one second: step past it
                oldest -= timedelta(seconds=1)
            if end is not None and oldest >= end:  # the server ignored ``end``: no progress
                logger.warning("call history did not move back past %s; stopping", end)
                return
            if floor is not None and _wall(oldest) < floor:
                return
            # Only records at the new end can come back; forget the rest.
            seen = {_history_key(r) for r in page if r.timestamp == oldest}
            end = oldest
            params = {**params, "end": _history_time("end", oldest)}

    def recording_url(self, presence_call_id: str | int) -> URL:
        """The recordings-player page of a call (same as ``recordings.recording_url``)."""
        return self.recordings.recording_url(presence_call_id)
