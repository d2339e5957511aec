"""The request path as every family sees it: redirects, malformed answers, rate-limit slots.

Servers are loopback ones written from the documents (and raw TCP for answers no HTTP
framework will send), never the project's emulator.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from vonage_async import (
    Backoff,
    BasicAuth,
    BearerToken,
    OAuth2,
    RateLimit,
    RetryPolicy,
    SessionLogin,
    UnexpectedRedirectError,
    Vonage,
    errors,
)

FAST = RetryPolicy(backoff=Backoff(initial=0.01, maximum=0.05))
TOKEN = "tok-SECRET-1"
PASSWORD = "pw-SECRET-2"

Loopback = Any  # conftest.Loopback
Start = Callable[..., Awaitable[Loopback]]


def assert_no_secret(exc: BaseException, *secrets: str) -> None:
    """No secret in str, repr, args or attributes of ``exc`` or anything in its cause chain."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        shown = str(current) + repr(current) + repr(current.args) + repr(vars(current))
        for secret in secrets:
            assert secret not in shown, f"{secret!r} in {type(current).__name__}: {shown[:300]}"
        todo += [current.__cause__, current.__context__]


# -- 3xx is never followed and never a success ---------------------------------------------


def redirecting(target: str, status: int = 302) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handler(request: web.Request) -> web.Response:
        if request.path == "/appserver/rest/user/null":  # the legacy login itself succeeds
            response = web.Response(text="")
            response.set_cookie("JSESSIONID", "s1")
            return response
        return web.Response(status=status, headers={"Location": target})

    return handler


OPERATIONS = [
    "click_to_call",
    "recordings.download",
    "calls.delete",
    "provisioning.accounts.get",
    "integration.calls.get",
    "network_registry.business_profiles.get",
    "network_registry.business_profiles.delete",
]


async def run_operation(client: Vonage, operation: str, mp3: Path) -> None:
    if operation == "click_to_call":
        await client.legacy.click_to_call("5551234567")
    elif operation == "recordings.download":
        await client.legacy.recordings.download("4182737411359658008242", mp3)
    elif operation == "calls.delete":
        await client.telephony.calls.delete("self", "c1")
    elif operation == "provisioning.accounts.get":
        await client.provisioning.accounts.get("self")
    elif operation == "integration.calls.get":
        await client.integration.calls.get("c1")
    elif operation == "network_registry.business_profiles.get":
        await client.network_registry.business_profiles.get("bp1")
    else:
        await client.network_registry.business_profiles.delete("bp1")


@pytest.mark.parametrize("status", [301, 302, 303, 304, 307, 308])
@pytest.mark.parametrize("operation", OPERATIONS)
async def test_a_redirect_raises_with_its_location_redacted(
    loopback: Start, tmp_path: Path, operation: str, status: int
) -> None:
    async def nothing(request: web.Request) -> web.Response:
        return web.json_response({})

    elsewhere = await loopback(nothing)
    target = elsewhere.make_url("/landing").with_user("u").with_password(PASSWORD)
    server = await loopback(redirecting(str(target.with_query(access_token=TOKEN)), status))
    client = Vonage(
        vbc_auth=BearerToken(TOKEN),
        vbc_url=str(server.make_url("/t/vbc.prod")),
        network_registry_auth=BasicAuth("key", PASSWORD),
        network_registry_url=str(server.make_url("/nr")),
        legacy_auth=SessionLogin("alice", PASSWORD),
        legacy_url=str(server.url),
        retry=FAST,
    )
    mp3 = tmp_path / "call.mp3"
    async with client:
        with pytest.raises(UnexpectedRedirectError) as caught:
            # A 304 to a request that asked for no such thing is no success either: it made
            # calls.delete() return an empty model and download() save an empty MP3.
            await run_operation(client, operation, mp3)

    error = caught.value
    assert isinstance(error, errors.HTTPError)
    assert error.status == status
    assert error.location is not None and error.location.endswith("/landing?access_token=***")
    assert_no_secret(error, TOKEN, PASSWORD)
    assert not mp3.exists()  # the redirect page was not saved as the recording
    assert elsewhere.count() == 0


