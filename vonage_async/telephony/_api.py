"""Telephony v3 (seed 002, specs/telephony.yml): active calls, their legs, device registrations.

Calls and legs live under ``/cc/accounts/{account_id}/calls``, devices under
``/registration/accounts/{account_id}/devices``; ``account_id`` may be ``"self"``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Literal, TypeVar, overload

import attrs
from yarl import URL

from .. import _http, _validation as check, errors
from .._converter import structure
from .._paging import AsyncPager, Page, TelephonyPages
from .._service import Service
from .._transport import Backoff
from .._watch import Hub, LifecycleWatch, PollSource, Watch
from ._models import (
    Call,
    CallState,
    CallType,
    CallUpdate,
    Device,
    Endpoint,
    EndpointType,
    Leg,
    LegState,
    LegUpdate,
    RecordingService,
)
from ._watch import ActiveCallsSource, watch_key

T = TypeVar("T")

Order = Literal["asc", "desc"]
Moment = datetime | int | float
EndpointLike = Endpoint | Mapping[str, Any]

# Which endpoint types each body documents.
_CALLER = frozenset({EndpointType.DEVICE, EndpointType.EXTENSION, EndpointType.FEATURE_CODE})
_CALLEE = _CALLER | {EndpointType.PSTN}
_CONTACT = frozenset({EndpointType.DEVICE, EndpointType.EXTENSION, EndpointType.PSTN})

_FACTORIES: dict[EndpointType, Callable[[Any], Endpoint]] = {
    EndpointType.DEVICE: Endpoint.device,
    EndpointType.EXTENSION: Endpoint.extension,
    EndpointType.PSTN: Endpoint.pstn,
    EndpointType.FEATURE_CODE: Endpoint.feature_code,
    EndpointType.LEG: Endpoint.leg,
}


def _endpoint(name: str, value: Any, allowed: frozenset[EndpointType]) -> dict[str, str]:
    """An ``Endpoint`` or plain dict, checked, as its wire form."""
    destination: Any
    if isinstance(value, Endpoint):
        kind, destination = value.type, value.destination
    elif isinstance(value, Mapping):
        kind, destination = EndpointType(str(value.get("type"))), value.get("destination")
    else:
        raise errors.ValidationError(name, "expected an Endpoint or a dict with destination, type")
    if kind not in allowed:
        choices = ", ".join(sorted(t.value for t in allowed))
        raise errors.ValidationError(name, f"type must be one of {choices}; got {kind.value!r}")
    try:
        endpoint = _FACTORIES[kind](destination)
    except errors.ValidationError as exc:
        raise errors.ValidationError(name, exc.problem) from None
    # The spec types destination as a string (the seed's example sends a number).
    return {"destination": endpoint.destination, "type": endpoint.type.value}


def _window(
    page_size: int | None, order: Order | None, start_time: Moment | None, end_time: Moment | None
) -> dict[str, Any]:
    """The paging and time-window query the call and device lists share."""
    if page_size is not None:
        check.int_range("page_size", page_size, 1)
    if order is not None:
        check.one_of("order", order, ("asc", "desc"))
    start = None if start_time is None else check.epoch_seconds("start_time", start_time)
    end = None if end_time is None else check.epoch_seconds("end_time", end_time)
    if start is not None and end is not None and end < start:
        raise errors.ValidationError("end_time", "is before start_time")
    return {"page_size": page_size, "order": order, "start_time": start, "end_time": end}


@attrs.frozen
class _LegPages(TelephonyPages):
    """The legs list is documented as a bare array (``CallLegList``); a paged object also works."""

    def parse(self, body: Any, base: URL) -> Page[Any]:
        if isinstance(body, list):
            return Page(items=body, raw=body)
        return super().parse(body, base)


_CALL_PAGES = TelephonyPages("calls")
_LEG_PAGES = _LegPages("legs")
_DEVICE_PAGES = TelephonyPages("devices")


class _Resource:
    def __init__(self, service: Service) -> None:
        self._service = service

    def _calls(self, account_id: str, *rest: tuple[str, Any] | str) -> URL:
        return self._service.path("cc", "accounts", ("account_id", account_id), "calls", *rest)

    async def _request(self, method: str, url: URL, body: dict[str, Any] | None = None) -> Any:
        return await self._service.request(method, url, json=body)  # a 409: Service.conflict

    async def _send(
        self, method: str, url: URL, model: type[T], body: dict[str, Any] | None = None
    ) -> T:
        response = await self._request(method, url, body)
        return structure(response.json() or {}, model)  # an empty answer still acknowledges


class Calls(_Resource):
    """Active calls: ``client.telephony.calls``."""

    def __init__(self, service: Service) -> None:
        super().__init__(service)
        self._hubs: dict[tuple[str, str | None], Hub] = {}

    def list(
        self,
        account_id: str = "self",
        *,
        extension: str | int | None = None,
        page_size: int | None = None,
        order: Order | None = None,
        start_time: Moment | None = None,
        end_time: Moment | None = None,
        concurrency: int = 4,
        max_items: int | None = None,
    ) -> AsyncPager[Call]:
        """Get list of active calls for a given account (paginated)."""
        if extension is not None:
            extension = check.extension_number("extension", extension)
        params = check.query(extension=extension, **_window(page_size, order, start_time, end_time))
        return self._service.pager(
            self._calls(account_id),
            params,
            Call,
            style=_CALL_PAGES,
            concurrency=concurrency,
            max_items=max_items,
        )

    @overload
    def watch(
        self,
        account_id: str = "self",
        *,
        extension: str | int | None = None,
        interval: float | None = None,
        backoff: Backoff | None = None,
        max_queue: int = 1000,
        page_size: int | None = None,
        lifecycle: Literal[False] = False,
    ) -> Watch: ...

    @overload
    def watch(
        self,
        account_id: str = "self",
        *,
        extension: str | int | None = None,
        interval: float | None = None,
        backoff: Backoff | None = None,
        max_queue: int = 1000,
        page_size: int | None = None,
        lifecycle: Literal[True],
    ) -> LifecycleWatch: ...

    def watch(
        self,
        account_id: str = "self",
        *,
        extension: str | int | None = None,
        interval: float | None = None,
        backoff: Backoff | None = None,
        max_queue: int = 1000,
        page_size: int | None = None,
        lifecycle: bool = False,
    ) -> Watch | LifecycleWatch:
        """Watch active calls as events: ``Snapshot``, ``CallStarted``, ``CallUpdated`` (state
        or legs changed) and ``CallEnded``, keyed by ``call_id`` (``event.extension`` is the
        ``extension`` watched, or None).

        The active-call list is walked, all pages; after a walk of n pages the watch waits n
        times ``interval`` seconds. By default ``interval`` spends half of the client's
        ``vbc_rate_limit`` (or of the VBC default quota, 10 requests a minute: 12 s), leaving
        the rest to your own calls; a shorter one that cannot fit the quota is warned about
        once, at start. Each call is started once and ended once across faults and resyncs.
        Watches with the same account and extension share one poller (the settings of the
        watch that starts it apply). A 429 stretches the interval (honouring Retry-After, up
        to 5 minutes); other faults back off and resynchronise. Only a refused grant
        (``AuthenticationError`` with ``error`` ``invalid_grant`` or ``invalid_client``) ends
        the watch. ``lifecycle=True`` adds lifecycle events, as for Live Status.
        """
        key = watch_key(account_id, extension, interval, page_size)
        backoff = backoff or Backoff()
        hub = self._hubs.get(key)
        if hub is None:
            source = self._source(key, interval, page_size)
            hub = self._hubs[key] = Hub(
                source, backoff=backoff, name="Telephony calls", hooks=self._service.transport.hooks
            )
            self._service.transport.on_close(hub.close)
        elif not hub.running and isinstance(hub.source, ActiveCallsSource):
            hub.source.configure(interval=interval, page_size=page_size)  # nobody watching
            hub.backoff = backoff
        if lifecycle:
            return LifecycleWatch(hub, None, max_queue=max_queue, lifecycle=True)
        return Watch(hub, None, max_queue=max_queue)

    def _poll_source(
        self,
        account_id: str = "self",
        extensions: str | int | None = None,
        *,
        interval: float | None = None,
        page_size: int | None = None,
    ) -> PollSource:
        """A new active-calls source bound to this client, for a ``Hub`` built elsewhere (the
        fan-out module): ``Hub(source, backoff=..., name=..., initial_state=..., on_poll=...)``.
        ``extensions`` is one extension or None (the whole account); ``interval`` as in
        ``watch()``."""
        key = watch_key(account_id, extensions, interval, page_size)
        return self._source(key, interval, page_size)

    def _source(
        self, key: tuple[str, str | None], interval: float | None, page_size: int | None
    ) -> ActiveCallsSource:
        limiter = self._service.binding.limiter
        account_id, extension = key
        return ActiveCallsSource(
            lambda page_size: self.list(account_id, extension=extension, page_size=page_size),
            is_closed=lambda: self._service.transport.closed,
            extension=extension,
            interval=interval,
            page_size=page_size,
            quota=limiter.limit if limiter is not None else None,
        )

    async def create(
        self,
        account_id: str = "self",
        *,
        from_: EndpointLike,
        to: EndpointLike,
        type: CallType | str | None = None,
    ) -> str:
        """Create a new call. Returns the new call's id."""
        body: dict[str, Any] = {
            "from": _endpoint("from_", from_, _CALLER),
            "to": _endpoint("to", to, _CALLEE),
        }
        if type is not None:
            body["type"] = check.enum_value("type", type, CallType)
        response = await self._request("POST", self._calls(account_id), body)
        return _call_id(response.body)

    async def get(self, account_id: str, call_id: str) -> Call:
        """Get details for a specific active call."""
        return await self._send("GET", self._calls(account_id, ("call_id", call_id)), Call)

    async def update(
        self,
        account_id: str,
        call_id: str,
        *,
        from_: EndpointLike | None = None,
        to: EndpointLike | None = None,
        state: CallState | str | None = None,
    ) -> CallUpdate:
        """Update an existing call.

        Answer: ``state="active"`` and ``to`` the answering device. Transfer: ``from_`` and
        ``to``, no state. Park: ``state="parked"`` and ``from_``.
        """
        url = self._calls(account_id, ("call_id", call_id))
        body: dict[str, Any] = {}
        if from_ is not None:
            body["from"] = _endpoint("from_", from_, _CONTACT)
        if state is not None:
            body["state"] = check.enum_value("state", state, CallState)
        if to is not None:
            body["to"] = _endpoint("to", to, _CONTACT)
        if not body:
            raise errors.ValidationError("state", "give at least one of from_, to, state")
        return await self._send("PUT", url, CallUpdate, body)

    async def delete(self, account_id: str, call_id: str) -> CallUpdate:
        """Delete a call resource (hang up)."""
        return await self._send("DELETE", self._calls(account_id, ("call_id", call_id)), CallUpdate)


