"""Requests and responses as plain values, and what a response means as pure functions: error
decoding, retry hints, origins.

Nothing here does I/O, so every rule is tested with plain data. The transport and the auth
strategies both build on this module and not on each other: a strategy sends its own token
request or login through the ``Send`` callable it is handed.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Awaitable, Mapping
from datetime import datetime, timezone
from http import HTTPStatus
from http.cookies import SimpleCookie
from typing import TYPE_CHECKING, Any, Protocol

import attrs
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from . import errors

if TYPE_CHECKING:
    import aiohttp

    from ._hooks import RequestEvent

_ERROR_BY_STATUS: dict[int, type[errors.HTTPError]] = {
    400: errors.InvalidRequestError,
    401: errors.AuthenticationError,
    403: errors.PermissionDeniedError,
    404: errors.NotFoundError,
    409: errors.ConflictError,  # each family says what its 409 means (Service.conflict)
    422: errors.InvalidRequestError,
    429: errors.RateLimitedError,
}


_scan = json.JSONDecoder().raw_decode


@attrs.define(repr=False)
class Request:
    """One request as the auth strategies see it; they add headers, never secrets to the URL."""

    method: str
    url: URL
    headers: CIMultiDict[str] = attrs.field(factory=CIMultiDict)
    params: Mapping[str, str] | None = None
    json: Any = None
    data: Any = None
    timeout: float | None = None
    # What the auth strategy used for this attempt (a token, a session generation), so it can
    # tell a stale failure from a fresh one.
    auth_state: Any = None
    family: str | None = None  # for the hooks; None for a token request or login
    attempts: int = 0
    last: RequestEvent | None = None  # how the previous attempt ended, for on_retry
    # Whether a 304 is an answer here (a Live Status poll); anywhere else it is a 3xx.
    not_modified: bool = False

    def __repr__(self) -> str:
        return f"<Request {self.method} {errors.redact_url(self.url)}>"


@attrs.frozen(repr=False)
class Response:
    method: str
    url: URL
    status: int
    headers: CIMultiDictProxy[str]
    body: bytes
    cookies: SimpleCookie
    # The unread aiohttp response of a streamed request, for ``Transport.stream`` only.
    live: aiohttp.ClientResponse | None = attrs.field(default=None, eq=False)

    def __repr__(self) -> str:
        return f"<Response {self.status} {self.method} {errors.redact_url(self.url)}>"

    def json(self) -> Any:
        """The body as JSON; a body that is not JSON raises DecodeError."""
        data = decode_json(self.body)
        if data is None and self.body.strip() not in (b"", b"null"):
            raise errors.DecodeError(
                "response body is not valid JSON", method=self.method, url=self.url
            )
        return data


class Send(Protocol):
    """One exchange with no auth and no retry, for token requests and logins.

    Error statuses are returned, not raised: the strategy decides what they mean.
    """

    def __call__(
        self,
        method: str,
        url: URL,
        *,
        headers: Mapping[str, str] | None = None,
        data: Any = None,
        timeout: float | None = None,
    ) -> Awaitable[Response]: ...


def decode_json(body: bytes) -> Any:
    """The body as JSON, or None when it is empty or not JSON."""
    try:
        # Bodies are UTF-8 in practice: this skips json.loads' encoding sniffing and its
        # whitespace regexes, which cost as much as parsing a small body.
        text = body.decode().strip(" \t\n\r")  # JSON's whitespace, not all of Unicode's
        data, end = _scan(text)
        if end == len(text):
            return data
    except ValueError:  # not UTF-8, empty, or not JSON
        pass
    try:
        return json.loads(body)  # UTF-16/32 and byte order marks
    except ValueError:
        return None


def error_message(body: bytes) -> tuple[str, str | None, dict[str, Any]]:
    """The server's message, its error code and extra details, from any body shape we know.

    Shapes: Provisioning ``{msg, status}`` and ``{status, title, instance, invalid_parameters}``,
    Telephony ``{code, message}`` (sometimes as text/plain), the API gateway's
    ``{"fault": {code, message, description}}``, OAuth ``{error, error_description}``,
    the registry's ``{title, detail, ...}`` and the legacy API's plain-text reasons.
    """
    data = decode_json(body)
    if isinstance(data, dict):
        fault = data.get("fault")
        if isinstance(fault, dict):
            message = _join(fault.get("message"), fault.get("description"))
            return message or "API gateway fault", _text(fault.get("code")), dict(fault)
        if "error" in data and isinstance(data["error"], str):
            message = _join(data.get("error_description"), None) or data["error"]
            return message, data["error"], dict(data)
        message = _join(
            data.get("detail")
            or data.get("message")
            or data.get("msg")
            or data.get("title")
            or data.get("errorMessage"),  # the Integration Platform's ErrorResponse
            None,
        )
        code = _text(
            data.get("code") or data.get("type") or data.get("error_code") or data.get("errorCode")
        )
        if data.get("invalid_parameters"):
            names = ", ".join(
                str(p.get("name", "?")) + (f" ({p['reason']})" if p.get("reason") else "")
                for p in data["invalid_parameters"]
                if isinstance(p, dict)
            )
            message = f"{message or 'invalid parameters'}: {names}"
        return message or "", code, dict(data)
    text = body.decode("utf-8", "replace").strip()
    if text.startswith("<"):  # an HTML error page says nothing useful
        return "", None, {}
    return text[:500], None, {}


def error_for(
    status: int, method: str, url: URL, body: bytes, headers: Mapping[str, str]
) -> errors.HTTPError:
    """The typed error for an error response."""
    message, code, details = error_message(body)
    message = message or reason_phrase(status)
    kwargs: dict[str, Any] = {
        "status": status,
        "method": method,
        "url": url,
        "message": message,
        "body": body.decode("utf-8", "replace"),
        "code": code,
        "details": details,
    }
    if status == 429:
        return errors.RateLimitedError(retry_after=retry_after(headers, body), **kwargs)
    if status >= 500:
        return errors.ServerError(**kwargs)
    return _ERROR_BY_STATUS.get(status, errors.HTTPError)(**kwargs)


def reason_phrase(status: int) -> str:
    """The standard phrase for a status ("Not Found"), or "HTTP error" for an unknown one."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "HTTP error"


