"""The Integration Platform ("VIS") API: the 20 operations of specs/integration-platform.yml.

Everything lives under ``/self`` (the authenticated user). Listings answer bare JSON arrays and
page with ``offset`` ("Page number of ... to return", counted from 0 here, as Spring pages are)
and ``size``; the pager asks for the next page until one comes back short or empty.
``fromDate``/``toDate`` are integers in the file: epoch milliseconds are sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from yarl import URL

from .. import _validation as check, errors
from .._converter import structure
from .._paging import AsyncPager, OffsetPages
from .._service import Service
from ._models import (
    Account,
    Call,
    Count,
    Direction,
    Event,
    EventState,
    MetadataPolicy,
    Order,
    User,
    Webhook,
)

if TYPE_CHECKING:
    from ..webhooks import Subscription, WebhookReceiver

T = TypeVar("T")

_LIVE_STATES = ("INITIALIZING", "RINGING", "ACTIVE", "HELD", "REMOTE_HELD")


def _epoch_ms(name: str, value: datetime | float | int | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return check.epoch_seconds(name, value) * 1000 + value.microsecond // 1000
    return int(check.epoch_seconds(name, value) * 1000 + (value % 1) * 1000)


def _csv(name: str, values: Iterable[Any] | str | None, allowed: Iterable[str]) -> str | None:
    """Comma-separated filter values, each one of ``allowed``."""
    if values is None:
        return None
    items = [values] if isinstance(values, str) else list(values)
    if not items:
        raise errors.ValidationError(name, "must name at least one value")
    known = frozenset(allowed)
    return ",".join(check.one_of(name, str(v).upper(), known) for v in items)


def _one(data: Any, model: type[T], what: str, method: str, url: URL) -> T:
    """The file answers some single records as a one-element array: take one or the other."""
    if isinstance(data, list):
        if not data:
            raise errors.DecodeError(f"the answer holds no {what}", method=method, url=url)
        data = data[0]
    return structure(data, model, what=what)


class _Resource:
    def __init__(self, service: Service) -> None:
        self._service = service

    async def _count(
        self,
        what: str,
        from_date: datetime | float | None,
        to_date: datetime | float | None,
        direction: Iterable[Direction | str] | str | None,
        states: Iterable[EventState | str] | str | None,
    ) -> int:
        params = check.query(
            fromDate=_epoch_ms("from_date", from_date),
            toDate=_epoch_ms("to_date", to_date),
            direction=_csv("direction", direction, Direction._value2member_map_),
            states=_csv("states", states, _LIVE_STATES),
        )
        url = self._service.url("self", what, "count")
        response = await self._service.request("GET", url, params=params)
        return structure(response.json(), Count).count or 0

    async def _call(self, method: str, url: URL, model: type[T], json: Any = None) -> T:
        response = await self._service.request(method, url, json=json)
        return _one(response.json(), model, model.__name__, method, url)

    def _pager(
        self, url: URL, model: type[T], params: dict[str, str], size: int, max_items: int | None
    ) -> AsyncPager[T]:
        check.int_range("size", size, 1)
        item_list = list[model]  # type: ignore[valid-type]

        async def fetch(url: URL, query: Mapping[str, str] | None) -> Any:
            query = dict(query or {})
            body = await self._service.get_json(url, query)
            return {"offset": int(query.get("offset", "0")), "items": body}

        def decode(items: list[Any]) -> list[T]:
            return structure(items, item_list, what=f"a list of {model.__name__}")

        return AsyncPager(
            fetch,
            url,
            {**params, "offset": params.get("offset", "0"), "size": str(size)},
            style=OffsetPages(size),
            decode=decode,
            base=self._service.base_url,
            concurrency=1,
            max_items=max_items,
        )


class Calls(_Resource):
    """Call control: ``/self/calls``."""

    async def place(self, phone_number: str) -> Call:
        """Place a call (to ``phone_number``, from the authenticated user)."""
        body = {"phoneNumber": check.phone_number("phone_number", phone_number)}
        return await self._call("POST", self._service.url("self", "calls"), Call, body)

    def list(
        self,
        *,
        direction: Iterable[Direction | str] | str | None = None,
        order: Order | str | None = None,
        offset: int = 0,
        size: int = 20,
        max_items: int | None = None,
    ) -> AsyncPager[Call]:
        """List active calls: lists currently active calls."""
        params = check.query(
            direction=_csv("direction", direction, Direction._value2member_map_),
            order=None if order is None else check.enum_value("order", order, Order),
            offset=check.int_range("offset", offset, 0),
        )
        return self._pager(self._service.url("self", "calls"), Call, params, size, max_items)

    async def count(
        self,
        *,
        from_date: datetime | float | None = None,
        to_date: datetime | float | None = None,
        direction: Iterable[Direction | str] | str | None = None,
        states: Iterable[EventState | str] | str | None = None,
    ) -> int:
        """Get calls count (``states`` defaults to ACTIVE on the server)."""
        return await self._count("calls", from_date, to_date, direction, states)

    def _url(self, call_id: str | int, *rest: str) -> URL:
        return self._service.path("self", "calls", ("call_id", call_id), *rest)

    async def get(self, call_id: str | int) -> Call:
        """Get a call."""
        return await self._call("GET", self._url(call_id), Call)

    async def end(self, call_id: str | int) -> Call:
        """End a call."""
        return await self._call("DELETE", self._url(call_id), Call)

    async def answer(self, call_id: str | int) -> Call:
        """Answer call (on supported devices)."""
        return await self._call("PUT", self._url(call_id, "answer"), Call)

    async def hold(self, call_id: str | int) -> Call:
        """Put call on hold."""
        return await self._call("PUT", self._url(call_id, "hold"), Call)

    async def unhold(self, call_id: str | int) -> Call:
        """Unhold."""
        return await self._call("DELETE", self._url(call_id, "hold"), Call)

    async def to_voicemail(self, call_id: str | int) -> Call:
        """Send call to voicemail (not available for Vonage Business Enterprise (VBE) customers)."""
        return await self._call("PUT", self._url(call_id, "vmtransfer"), Call)

    async def transfer(self, call_id: str | int, phone_number: str) -> Call:
        """Transfer call (to ``phone_number``)."""
        body = {"phoneNumber": check.phone_number("phone_number", phone_number)}
        return await self._call("POST", self._url(call_id, "transfer"), Call, body)


class Events(_Resource):
    """The event log: ``/self/events``."""

    def list(
        self,
        *,
        types: Iterable[str] | str | None = None,
        from_date: datetime | float | None = None,
        to_date: datetime | float | None = None,
        direction: Iterable[Direction | str] | str | None = None,
        states: Iterable[EventState | str] | str | None = None,
        offset: int = 0,
        size: int = 20,
        order: Order | str | None = None,
        sort: str | None = None,
        max_items: int | None = None,
    ) -> AsyncPager[Event]:
        """List events (``order`` ASC on the server unless given; ``sort`` names a property)."""
        params = check.query(
            types=_csv("types", types, ("CALL",)),
            fromDate=_epoch_ms("from_date", from_date),
            toDate=_epoch_ms("to_date", to_date),
            direction=_csv("direction", direction, Direction._value2member_map_),
            states=_csv("states", states, EventState._value2member_map_),
            offset=check.int_range("offset", offset, 0),
            order=None if order is None else check.enum_value("order", order, Order),
            sort=None if sort is None else check.text("sort", sort),
        )
        return self._pager(self._service.url("self", "events"), Event, params, size, max_items)

    async def count(
        self,
        *,
        from_date: datetime | float | None = None,
        to_date: datetime | float | None = None,
        direction: Iterable[Direction | str] | str | None = None,
        states: Iterable[EventState | str] | str | None = None,
    ) -> int:
        """Get events count."""
        return await self._count("events", from_date, to_date, direction, states)

    async def get(self, event_id: str | int) -> Event:
        """Get event."""
        return await self._call(
            "GET", self._service.path("self", "events", ("event_id", event_id)), Event
        )


class Webhooks(_Resource):
    """Webhooks: external URLs which subscribe to receive events via HTTP POST."""

    async def create(
        self,
        url: str,
        *,
        signing_key: str,
        metadata_policy: MetadataPolicy | str = "HEADER",
        events: Iterable[str] = ("CALL",),
    ) -> Webhook:
        """Create a new webhook subscription, signed with HMAC-SHA256 under ``signing_key``."""
        names = [check.one_of("events", str(e).upper(), ("CALL",)) for e in events]
        if not names:
            raise errors.ValidationError("events", "must name at least one event type")
        body = {
            "url": check.url("url", url),
            "events": names,
            "signingAlgo": "HMAC_SHA256",
            "signingKey": check.text("signing_key", signing_key),
            "metadataPolicy": check.enum_value("metadata_policy", metadata_policy, MetadataPolicy),
        }
        return await self._call("POST", self._service.url("self", "webhooks"), Webhook, body)

    async def list(self) -> list[Webhook]:
        """List web hooks."""
        data = await self._service.get_json(self._service.url("self", "webhooks"))
        return structure(data, list[Webhook], what="a list of Webhook")

    def _url(self, webhook_id: str, *rest: str) -> URL:
        return self._service.path("self", "webhooks", ("webhook_id", webhook_id), *rest)

    async def get(self, webhook_id: str) -> Webhook:
        """Get web hook details."""
        return await self._call("GET", self._url(webhook_id), Webhook)

    async def delete(self, webhook_id: str) -> None:
        """Remove a web hook."""
        await self._service.request("DELETE", self._url(webhook_id))

    async def renew(self, webhook_id: str) -> Webhook:
        """Renews a web hook: clears its failed flag and moves ``expireAt`` on."""
        return await self._call("PUT", self._url(webhook_id, "renew"), Webhook)


class Integration:
    """The Integration Platform API: ``me()``, ``account()``, ``calls``, ``events``,
    ``webhooks`` and ``subscribe()``."""

    def __init__(self, service: Service) -> None:
        self._service = service
        self.calls = Calls(service)
        self.events = Events(service)
        self.webhooks = Webhooks(service)

    def __repr__(self) -> str:
        return f"<Integration {self._service.base_url}>"

    async def me(self) -> User:
        """User info."""
        return await self.calls._call("GET", self._service.url("self"), User)

    async def account(self) -> Account:
        """Account info."""
        return await self.calls._call("GET", self._service.url("self", "account"), Account)

    def subscribe(
        self,
        receiver: WebhookReceiver,
        *,
        url: str,
        metadata_policy: MetadataPolicy | str = "HEADER",
        check_interval: float = 60.0,
        renew_before: timedelta = timedelta(days=2),
        margin: float = 5.0,
        since: datetime | None = None,
        delete_on_exit: bool = False,
    ) -> Subscription:
        """Keep ``receiver`` fed: create (or adopt) the webhook for ``url``, renew it, and
        backfill from the event log after any gap; use as ``async with
        client.integration.subscribe(receiver, url=...)``. See
        :class:`vonage_async.webhooks.Subscription` for the options."""
        from ..webhooks import Subscription

        return Subscription(
            self,
            receiver,
            url=url,
            metadata_policy=metadata_policy,
            check_interval=check_interval,
            renew_before=renew_before,
            margin=margin,
            since=since,
            delete_on_exit=delete_on_exit,
        )
