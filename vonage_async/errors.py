"""Every error the SDK raises.

    VonageError
    ├── ConfigurationError        the client lacks what a call needs (e.g. no auth for that family)
    ├── ValidationError           bad input, refused before anything is sent (also a ValueError)
    ├── UnsafeURLError            a server link points at another origin; nothing is sent there
    ├── TransportError            connection failure, reset or timeout
    ├── DecodeError               a success answer whose body could not be read
    └── HTTPError                 the server answered with an error status
        ├── AuthenticationError   401, a refused OAuth grant or a failed legacy login
        ├── PermissionDeniedError 403
        │   ├── InternationalBlockedError   legacy: INTERNATIONAL BLOCKED (click to call)
        │   └── RecordingNotPermittedError  legacy: USER NOT PERMITTED (recordings)
        ├── NotFoundError         404
        │   ├── NoExtensionError            legacy: USER HAS NO EXTENSIONS (click to call)
        │   ├── AccountInactiveError        legacy: ACCOUNT INACTIVE (click to call)
        │   └── RecordingNotFoundError      legacy: RECORDING NOT FOUND (recordings)
        ├── ConflictError         409
        │   ├── SessionConflictError        Live Status: the session is used by another caller
        │   └── CallStateConflictError      Telephony: conflict changing a call's or leg's state
        ├── InvalidRequestError   400 and 422, with the server's ``invalid_parameters``
        │   ├── BadPhoneNumberError         legacy: BAD USER PHONE (click to call)
        │   └── InvalidCallIdError          legacy: ILLEGAL CALL ID (recordings)
        ├── RateLimitedError      429, with ``retry_after`` seconds when the server said
        ├── ServerError           5xx
        └── UnexpectedRedirectError  a 3xx (never followed), with ``location`` redacted

Messages and attributes never carry a secret: URLs are redacted and request headers are not kept.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from yarl import URL

__all__ = [
    "AccountInactiveError",
    "AuthenticationError",
    "BadPhoneNumberError",
    "CallStateConflictError",
    "ConfigurationError",
    "ConflictError",
    "DecodeError",
    "HTTPError",
    "InternationalBlockedError",
    "InvalidCallIdError",
    "InvalidRequestError",
    "NoExtensionError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitedError",
    "RecordingNotFoundError",
    "RecordingNotPermittedError",
    "ServerError",
    "SessionConflictError",
    "TransportError",
    "UnexpectedRedirectError",
    "UnsafeURLError",
    "ValidationError",
    "VonageError",
]


class VonageError(Exception):
    """Base class of every error raised by vonage_async."""


class ConfigurationError(VonageError):
    """The client was not given what this call needs."""


class ValidationError(VonageError, ValueError):
    """Bad input, refused before anything was sent. ``parameter`` names the culprit."""

    def __init__(self, parameter: str, problem: str) -> None:
        super().__init__(f"{parameter}: {problem}")
        self.parameter = parameter
        self.problem = problem


class UnsafeURLError(VonageError):
    """A link from the server leads off the configured origin; it was not followed."""


class TransportError(VonageError):
    """The request never got an HTTP answer: connection refused or reset, or a timeout."""

    def __init__(self, message: str, *, method: str, url: URL | str) -> None:
        self.method = method
        self.url = redact_url(url)
        super().__init__(f"{message} ({method} {self.url})")


class DecodeError(VonageError):
    """The server answered with success but its body was not what the API documents."""

    def __init__(self, message: str, *, method: str = "", url: URL | str = "") -> None:
        self.method = method
        self.url = redact_url(url) if url else ""
        super().__init__(f"{message} ({method} {self.url})" if url else message)


class HTTPError(VonageError):
    """The server answered with an error status.

    ``message`` is the server's own explanation, read from whichever error body shape the
    service uses; ``code`` is its error code where it gives one; ``body`` is the raw text.
    """

    def __init__(
        self,
        *,
        status: int,
        method: str,
        url: URL | str,
        message: str,
        body: str = "",
        code: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        self.status = status
        self.method = method
        self.url = redact_url(url)
        self.message = message
        self.body = body[:2000]
        self.code = code
        self.details: Mapping[str, Any] = details or {}
        super().__init__(f"{status} {message} ({method} {self.url})")


class AuthenticationError(HTTPError):
    """401, a refused OAuth grant (``code`` is the grant ``error``) or a failed login."""

    @property
    def error(self) -> str | None:
        """The OAuth ``error`` code of a refused grant, such as ``invalid_grant``."""
        return self.code


class PermissionDeniedError(HTTPError):
    """403: authenticated, but not allowed (or, legacy API, not logged in)."""


class NotFoundError(HTTPError):
    """404."""


class ConflictError(HTTPError):
    """409: the request conflicts with the current state. ``except ConflictError`` catches
    both kinds below."""


class SessionConflictError(ConflictError):
    """409 from the legacy API (Live Status): the session is being used by more than one
    caller."""


class CallStateConflictError(ConflictError):
    """409 from a Telephony call or leg operation: conflict while changing the state of a leg."""


class InvalidRequestError(HTTPError):
    """400 or 422. ``invalid_parameters`` lists what the server refused, when it says."""

    @property
    def invalid_parameters(self) -> Sequence[Mapping[str, Any]]:
        params = self.details.get("invalid_parameters")
        return list(params) if isinstance(params, list) else []


class RateLimitedError(HTTPError):
    """429. ``retry_after`` is how many seconds the server asked us to wait, if it said."""

    def __init__(self, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.retry_after = retry_after


class ServerError(HTTPError):
    """5xx."""


class UnexpectedRedirectError(HTTPError):
    """A 3xx answer. Redirects are never followed (credentials must not travel), and never
    taken for success. ``location`` is where it pointed, redacted."""

    def __init__(self, *, location: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.location = None if location is None else _redact_text(location)


class BadPhoneNumberError(InvalidRequestError):
    """400 BAD USER PHONE: the service refused the number to dial."""


class InvalidCallIdError(InvalidRequestError):
    """400 ILLEGAL CALL ID: the presence call id was missing or malformed."""


class InternationalBlockedError(PermissionDeniedError):
    """403 INTERNATIONAL BLOCKED: the number is international and the account may not dial it."""


class RecordingNotPermittedError(PermissionDeniedError):
    """403 USER NOT PERMITTED: the recording exists but this user may not fetch it."""


class NoExtensionError(NotFoundError):
    """404 USER HAS NO EXTENSIONS: the logged-in user has no extension to ring."""


class AccountInactiveError(NotFoundError):
    """404 ACCOUNT INACTIVE: the Vonage account is not active."""


class RecordingNotFoundError(NotFoundError):
    """404 RECORDING NOT FOUND: no recording for this id (yet: they appear after the call)."""


_SECRET_QUERY_KEYS = frozenset(
    {
        "password",
        "htmlpassword",
        "htmllogin",
        "client_secret",
        "api_secret",
        "access_token",
        "refresh_token",
        "token",
        "code",
        "secret",
    }
)


def _redact_text(text: str) -> str:
    try:
        return redact_url(text)
    except ValueError:  # not even a URL: nothing of it is shown
        return "(unreadable)"


def redact_url(url: URL | str) -> str:
    """The URL as text with credentials and secret-looking query values masked."""
    parsed = URL(url) if isinstance(url, str) else url
    if parsed.user is not None or parsed.password is not None:
        parsed = parsed.with_user(None)
    if parsed.query and any(key.lower() in _SECRET_QUERY_KEYS for key in parsed.query):
        parsed = parsed.with_query(
            [
                (key, "***" if key.lower() in _SECRET_QUERY_KEYS else value)
                for key, value in parsed.query.items()
            ]
        )
    return str(parsed)
