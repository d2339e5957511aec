"""VBC Telephony v3 (seed 002 and specs/telephony.yml)."""

from ._api import Calls, Devices, Legs, Telephony
from ._models import (
    Call,
    CallState,
    CallStatus,
    CallType,
    CallUpdate,
    Device,
    Direction,
    Endpoint,
    EndpointType,
    Leg,
    LegState,
    LegUpdate,
    ProvisionedTime,
    RecordingService,
    RegistrationTime,
)

__all__ = [
    "Call",
    "CallState",
    "CallStatus",
    "CallType",
    "CallUpdate",
    "Calls",
    "Device",
    "Devices",
    "Direction",
    "Endpoint",
    "EndpointType",
    "Leg",
    "LegState",
    "LegUpdate",
    "Legs",
    "ProvisionedTime",
    "RecordingService",
    "RegistrationTime",
    "Telephony",
]
