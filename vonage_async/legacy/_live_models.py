"""Models of the Live Status document (``/presence/dashui``, seed 003)."""

from __future__ import annotations

from datetime import datetime

import attrs

from .._converter import OpenEnum, wire


class Availability(OpenEnum):
    """Whether the user's extensions are on Do Not Disturb; MIXED when they differ."""

    AVAILABLE = "AVAILABLE"
    UNAVAILABLE = "UNAVAILABLE"
    MIXED = "MIXED"


class CallStatus(OpenEnum):
    """A call's state. The server capitalises freely (``Disconnected``): matching ignores case."""

    RINGING = "ringing"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"


_DISCONNECTED = CallStatus.DISCONNECTED  # a class attribute lookup on an enum is slow


class LineStatus(OpenEnum):
    """What an extension's current call is (the field is None when it has none)."""

    OUTBOUND = "outbound"
    INBOUND = "inbound"
    INTRAPBX = "intrapbx"
    CALL_QUEUE = "call queue"


@attrs.frozen
class LiveCall:
    """One active call on an extension (an entry of ``statusItems``)."""

    __wire_case__ = "camel"

    uid: str | None = None
    presence_call_id: str | None = None
    call_status: CallStatus | None = None
    callername: str | None = None
    on_call_with_name: str | None = None
    is_recorded: bool | None = None
    is_recording_ccr: bool | None = attrs.field(default=None, metadata=wire("isRecordingCCR"))
    is_recording_odcr: bool | None = attrs.field(default=None, metadata=wire("isRecordingODCR"))
    started_with_click_to_call: bool | None = None
    start_time: datetime | None = attrs.field(default=None, metadata=wire("StartTime"))
    last_call_time: datetime | None = None
    number_originally_dialed: str | None = None
    custom_tag: str | None = None
    account_id: str | None = None
    user_id: str | None = None
    login_name: str | None = None
    tap_session_id: str | None = None
    available: bool | None = None
    contact_e: str | None = attrs.field(default=None, metadata=wire("contactE"))

    @property
    def id(self) -> str | None:
        """The call's identity: ``uid``, or ``presenceCallId`` when there is no uid."""
        return self.uid or self.presence_call_id

    @property
    def state(self) -> CallStatus | None:
        return self.call_status

    @property
    def ended(self) -> bool:
        return self.call_status is _DISCONNECTED


@attrs.frozen
class LiveExtension:
    """One extension's real-time status and its active calls."""

    __wire_case__ = "camel"

    extension: str
    name: str | None = None
    status: LineStatus | None = None
    duration: int | None = None
    phone_numbers: list[str] = attrs.field(factory=list)
    on_call_with: str | None = None
    calls: list[LiveCall] = attrs.field(factory=list, metadata=wire("statusItems"))


@attrs.frozen
class LiveStatus:
    """The Live Status document: the user's availability and the extensions' states."""

    __wire_case__ = "camel"

    availability: Availability | None = None
    num_available_exts: int | None = None
    num_unavailable_exts: int | None = None
    extensions: list[LiveExtension] = attrs.field(factory=list)

    def extension(self, number: str) -> LiveExtension | None:
        return next((e for e in self.extensions if e.extension == number), None)
