"""Who may call: OAuth tokens (VBC), API key and secret (registry), legacy login sessions."""

from __future__ import annotations

import base64
import binascii
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

import attrs
from aiohttp import web
from yarl import URL

from ._common import REGISTRY_PREFIX, VBC_PREFIX, ctx, json_response, registry_error, text_response

USERNAME_SUFFIX = "@vbc.prod"
NOT_LOGGED_IN = "USER NOT LOGGED IN"


@attrs.frozen
class Credentials:
    """The secrets the emulator accepts (and nothing else)."""

    client_id: str = "emulator-client"
    client_secret: str = "emulator-secret"
    username: str = "admin@vbc.prod"
    password: str = "emulator-password"
    api_key: str = "emulator-key"
    api_secret: str = "emulator-api-secret"
    legacy_username: str = "admin"
    legacy_password: str = "emulator-legacy-password"


class Tokens:
    """OAuth access tokens (expire after ``ttl``), single-use refresh tokens, auth codes."""

    def __init__(self, credentials: Credentials, ttl: float) -> None:
        self.credentials = credentials
        self.ttl = ttl
        self._access: dict[str, float] = {}
        self._refresh: set[str] = set()
        self._codes: dict[str, str] = {}
        self.issued = 0

    def issue(self) -> dict[str, Any]:
        access, refresh = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        self._access[access] = time.monotonic() + self.ttl
        self._refresh.add(refresh)
        self.issued += 1
        return {
            "access_token": access,
            "expires_in": max(1, round(self.ttl)),
            "refresh_token": refresh,
            "scope": "openid",
            "token_type": "Bearer",
        }

    def valid(self, token: str) -> bool:
        expiry = self._access.get(token)
        return expiry is not None and time.monotonic() < expiry

    def use_refresh(self, token: str) -> bool:
        """Spend a refresh token; False when unknown or already spent."""
        if token not in self._refresh:
            return False
        self._refresh.discard(token)
        return True

    def new_code(self, redirect_uri: str) -> str:
        code = secrets.token_urlsafe(12)
        self._codes[code] = redirect_uri
        return code

    def use_code(self, code: str, redirect_uri: str) -> bool:
        return self._codes.pop(code, None) == redirect_uri

    def expire(self, *, refresh: bool = False) -> None:
        """Expire every access token (and with ``refresh``, revoke every refresh token)."""
        self._access.clear()
        if refresh:
            self._refresh.clear()


@attrs.define
class Watcher:
    """What one Live Status poller (session + extension filter) was last given."""

    version: int = -1
    showed_disconnected: bool = False


@attrs.define
class Session:
    jsessionid: str
    hdap_id: str
    awsalb: str
    user_id: int
    last_seen: float
    polling: bool = False
    watchers: dict[tuple[str, ...], Watcher] = attrs.Factory(dict)


class Sessions:
    """Legacy API sessions; idle ones expire after ``ttl`` seconds."""

    def __init__(self, credentials: Credentials, ttl: float) -> None:
        self.credentials = credentials
        self.ttl = ttl
        self._by_id: dict[str, Session] = {}
        self.logins = 0

    def login(self, user_id: int) -> Session:
        session = Session(
            jsessionid=secrets.token_hex(16).upper(),
            hdap_id=secrets.token_hex(12),
            awsalb=secrets.token_urlsafe(30),
            user_id=user_id,
            last_seen=time.monotonic(),
        )
        self._by_id[session.jsessionid] = session
        self._by_id[session.hdap_id] = session
        self.logins += 1
        return session

    def find(self, cookies: Any) -> Session | None:
        """The live session ``JSESSIONID`` or ``HDAP-ID`` names (either alone will do, as seed
        003 says); None when absent or expired."""
        session = self._by_id.get(cookies.get("JSESSIONID", "")) or self._by_id.get(
            cookies.get("HDAP-ID", "")
        )
        if session is None:
            return None
        now = time.monotonic()
        if now - session.last_seen > self.ttl:
            self._drop(session)
            return None
        session.last_seen = now
        return session

    def _drop(self, session: Session) -> None:
        self._by_id.pop(session.jsessionid, None)
        self._by_id.pop(session.hdap_id, None)

    def expire(self) -> None:
        """End every session, as a server restart or timeout would."""
        self._by_id.clear()

    def check(self, login: str | None, password: str | None) -> bool:
        c = self.credentials
        return login == c.legacy_username and password == c.legacy_password


def set_session_cookies(response: web.StreamResponse, session: Session) -> None:
    response.set_cookie("JSESSIONID", session.jsessionid, path="/", httponly=True)
    response.set_cookie("HDAP-ID", session.hdap_id, path="/")
    response.set_cookie("AWSALB", session.awsalb, path="/", max_age=7 * 86400)


