"""The request path: retries, Retry-After, rate limits, User-Agent and the client's lifecycle."""

from __future__ import annotations

import asyncio
import email.utils
import gc
import json
import socket
import struct
import sys
import time
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from yarl import URL

from vonage_async import Backoff, BearerToken, RateLimit, RetryPolicy, Vonage, __version__, errors

FAST = RetryPolicy(backoff=Backoff(initial=0.01, maximum=0.05))

Loopback = Any  # conftest.Loopback
Start = Callable[..., Awaitable[Loopback]]


def client_for(server: Loopback | URL, **kwargs: Any) -> Vonage:
    base = server if isinstance(server, URL) else server.url
    kwargs.setdefault("retry", FAST)
    return Vonage(vbc_auth=BearerToken("tok"), vbc_url=str(base.with_path("/t/vbc.prod")), **kwargs)


def failing(times: int, status: int, **response: Any) -> Callable[..., Awaitable[web.Response]]:
    """A handler that answers ``status`` ``times`` times, then 200 with the request it saw."""
    seen = 0

    async def handler(request: web.Request) -> web.Response:
        nonlocal seen
        seen += 1
        if seen <= times:
            return web.Response(status=status, **response)
        return web.json_response({"ok": True, "method": request.method})

    return handler


# -- retries on error statuses -------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 502, 503, 504])
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
async def test_idempotent_requests_are_retried_on_busy_statuses(
    loopback: Start, service: Any, method: str, status: int
) -> None:
    server = await loopback(failing(2, status, text="busy"))
    async with client_for(server) as client:
        svc = service(client)
        response = await svc.request(method, svc.url("things", "1"))

    assert response.json() == {"ok": True, "method": method}
    assert server.count("/t/vbc.prod/things/1", method) == 3


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (429, errors.RateLimitedError),
        (502, errors.ServerError),
        (503, errors.ServerError),
        (504, errors.ServerError),
    ],
)
async def test_post_is_never_retried(
    loopback: Start, service: Any, status: int, error: type[Exception]
) -> None:
    server = await loopback(failing(5, status, text="busy"))
    async with client_for(server) as client:
        svc = service(client)
        with pytest.raises(error):
            await svc.request("POST", svc.url("calls"), json={"to": "100"})

    assert server.count() == 1


async def test_retries_stop_after_the_policy_attempts(loopback: Start, service: Any) -> None:
    server = await loopback(failing(10, 503, text="down for maintenance"))
    retry = RetryPolicy(attempts=4, backoff=Backoff(initial=0.01, maximum=0.02))
    async with client_for(server, retry=retry) as client:
        svc = service(client)
        with pytest.raises(errors.ServerError) as caught:
            await svc.request("GET", svc.url("things"))

    assert server.count() == 4
    assert caught.value.status == 503
    assert caught.value.message == "down for maintenance"


async def test_client_errors_are_not_retried(loopback: Start, service: Any) -> None:
    server = await loopback(failing(5, 500, text="boom"))
    async with client_for(server) as client:
        svc = service(client)
        with pytest.raises(errors.ServerError):
            await svc.request("GET", svc.url("things"))

    assert server.count() == 1  # 500 is not in the retried statuses


# -- retries on connection failures ------------------------------------------------------


class FlakyTCP:
    """A raw TCP server that drops the first ``failures`` requests, then answers 200."""

    def __init__(self, failures: int, mode: str) -> None:
        self.failures = failures
        self.mode = mode
        self.requests: list[bytes] = []
        self.server: asyncio.Server | None = None

    @property
    def url(self) -> URL:
        assert self.server is not None
        port = self.server.sockets[0].getsockname()[1]
        return URL.build(scheme="http", host="127.0.0.1", port=port)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()
            return
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        if length:
            await reader.readexactly(length)
        self.requests.append(head.split(b"\r\n")[0])
        if len(self.requests) <= self.failures:
            if self.mode == "reset":  # RST instead of FIN
                sock = writer.get_extra_info("socket")
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                writer.transport.abort()
            else:
                writer.close()
            return
        body = json.dumps({"answered": len(self.requests)}).encode()
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
        )
        await writer.drain()
        writer.close()


@pytest.fixture
async def flaky() -> AsyncIterator[Callable[[int, str], Awaitable[FlakyTCP]]]:
    servers: list[FlakyTCP] = []

    async def start(failures: int, mode: str) -> FlakyTCP:
        tcp = FlakyTCP(failures, mode)
        tcp.server = await asyncio.start_server(tcp.handle, "127.0.0.1", 0)
        servers.append(tcp)
        return tcp

    yield start
    for tcp in servers:
        assert tcp.server is not None
        tcp.server.close()
        await tcp.server.wait_closed()


@pytest.mark.parametrize("mode", ["close", "reset"])
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
async def test_idempotent_requests_survive_dropped_connections(
    flaky: Any, service: Any, method: str, mode: str
) -> None:
    tcp = await flaky(2, mode)
    async with client_for(tcp.url) as client:
        svc = service(client)
        response = await svc.request(method, svc.url("things", "1"))

    assert response.json() == {"answered": 3}
    assert [line.split()[0].decode() for line in tcp.requests] == [method] * 3


