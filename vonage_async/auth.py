"""Auth strategies. Each is a small object with one narrow interface.

The transport calls ``prepare`` before every attempt, ``observe`` after every answer, and
``recover`` on a 401/403 (returning True means "fixed, send it again", which happens once).
Strategies fetch tokens or log in through the ``send`` callable handed to ``prepare`` and
``recover`` (one exchange, no auth, no retry), single-flight: however many requests wait, one
token request or login is in flight. Strategies know nothing of the transport beyond that
callable. No repr shows a secret.
"""

from __future__ import annotations

import abc
import asyncio
import base64
import inspect
import logging
import time
from collections.abc import Awaitable, Callable
from http.cookies import SimpleCookie
from typing import Any

import attrs
from yarl import URL

from . import _http, errors
from ._http import Request, Response, Send

__all__ = [
    "Auth",
    "BasicAuth",
    "BearerToken",
    "OAuth2",
    "Request",
    "Response",
    "Send",
    "SessionLogin",
    "TokenSet",
]

logger = logging.getLogger("vonage_async")

DEFAULT_TOKEN_URL = "https://api.vonage.com/token"
# Bounds on a granted token's lifetime: a zero, negative, NaN or huge expires_in must neither
# make every request fetch a token nor keep one for ever.
MIN_LIFETIME = 10.0
MAX_LIFETIME = 86400.0 * 30
LOGIN_PATH = "/appserver/rest/user/null"


class Auth(abc.ABC):
    """The interface the transport talks to."""

    def bind(self, base_url: URL) -> None:  # noqa: B027 - optional hook
        """Called once with the base URL of the family this strategy serves."""

    @abc.abstractmethod
    async def prepare(self, request: Request, send: Send) -> None:
        """Add credentials to ``request``, fetching a token or logging in first if needed.

        ``send(method, url, *, headers=None, data=None, timeout=None)`` makes one exchange
        without auth or retry and returns the response whatever its status.
        """

    def observe(self, request: Request, response: Response) -> None:  # noqa: B027
        """See every answer (to keep cookies)."""

    async def recover(self, request: Request, response: Response, send: Send) -> bool:
        """A 401/403 came back: return True if credentials were renewed and a retry may help."""
        return False

    def denied(self, request: Request, response: Response) -> errors.HTTPError | None:
        """A 401/403 came back: the error to raise at once when renewing cannot help."""
        return None