def _basic(header: str) -> tuple[str, str] | None:
    if not header.lower().startswith("basic "):
        return None
    try:
        user, sep, password = base64.b64decode(header[6:].strip()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (user, password) if sep else None


def _oauth_error(status: int, error: str, description: str) -> web.Response:
    return json_response({"error": error, "error_description": description}, status)


async def token(request: web.Request) -> web.Response:
    """``POST /token``: the OAuth password, refresh_token and authorization_code grants."""
    c = ctx(request)
    creds = c.tokens.credentials
    form = await request.post()
    client = _basic(request.headers.get("Authorization", "")) or (
        str(form.get("client_id", "")),
        str(form.get("client_secret", "")),
    )
    if client != (creds.client_id, creds.client_secret):
        return _oauth_error(401, "invalid_client", "Client authentication failed")
    grant = str(form.get("grant_type", ""))
    if grant == "password":
        username, password = str(form.get("username", "")), str(form.get("password", ""))
        if not username.endswith(USERNAME_SUFFIX):
            return _oauth_error(400, "invalid_grant", f"username must end with {USERNAME_SUFFIX}")
        if (username, password) != (creds.username, creds.password):
            return _oauth_error(400, "invalid_grant", "Authentication failed for the user")
    elif grant == "refresh_token":
        if not c.tokens.use_refresh(str(form.get("refresh_token", ""))):
            return _oauth_error(400, "invalid_grant", "Invalid or already used refresh token")
    elif grant == "authorization_code":
        if not c.tokens.use_code(str(form.get("code", "")), str(form.get("redirect_uri", ""))):
            return _oauth_error(400, "invalid_grant", "Invalid authorization code")
    else:
        return _oauth_error(400, "unsupported_grant_type", f"Unsupported grant type: {grant}")
    response = json_response(c.tokens.issue())
    response.headers["Cache-Control"] = "no-store"
    return response


async def authorize(request: web.Request) -> web.Response:
    """``GET /authorize``: consent is implied; redirect back with a one-time code."""
    c = ctx(request)
    q = request.query
    if q.get("client_id") != c.tokens.credentials.client_id or "redirect_uri" not in q:
        return _oauth_error(400, "invalid_request", "client_id and redirect_uri are required")
    target = URL(q["redirect_uri"]).update_query(code=c.tokens.new_code(q["redirect_uri"]))
    if "state" in q:
        target = target.update_query(state=q["state"])
    raise web.HTTPFound(target)


async def legacy_login(request: web.Request) -> web.Response:
    """``GET /appserver/rest/user/null``: log in with headers (or query) and get cookies."""
    c = ctx(request)
    login = request.headers.get("login") or request.query.get("htmlLogin")
    password = request.headers.get("password") or request.query.get("htmlPassword")
    if not c.sessions.check(login, password):
        return text_response("INVALID USERNAME OR PASSWORD", 401)
    user = c.state.login_user
    session = c.sessions.login(user.id)
    response = json_response(
        {
            "userId": str(user.id),
            "loginName": user.login_name,
            "firstName": user.first_name,
            "lastName": user.last_name,
            "accountId": c.state.account_id,
            "extensions": [e.number for e in c.state.user_extensions(user.id)],
        }
    )
    set_session_cookies(response, session)
    return response


def _gateway_401(description: str) -> web.Response:
    return json_response(
        {"fault": {"code": 900901, "message": "Invalid Credentials", "description": description}},
        401,
        **{"WWW-Authenticate": 'Bearer realm="vbc.prod"'},
    )


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Bearer tokens for VBC paths, HTTP Basic for the registry; legacy checks its own."""
    c = ctx(request)
    path = request.path
    if path.startswith(VBC_PREFIX + "/"):
        header = request.headers.get("Authorization", "")
        if not header.lower().startswith("bearer "):
            return _gateway_401(
                "Invalid Credentials. Make sure your API invocation call has a header: "
                "'Authorization : Bearer ACCESS_TOKEN'"
            )
        if not c.tokens.valid(header[7:].strip()):
            return _gateway_401(
                "Access failure for API: /t/vbc.prod, version: v1 status: (900901) - Invalid "
                "Credentials. Make sure you have provided the correct security credentials"
            )
    elif path.startswith(REGISTRY_PREFIX + "/"):
        creds = c.tokens.credentials
        if _basic(request.headers.get("Authorization", "")) != (creds.api_key, creds.api_secret):
            return registry_error(401, "You did not provide correct credentials.")
    return await handler(request)