@pytest.mark.parametrize("mode", ["close", "reset"])
async def test_post_is_not_resent_after_a_dropped_connection(
    flaky: Any, service: Any, mode: str
) -> None:
    tcp = await flaky(1, mode)
    async with client_for(tcp.url) as client:
        svc = service(client)
        with pytest.raises(errors.TransportError) as caught:
            await svc.request("POST", svc.url("calls"), json={"to": "100"})

    assert len(tcp.requests) == 1
    assert caught.value.method == "POST"
    assert caught.value.url.endswith("/t/vbc.prod/calls")


async def test_a_connection_that_keeps_dropping_raises_transport_error(
    flaky: Any, service: Any
) -> None:
    tcp = await flaky(10, "close")
    async with client_for(tcp.url) as client:
        svc = service(client)
        with pytest.raises(errors.TransportError):
            await svc.request("GET", svc.url("things"))

    # Three attempts (RetryPolicy().attempts); aiohttp itself resends an idempotent request
    # once on a dropped connection (RFC 9112 9.3.1), so each attempt reaches the server twice.
    assert len(tcp.requests) == 3 * 2


async def test_a_slow_server_times_out(loopback: Start, service: Any) -> None:
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(0.6)
        return web.json_response({})

    server = await loopback(slow)
    retry = RetryPolicy(attempts=1)
    async with client_for(server, retry=retry, timeout=0.2) as client:
        svc = service(client)
        started = time.monotonic()
        with pytest.raises(errors.TransportError, match="timed out"):
            await svc.request("GET", svc.url("things"))

    assert time.monotonic() - started < 0.5


# -- Retry-After and the gateway's nextAccessTime ----------------------------------------


def stamped(first: web.Response) -> tuple[Callable[..., Awaitable[web.Response]], list[float]]:
    """A handler answering ``first`` once, then 200; it notes when each request arrived."""
    arrivals: list[float] = []

    async def handler(request: web.Request) -> web.Response:
        arrivals.append(asyncio.get_running_loop().time())
        return first if len(arrivals) == 1 else web.json_response({"ok": True})

    return handler, arrivals


async def test_retry_after_in_seconds_is_waited_out(loopback: Start, service: Any) -> None:
    handler, arrivals = stamped(web.Response(status=429, headers={"Retry-After": "1"}))
    server = await loopback(handler)
    async with client_for(server) as client:
        svc = service(client)
        await svc.request("GET", svc.url("things"))

    assert len(arrivals) == 2
    assert 0.95 <= arrivals[1] - arrivals[0] < 2.0  # backoff alone would be <= 0.05


async def test_retry_after_as_an_http_date_is_waited_out(loopback: Start, service: Any) -> None:
    when = email.utils.formatdate(time.time() + 2, usegmt=True)  # whole seconds: 1..2 s away
    handler, arrivals = stamped(web.Response(status=503, headers={"Retry-After": when}))
    server = await loopback(handler)
    async with client_for(server) as client:
        svc = service(client)
        await svc.request("DELETE", svc.url("things", "1"))

    assert len(arrivals) == 2
    assert 0.9 <= arrivals[1] - arrivals[0] < 2.5


async def test_gateway_next_access_time_is_waited_out(loopback: Start, service: Any) -> None:
    throttled = {
        "fault": {
            "code": 900802,
            "message": "Message throttled out",
            "description": "You have exceeded your quota",
            "nextAccessTime": int((time.time() + 0.6) * 1000),
        }
    }
    handler, arrivals = stamped(web.json_response(throttled, status=429))
    server = await loopback(handler)
    async with client_for(server) as client:
        svc = service(client)
        await svc.request("GET", svc.url("things"))

    assert len(arrivals) == 2
    assert 0.45 <= arrivals[1] - arrivals[0] < 1.5


async def test_a_retry_after_beyond_the_policy_raises_at_once(
    loopback: Start, service: Any
) -> None:
    server = await loopback(failing(5, 429, text="slow down", headers={"Retry-After": "3600"}))
    retry = RetryPolicy(backoff=Backoff(initial=0.01, maximum=0.05), max_retry_after=10)
    async with client_for(server, retry=retry) as client:
        svc = service(client)
        started = time.monotonic()
        with pytest.raises(errors.RateLimitedError) as caught:
            await svc.request("GET", svc.url("things"))

    assert time.monotonic() - started < 1
    assert server.count() == 1
    assert caught.value.retry_after == 3600
    assert caught.value.message == "slow down"


async def test_a_throttling_fault_beyond_the_policy_carries_its_wait(
    loopback: Start, service: Any
) -> None:
    throttled = {
        "fault": {
            "code": 900802,
            "message": "Message throttled out",
            "description": "quota exceeded",
            "nextAccessTime": int((time.time() + 600) * 1000),
        }
    }

    async def handler(request: web.Request) -> web.Response:
        return web.json_response(throttled, status=429)

    server = await loopback(handler)
    retry = RetryPolicy(max_retry_after=30)
    async with client_for(server, retry=retry) as client:
        svc = service(client)
        with pytest.raises(errors.RateLimitedError) as caught:
            await svc.request("GET", svc.url("things"))

    assert server.count() == 1
    assert caught.value.retry_after is not None and 590 < caught.value.retry_after <= 600
    assert caught.value.code == "900802"
    assert "Message throttled out" in caught.value.message


