"""Models of the Integration Platform ("VIS") API (specs/integration-platform.yml).

The file types ids as integers where the docs' examples print strings ("184094", "-1"): ids are
kept as strings. Times are ISO 8601 (``2020-10-01T16:10:06.000+0000``) and read into aware
datetimes. Every field is optional; unknown fields are ignored and unknown enum values kept.
"""

from __future__ import annotations

from datetime import datetime

import attrs

from .._converter import OpenEnum, as_datetime, wire


class EventState(OpenEnum):
    """The call-event state machine (call-events.md): ``INITIALIZING`` is the only initial state,
    ``ANSWERED``, ``CANCELLED``, ``MISSED`` and ``REJECTED`` the only final ones."""

    INITIALIZING = "INITIALIZING"
    RINGING = "RINGING"
    ACTIVE = "ACTIVE"
    HELD = "HELD"
    REMOTE_HELD = "REMOTE_HELD"
    DETACHED = "DETACHED"
    REJECTED = "REJECTED"
    CANCELLED = "CANCELLED"
    ANSWERED = "ANSWERED"
    MISSED = "MISSED"

    @classmethod
    def _missing_(cls, value: object) -> EventState:
        # The prose spells states "Remote Held"; the file "REMOTE_HELD".
        if isinstance(value, str):
            folded = value.strip().upper().replace(" ", "_")
            if folded in cls._value2member_map_:
                return cls(folded)
        result: EventState = super()._missing_(value)
        return result

    @property
    def final(self) -> bool:
        """A final state: the call has ended and will stay in this state."""
        return self in _FINAL


_FINAL = frozenset(
    {EventState.ANSWERED, EventState.CANCELLED, EventState.MISSED, EventState.REJECTED}
)


class Direction(OpenEnum):
    INBOUND = "INBOUND"
    OUTBOUND = "OUTBOUND"


class MetadataPolicy(OpenEnum):
    """Where a webhook delivery carries its metadata (signature, ids, attempt)."""

    NONE = "NONE"
    HEADER = "HEADER"
    BODY = "BODY"


class WebhookStatus(OpenEnum):
    ACTIVE = "ACTIVE"
    PAUSED = "PAUSED"


class Order(OpenEnum):
    ASC = "ASC"
    DESC = "DESC"


@attrs.frozen
class _CallFields:
    """What ``Call`` and ``Event`` share (call-events.md): every call event has these."""

    __wire_case__ = "camel"

    id: str | None = None  # unique identifier of the call / event
    external_id: str | None = None  # the communications provider's id, informational
    type: str | None = None  # record type: "CALL"
    account_id: str | None = None
    user_id: str | None = None
    uci_id: str | None = None  # the communications provider
    direction: Direction | None = None
    caller_id: str | None = None  # the remote party's name
    phone_number: str | None = None  # the remote party's number
    duration: int | None = None  # milliseconds; non-zero only once ANSWERED
    state: EventState | None = None
    start_time: datetime | None = None
    answer_time: datetime | None = None
    end_time: datetime | None = None


@attrs.frozen
class Call(_CallFields):
    """A call, as call control answers it."""


@attrs.frozen
class Event(_CallFields):
    """A call event: the state of a call, as listed, fetched or pushed to a webhook."""

    sms_data: str | None = None
    internal: bool | None = None
    ucp_type: str | None = None

    @property
    def call_id(self) -> str | None:
        """The call the event describes: call events are keyed by the call's ``id``."""
        return self.id


@attrs.frozen
class Count:
    count: int | None = None


@attrs.frozen
class WebhookStatistics:
    """Delivery statistics; ``failed`` is cleared by a renewal, the rest kept."""

    __wire_case__ = "camel"

    total_attempts: int | None = None
    total_successes: int | None = None
    total_failures: int | None = None
    failed: bool | None = attrs.field(default=None, metadata=wire("failed", aliases=("isFailed",)))
    last_success: datetime | None = None
    last_failure: datetime | None = None
    last_http_error_code: str | None = None
    last_error_message: str | None = None


@attrs.frozen
class Webhook:
    """A webhook registration. ``signing_key`` is a secret: never in its repr."""

    __wire_case__ = "camel"

    id: str | None = None
    user_id: str | None = None
    account_id: str | None = None
    url: str | None = None
    status: WebhookStatus | None = None
    events: list[str] = attrs.field(factory=list)
    signing_algo: str | None = None
    metadata_policy: MetadataPolicy | None = None
    # The file types these as free text (ISO 8601 in its examples): the ``*_datetime``
    # properties read them, None when a value is not a time.
    expire_at: str | None = None
    created_at: str | None = None
    renewed_at: str | None = None
    renewed_by: str | None = None
    purge_at: str | None = None
    signing_key: str | None = attrs.field(default=None, repr=False)
    statistics: WebhookStatistics | None = None

    @property
    def expire_datetime(self) -> datetime | None:
        """When the registration expires (``expireAt``): renew it before then."""
        return as_datetime(self.expire_at)

    @property
    def created_datetime(self) -> datetime | None:
        return as_datetime(self.created_at)

    @property
    def renewed_datetime(self) -> datetime | None:
        return as_datetime(self.renewed_at)

    @property
    def purge_datetime(self) -> datetime | None:
        """When an expired registration is expunged for good (``purgeAt``)."""
        return as_datetime(self.purge_at)


@attrs.frozen
class Health:
    status: str | None = None
    message: str | None = None


@attrs.frozen
class Uci:
    """A unified-communications integration (provider) of a user or account."""

    __wire_case__ = "camel"

    id: str | None = None
    ucp_label: str | None = None
    ucp_account_id: str | None = None
    health: Health | None = None
    type: str | None = None


@attrs.frozen
class Role:
    code: str | None = None
    name: str | None = None


@attrs.frozen
class User:
    """The authenticated user (``GET /self``)."""

    __wire_case__ = "camel"

    id: str | None = None
    account_id: str | None = None
    # The file spells it "acountLabel"; the corrected spelling is read too.
    account_label: str | None = attrs.field(
        default=None, metadata=wire("acountLabel", aliases=("accountLabel",))
    )
    first_name: str | None = None
    last_name: str | None = None
    email_address: str | None = None
    contact_number: str | None = None
    status: str | None = None  # PENDING, ACTIVE, DELETED, ARCHIVED
    ucis: list[Uci] = attrs.field(factory=list)
    roles: list[Role] = attrs.field(factory=list)


@attrs.frozen
class Account:
    """The user's account (``GET /self/account``)."""

    id: str | None = None
    name: str | None = None
    org: str | None = None
    ucis: list[Uci] = attrs.field(factory=list)
    status: str | None = None  # PENDING, ACTIVE, DELETED, ARCHIVED
