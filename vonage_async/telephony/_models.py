"""Models and enums of Telephony v3 (seed 002, specs/telephony.yml).

The server sends ids and numbers as JSON numbers where strings are documented, and epoch seconds
where a date-time is documented; the converter reads both. Every field is optional.
"""

from __future__ import annotations

from datetime import datetime

import attrs

from .. import _validation as check
from .._converter import OpenEnum, as_datetime


class Direction(OpenEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class CallStatus(OpenEnum):
    """The status of a call or of one of its legs."""

    BUSY = "busy"
    FAILED = "failed"
    UNANSWERED = "unanswered"
    RINGING = "ringing"
    ON_CALL = "on-call"


class CallType(OpenEnum):
    """How a new call is placed (``calls.create(type=...)``)."""

    CLICK2DIAL = "click2dial"
    CLICK2DIALME = "click2dialme"
    ODR = "odr"
    DEFAULT = "default"


class CallState(OpenEnum):
    """What ``calls.update(state=...)`` does: answer (active) or park the call."""

    ACTIVE = "active"
    PARKED = "parked"


class LegState(OpenEnum):
    """What ``legs.update(state=...)`` does: hold, or make active again (unhold)."""

    HELD = "held"
    ACTIVE = "active"


class RecordingService(OpenEnum):
    """Call recording services: on-demand (ccr) and the other documented one (ocr)."""

    CCR = "ccr"
    OCR = "ocr"


class EndpointType(OpenEnum):
    DEVICE = "device"
    EXTENSION = "extension"
    PSTN = "pstn"
    FEATURE_CODE = "feature_code"
    LEG = "leg"  # only as the target of an attended transfer


@attrs.frozen
class Endpoint:
    """One end of a call: ``{"destination": ..., "type": ...}`` on the wire.

    Build one with ``Endpoint.extension("101")``, ``Endpoint.pstn("14155550100")``,
    ``Endpoint.device("VH16370927")`` or ``Endpoint.feature_code("*97")``; every method taking
    an endpoint also accepts the plain dict.
    """

    destination: str
    type: EndpointType = attrs.field(converter=EndpointType)

    @classmethod
    def extension(cls, number: str | int) -> Endpoint:
        """An extension of the account, by its number."""
        return cls(check.extension_number("extension", number), EndpointType.EXTENSION)

    @classmethod
    def pstn(cls, number: str | int) -> Endpoint:
        """A phone number on the public network (digits; a leading ``+`` is dropped)."""
        return cls(check.phone_number("number", number), EndpointType.PSTN)

    @classmethod
    def device(cls, device_id: str) -> Endpoint:
        """A device (handset), by its id such as ``VH16370927``."""
        return cls(check.path_segment("device_id", device_id), EndpointType.DEVICE)

    @classmethod
    def feature_code(cls, code: str) -> Endpoint:
        """A feature code such as ``*97``."""
        return cls(check.feature_code("code", code), EndpointType.FEATURE_CODE)

    @classmethod
    def leg(cls, leg_id: str) -> Endpoint:
        """Another call leg, the target of an attended transfer."""
        return cls(check.path_segment("leg_id", leg_id), EndpointType.LEG)


@attrs.frozen
class Leg:
    """One leg of an active call (``CallLeg``)."""

    account_id: str | None = None
    call_id: str | None = None
    leg_id: str | None = None
    direction: Direction | None = None
    from_: str | None = None
    to: str | None = None
    status: CallStatus | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None


@attrs.frozen
class Call:
    """An active call and its legs."""

    account_id: str | None = None
    call_id: str | None = None
    direction: Direction | None = None
    from_: str | None = None
    to: str | None = None
    status: CallStatus | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    legs: list[Leg] = attrs.field(factory=list)


@attrs.frozen
class CallUpdate:
    """What the server answers to a call update or delete (``ModifyCallResponse``)."""

    account_id: str | None = None
    call_id: str | None = None
    call_state: str | None = None
    destination: str | None = None


@attrs.frozen
class LegUpdate:
    """What the server answers to a leg update (``ModifyLegResponse``)."""

    account_id: str | None = None
    call_id: str | None = None
    leg_id: str | None = None
    call_state: str | None = None
    destination: str | None = None


@attrs.frozen
class RegistrationTime:
    """When a device last registered (``RegistrationTime``).

    The file types the times as strings and its examples are epoch seconds: the text is kept
    as sent, and ``*_at`` reads it as a datetime when it is one.
    """

    last_success: str | None = None

    @property
    def last_success_at(self) -> datetime | None:
        return as_datetime(self.last_success)


@attrs.frozen
class ProvisionedTime:
    """When a device was last provisioned (``ProvisionedTime``); times as in RegistrationTime."""

    last_success: str | None = None
    last_request: str | None = None

    @property
    def last_success_at(self) -> datetime | None:
        return as_datetime(self.last_success)

    @property
    def last_request_at(self) -> datetime | None:
        return as_datetime(self.last_request)


@attrs.frozen
class Device:
    """A device's registration info (``RegistrationInfo``); times as in RegistrationTime."""

    account_id: str | None = None
    mac_address: str | None = None
    device_ip: str | None = None
    last_request: str | None = None
    last_success: str | None = None
    registration: RegistrationTime | None = None
    provisioned: ProvisionedTime | None = None

    @property
    def last_success_at(self) -> datetime | None:
        return as_datetime(self.last_success)

    @property
    def last_request_at(self) -> datetime | None:
        return as_datetime(self.last_request)
