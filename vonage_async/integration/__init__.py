"""The Integration Platform ("VIS") API: call control, the call-event log and webhooks."""

from ._api import Calls, Events, Integration, Webhooks
from ._models import (
    Account,
    Call,
    Direction,
    Event,
    EventState,
    Health,
    MetadataPolicy,
    Order,
    Role,
    Uci,
    User,
    Webhook,
    WebhookStatistics,
    WebhookStatus,
)

__all__ = [
    "Account",
    "Call",
    "Calls",
    "Direction",
    "Event",
    "EventState",
    "Events",
    "Health",
    "Integration",
    "MetadataPolicy",
    "Order",
    "Role",
    "Uci",
    "User",
    "Webhook",
    "WebhookStatistics",
    "WebhookStatus",
    "Webhooks",
]