# -- client-side rate limit --------------------------------------------------------------


async def test_rate_limit_makes_the_fourth_to_sixth_requests_wait(
    loopback: Start, service: Any
) -> None:
    arrivals: list[float] = []

    async def handler(request: web.Request) -> web.Response:
        arrivals.append(asyncio.get_running_loop().time())
        return web.json_response({})

    server = await loopback(handler)
    async with client_for(server, vbc_rate_limit=RateLimit(calls=3, period=0.5)) as client:
        svc = service(client)
        started = asyncio.get_running_loop().time()
        await asyncio.gather(*(svc.request("GET", svc.url("things")) for _ in range(6)))

    offsets = sorted(t - started for t in arrivals)
    assert len(offsets) == 6
    assert all(t < 0.3 for t in offsets[:3]), offsets
    assert all(0.45 <= t < 1.2 for t in offsets[3:]), offsets


# -- what every request carries ----------------------------------------------------------


async def test_user_agent_names_sdk_python_and_aiohttp(loopback: Start, service: Any) -> None:
    server = await loopback(failing(0, 200))
    async with client_for(server) as client:
        svc = service(client)
        await svc.request("GET", svc.url("things"))

    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    aiohttp_version = ".".join(aiohttp.__version__.split(".")[:2])
    expected = f"vonage-async/{__version__} python/{python} aiohttp/{aiohttp_version}"
    assert server.requests[0].headers["User-Agent"] == expected


async def test_redirects_are_not_followed_elsewhere(loopback: Start, service: Any) -> None:
    elsewhere = await loopback(failing(0, 200))

    target = elsewhere.make_url("/steal").with_user("u").with_password("pw-SECRET")
    target = target.with_query(access_token="tok-SECRET")

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound(str(target))

    server = await loopback(redirect)
    async with client_for(server) as client:
        svc = service(client)
        with pytest.raises(errors.UnexpectedRedirectError) as caught:
            await svc.request("GET", svc.url("things"))

    assert caught.value.status == 302
    assert isinstance(caught.value, errors.HTTPError)
    assert caught.value.location is not None and "/steal" in caught.value.location
    assert "SECRET" not in str(caught.value) + repr(caught.value.args) + caught.value.location
    assert elsewhere.count() == 0


# -- lifecycle ---------------------------------------------------------------------------


async def test_async_with_closes_the_client(loopback: Start, service: Any) -> None:
    server = await loopback(failing(0, 200))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        async with client_for(server) as client:
            svc = service(client)
            await svc.request("GET", svc.url("things"))
        assert client.closed
        with pytest.raises(errors.ConfigurationError, match="closed"):
            await svc.request("GET", svc.url("things"))
        del client, svc
        gc.collect()

    assert server.count() == 1
    assert not [w for w in caught if "nclosed" in str(w.message)], [str(w.message) for w in caught]


async def test_aclose_closes_the_session_it_created(loopback: Start, service: Any) -> None:
    server = await loopback(failing(0, 200))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        client = client_for(server)
        svc = service(client)
        await svc.request("GET", svc.url("things"))
        session = client._transport._session
        assert session is not None and not session.closed
        await client.aclose()
        await client.aclose()  # twice is fine
        assert session.closed and client.closed
        del client, svc, session
        gc.collect()

    assert not [w for w in caught if "nclosed" in str(w.message)], [str(w.message) for w in caught]


async def test_a_session_passed_in_is_used_and_left_open(loopback: Start, service: Any) -> None:
    server = await loopback(failing(0, 200))
    async with aiohttp.ClientSession(headers={"X-Mine": "yes"}) as session:
        async with client_for(server, session=session) as client:
            svc = service(client)
            await svc.request("GET", svc.url("things"))
        assert not session.closed
        async with session.get(server.make_url("/after")) as response:
            assert response.status == 200

    assert server.requests[0].headers["X-Mine"] == "yes"  # it went through our session
    assert [r.path for r in server.requests] == ["/t/vbc.prod/things", "/after"]


async def test_a_client_never_used_closes_cleanly() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        client = Vonage(vbc_auth=BearerToken("tok"))
        await client.aclose()
        del client
        gc.collect()

    assert not [w for w in caught if "nclosed" in str(w.message)]


@pytest.mark.parametrize(
    ("family", "argument"),
    [
        ("provisioning", "vbc_auth"),
        ("telephony", "vbc_auth"),
        ("network_registry", "network_registry_auth"),
        ("legacy", "legacy_auth"),
    ],
)
async def test_a_family_without_auth_names_the_missing_argument(family: str, argument: str) -> None:
    async with Vonage() as client:
        with pytest.raises(errors.ConfigurationError, match=f"{argument}="):
            getattr(client, family)
