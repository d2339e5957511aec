"""vonage-async: an asyncio SDK for the Vonage Business Communications APIs."""

from . import errors
from ._client import Vonage
from ._converter import OpenEnum
from ._paging import AsyncPager, Page
from ._transport import Backoff, RateLimit, RetryPolicy
from ._version import __version__
from .auth import BasicAuth, BearerToken, OAuth2, SessionLogin

__all__ = [
    "AsyncPager",
    "Backoff",
    "BasicAuth",
    "BearerToken",
    "OAuth2",
    "OpenEnum",
    "Page",
    "RateLimit",
    "RetryPolicy",
    "SessionLogin",
    "Vonage",
    "__version__",
    "errors",
]