def retry_after(
    headers: Mapping[str, str], body: bytes, *, now: float | None = None
) -> float | None:
    """Seconds the server asked us to wait: ``Retry-After`` or the gateway's ``nextAccessTime``."""
    now = time.time() if now is None else now
    header = headers.get("Retry-After")
    if header:
        header = header.strip()
        try:
            return max(0.0, float(header))
        except ValueError:
            parsed = _parse_http_date(header)
            if parsed is not None:
                return max(0.0, parsed - now)
    data = decode_json(body)
    fault = data.get("fault") if isinstance(data, dict) else None
    source = fault if isinstance(fault, dict) else data
    if isinstance(source, dict) and source.get("nextAccessTime") is not None:
        when = _parse_access_time(source["nextAccessTime"])
        if when is not None:
            return max(0.0, when - now)
    return None


def _parse_http_date(text: str) -> float | None:
    try:
        return email.utils.parsedate_to_datetime(text).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


def _parse_access_time(value: Any) -> float | None:
    # The gateway has sent both epoch milliseconds and "2024-Jan-24 09:37:00+0000 UTC".
    try:
        number = float(value)
    except (TypeError, ValueError):
        pass
    else:
        return number / 1000 if number > 1e11 else number
    text = str(value).replace(" UTC", "").strip()
    for fmt in ("%Y-%b-%d %H:%M:%S%z", "%Y-%m-%d %H:%M:%S%z", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            return datetime.strptime(text, fmt).timestamp()
        except ValueError:
            continue
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return _parse_http_date(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


def same_origin(url: URL, origin: URL) -> bool:
    """True when ``url`` has the scheme, host and port of ``origin``."""
    return (
        url.is_absolute()
        and url.scheme == origin.scheme
        and (url.host or "").lower() == (origin.host or "").lower()
        and url.port == origin.port
    )


def _join(first: Any, second: Any) -> str:
    parts = [str(p).strip() for p in (first, second) if p not in (None, "")]
    return ": ".join(dict.fromkeys(parts))


def _text(value: Any) -> str | None:
    return None if value in (None, "") else str(value)