async def test_a_304_is_an_answer_only_where_asked_for(loopback: Start, service: Any) -> None:
    async def not_modified(request: web.Request) -> web.Response:
        return web.Response(status=304)

    server = await loopback(not_modified)
    async with Vonage(vbc_auth=BearerToken(TOKEN), vbc_url=str(server.make_url("/t"))) as client:
        svc = service(client)
        response = await svc.request("GET", svc.url("things"), not_modified=True)  # dashui
        assert response.status == 304
        with pytest.raises(UnexpectedRedirectError):
            await svc.request("GET", svc.url("things"))


# -- malformed answers: no request header in the cause chain -------------------------------


MALFORMED = {
    "oversized header": b"HTTP/1.1 200 OK\r\nSet-Cookie: AWSALB="
    + b"x" * 20000
    + b"\r\nContent-Length: 2\r\n\r\n{}",
    "bad status line": b"HTTP/1.1 2xx Fine\r\nContent-Length: 2\r\n\r\n{}",
    "not http": b"SSH-2.0-OpenSSH_9.6\r\n\r\n",
}


SESSION = "JS-SECRET-4"
API_SECRET = "api-SECRET-5"
REFRESH = "rt-SECRET-6"
CLIENT_SECRET = "cs-SECRET-7"
LOGIN_OK = (
    b"HTTP/1.1 200 OK\r\nSet-Cookie: JSESSIONID=" + SESSION.encode() + b"; Path=/\r\n"
    b"Content-Length: 0\r\n\r\n"
)


@pytest.fixture
async def raw_server() -> AsyncIterator[Callable[..., Awaitable[str]]]:
    """Answers ``answer`` to everything (with ``login_ok``, the legacy login succeeds with a
    session cookie, so that the requests after it carry the cookie)."""
    servers: list[asyncio.Server] = []

    async def start(answer: bytes, login_ok: bool = False) -> str:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
                login = login_ok and head.startswith(b"GET /appserver/rest/user/null ")
                writer.write(LOGIN_OK if login else answer)
                await writer.drain()
            except (ConnectionError, asyncio.IncompleteReadError):
                pass
            finally:
                writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        servers.append(server)
        return f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()


SECRETS = (
    TOKEN,
    PASSWORD,
    SESSION,
    API_SECRET,
    REFRESH,
    CLIENT_SECRET,
    base64.b64encode(f"key:{API_SECRET}".encode()).decode(),
)


@pytest.mark.parametrize("kind", sorted(MALFORMED))
@pytest.mark.parametrize(
    "family", ["vbc", "legacy login", "legacy session", "network registry", "oauth token"]
)
async def test_a_malformed_answer_is_a_transport_error_without_secrets(
    raw_server: Any, caplog: pytest.LogCaptureFixture, kind: str, family: str
) -> None:
    url = await raw_server(MALFORMED[kind], login_ok=family == "legacy session")
    vbc_auth: Any = BearerToken(TOKEN)
    if family == "oauth token":
        vbc_auth = OAuth2("app", CLIENT_SECRET, refresh_token=REFRESH, token_url=url + "/token")
    client = Vonage(
        vbc_auth=vbc_auth,
        vbc_url=url + "/t/vbc.prod",
        network_registry_auth=BasicAuth("key", API_SECRET),
        network_registry_url=url + "/nr",
        legacy_auth=SessionLogin("alice", PASSWORD),
        legacy_url=url,
        retry=FAST,
    )
    with caplog.at_level(logging.DEBUG, "vonage_async"):
        async with client:
            with pytest.raises(errors.TransportError) as caught:
                if family in ("vbc", "oauth token"):
                    await client.telephony.calls.get("self", "c1")
                elif family == "network registry":
                    await client.network_registry.business_profiles.get("bp1")
                else:  # the login itself, or a request with the session's cookie
                    await client.legacy.directory()
    assert "malformed" in str(caught.value) or kind == "not http"
    assert_no_secret(caught.value, *SECRETS)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert not [secret for secret in SECRETS if secret in logged], logged


# -- the rate-limit slot is taken when the request is sent --------------------------------