class _SingleFlight:
    """One renewal at a time; callers that waited on a renewal share its outcome."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._runs = 0
        self._error: Exception | None = None

    async def run(self, needed: Callable[[], bool], action: Callable[[], Awaitable[None]]) -> None:
        seen = self._runs
        async with self._lock:
            if self._runs != seen:  # a renewal finished while we waited: take its outcome
                if self._error is not None:
                    raise self._error
                return
            if not needed():
                return
            # Counted when it ends, so callers arriving mid-flight share this outcome (a
            # refusal, a timeout) rather than start another renewal each, one after another.
            try:
                await action()
            except Exception as exc:
                self._error = exc
                self._runs += 1
                raise
            self._error = None
            self._runs += 1


@attrs.frozen
class _Used:
    """The token a request was sent with, and whether it was granted during that request."""

    token: str | None
    just_granted: bool

    def __repr__(self) -> str:
        return f"_Used(token='***', just_granted={self.just_granted})"


_RENEWED = object()  # auth_state after ``recover``: the retry's token is a fresh one


def _mask(value: str) -> str:
    return value[:4] + "***" if len(value) > 8 else "***"


class BearerToken(Auth):
    """A static OAuth access token."""

    def __init__(self, token: str) -> None:
        if not token:
            raise errors.ValidationError("token", "must not be empty")
        self._header = f"Bearer {token}"

    def __repr__(self) -> str:
        return "BearerToken(token='***')"

    async def prepare(self, request: Request, send: Send) -> None:
        request.headers["Authorization"] = self._header


class BasicAuth(Auth):
    """HTTP Basic with an API key and secret (Network Registry)."""

    def __init__(self, api_key: str, api_secret: str) -> None:
        if not api_key or not api_secret:
            raise errors.ValidationError("api_key", "api_key and api_secret must not be empty")
        self.api_key = api_key
        raw = f"{api_key}:{api_secret}".encode()
        self._header = "Basic " + base64.b64encode(raw).decode("ascii")

    def __repr__(self) -> str:
        return f"BasicAuth(api_key={_mask(self.api_key)!r}, api_secret='***')"

    async def prepare(self, request: Request, send: Send) -> None:
        request.headers["Authorization"] = self._header


@attrs.frozen(repr=False)
class TokenSet:
    """What the token endpoint answered. Refresh tokens are single-use: keep the newest."""

    access_token: str
    refresh_token: str | None
    expires_in: float
    scope: str | None = None
    token_type: str = "Bearer"

    def __repr__(self) -> str:
        return f"TokenSet(expires_in={self.expires_in}, scope={self.scope!r}, tokens='***')"


class OAuth2(Auth):
    """OAuth 2 against the VBC token gateway (form POST to ``token_url``).

    Grants, in the order tried: the refresh token (when one is held), an authorization code
    (``code`` + ``redirect_uri``, client credentials in a Basic header, used once), then the
    password grant with ``scope=openid``. The username gets ``tenant_suffix`` appended when it
    lacks it (``jane@corp.com`` becomes ``jane@corp.com@vbc.prod``). Tokens are renewed shortly
    before they expire, and once more after a 401. ``on_tokens`` is called with every new
    TokenSet (and awaited if it returns an awaitable) so the caller can persist the
    single-use refresh token.
    """

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        username: str | None = None,
        password: str | None = None,
        refresh_token: str | None = None,
        token_url: str = DEFAULT_TOKEN_URL,
        *,
        code: str | None = None,
        redirect_uri: str | None = None,
        tenant_suffix: str = "@vbc.prod",
        scope: str = "openid",
        on_tokens: Callable[[TokenSet], Any] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not client_id or not client_secret:
            raise errors.ValidationError("client_id", "client_id and client_secret are required")
        if (username is None) != (password is None):
            raise errors.ValidationError("username", "username and password go together")
        if username is None and refresh_token is None and code is None:
            raise errors.ValidationError(
                "username", "give username and password, a refresh_token, or a code"
            )
        if code is not None and not redirect_uri:
            raise errors.ValidationError("redirect_uri", "required with code")
        self.client_id = client_id
        self._client_secret = client_secret
        if username is not None and tenant_suffix and not username.endswith(tenant_suffix):
            username += tenant_suffix
        self.username = username
        self._password = password
        self._refresh_token = refresh_token
        self._code = code
        self._redirect_uri = redirect_uri
        self.token_url = URL(token_url)
        self.scope = scope
        self._on_tokens = on_tokens
        self._clock = clock
        self._token: str | None = None
        self._renew_at = 0.0
        self._flight = _SingleFlight()
        self._grants = 0  # successful grants, to tell a token granted during a request
        self.token_requests = 0  # how many grants were sent; handy in tests and metrics

    def __repr__(self) -> str:
        return f"OAuth2(client_id={self.client_id!r}, username={self.username!r}, secrets='***')"

    def _fresh(self) -> bool:
        return self._token is not None and self._clock() < self._renew_at

    async def prepare(self, request: Request, send: Send) -> None:
        grants = self._grants
        if not self._fresh():
            await self._flight.run(lambda: not self._fresh(), lambda: self._obtain(send))
        # "Just granted": obtained while this request waited, or renewed after its own 401.
        just_granted = request.auth_state is _RENEWED or self._grants != grants
        request.auth_state = _Used(self._token, just_granted)
        request.headers["Authorization"] = f"Bearer {self._token}"

    def denied(self, request: Request, response: Response) -> errors.HTTPError | None:
        used = request.auth_state
        if response.status != 401 or not isinstance(used, _Used) or not used.just_granted:
            return None
        # telephony.yml's 401 "User is not permitted to make a request against this account":
        # a token the server has only just granted is not expired, it lacks permission. Another
        # grant would cost quota and change nothing.
        error = _http.error_for(401, request.method, response.url, response.body, response.headers)
        return errors.PermissionDeniedError(
            status=401,
            method=request.method,
            url=response.url,
            message=error.message,
            body=error.body,
            code=error.code,
            details=error.details,
        )

    async def recover(self, request: Request, response: Response, send: Send) -> bool:
        if response.status != 401:
            return False
        used = request.auth_state
        stale = used.token if isinstance(used, _Used) else None
        await self._flight.run(lambda: self._token == stale, lambda: self._obtain(send))
        request.auth_state = _RENEWED
        return True

    async def _obtain(self, send: Send) -> None:
        if self._refresh_token is not None:
            try:
                await self._grant(
                    send,
                    grant_type="refresh_token",
                    form={"refresh_token": self._refresh_token},
                )
                return
            except errors.AuthenticationError:
                self._refresh_token = None
                if self._password is None and self._code is None:
                    raise
                logger.info("refresh token refused; falling back to the next grant")
        if self._code is not None:
            try:
                await self._grant(
                    send,
                    grant_type="authorization_code",
                    form={"code": self._code, "redirect_uri": self._redirect_uri or ""},
                    basic=True,
                )
            except errors.AuthenticationError:
                self._code = None  # refused: codes are single-use
                raise
            self._code = None  # spent
            return
        if self._password is None or self.username is None:
            raise errors.AuthenticationError(
                status=401,
                method="POST",
                url=self.token_url,
                message="no usable grant left: the refresh token was refused or spent",
                code="invalid_grant",  # as refused as a grant can be: nothing is left to try
            )
        await self._grant(
            send,
            grant_type="password",
            form={"username": self.username, "password": self._password, "scope": self.scope},
        )

    async def _grant(
        self, send: Send, *, grant_type: str, form: dict[str, str], basic: bool = False
    ) -> None:
        headers = {"Accept": "application/json"}
        body = {"grant_type": grant_type, **form}
        if basic:
            raw = f"{self.client_id}:{self._client_secret}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(raw).decode("ascii")
        else:
            body.update(client_id=self.client_id, client_secret=self._client_secret)
        self.token_requests += 1
        response = await send("POST", self.token_url, headers=headers, data=body)
        data = _http.decode_json(response.body)
        if response.status >= 400 and response.status not in (400, 401):
            # The gateway failing (5xx, 429) is no verdict on our grant: keep the refresh token.
            raise _http.error_for(
                response.status, "POST", self.token_url, response.body, response.headers
            )
        if response.status != 200 or not isinstance(data, dict) or not data.get("access_token"):
            # Only a JSON error answer is quoted: an unreadable body (a form-encoded or
            # truncated token answer) may hold the very tokens we could not read.
            message, code = None, None
            if response.status != 200 and isinstance(data, dict):
                message, code, _ = _http.error_message(response.body)
            raise errors.AuthenticationError(
                status=response.status,
                method="POST",
                url=self.token_url,
                message=f"{grant_type} grant refused: {message or 'no access token'}",
                code=code,
            )
        try:
            lifetime = float(data.get("expires_in") or 3600)
        except (TypeError, ValueError, OverflowError):
            lifetime = 3600.0
        if lifetime != lifetime:  # NaN
            lifetime = 3600.0
        lifetime = min(max(lifetime, MIN_LIFETIME), MAX_LIFETIME)
        tokens = TokenSet(
            access_token=str(data["access_token"]),
            refresh_token=data.get("refresh_token") or self._refresh_token,
            expires_in=lifetime,
            scope=data.get("scope"),
            token_type=str(data.get("token_type") or "Bearer"),
        )
        now = self._clock()  # monotonic by default: a wall-clock step never ages a token
        self._grants += 1
        self._token = tokens.access_token
        self._refresh_token = tokens.refresh_token
        self._renew_at = now + lifetime - min(60.0, lifetime * 0.1)
        if self._on_tokens is not None:
            saved = self._on_tokens(tokens)
            if inspect.isawaitable(saved):
                await saved


class SessionLogin(Auth):
    """The legacy API's cookie session: log in with ``login``/``password`` headers.

    Every cookie the legacy host sets (HDAP-ID, JSESSIONID, load-balancer cookies such as
    AWSALB) is kept for that host only and sent back, IP hosts included. A 403 saying
    ``USER NOT LOGGED IN`` logs in again once and retries; a refused login raises at once.
    """

    def __init__(self, username: str, password: str, *, login_path: str = LOGIN_PATH) -> None:
        for name, value in (("username", username), ("password", password)):
            if not isinstance(value, str) or not value:
                raise errors.ValidationError(name, "a non-empty string is required")
        self.username = username
        self._password = password
        self._login_path = login_path
        self._origin: URL | None = None
        self._cookies: dict[str, tuple[str, str]] = {}  # name -> (value, path)
        self._generation = 0  # bumped by every successful login
        self._logged_in = False
        self._flight = _SingleFlight()
        self.logins = 0

    def __repr__(self) -> str:
        return f"SessionLogin(username={self.username!r}, password='***')"

    @property
    def generation(self) -> int:
        """Which login the current session came from."""
        return self._generation

    def bind(self, base_url: URL) -> None:
        origin = base_url.origin()
        if self._origin is not None and self._origin != origin:
            raise errors.ConfigurationError("a SessionLogin serves one host; make another")
        self._origin = origin

    async def prepare(self, request: Request, send: Send) -> None:
        if not self._logged_in:
            await self._flight.run(lambda: not self._logged_in, lambda: self._login(send))
        request.auth_state = self._generation
        header = self._cookie_header(request.url.path)
        if header:
            request.headers["Cookie"] = header

    def observe(self, request: Request, response: Response) -> None:
        if self._origin is not None and _http.same_origin(response.url, self._origin):
            self._store(response.cookies)

    async def recover(self, request: Request, response: Response, send: Send) -> bool:
        if not self.session_expired(response.status, response.body):
            return False
        stale = request.auth_state
        await self._flight.run(
            lambda: not self._logged_in or self._generation == stale,
            lambda: self._login(send),
        )
        return True

    @staticmethod
    def session_expired(status: int, body: bytes) -> bool:
        """A 403 that means "log in again" rather than "not allowed"."""
        text = body.strip().upper()
        return status == 403 and (not text or b"NOT LOGGED IN" in text)

    async def login(self, send: Send) -> None:
        """Log in afresh now (a new session), unless a login is already under way."""
        await self._flight.run(lambda: True, lambda: self._login(send))

    async def _login(self, send: Send) -> None:
        if self._origin is None:
            raise errors.ConfigurationError("SessionLogin is not bound to a legacy_url")
        self._logged_in = False
        self._cookies.clear()
        url = self._origin.with_path(self._login_path)
        self.logins += 1
        response = await send(
            "GET", url, headers={"login": self.username, "password": self._password}
        )
        if response.status in (408, 429) or response.status >= 500:
            # The service (or a gateway) failing is no verdict on the credentials.
            raise _http.error_for(response.status, "GET", url, response.body, response.headers)
        if response.status != 200:
            message, code, _ = _http.error_message(response.body)
            raise errors.AuthenticationError(
                status=response.status,
                method="GET",
                url=url,
                message=f"login refused for {self.username}: {message or 'no reason given'}",
                code=code,
            )
        self._store(response.cookies)
        self._generation += 1
        self._logged_in = True

    def _store(self, cookies: SimpleCookie) -> None:
        for name, morsel in cookies.items():
            if morsel["max-age"] in ("0", 0) or (not morsel.value and morsel["expires"]):
                self._cookies.pop(name, None)
            else:
                self._cookies[name] = (morsel.value, morsel["path"] or "/")

    def _cookie_header(self, path: str) -> str:
        return "; ".join(
            f"{name}={value}"
            for name, (value, cookie_path) in self._cookies.items()
            if path.startswith(cookie_path.rstrip("/") or "/")
        )
