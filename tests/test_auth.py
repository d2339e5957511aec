"""Auth strategies against real token, API and legacy login servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from collections.abc import Awaitable, Callable
from http.cookies import SimpleCookie
from typing import Any

import pytest
from aiohttp import web
from multidict import CIMultiDict

from vonage_async import (
    Backoff,
    BasicAuth,
    BearerToken,
    OAuth2,
    RetryPolicy,
    SessionLogin,
    Vonage,
    errors,
)
from vonage_async._http import Request

from .test_request_path import assert_no_secret

Loopback = Any  # conftest.Loopback
Start = Callable[..., Awaitable[Loopback]]
FAST = RetryPolicy(backoff=Backoff(initial=0.01, maximum=0.05))

# Every secret the servers hand out or expect contains this marker, so one search finds leaks.
MARK = "SECRET"
PASSWORD = f"pw-{MARK}-1"
CLIENT_SECRET = f"cs-{MARK}-2"
API_SECRET = f"as-{MARK}-3"


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class TokenGateway:
    """The VBC token endpoint plus one API route that accepts only live access tokens."""

    def __init__(self, *, lifetime: int = 600, delay: float = 0.0) -> None:
        self.lifetime = lifetime
        self.delay = delay
        self.grants: list[dict[str, str]] = []
        self.basic_headers: list[str | None] = []
        self.live_access: set[str] = set()
        self.live_refresh: set[str] = set()
        self.codes = {"c0de"}
        self.issued = 0
        self.accept = True
        self.outages = 0  # how many token requests fail with 503 before it works again
        self.passwords = {"jane@vbc.prod": PASSWORD, "jane@corp.com@vbc.prod": PASSWORD}
        self.app = web.Application()
        self.app.router.add_post("/token", self.token)
        self.app.router.add_route("*", "/t/vbc.prod/{tail:.*}", self.api)

    def refused(self, error: str, description: str, status: int = 400) -> web.Response:
        return web.json_response({"error": error, "error_description": description}, status=status)

    async def token(self, request: web.Request) -> web.Response:
        if self.outages:
            self.outages -= 1
            return web.json_response({"code": "503", "message": "upstream busy"}, status=503)
        form = {k: str(v) for k, v in (await request.post()).items()}
        self.grants.append(form)
        self.basic_headers.append(request.headers.get("Authorization"))
        await asyncio.sleep(self.delay)
        grant = form.get("grant_type")
        if grant == "authorization_code":
            expected = "Basic " + base64.b64encode(f"app:{CLIENT_SECRET}".encode()).decode()
            if request.headers.get("Authorization") != expected:
                return self.refused("invalid_client", "bad client credentials", 401)
            if (
                form.get("code") not in self.codes
                or form.get("redirect_uri") != "https://a.example/cb"
            ):
                return self.refused("invalid_grant", "code unknown or used")
            self.codes.discard(form["code"])
        else:
            if form.get("client_id") != "app" or form.get("client_secret") != CLIENT_SECRET:
                return self.refused("invalid_client", "bad client credentials", 401)
            if grant == "password":
                if self.passwords.get(form.get("username", "")) != form.get("password"):
                    return self.refused("invalid_grant", "Invalid resource owner credentials")
            elif grant == "refresh_token":
                if form.get("refresh_token") not in self.live_refresh:
                    return self.refused("invalid_grant", "refresh token unknown or used")
                self.live_refresh.discard(form["refresh_token"])  # single use
            else:
                return self.refused("unsupported_grant_type", str(grant))
        self.issued += 1
        access, refresh = f"AT-{MARK}-{self.issued}", f"RT-{MARK}-{self.issued}"
        self.live_access.add(access)
        self.live_refresh.add(refresh)
        return web.json_response(
            {
                "access_token": access,
                "refresh_token": refresh,
                "expires_in": self.lifetime,
                "scope": "openid",
                "token_type": "Bearer",
            }
        )

    async def api(self, request: web.Request) -> web.Response:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self.live_access or not self.accept:
            fault = {"code": 900901, "message": "Invalid Credentials", "description": "expired"}
            return web.json_response({"fault": fault}, status=401)
        return web.json_response({"token": token})

    @property
    def grant_types(self) -> list[str]:
        return [g["grant_type"] for g in self.grants]


async def gateway_client(
    loopback: Start,
    gateway: TokenGateway,
    *,
    retry: RetryPolicy = FAST,
    timeout: float = 30.0,
    **oauth: Any,
) -> tuple[Loopback, Vonage, OAuth2]:
    server = await loopback(gateway.app)
    oauth.setdefault("client_id", "app")
    oauth.setdefault("client_secret", CLIENT_SECRET)
    auth = OAuth2(token_url=str(server.make_url("/token")), **oauth)
    client = Vonage(
        vbc_auth=auth,
        vbc_url=str(server.make_url("/t/vbc.prod")),
        retry=retry,
        timeout=timeout,
    )
    return server, client, auth


async def fetch(service: Any, client: Vonage, path: str = "things") -> Any:
    svc = service(client)
    return (await svc.request("GET", svc.url(path))).json()


# -- OAuth2 ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "sent"),
    [
        ("jane", "jane@vbc.prod"),
        ("jane@corp.com", "jane@corp.com@vbc.prod"),
        ("jane@vbc.prod", "jane@vbc.prod"),
    ],
)
async def test_password_grant_posts_the_documented_form(
    loopback: Start, service: Any, username: str, sent: str
) -> None:
    gateway = TokenGateway()
    gateway.passwords[sent] = PASSWORD
    server, client, _ = await gateway_client(
        loopback, gateway, username=username, password=PASSWORD
    )
    async with client:
        assert await fetch(service, client) == {"token": f"AT-{MARK}-1"}

    token_request = server.requests[0]
    assert token_request.method == "POST" and token_request.path == "/token"
    assert not token_request.query  # credentials travel in the body, never the URL
    assert token_request.headers["Content-Type"].startswith("application/x-www-form-urlencoded")
    assert token_request.form == {
        "grant_type": "password",
        "username": sent,
        "password": PASSWORD,
        "client_id": "app",
        "client_secret": CLIENT_SECRET,
        "scope": "openid",
    }
    assert server.requests[1].headers["Authorization"] == f"Bearer AT-{MARK}-1"


async def test_token_is_refreshed_near_expiry_with_the_newest_refresh_token(
    loopback: Start, service: Any
) -> None:
    gateway = TokenGateway(lifetime=600)
    clock = Clock()
    kept: list[str | None] = []
    _, client, _ = await gateway_client(
        loopback,
        gateway,
        username="jane",
        password=PASSWORD,
        clock=clock,
        on_tokens=lambda tokens: kept.append(tokens.refresh_token),
    )
    async with client:
        assert await fetch(service, client) == {"token": f"AT-{MARK}-1"}
        clock.now += 500  # still fresh
        assert await fetch(service, client) == {"token": f"AT-{MARK}-1"}
        clock.now += 50  # within the last minute: renew
        assert await fetch(service, client) == {"token": f"AT-{MARK}-2"}
        clock.now += 600
        assert await fetch(service, client) == {"token": f"AT-{MARK}-3"}

    # The gateway refuses a reused refresh token, so reaching AT-3 by refresh proves RT-2 was used.
    assert gateway.grant_types == ["password", "refresh_token", "refresh_token"]
    assert [g["refresh_token"] for g in gateway.grants[1:]] == [f"RT-{MARK}-1", f"RT-{MARK}-2"]
    assert all(g["client_id"] == "app" for g in gateway.grants)
    assert kept == [f"RT-{MARK}-1", f"RT-{MARK}-2", f"RT-{MARK}-3"]


async def test_a_refused_refresh_falls_back_to_the_password_grant(
    loopback: Start, service: Any
) -> None:
    gateway = TokenGateway(lifetime=600)
    clock = Clock()
    _, client, _ = await gateway_client(
        loopback, gateway, username="jane", password=PASSWORD, clock=clock
    )
    async with client:
        await fetch(service, client)
        gateway.live_refresh.clear()  # e.g. revoked by an admin
        clock.now += 700
        assert await fetch(service, client) == {"token": f"AT-{MARK}-2"}

    assert gateway.grant_types == ["password", "refresh_token", "password"]


async def test_a_401_renews_the_token_once_and_retries(loopback: Start, service: Any) -> None:
    gateway = TokenGateway()
    server, client, _ = await gateway_client(loopback, gateway, username="jane", password=PASSWORD)
    async with client:
        await fetch(service, client)
        gateway.live_access.clear()  # the gateway forgot the token before it expired
        assert await fetch(service, client) == {"token": f"AT-{MARK}-2"}

    assert gateway.grant_types == ["password", "refresh_token"]
    assert server.count("/t/vbc.prod/things") == 3  # first call, the 401, the retry


async def test_a_401_on_a_token_just_granted_is_permission_denied_without_another_grant(
    loopback: Start, service: Any
) -> None:
    gateway = TokenGateway()
    server, client, _ = await gateway_client(loopback, gateway, username="jane", password=PASSWORD)

    gateway.accept = False  # telephony.yml's 401: "User is not permitted ..."
    async with client:
        with pytest.raises(errors.PermissionDeniedError) as caught:
            await fetch(service, client)

    assert server.count("/t/vbc.prod/things") == 1
    assert gateway.grant_types == ["password"]  # the token was granted for this very request
    assert caught.value.status == 401
    assert caught.value.code == "900901"
    assert "Invalid Credentials" in caught.value.message


async def test_a_401_that_persists_after_one_fresh_grant_is_permission_denied(
    loopback: Start, service: Any
) -> None:
    gateway = TokenGateway()
    server, client, _ = await gateway_client(loopback, gateway, username="jane", password=PASSWORD)

    async with client:
        await fetch(service, client)  # a token that works
        gateway.accept = False  # then the account's permission goes
        for _ in range(3):
            with pytest.raises(errors.PermissionDeniedError) as caught:
                await fetch(service, client)
            assert "Invalid Credentials" in caught.value.message

    # Each failing request: its 401, at most one fresh grant, one retry; never a loop of grants.
    assert gateway.grant_types == ["password", "refresh_token", "refresh_token", "refresh_token"]
    assert server.count("/t/vbc.prod/things") == 1 + 3 * 2


@pytest.mark.parametrize("expires_in", ["nan", -5, 0.001, "1e400"])
async def test_an_absurd_token_lifetime_does_not_fetch_a_token_per_request(
    loopback: Start, service: Any, expires_in: Any
) -> None:
    gateway = TokenGateway(lifetime=expires_in)
    _, client, _ = await gateway_client(loopback, gateway, username="jane", password=PASSWORD)
    async with client:
        for _ in range(5):
            await fetch(service, client)
    assert len(gateway.grants) == 1


async def test_token_expiry_runs_on_the_monotonic_clock(
    loopback: Start, service: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    gateway = TokenGateway(lifetime=600)
    _, client, _ = await gateway_client(loopback, gateway, username="jane", password=PASSWORD)
    async with client:
        await fetch(service, client)
        real = time.time
        monkeypatch.setattr(time, "time", lambda: real() + 10 * 86400)  # the wall clock jumps
        await fetch(service, client)
    assert len(gateway.grants) == 1


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (200, b"access_token=AT-SECRET&refresh_token=RT-SECRET&expires_in=3600"),
        (200, b'{"access_token": "AT-SECRET", "refresh_token": "RT-SEC'),
        (400, b"refresh_token=RT-SECRET"),
    ],
)
async def test_an_unreadable_token_answer_is_not_quoted(
    loopback: Start, service: Any, status: int, body: bytes
) -> None:
    async def token(request: web.Request) -> web.Response:
        return web.Response(status=status, body=body, content_type="text/plain")

    server = await loopback(token)
    auth = OAuth2("app", CLIENT_SECRET, "jane", PASSWORD, token_url=str(server.make_url("/token")))
    client = Vonage(vbc_auth=auth, vbc_url=str(server.make_url("/t/vbc.prod")), retry=FAST)
    async with client:
        with pytest.raises(errors.AuthenticationError) as caught:
            await fetch(service, client)
    assert_no_secret(caught.value, "SECRET")


async def test_many_concurrent_requests_share_one_token_request_per_expiry(
    loopback: Start, service: Any
) -> None:
    gateway = TokenGateway(lifetime=30, delay=0.05)
    clock = Clock()
    _, client, auth = await gateway_client(
        loopback, gateway, username="jane", password=PASSWORD, clock=clock
    )
    async with client:
        for wave in range(1, 4):
            answers = await asyncio.gather(*(fetch(service, client) for _ in range(120)))
            assert {a["token"] for a in answers} == {f"AT-{MARK}-{wave}"}
            assert len(gateway.grants) == wave
            clock.now += 31  # every token is short-lived: it has expired by the next wave

    assert gateway.grant_types == ["password", "refresh_token", "refresh_token"]
    assert auth.token_requests == 3


async def test_many_concurrent_401s_cause_one_renewal(loopback: Start, service: Any) -> None:
    gateway = TokenGateway(delay=0.05)
    server, client, _ = await gateway_client(loopback, gateway, username="jane", password=PASSWORD)
    async with client:
        await fetch(service, client)
        gateway.live_access.clear()
        answers = await asyncio.gather(*(fetch(service, client) for _ in range(120)))

    assert {a["token"] for a in answers} == {f"AT-{MARK}-2"}
    assert gateway.grant_types == ["password", "refresh_token"]
    assert server.count("/t/vbc.prod/things") == 1 + 120 * 2


async def test_a_refused_grant_raises_with_the_oauth_error_code(
    loopback: Start, service: Any
) -> None:
    gateway = TokenGateway()
    server, client, _ = await gateway_client(loopback, gateway, username="jane", password="wrong")
    async with client:
        with pytest.raises(errors.AuthenticationError) as caught:
            await fetch(service, client)

    assert caught.value.error == "invalid_grant"
    assert caught.value.status == 400
    assert caught.value.method == "POST"
    assert caught.value.url == str(server.make_url("/token"))
    assert "Invalid resource owner credentials" in str(caught.value)
    assert server.count("/t/vbc.prod/things") == 0


async def test_concurrent_callers_share_one_refused_grant(loopback: Start, service: Any) -> None:
    gateway = TokenGateway(delay=0.05)
    _, client, _ = await gateway_client(loopback, gateway, username="jane", password="wrong")
    async with client:
        outcomes = await asyncio.gather(
            *(fetch(service, client) for _ in range(30)), return_exceptions=True
        )

    assert all(isinstance(o, errors.AuthenticationError) for o in outcomes)
    assert len(gateway.grants) == 1


async def test_authorization_code_grant_uses_basic_client_credentials(
    loopback: Start, service: Any
) -> None:
    gateway = TokenGateway(lifetime=600)
    clock = Clock()
    _, client, _ = await gateway_client(
        loopback, gateway, code="c0de", redirect_uri="https://a.example/cb", clock=clock
    )
    async with client:
        assert await fetch(service, client) == {"token": f"AT-{MARK}-1"}
        clock.now += 700  # the code is spent: renewal must use the refresh token
        assert await fetch(service, client) == {"token": f"AT-{MARK}-2"}

    assert gateway.grants[0] == {
        "grant_type": "authorization_code",
        "code": "c0de",
        "redirect_uri": "https://a.example/cb",
    }
    expected = "Basic " + base64.b64encode(f"app:{CLIENT_SECRET}".encode()).decode()
    assert gateway.basic_headers[0] == expected
    assert gateway.grant_types == ["authorization_code", "refresh_token"]


async def test_a_refresh_token_alone_is_enough(loopback: Start, service: Any) -> None:
    gateway = TokenGateway()
    gateway.live_refresh.add(f"RT-{MARK}-seed")
    seen: list[str | None] = []
    _, client, _ = await gateway_client(
        loopback,
        gateway,
        refresh_token=f"RT-{MARK}-seed",
        on_tokens=lambda tokens: seen.append(tokens.refresh_token),
    )
    async with client:
        assert await fetch(service, client) == {"token": f"AT-{MARK}-1"}

    assert gateway.grants == [
        {
            "grant_type": "refresh_token",
            "refresh_token": f"RT-{MARK}-seed",
            "client_id": "app",
            "client_secret": CLIENT_SECRET,
        }
    ]
    assert seen == [f"RT-{MARK}-1"]


async def test_a_refused_refresh_token_alone_raises_without_looping(
    loopback: Start, service: Any
) -> None:
    gateway = TokenGateway()
    _, client, _ = await gateway_client(loopback, gateway, refresh_token=f"RT-{MARK}-stale")
    async with client:
        with pytest.raises(errors.AuthenticationError) as first:
            await fetch(service, client)
        with pytest.raises(errors.AuthenticationError, match="no usable grant"):
            await fetch(service, client)

    assert first.value.error == "invalid_grant"
    assert len(gateway.grants) == 1


async def test_a_failing_token_gateway_keeps_the_refresh_token(
    loopback: Start, service: Any
) -> None:
    gateway = TokenGateway()
    gateway.live_refresh.add(f"RT-{MARK}-seed")
    gateway.outages = 1
    _, client, _ = await gateway_client(loopback, gateway, refresh_token=f"RT-{MARK}-seed")
    async with client:
        # The 503 is retried like the request it serves, with the same refresh token: the
        # outage said nothing about the grant.
        assert await fetch(service, client) == {"token": f"AT-{MARK}-1"}
    assert [g.get("refresh_token") for g in gateway.grants] == [f"RT-{MARK}-seed"]
    assert gateway.outages == 0


async def test_an_authorization_code_survives_a_gateway_outage(
    loopback: Start, service: Any
) -> None:
    gateway = TokenGateway()
    gateway.outages = 1
    _, client, _ = await gateway_client(
        loopback, gateway, code="c0de", redirect_uri="https://a.example/cb"
    )
    async with client:  # the 503 said nothing about the code: it is sent again, and works
        assert await fetch(service, client) == {"token": f"AT-{MARK}-1"}
    assert gateway.grant_types == ["authorization_code"]


async def test_token_outages_follow_the_retry_policy(loopback: Start, service: Any) -> None:
    gateway = TokenGateway()
    gateway.outages = 1
    no_status_retries = RetryPolicy(statuses=frozenset(), backoff=FAST.backoff)
    server, client, _ = await gateway_client(
        loopback, gateway, retry=no_status_retries, username="jane", password=PASSWORD
    )
    async with client:
        with pytest.raises(errors.ServerError):
            await fetch(service, client)
    assert server.count("/token") == 1


async def test_callers_waiting_on_a_hung_token_request_share_its_failure(
    loopback: Start, service: Any
) -> None:
    gateway = TokenGateway(delay=5.0)
    _, client, _ = await gateway_client(
        loopback, gateway, timeout=0.3, username="jane", password=PASSWORD
    )
    async with client:
        started = asyncio.get_running_loop().time()
        results = await asyncio.gather(
            *(fetch(service, client) for _ in range(10)), return_exceptions=True
        )
        elapsed = asyncio.get_running_loop().time() - started
    assert all(isinstance(r, errors.TransportError) for r in results)
    # One token request per attempt, shared by all ten callers: not ten timeouts in a row.
    assert len(gateway.grants) == FAST.attempts
    assert elapsed < 0.3 * FAST.attempts + 0.6


async def test_an_async_on_tokens_callback_is_awaited(loopback: Start, service: Any) -> None:
    saved: list[str | None] = []

    async def persist(tokens: Any) -> None:
        await asyncio.sleep(0)
        saved.append(tokens.refresh_token)

    gateway = TokenGateway()
    _, client, _ = await gateway_client(
        loopback, gateway, username="jane", password=PASSWORD, on_tokens=persist
    )
    async with client:
        await fetch(service, client)
    assert saved == [f"RT-{MARK}-1"]


# -- SessionLogin ------------------------------------------------------------------------

SESSION_COOKIES = ("HDAP-ID", "JSESSIONID", "AWSALB")


class LegacyServer:
    """The legacy host: header login, three cookies, 403 reasons as plain text."""

    def __init__(self, *, delay: float = 0.0, login_status: int = 401) -> None:
        self.delay = delay
        self.login_status = login_status
        self.sessions = 0
        self.current: dict[str, str] = {}
        self.app = web.Application()
        self.app.router.add_get("/appserver/rest/user/null", self.login)
        self.app.router.add_get("/presence/rest/directory", self.directory)
        self.app.router.add_get("/presence/rest/clicktocall/{number}", self.click_to_call)

    async def login(self, request: web.Request) -> web.Response:
        await asyncio.sleep(self.delay)
        if request.headers.get("login") != "jane" or request.headers.get("password") != PASSWORD:
            return web.Response(status=self.login_status, text="USER NOT LOGGED IN")
        self.sessions += 1
        n = self.sessions
        self.current = {
            "HDAP-ID": f"hdap-{MARK}-{n}",
            "JSESSIONID": f"js-{MARK}-{n}",
            "AWSALB": f"alb-{MARK}-{n}",
        }
        response = web.Response(text="OK")
        for name, value in self.current.items():
            response.set_cookie(name, value, path="/", httponly=True)
        return response

    def logged_in(self, request: web.Request) -> bool:
        return bool(self.current) and all(
            request.cookies.get(name) == value for name, value in self.current.items()
        )

    def expire(self) -> None:
        self.current = {}

    async def directory(self, request: web.Request) -> web.Response:
        if not self.logged_in(request):
            return web.Response(status=403, text="USER NOT LOGGED IN")
        return web.json_response({"session": self.sessions})

    async def click_to_call(self, request: web.Request) -> web.Response:
        if not self.logged_in(request):
            return web.Response(status=403, text="USER NOT LOGGED IN")
        if request.match_info["number"].startswith("011"):
            return web.Response(status=403, text="INTERNATIONAL BLOCKED")
        return web.Response(text="OK")


async def legacy_client(
    loopback: Start, legacy: LegacyServer, password: str = PASSWORD, **kwargs: Any
) -> tuple[Loopback, Vonage, SessionLogin]:
    server = await loopback(legacy.app)
    auth = SessionLogin("jane", password)
    client = Vonage(legacy_auth=auth, legacy_url=str(server.url), retry=FAST, **kwargs)
    return server, client, auth


async def directory(service: Any, client: Vonage) -> Any:
    svc = service(client, "legacy")
    return (await svc.request("GET", svc.url("presence", "rest", "directory"))).json()


def cookies_of(seen: Any) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie(seen.headers.get("Cookie", ""))
    return {name: morsel.value for name, morsel in jar.items()}


async def test_login_sends_credentials_as_headers_and_keeps_every_cookie(
    loopback: Start, service: Any
) -> None:
    legacy = LegacyServer()
    server, client, _ = await legacy_client(loopback, legacy)
    async with client:
        assert await directory(service, client) == {"session": 1}
        assert await directory(service, client) == {"session": 1}

    assert server.url.host == "127.0.0.1"
    login = server.requests[0]
    assert login.path == "/appserver/rest/user/null"
    assert login.headers["login"] == "jane" and login.headers["password"] == PASSWORD
    assert not login.query  # no htmlLogin/htmlPassword in the URL
    for later in server.requests[1:]:
        assert cookies_of(later) == {
            "HDAP-ID": f"hdap-{MARK}-1",
            "JSESSIONID": f"js-{MARK}-1",
            "AWSALB": f"alb-{MARK}-1",
        }
    assert server.count("/appserver/rest/user/null") == 1


async def test_session_cookies_never_go_to_another_host_or_port(
    loopback: Start, service: Any
) -> None:
    legacy = LegacyServer()
    legacy.app.router.add_get("/v1/nr/profiles", ok)
    server = await loopback(legacy.app)
    other_port = await loopback(ok)
    client = Vonage(
        legacy_auth=SessionLogin("jane", PASSWORD),
        legacy_url=str(server.url),
        vbc_auth=BearerToken("tok"),
        vbc_url=str(other_port.make_url("/t/vbc.prod")),
        network_registry_auth=BasicAuth("key", API_SECRET),
        network_registry_url=str(server.url.with_host("localhost").with_path("/v1/nr")),
        retry=FAST,
    )
    async with client:
        await directory(service, client)
        vbc = service(client, "vbc")
        await vbc.request("GET", vbc.url("things"))
        registry = service(client, "network_registry")
        await registry.request("GET", registry.url("profiles"))  # same port, other host name
        legacy_svc = service(client, "legacy")
        with pytest.raises(errors.UnsafeURLError):
            await legacy_svc.request("GET", other_port.make_url("/presence/rest/directory"))

    assert [r.path for r in other_port.requests] == ["/t/vbc.prod/things"]
    assert "Cookie" not in other_port.requests[0].headers
    profiles = [r for r in server.requests if r.path == "/v1/nr/profiles"]
    assert len(profiles) == 1 and "Cookie" not in profiles[0].headers


async def ok(request: web.Request) -> web.Response:
    return web.json_response({})


async def test_an_expired_session_logs_in_again_once_and_retries(
    loopback: Start, service: Any
) -> None:
    legacy = LegacyServer()
    server, client, auth = await legacy_client(loopback, legacy)
    async with client:
        await directory(service, client)
        legacy.expire()
        assert await directory(service, client) == {"session": 2}

    assert server.count("/appserver/rest/user/null") == 2
    assert server.count("/presence/rest/directory") == 3
    assert cookies_of(server.requests[-1])["JSESSIONID"] == f"js-{MARK}-2"
    assert auth.generation == 2


async def test_fifty_concurrent_requests_after_expiry_cause_one_login(
    loopback: Start, service: Any
) -> None:
    legacy = LegacyServer(delay=0.05)
    server, client, _ = await legacy_client(loopback, legacy)
    async with client:
        await directory(service, client)
        legacy.expire()
        answers = await asyncio.gather(*(directory(service, client) for _ in range(50)))

    assert answers == [{"session": 2}] * 50
    assert server.count("/appserver/rest/user/null") == 2


async def test_international_blocked_is_not_a_reason_to_log_in_again(
    loopback: Start, service: Any
) -> None:
    legacy = LegacyServer()
    server, client, _ = await legacy_client(loopback, legacy)
    async with client:
        svc = service(client, "legacy")
        with pytest.raises(errors.PermissionDeniedError) as caught:
            await svc.request("GET", svc.url("presence", "rest", "clicktocall", "0114488079084"))

    assert caught.value.message == "INTERNATIONAL BLOCKED"
    assert caught.value.status == 403
    assert server.count("/appserver/rest/user/null") == 1
    assert server.count() == 2


@pytest.mark.parametrize("status", [401, 403])
async def test_a_wrong_password_raises_at_once(loopback: Start, service: Any, status: int) -> None:
    legacy = LegacyServer(login_status=status)
    server, client, _ = await legacy_client(loopback, legacy, password="wrong")
    async with client:
        with pytest.raises(errors.AuthenticationError) as caught:
            await directory(service, client)

    assert caught.value.status == status
    assert "USER NOT LOGGED IN" in caught.value.message
    assert [r.path for r in server.requests] == ["/appserver/rest/user/null"]


async def test_a_wrong_password_with_concurrent_callers_logs_in_once(
    loopback: Start, service: Any
) -> None:
    legacy = LegacyServer(delay=0.05)
    server, client, _ = await legacy_client(loopback, legacy, password="wrong")
    async with client:
        outcomes = await asyncio.gather(
            *(directory(service, client) for _ in range(20)), return_exceptions=True
        )

    assert all(isinstance(o, errors.AuthenticationError) for o in outcomes)
    assert [r.path for r in server.requests] == ["/appserver/rest/user/null"]


# -- static credentials and where they may go --------------------------------------------


async def test_basic_auth_header(loopback: Start, service: Any) -> None:
    server = await loopback(ok)
    client = Vonage(
        network_registry_auth=BasicAuth("key", API_SECRET),
        network_registry_url=str(server.make_url("/v1/network-registry")),
    )
    async with client:
        svc = service(client, "network_registry")
        await svc.request("GET", svc.url("profiles"))

    expected = "Basic " + base64.b64encode(f"key:{API_SECRET}".encode()).decode()
    assert server.requests[0].headers["Authorization"] == expected
    assert server.requests[0].path == "/v1/network-registry/profiles"


async def test_bearer_token_header(loopback: Start, service: Any) -> None:
    server = await loopback(ok)
    async with Vonage(vbc_auth=BearerToken("tok-1"), vbc_url=str(server.url)) as client:
        svc = service(client)
        await svc.request("DELETE", svc.url("things", "9"))

    assert server.requests[0].headers["Authorization"] == "Bearer tok-1"
    assert server.requests[0].method == "DELETE"


@pytest.mark.parametrize("family", ["vbc_bearer", "vbc_oauth", "network_registry", "legacy"])
async def test_credentials_are_only_sent_to_the_configured_origin(
    loopback: Start, service: Any, family: str
) -> None:
    gateway = TokenGateway()
    home = await loopback(gateway.app)
    elsewhere = await loopback(ok)
    auth: Any = {
        "vbc_bearer": BearerToken("tok"),
        "vbc_oauth": OAuth2(
            "app", CLIENT_SECRET, "jane", PASSWORD, token_url=str(home.make_url("/token"))
        ),
        "network_registry": BasicAuth("key", API_SECRET),
        "legacy": SessionLogin("jane", PASSWORD),
    }[family]
    name = "vbc" if family.startswith("vbc") else family
    client = Vonage(**{f"{name}_auth": auth, f"{name}_url": str(home.make_url("/base"))})
    async with client:
        svc = service(client, name)
        with pytest.raises(errors.UnsafeURLError):
            await svc.request("GET", elsewhere.make_url("/base/things"))
        with pytest.raises(errors.UnsafeURLError):  # same host, other scheme
            await svc.request("GET", home.make_url("/base/things").with_scheme("https"))

    assert elsewhere.count() == 0
    assert home.count() == 0  # not even a token request or a login


# -- secrets stay secret -----------------------------------------------------------------


async def test_no_secret_reaches_logs_reprs_or_errors(
    loopback: Start, service: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="vonage_async")
    shown: list[str] = []

    def show(*objects: Any) -> None:
        shown.extend(repr(o) for o in objects)

    async def expect_error(call: Awaitable[Any]) -> None:
        try:
            await call
        except errors.VonageError as exc:
            shown.append(str(exc))
            shown.append(repr(exc))
        else:
            raise AssertionError("expected an error")

    # OAuth: password grant, refresh after a 401, a refused grant.
    gateway = TokenGateway()
    token_server = await loopback(gateway.app)
    oauth = OAuth2(
        "app", CLIENT_SECRET, "jane", PASSWORD, token_url=str(token_server.make_url("/token"))
    )
    # Basic: a 401 from the registry; SessionLogin: a login, a re-login, a refused login.
    registry = await loopback(unauthorized)
    legacy = LegacyServer()
    legacy_server = await loopback(legacy.app)
    basic = BasicAuth("key", API_SECRET)
    session = SessionLogin("jane", PASSWORD)
    client = Vonage(
        vbc_auth=oauth,
        vbc_url=str(token_server.make_url("/t/vbc.prod")),
        network_registry_auth=basic,
        network_registry_url=str(registry.url),
        legacy_auth=session,
        legacy_url=str(legacy_server.url),
        retry=FAST,
    )
    async with client:
        vbc = service(client)
        response = await vbc.request("GET", vbc.url("things"), params={"password": PASSWORD})
        gateway.live_access.clear()
        await vbc.request("GET", vbc.url("things"))
        nr = service(client, "network_registry")
        await expect_error(nr.request("GET", nr.url("profiles")))
        await directory(service, client)
        legacy.expire()
        await directory(service, client)
        secret_query = token_server.make_url("/nowhere").with_query(access_token=f"AT-{MARK}-x")
        await expect_error(vbc.request("GET", secret_query))

        request = Request("GET", vbc.url("things"), CIMultiDict())
        for strategy in (oauth, basic, session):
            await strategy.prepare(request, client._transport)
            show(request, strategy)
        show(client, response, vbc)

    wrong = OAuth2(
        "app", CLIENT_SECRET, "jane", "wrong", token_url=str(token_server.make_url("/token"))
    )
    bad_login = SessionLogin("jane", f"bad-{MARK}")
    async with Vonage(
        vbc_auth=wrong,
        vbc_url=str(token_server.make_url("/t/vbc.prod")),
        legacy_auth=bad_login,
        legacy_url=str(legacy_server.url),
    ) as failing:
        await expect_error(fetch(service, failing))
        await expect_error(directory(service, failing))
        show(failing, wrong, bad_login)

    assert len(caplog.records) >= 8  # the requests were logged
    logged = [r.getMessage() for r in caplog.records] + [caplog.text]
    assert any("password=***" in text for text in logged)  # the secret query was there, masked
    leaks = [text for text in logged + shown if MARK in text or PASSWORD in text]
    assert not leaks, leaks
    assert len(shown) >= 15


async def unauthorized(request: web.Request) -> web.Response:
    return web.json_response({"title": "Unauthorized", "detail": "bad key"}, status=401)
