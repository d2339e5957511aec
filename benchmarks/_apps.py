"""The loopback servers' applications; imported by the server processes only."""

from __future__ import annotations

import asyncio
import json

from aiohttp import web

from ._common import TOKEN, extension_body, extension_record
from ._server import EXTENSIONS


def _authorized(request: web.Request) -> bool:
    return request.headers.get("Authorization") == f"Bearer {TOKEN}"


def extensions_app(*, total: int = 10_000, latency: float = 0.0) -> web.Application:
    """Provisioning's extension get and list, answers encoded once; lists wait ``latency``."""
    one = extension_body(1)
    records = [extension_record(i) for i in range(total)]
    pages: dict[tuple[int, int], bytes] = {}

    def page_body(page: int, size: int) -> bytes:
        if (page, size) not in pages:
            chunk = records[(page - 1) * size : page * size]
            pages[page, size] = json.dumps(
                {
                    "page": page,
                    "page_size": size,
                    "total_items": total,
                    "total_pages": -(-total // size),
                    "_embedded": {"data": chunk},
                }
            ).encode()
        return pages[page, size]

    async def get_one(request: web.Request) -> web.Response:
        if not _authorized(request):
            return web.Response(status=401)
        return web.Response(body=one, content_type="application/json")

    async def get_page(request: web.Request) -> web.Response:
        if not _authorized(request):
            return web.Response(status=401)
        page = int(request.query.get("page", "1"))
        size = int(request.query.get("page_size", "100"))
        if latency:
            await asyncio.sleep(latency)
        return web.Response(body=page_body(page, size), content_type="application/json")

    app = web.Application()
    app.router.add_get(EXTENSIONS, get_page)
    app.router.add_get(EXTENSIONS + "/{external_id}", get_one)
    return app