async def test_a_slow_token_fetch_does_not_bunch_two_windows_of_requests(
    loopback: Start, service: Any
) -> None:
    period, calls = 0.5, 2
    arrivals: list[float] = []

    async def handler(request: web.Request) -> web.Response:
        if request.path == "/token":
            await asyncio.sleep(period * 1.5)  # longer than a window
            return web.json_response({"access_token": "AT", "expires_in": 3600})
        arrivals.append(asyncio.get_running_loop().time())
        return web.json_response({})

    server = await loopback(handler)
    auth = OAuth2("app", "cs", "jane", PASSWORD, token_url=str(server.make_url("/token")))
    client = Vonage(
        vbc_auth=auth,
        vbc_url=str(server.make_url("/t/vbc.prod")),
        vbc_rate_limit=RateLimit(calls=calls, period=period),
    )
    async with client:
        svc = service(client)
        await asyncio.gather(*(svc.request("GET", svc.url("things")) for _ in range(6)))

    arrivals.sort()
    assert len(arrivals) == 6
    # However the token fetch delayed them, no window saw more than ``calls`` requests.
    # (A margin of 20 % of the window for the way between the client and the server.)
    for i in range(len(arrivals) - calls):
        assert arrivals[i + calls] - arrivals[i] >= period * 0.8, arrivals


# -- the CLI never shows a configured URL's userinfo ---------------------------------------


@pytest.mark.parametrize(
    ("variable", "family_command"),
    [
        ("VONAGE_LEGACY_URL", "directory"),
        ("VONAGE_VBC_URL", "calls"),
        ("VONAGE_NETWORK_REGISTRY_URL", "profiles"),
    ],
)
@pytest.mark.parametrize(
    "url", ["htps://user:SECRET-3@host", "https://user:SECRET-3@host/x", "http://SECRET-3@h"]
)
def test_the_cli_does_not_print_a_urls_userinfo(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    variable: str,
    family_command: str,
    url: str,
) -> None:
    from vonage_async._cli import main

    for name in (
        "VONAGE_LEGACY_USERNAME",
        "VONAGE_LEGACY_PASSWORD",
        "VONAGE_CLIENT_ID",
        "VONAGE_CLIENT_SECRET",
        "VONAGE_REFRESH_TOKEN",
        "VONAGE_API_KEY",
        "VONAGE_API_SECRET",
    ):
        monkeypatch.setenv(name, "x")
    monkeypatch.setenv(variable, url)

    assert main([family_command]) == 2
    captured = capsys.readouterr()
    assert "SECRET-3" not in captured.out + captured.err
    assert variable in captured.err


# -- a 409 is the ConflictError its family documents ---------------------------------------


@pytest.mark.parametrize(
    ("operation", "expected"),
    [
        ("click_to_call", errors.SessionConflictError),  # seed 003: session shared
        ("calls.delete", errors.CallStateConflictError),  # telephony.yml: a leg's state
        ("provisioning.accounts.get", errors.ConflictError),  # documented nowhere else
        ("integration.calls.get", errors.ConflictError),
        ("network_registry.business_profiles.get", errors.ConflictError),
    ],
)
async def test_a_409_is_the_conflict_its_family_documents(
    loopback: Start, tmp_path: Path, operation: str, expected: type[errors.ConflictError]
) -> None:
    async def conflict(request: web.Request) -> web.Response:
        if request.path == "/appserver/rest/user/null":
            response = web.Response(text="")
            response.set_cookie("JSESSIONID", "s1")
            return response
        return web.json_response({"code": 409, "message": "in the way"}, status=409)

    server = await loopback(conflict)
    async with Vonage(
        vbc_auth=BearerToken(TOKEN),
        vbc_url=str(server.make_url("/t/vbc.prod")),
        network_registry_auth=BasicAuth("key", PASSWORD),
        network_registry_url=str(server.make_url("/nr")),
        legacy_auth=SessionLogin("alice", PASSWORD),
        legacy_url=str(server.url),
        retry=FAST,
    ) as client:
        with pytest.raises(errors.ConflictError) as caught:
            await run_operation(client, operation, tmp_path / "x.mp3")
    assert type(caught.value) is expected
    assert (caught.value.status, caught.value.message) == (409, "in the way")
