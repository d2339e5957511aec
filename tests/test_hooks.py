"""Event hooks (on_request, on_response, on_retry) and aiohttp trace configs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from yarl import URL

from vonage_async import (
    Backoff,
    BearerToken,
    Hooks,
    RequestEvent,
    RetryPolicy,
    SessionLogin,
    Vonage,
    errors,
)

FAST = RetryPolicy(backoff=Backoff(initial=0.01, maximum=0.02))
Start = Callable[..., Awaitable[Any]]


def client_for(server: Any, **kwargs: Any) -> Vonage:
    kwargs.setdefault("retry", FAST)
    return Vonage(
        vbc_auth=BearerToken("tok-secret-1"),
        vbc_url=str(server.url.with_path("/t/vbc.prod")),
        **kwargs,
    )


def answers(*statuses: int) -> Callable[[web.Request], Awaitable[web.Response]]:
    """Answer with ``statuses`` in turn, then 200."""
    queue = list(statuses)

    async def handler(request: web.Request) -> web.Response:
        status = queue.pop(0) if queue else 200
        return web.json_response({"status": status}, status=status)

    return handler


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, RequestEvent]] = []

    def hooks(self) -> dict[str, list[Any]]:
        async def on_request(event: RequestEvent) -> None:  # coroutine hooks are awaited
            await asyncio.sleep(0)
            self.calls.append(("request", event))

        return {
            "on_request": [on_request],
            "on_response": [lambda event: self.calls.append(("response", event))],
            "on_retry": [lambda event: self.calls.append(("retry", event))],
        }

    def kinds(self) -> list[tuple[str, int, int | None]]:
        return [(kind, e.attempt, e.status) for kind, e in self.calls]


async def test_request_and_response_hooks_see_one_exchange(loopback: Start, service: Any) -> None:
    server = await loopback(answers())
    seen = Recorder()
    async with client_for(server, **seen.hooks()) as client:
        svc = service(client)
        await svc.request("GET", svc.url("things"), params={"q": "1", "password": "pw-secret-2"})
    assert seen.kinds() == [("request", 1, None), ("response", 1, 200)]
    request, response = (event for _, event in seen.calls)
    assert request.id == response.id
    assert (response.family, response.method) == ("vbc", "GET")
    assert response.elapsed is not None and response.elapsed >= 0 and response.error is None
    url = URL(response.url)
    assert url.path == "/t/vbc.prod/things"
    assert dict(url.query) == {"q": "1", "password": "***"}  # a secret-looking value masked


async def test_a_retry_is_told_with_the_attempt_that_failed(loopback: Start, service: Any) -> None:
    server = await loopback(answers(503, 502))
    seen = Recorder()
    async with client_for(server, **seen.hooks()) as client:
        svc = service(client)
        await svc.request("GET", svc.url("things"))
    assert seen.kinds() == [
        ("request", 1, None),
        ("response", 1, 503),
        ("retry", 1, 503),
        ("request", 2, None),
        ("response", 2, 502),
        ("retry", 2, 502),
        ("request", 3, None),
        ("response", 3, 200),
    ]
    ids = [event.id for kind, event in seen.calls if kind == "request"]
    assert len(set(ids)) == 3


async def test_a_resend_after_a_new_login_is_a_retry(loopback: Start) -> None:
    logins = 0

    async def handler(request: web.Request) -> web.Response:
        nonlocal logins
        if request.path.startswith("/appserver/rest/user/null"):
            logins += 1
            return web.json_response({}, headers={"Set-Cookie": f"JSESSIONID=s{logins}; Path=/"})
        if logins < 2:
            return web.Response(status=403, text="USER NOT LOGGED IN")
        return web.json_response({"extensions": []})

    server = await loopback(handler)
    events: list[RequestEvent] = []
    client = Vonage(
        legacy_auth=SessionLogin("user", "pw-secret-3"),
        legacy_url=str(server.url),
        on_response=[events.append],
        on_retry=[events.append],
    )
    async with client:
        await client.legacy.directory()
    summary = [(e.family, URL(e.url).path, e.attempt, e.status) for e in events]
    assert summary == [
        (None, "/appserver/rest/user/null", 1, 200),  # the login
        ("legacy", "/presence/rest/directory", 1, 403),
        (None, "/appserver/rest/user/null", 1, 200),
        ("legacy", "/presence/rest/directory", 1, 403),  # on_retry, just before the resend
        ("legacy", "/presence/rest/directory", 2, 200),
    ]


async def test_a_failed_exchange_ends_with_an_error_name(loopback: Start, service: Any) -> None:
    release = asyncio.Event()

    async def stall(request: web.Request) -> web.Response:
        await release.wait()
        return web.Response()

    server = await loopback(stall)
    seen = Recorder()
    async with client_for(server, timeout=0.2, retry=RetryPolicy(attempts=1), **seen.hooks()) as c:
        svc = service(c)
        with pytest.raises(errors.TransportError):
            await svc.request("GET", svc.url("slow"))
    release.set()
    (_, request), (_, response) = seen.calls
    assert response.id == request.id
    assert (response.status, response.error) == (None, "TransportError")
    assert response.elapsed is not None


async def test_a_cancelled_exchange_still_gets_its_response_event(
    loopback: Start, service: Any
) -> None:
    started, release = asyncio.Event(), asyncio.Event()

    async def stall(request: web.Request) -> web.Response:
        started.set()
        await release.wait()
        return web.Response()

    server = await loopback(stall)
    seen = Recorder()
    async with client_for(server, **seen.hooks()) as client:
        svc = service(client)
        task = asyncio.create_task(svc.request("GET", svc.url("slow")))
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    release.set()
    assert [(kind, e.error) for kind, e in seen.calls] == [
        ("request", None),
        ("response", "CancelledError"),
    ]


async def test_hooks_added_after_construction_and_failing_hooks(
    loopback: Start, service: Any, caplog: pytest.LogCaptureFixture
) -> None:
    server = await loopback(answers())
    events: list[RequestEvent] = []

    def broken(event: RequestEvent) -> None:
        raise RuntimeError("hook bug")

    async with client_for(server) as client:
        svc = service(client)
        await svc.request("GET", svc.url("before"))
        client.hooks.on_request.append(broken)
        client.hooks.on_response.append(events.append)
        with caplog.at_level(logging.ERROR, logger="vonage_async"):
            response = await svc.request("GET", svc.url("after"))
    assert response.status == 200  # a failing hook does not fail the request
    assert [URL(e.url).path for e in events] == ["/t/vbc.prod/after"]
    assert "hook" in caplog.text and "broken" in caplog.text


def test_hooks_must_be_callable() -> None:
    with pytest.raises(errors.ValidationError):
        Vonage(on_request=["not a hook"])  # type: ignore[list-item]
    assert Hooks(on_response=print).on_response == [print]  # one hook given bare
    assert not Hooks()


async def test_trace_configs_reach_the_session(loopback: Start, service: Any) -> None:
    server = await loopback(answers())
    starts: list[str] = []

    async def on_request_start(
        session: aiohttp.ClientSession, context: Any, params: aiohttp.TraceRequestStartParams
    ) -> None:
        starts.append(params.url.path)

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_request_start)
    async with client_for(server, trace_configs=[trace]) as client:
        svc = service(client)
        await svc.request("GET", svc.url("traced"))
    assert starts == ["/t/vbc.prod/traced"]