def _call_id(body: bytes) -> str:
    """The id a call creation answers: text/plain, a JSON string, or an object with call_id."""
    data = _http.decode_json(body)
    if isinstance(data, Mapping) and data.get("call_id") is not None:
        return str(data["call_id"])
    if isinstance(data, (str, int)) and not isinstance(data, bool):
        return str(data)
    return body.decode("utf-8", "replace").strip()


class Legs(_Resource):
    """The legs of an active call, and what can be done to one: ``client.telephony.legs``."""

    def _leg(self, account_id: str, call_id: str, leg_id: str) -> URL:
        return self._calls(account_id, ("call_id", call_id), "legs", ("leg_id", leg_id))

    def list(
        self,
        account_id: str,
        call_id: str,
        *,
        concurrency: int = 4,
        max_items: int | None = None,
    ) -> AsyncPager[Leg]:
        """Get list of legs for a given active call."""
        return self._service.pager(
            self._calls(account_id, ("call_id", call_id), "legs"),
            None,
            Leg,
            style=_LEG_PAGES,
            concurrency=concurrency,
            max_items=max_items,
        )

    async def get(self, account_id: str, call_id: str, leg_id: str) -> Leg:
        """Get details for a specific active call leg."""
        return await self._send("GET", self._leg(account_id, call_id, leg_id), Leg)

    async def update(
        self,
        account_id: str,
        call_id: str,
        leg_id: str,
        *,
        state: LegState | str | None = None,
        to: EndpointLike | None = None,
        dtmf: str | None = None,
        stream: bool | None = None,
        stream_url: str | None = None,
        recording: Literal["start", "stop"] | None = None,
        service: RecordingService | str | None = None,
    ) -> LegUpdate:
        """Modify a call leg. The named methods below send each documented body."""
        url = self._leg(account_id, call_id, leg_id)
        body: dict[str, Any] = {}
        if state is not None:
            body["state"] = check.enum_value("state", state, LegState)
        if to is not None:
            body["to"] = _endpoint("to", to, _CONTACT | {EndpointType.LEG})
        if dtmf is not None:
            body["dtmf"] = check.dtmf("dtmf", dtmf)
        if stream is not None:
            if not isinstance(stream, bool):
                raise errors.ValidationError("stream", f"expected True or False, got {stream!r}")
            body["stream"] = stream
        if stream_url is not None:
            if stream is not True:
                raise errors.ValidationError("stream_url", "goes with stream=True")
            body["stream_url"] = check.url("stream_url", stream_url)
        elif stream is True:
            raise errors.ValidationError("stream_url", "is required with stream=True")
        if (recording is None) != (service is None):
            raise errors.ValidationError("service", "recording and service go together")
        if recording is not None and service is not None:
            body["recording"] = check.one_of("recording", recording, ("start", "stop"))
            body["service"] = check.enum_value("service", service, RecordingService)
        if not body:
            raise errors.ValidationError("state", "give at least one change to the leg")
        return await self._send("PUT", url, LegUpdate, body)

    async def hold(self, account_id: str, call_id: str, leg_id: str) -> LegUpdate:
        """Put a call leg on hold: ``{"state": "held"}``."""
        return await self.update(account_id, call_id, leg_id, state=LegState.HELD)

    async def unhold(self, account_id: str, call_id: str, leg_id: str) -> LegUpdate:
        """Take a call leg off hold: ``{"state": "active"}``."""
        return await self.update(account_id, call_id, leg_id, state=LegState.ACTIVE)

    async def send_dtmf(self, account_id: str, call_id: str, leg_id: str, digits: str) -> LegUpdate:
        """Send DTMF tones on a call leg: ``{"dtmf": digits}`` (0-9, ``*``, ``#``, pauses)."""
        return await self.update(account_id, call_id, leg_id, dtmf=check.dtmf("digits", digits))

    async def play(self, account_id: str, call_id: str, leg_id: str, stream_url: str) -> LegUpdate:
        """Play a sound into a call leg: ``{"stream": true, "stream_url": ...}``."""
        return await self.update(account_id, call_id, leg_id, stream=True, stream_url=stream_url)

    async def stop_sound(self, account_id: str, call_id: str, leg_id: str) -> LegUpdate:
        """Stop the sound playing into a call leg: ``{"stream": false}``."""
        return await self.update(account_id, call_id, leg_id, stream=False)

    async def blind_transfer(
        self, account_id: str, call_id: str, leg_id: str, to: EndpointLike
    ) -> LegUpdate:
        """Transfer a call leg without consultation: ``{"state": "active", "to": {...}}``."""
        target = _endpoint("to", to, _CONTACT)
        return await self.update(account_id, call_id, leg_id, state=LegState.ACTIVE, to=target)

    async def attended_transfer(
        self, account_id: str, call_id: str, leg_id: str, to_leg_id: str
    ) -> LegUpdate:
        """Transfer a call leg to another leg, as telephony.yml's "ATT XFER" body:
        ``{"state": "active", "to": {"destination": to_leg_id, "type": "leg"}}``."""
        target = Endpoint.leg(check.path_segment("to_leg_id", to_leg_id))
        return await self.update(account_id, call_id, leg_id, state=LegState.ACTIVE, to=target)

    async def start_recording(
        self, account_id: str, call_id: str, leg_id: str, service: RecordingService | str
    ) -> LegUpdate:
        """Start recording a call leg: ``{"recording": "start", "service": ...}``."""
        return await self.update(account_id, call_id, leg_id, recording="start", service=service)

    async def stop_recording(
        self, account_id: str, call_id: str, leg_id: str, service: RecordingService | str
    ) -> LegUpdate:
        """Stop recording a call leg: ``{"recording": "stop", "service": ...}``."""
        return await self.update(account_id, call_id, leg_id, recording="stop", service=service)

    async def delete(self, account_id: str, call_id: str, leg_id: str) -> None:
        """Delete a call leg (the server answers 204)."""
        await self._request("DELETE", self._leg(account_id, call_id, leg_id))


