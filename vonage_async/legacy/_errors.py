"""The legacy API's documented plain-text reasons, as typed errors that say what happened.

The HTTP status already picks the base class (400 InvalidRequestError, 403
PermissionDeniedError, 404 NotFoundError, 5xx ServerError); these subclasses let a caller
branch on the reason. ``code`` keeps the server's text, ``message`` says it in words.
A 403 ``USER NOT LOGGED IN`` never gets here: SessionLogin logs in again and retries.

    InvalidRequestError
    ├── BadPhoneNumberError          BAD USER PHONE (click to call)
    └── InvalidCallIdError           ILLEGAL CALL ID (recordings)
    PermissionDeniedError
    ├── InternationalBlockedError    INTERNATIONAL BLOCKED (click to call)
    └── RecordingNotPermittedError   USER NOT PERMITTED (recordings)
    NotFoundError
    ├── NoExtensionError             USER HAS NO EXTENSIONS (click to call)
    ├── AccountInactiveError         ACCOUNT INACTIVE (click to call)
    └── RecordingNotFoundError       RECORDING NOT FOUND (recordings)
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from .. import errors

# The server's text -> (error class, what it means in words).
_REASONS: dict[str, tuple[type[errors.HTTPError], str]] = {
    "BAD USER PHONE": (errors.BadPhoneNumberError, "the service refused the number to dial"),
    "INTERNATIONAL BLOCKED": (
        errors.InternationalBlockedError,
        "international dialing is blocked for this account",
    ),
    "USER HAS NO EXTENSIONS": (
        errors.NoExtensionError,
        "the logged-in user has no extension to ring",
    ),
    "ACCOUNT INACTIVE": (errors.AccountInactiveError, "the Vonage account is not active"),
    "ILLEGAL CALL ID": (errors.InvalidCallIdError, "the presence call id is missing or malformed"),
    "USER NOT PERMITTED": (
        errors.RecordingNotPermittedError,
        "this user is not permitted to access the recording",
    ),
    "RECORDING NOT FOUND": (
        errors.RecordingNotFoundError,
        "no recording matches this presence call id (recordings appear some time after the call)",
    ),
    "ERROR": (errors.ServerError, "the service reported a system error"),
}


def refine(exc: errors.HTTPError) -> errors.HTTPError:
    """The typed error for a documented reason text, or ``exc`` itself."""
    text = exc.message.strip().upper()
    known = _REASONS.get(text)
    if known is None:
        return exc
    cls, words = known
    return cls(
        status=exc.status,
        method=exc.method,
        url=exc.url,
        message=f"{words} [{text}]",
        body=exc.body,
        code=text,
        details=exc.details,
    )


@contextlib.contextmanager
def reasons() -> Iterator[None]:
    """Raise the typed error for any documented reason text raised inside the block."""
    try:
        yield
    except errors.HTTPError as exc:
        refined = refine(exc)
        if refined is exc:
            raise
        raise refined from exc
