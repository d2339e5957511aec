"""vonage-async: an asyncio SDK for the Vonage Business Communications APIs.

The API families' names (models, enums, namespaces) and the watch events are re-exported here
too, loaded on first use so that ``import vonage_async`` stays as light as aiohttp (importing
every family up front costs about 120 ms more). They are listed once, in the ``TYPE_CHECKING``
block that type checkers read.
``CallStatus`` exists in two families: import it from ``vonage_async.telephony`` or
``vonage_async.legacy``.
"""

from typing import TYPE_CHECKING, Any

from . import errors
from ._client import Vonage
from ._converter import OpenEnum
from ._hooks import Hooks, PollEvent, RequestEvent
from ._paging import AsyncPager, Page
from ._transport import Backoff, RateLimit, RetryPolicy
from ._version import __version__
from .auth import BasicAuth, BearerToken, OAuth2, SessionLogin
from .errors import CallStateConflictError, ConflictError, UnexpectedRedirectError

if TYPE_CHECKING:
    from ._events import (
        AvailabilityChanged as AvailabilityChanged,
        CallEnded as CallEnded,
        CallRef as CallRef,
        CallStarted as CallStarted,
        CallUpdated as CallUpdated,
        ExtensionUpdated as ExtensionUpdated,
        Snapshot as Snapshot,
        WatchEvent as WatchEvent,
    )
    from ._watch import LifecycleWatch as LifecycleWatch, Watch as Watch
    from ._watch_stats import (
        ConsumerDropped as ConsumerDropped,
        ConsumerStats as ConsumerStats,
        PollFailed as PollFailed,
        Reconnected as Reconnected,
        Resynced as Resynced,
        WatchStats as WatchStats,
    )
    from .fanout import (
        Delivery as Delivery,
        RedisFanout as RedisFanout,
        RedisRateLimit as RedisRateLimit,
        RedisTokenStore as RedisTokenStore,
    )
    from .integration import (
        Event as Event,
        EventState as EventState,
        Integration as Integration,
        MetadataPolicy as MetadataPolicy,
        Webhook as Webhook,
        WebhookStatistics as WebhookStatistics,
    )
    from .legacy import (
        HISTORY_LIMIT as HISTORY_LIMIT,
        AccountInactiveError as AccountInactiveError,
        Availability as Availability,
        BadPhoneNumberError as BadPhoneNumberError,
        CallDirection as CallDirection,
        CallHistoryRecord as CallHistoryRecord,
        CallResult as CallResult,
        ConferenceInfo as ConferenceInfo,
        Directory as Directory,
        DirectoryConference as DirectoryConference,
        DirectoryExtension as DirectoryExtension,
        DirectoryQueue as DirectoryQueue,
        ExtensionInfo as ExtensionInfo,
        ExtensionStatus as ExtensionStatus,
        InternationalBlockedError as InternationalBlockedError,
        InvalidCallIdError as InvalidCallIdError,
        Legacy as Legacy,
        LineStatus as LineStatus,
        LiveCall as LiveCall,
        LiveExtension as LiveExtension,
        LiveStatus as LiveStatus,
        LiveStatusAPI as LiveStatusAPI,
        NoExtensionError as NoExtensionError,
        Presence as Presence,
        QueueInfo as QueueInfo,
        RecordingNotFoundError as RecordingNotFoundError,
        RecordingNotPermittedError as RecordingNotPermittedError,
        Recordings as Recordings,
    )
    from .network_registry import (
        ALL as ALL,
        ApplicationCspStatus as ApplicationCspStatus,
        ApplicationProfile as ApplicationProfile,
        ApplicationProfileCspStatus as ApplicationProfileCspStatus,
        ApplicationProfileRequest as ApplicationProfileRequest,
        ApplicationProfiles as ApplicationProfiles,
        ApplicationProfileState as ApplicationProfileState,
        ApplicationProfileStatus as ApplicationProfileStatus,
        BusinessCspStatus as BusinessCspStatus,
        BusinessInformation as BusinessInformation,
        BusinessProfile as BusinessProfile,
        BusinessProfileChangeRequest as BusinessProfileChangeRequest,
        BusinessProfileCspStatus as BusinessProfileCspStatus,
        BusinessProfileRequest as BusinessProfileRequest,
        BusinessProfiles as BusinessProfiles,
        BusinessProfileState as BusinessProfileState,
        BusinessProfileStatus as BusinessProfileStatus,
        Catalogue as Catalogue,
        CatalogueEntry as CatalogueEntry,
        Category as Category,
        ChangeRequest as ChangeRequest,
        ChangeRequestState as ChangeRequestState,
        ChangeRequestStatus as ChangeRequestStatus,
        ConnectivityStatus as ConnectivityStatus,
        Country as Country,
        Csp as Csp,
        LinkedApplication as LinkedApplication,
        NetworkApi as NetworkApi,
        NetworkApiRequirement as NetworkApiRequirement,
        NetworkApiUse as NetworkApiUse,
        NetworkRegistry as NetworkRegistry,
        Notification as Notification,
        OrganisationType as OrganisationType,
        Purpose as Purpose,
        SharedAccount as SharedAccount,
        TermsAndConditions as TermsAndConditions,
        VettingConsent as VettingConsent,
        VettingInfo as VettingInfo,
        VettingLevel as VettingLevel,
        VettingOutcome as VettingOutcome,
        VettingResult as VettingResult,
    )
    from .provisioning import (
        Account as Account,
        Accounts as Accounts,
        Address as Address,
        ContactNumber as ContactNumber,
        Did as Did,
        Extension as Extension,
        Extensions as Extensions,
        ExtensionUser as ExtensionUser,
        Handset as Handset,
        Link as Link,
        Location as Location,
        Locations as Locations,
        Provisioning as Provisioning,
        User as User,
        UserExtension as UserExtension,
        Users as Users,
    )
    from .telephony import (
        Call as Call,
        Calls as Calls,
        CallState as CallState,
        CallType as CallType,
        CallUpdate as CallUpdate,
        Device as Device,
        Devices as Devices,
        Direction as Direction,
        Endpoint as Endpoint,
        EndpointType as EndpointType,
        Leg as Leg,
        Legs as Legs,
        LegState as LegState,
        LegUpdate as LegUpdate,
        ProvisionedTime as ProvisionedTime,
        RecordingService as RecordingService,
        RegistrationTime as RegistrationTime,
        Telephony as Telephony,
    )
    from .webhooks import (
        Subscription as Subscription,
        WebhookReceiver as WebhookReceiver,
        verify_signature as verify_signature,
    )


def _lazy_names() -> dict[str, str]:
    """Name -> submodule, read from the ``TYPE_CHECKING`` imports above, so each public name
    is listed once (the pattern of Scientific Python's SPEC 1 lazy loading)."""
    import ast
    from pathlib import Path

    tree = ast.parse(Path(__file__).read_text(encoding="utf-8"))
    block = next(node for node in tree.body if isinstance(node, ast.If))
    return {
        alias.asname or alias.name: str(node.module).lstrip(".")
        for node in block.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }


_LAZY = _lazy_names()


def __getattr__(name: str) -> Any:
    family = _LAZY.get(name)
    if family is None:
        raise AttributeError(f"module 'vonage_async' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{family}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "AsyncPager",
    "Backoff",
    "BasicAuth",
    "BearerToken",
    "CallStateConflictError",
    "ConflictError",
    "Hooks",
    "OAuth2",
    "OpenEnum",
    "Page",
    "PollEvent",
    "RateLimit",
    "RequestEvent",
    "RetryPolicy",
    "SessionLogin",
    "UnexpectedRedirectError",
    "Vonage",
    "__version__",
    "errors",
    *_LAZY,
]
