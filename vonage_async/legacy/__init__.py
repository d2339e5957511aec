"""The legacy Business Solutions API (seed 003), Live Status included."""

from ..errors import (
    AccountInactiveError,
    BadPhoneNumberError,
    InternationalBlockedError,
    InvalidCallIdError,
    NoExtensionError,
    RecordingNotFoundError,
    RecordingNotPermittedError,
)
from ._api import HISTORY_LIMIT, Legacy
from ._live_models import (
    Availability,
    CallStatus,
    LineStatus,
    LiveCall,
    LiveExtension,
    LiveStatus,
)
from ._live_status import LiveStatusAPI
from ._models import (
    CallDirection,
    CallHistoryRecord,
    CallResult,
    ConferenceInfo,
    Directory,
    DirectoryConference,
    DirectoryExtension,
    DirectoryQueue,
    ExtensionInfo,
    ExtensionStatus,
    Presence,
    QueueInfo,
)
from ._recordings import Recordings

__all__ = [
    "HISTORY_LIMIT",
    "AccountInactiveError",
    "Availability",
    "BadPhoneNumberError",
    "CallDirection",
    "CallHistoryRecord",
    "CallResult",
    "CallStatus",
    "ConferenceInfo",
    "Directory",
    "DirectoryConference",
    "DirectoryExtension",
    "DirectoryQueue",
    "ExtensionInfo",
    "ExtensionStatus",
    "InternationalBlockedError",
    "InvalidCallIdError",
    "Legacy",
    "LineStatus",
    "LiveCall",
    "LiveExtension",
    "LiveStatus",
    "LiveStatusAPI",
    "NoExtensionError",
    "Presence",
    "QueueInfo",
    "RecordingNotFoundError",
    "RecordingNotPermittedError",
    "Recordings",
]
