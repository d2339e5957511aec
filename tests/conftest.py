"""Shared fixtures: real loopback HTTP servers on 127.0.0.1 that remember what they were sent."""

from __future__ import annotations

import gc
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any
from urllib.parse import parse_qsl

import attrs
import pytest
from aiohttp import web
from multidict import CIMultiDictProxy, MultiDictProxy
from yarl import URL

from vonage_async import Vonage
from vonage_async._service import Service

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@pytest.fixture(autouse=True)
def _collector_left_alone() -> Iterator[None]:
    """The collector is the application's: nothing in the package may change its settings."""
    before = gc.isenabled(), gc.get_threshold()
    yield
    assert (gc.isenabled(), gc.get_threshold()) == before, "the collector's settings changed"


@attrs.frozen
class Seen:
    """One request as the server received it."""

    method: str
    path: str
    query: MultiDictProxy[str]
    headers: CIMultiDictProxy[str]
    body: bytes

    @property
    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode(), keep_blank_values=True))

    def json(self) -> Any:
        return json.loads(self.body)


@attrs.define
class Loopback:
    """A running server: its base URL, every request it saw, and the most it served at once."""

    url: URL
    requests: list[Seen] = attrs.field(factory=list)
    in_flight: int = 0
    max_in_flight: int = 0

    def make_url(self, path: str) -> URL:
        return self.url.with_path(path)

    def count(self, path: str | None = None, method: str | None = None) -> int:
        return sum(
            1
            for r in self.requests
            if (path is None or r.path == path) and (method is None or r.method == method)
        )


@pytest.fixture
async def loopback() -> AsyncIterator[Callable[..., Awaitable[Loopback]]]:
    """``server = await loopback(handler_or_app)`` starts a server on 127.0.0.1:<free port>.

    A plain handler answers every method and path; an ``web.Application`` keeps its routes.
    Servers stop when the test ends.
    """
    runners: list[web.AppRunner] = []

    async def start(target: Handler | web.Application, *, host: str = "127.0.0.1") -> Loopback:
        if isinstance(target, web.Application):
            app = target
        else:
            app = web.Application()
            app.router.add_route("*", "/{tail:.*}", target)
        server = Loopback(URL("http://placeholder"))

        @web.middleware
        async def record(request: web.Request, handler: Handler) -> web.StreamResponse:
            body = await request.read()
            server.requests.append(
                Seen(request.method, request.path, request.query, request.headers, body)
            )
            server.in_flight += 1
            server.max_in_flight = max(server.max_in_flight, server.in_flight)
            try:
                return await handler(request)
            finally:
                server.in_flight -= 1

        app.middlewares.append(record)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        runners.append(runner)
        site = web.TCPSite(runner, host, 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        server.url = URL.build(scheme="http", host=host, port=port)
        return server

    yield start
    for runner in reversed(runners):
        await runner.cleanup()


@pytest.fixture
def service() -> Callable[..., Service]:
    """``service(client, "vbc")``: the bare family binding, for tests of the request path."""
    arguments = {"vbc": "vbc_auth", "network_registry": "network_registry_auth"}

    def get(client: Vonage, family: str = "vbc", path: str = "") -> Service:
        return client._service(family, arguments.get(family, f"{family}_auth"), path)

    return get