class Devices(_Resource):
    """Device registrations: ``client.telephony.devices``."""

    def _devices(self, account_id: str, *rest: tuple[str, Any] | str) -> URL:
        return self._service.path(
            "registration", "accounts", ("account_id", account_id), "devices", *rest
        )

    def list(
        self,
        account_id: str = "self",
        *,
        page_size: int | None = None,
        order: Order | None = None,
        start_time: Moment | None = None,
        end_time: Moment | None = None,
        concurrency: int = 4,
        max_items: int | None = None,
    ) -> AsyncPager[Device]:
        """Get account device's registration info."""
        return self._service.pager(
            self._devices(account_id),
            check.query(**_window(page_size, order, start_time, end_time)),
            Device,
            style=_DEVICE_PAGES,
            concurrency=concurrency,
            max_items=max_items,
        )

    async def get(self, account_id: str, device_id: str) -> Device:
        """Get device registration info (``device_id`` is the MAC address)."""
        return await self._send("GET", self._devices(account_id, ("device_id", device_id)), Device)


class Telephony:
    """VBC Telephony v3: ``calls``, ``legs`` and ``devices``."""

    def __init__(self, service: Service) -> None:
        # telephony.yml's 409: "conflict while changing state of a leg".
        service.conflict = errors.CallStateConflictError
        self._service = service
        self.calls = Calls(service)
        self.legs = Legs(service)
        self.devices = Devices(service)

    def __repr__(self) -> str:
        return f"<Telephony {self._service.base_url}>"
