"""The legacy Business Solutions API (seed 003): ``client.legacy``.

Every endpoint hangs off ``{legacy_url}/presence/rest/``; the session cookies come from
``SessionLogin``, which logs in again when the server says ``USER NOT LOGGED IN``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

from yarl import URL

from .. import _validation as check, errors
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

# Seed 003 lets the server drop formatting from a click-to-call number, so it is removed
# here too; only printable formatting, never tabs or line breaks.
_FORMATTING = re.compile(r"[ \-.()]")
_DIAL = re.compile(r"\+?[0-9]{2,20}")  # 011 + a 15-digit international number fits in 20


def dial_string(name: str, value: Any) -> str:
    """A number for click to call, formatting removed: an extension (2 to 6 digits), an outside
    number (at least 6 digits) or an international one with 011 (at least 9 digits)."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**20:
        value = str(value)
    if not isinstance(value, str):
        raise ValidationError(
            name, f"expected a phone number or extension, got {check.short(value)}"
        )
    text = _FORMATTING.sub("", value)
    if not _DIAL.fullmatch(text):
        raise ValidationError(
            name,
            "expected 2 to 20 digits 0-9, with spaces, - . ( ) and a leading + allowed; "
            f"got {check.short(value)}",
        )
    text = text.removeprefix("+")
    if 6 < len(text) < 9 and text.startswith("011"):
        raise ValidationError(name, f"{value!r}: an international number needs 011 + 6 digits")
    return text


def _wall(value: datetime) -> datetime:
    """The wall-clock time the service sees: naive as given, aware in UTC."""
    return value.astimezone(timezone.utc).replace(tzinfo=None) if value.tzinfo else value


def _history_time(name: str, value: Any) -> str:
    """``YYYY-MM-DDTHH:MM:SS``: naive datetimes as given, aware ones in UTC."""
    return check.utc_wall(name, value).replace(microsecond=0).isoformat()  # a 4-digit year


def _results(value: Any) -> str:
    items = [value] if isinstance(value, str) else value
    if isinstance(items, (bytes, bytearray, Mapping)) or not isinstance(items, Iterable):
        raise ValidationError(
            "result", f"expected a result or a list of them, got {type(value).__name__}"
        )
    items = list(items)
    if not items:
        raise ValidationError("result", "give at least one of answered, unanswered, voicemail")
    for item in items:
        if not isinstance(item, str):  # a CallResult is a str
            raise ValidationError("result", f"expected a result name, got {item!r}")
    names = {check.enum_value("result", item.lower(), m.CallResult) for item in items}
    return ",".join(sorted(names))


def _seconds(name: str, value: int | timedelta) -> int:
    if isinstance(value, timedelta):
        value = int(value.total_seconds())
    return check.int_range(name, value, 0)


def _number_part(name: str, value: Any) -> str:
    """All or part of a phone number (the ``from``/``to`` filters): 1 to 15 digits."""
    return check.digits(name, value, min_len=1, max_len=15)


def _history_key(record: m.CallHistoryRecord) -> tuple[Any, ...]:
    return (record.timestamp, record.from_, record.to, record.extension)


class Legacy:
    """``client.legacy``: click to call, directory, extensions, conferences, queues, call
    history, recordings (``recordings``) and Live Status (``live_status``)."""

    def __init__(self, service: Service) -> None:
        # Seed 003's 409: "session being used by more than one API caller".
        service.conflict = errors.SessionConflictError
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
        next request ends with the whole second of the oldest record seen, so calls later in
        that second are not lost; records already yielded (same timestamp, from, to and
        extension) are dropped, so none repeat. Stops at a window of fewer than 100 or at
        ``start``. If a window holds nothing older, the walk steps back a second at a time: a
        second with more than 100 calls is read only as far as the server's 100.
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
        floor = None if start is None else check.utc_wall("start", start)
        return self._walk_history(url, params, floor)

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
            **{"from": None if from_ is None else _number_part("from_", from_)},
            to=None if to is None else _number_part("to", to),
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
        # Each window after the first ends with the whole second of the previous window's
        # oldest record (``end`` has whole seconds, the server's times may not): that second's
        # records not yet read come back, those already read are dropped by key.
        seen: dict[tuple[Any, ...], datetime] = {}
        end: datetime | None = None
        while True:
            page = await self._history_page(url, params)
            times = [r.timestamp for r in page if r.timestamp is not None]
            if end is not None and any(_wall(t) > end for t in times):
                logger.warning("call history did not move back past %s; stopping", end)
                return
            for record in page:
                key = _history_key(record)
                if key not in seen:
                    # A record without a time is kept in mind for the whole walk.
                    stamp = record.timestamp
                    seen[key] = datetime.min if stamp is None else _wall(stamp)
                    yield record
            if len(page) < HISTORY_LIMIT or not times:
                return
            oldest = _wall(min(times))
            if floor is not None and oldest < floor:
                return
            ask = oldest + timedelta(seconds=1)  # up to the end of the oldest second
            if end is not None and ask >= end:
                # No progress: a whole window within the boundary. Step back a second; calls
                # beyond the 100 a server returns for one second cannot be reached.
                ask = end - timedelta(seconds=1)
            # Only records up to the new end can come back; forget the rest.
            seen = {k: t for k, t in seen.items() if t <= ask}
            end = ask
            params = {**params, "end": _history_time("end", ask)}

    def recording_url(self, presence_call_id: str | int) -> URL:
        """The recordings-player page of a call (same as ``recordings.recording_url``)."""
        return self.recordings.recording_url(presence_call_id)
