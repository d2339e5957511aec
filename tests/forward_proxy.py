"""A small forwarding HTTP proxy for the proxy tests, written from RFC 9112 section 3.2.2.

A client talking to a proxy sends the absolute-form request target (``GET http://host/path``);
the proxy opens its own connection to that host, drops the hop-by-hop headers (RFC 9110
section 7.6.1) and its own ``Proxy-Authorization``, and relays the answer. ``hosts`` maps
made-up host names (``vbc.test``) to the real loopback address, so a request that bypassed the
proxy could not even resolve its host. Every request is remembered as the proxy received it.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping

import aiohttp
import attrs
from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

HOP_BY_HOP = frozenset(
    h.lower()
    for h in (
        "Connection",
        "Keep-Alive",
        "Proxy-Authenticate",
        "Proxy-Authorization",
        "Proxy-Connection",
        "TE",
        "Trailer",
        "Transfer-Encoding",
        "Upgrade",
        "Content-Length",
    )
)


@attrs.frozen
class Forwarded:
    method: str
    target: URL  # the absolute-form target, as the client sent it
    headers: CIMultiDictProxy[str]
    body: bytes


class ForwardProxy:
    def __init__(
        self, hosts: Mapping[str, str] | None = None, *, credentials: tuple[str, str] | None = None
    ) -> None:
        self.hosts = dict(hosts or {})
        self.seen: list[Forwarded] = []
        self.refused = 0
        self._credentials = credentials
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.url = URL("http://127.0.0.1")

    def url_with_credentials(self) -> URL:
        assert self._credentials is not None
        return self.url.with_user(self._credentials[0]).with_password(self._credentials[1])

    async def __aenter__(self) -> ForwardProxy:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = URL.build(scheme="http", host="127.0.0.1", port=port)
        self._session = aiohttp.ClientSession(auto_decompress=False)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def hosts_seen(self) -> set[str]:
        return {f"{f.target.host}" for f in self.seen}

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        target = URL(request.raw_path)
        if not target.is_absolute():  # origin-form: we are not anybody's origin server
            return web.Response(status=400, text="proxy needs an absolute-form target")
        if self._credentials is not None:
            expected = "Basic " + base64.b64encode(":".join(self._credentials).encode()).decode()
            if request.headers.get("Proxy-Authorization") != expected:
                self.refused += 1
                return web.Response(status=407, headers={"Proxy-Authenticate": "Basic"})
        body = await request.read()
        self.seen.append(Forwarded(request.method, target, request.headers, body))
        upstream = target
        real = self.hosts.get(target.host or "")
        if real is not None:
            upstream = target.with_host(real)
        headers = CIMultiDict(
            (k, v) for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP
        )
        assert self._session is not None
        try:
            async with self._session.request(
                request.method,
                upstream,
                headers=headers,  # Host kept: the origin sees the name the client used
                data=body or None,
                allow_redirects=False,
                skip_auto_headers=("Accept-Encoding", "User-Agent", "Content-Type"),
            ) as answer:
                payload = await answer.read()
                out = CIMultiDict(
                    (k, v) for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP
                )
                return web.Response(status=answer.status, headers=out, body=payload)
        except aiohttp.ClientError:
            return web.Response(status=502, text="bad gateway")
