"""The loopback servers' applications; imported by the server processes only."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from aiohttp import web

from ._common import TOKEN, extension_body, extension_record
from ._server import EXTENSIONS, LEGACY_PASSWORD, LEGACY_USER


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


TAG = "@TAG@"


def _live_extension(n: int) -> dict[str, Any]:
    number = str(1000 + n)
    return {
        "name": f"User {number}",
        "status": "intrapbx",
        "extension": number,
        "duration": 61000,
        "phoneNumbers": [f"1415555{n:04d}"],
        "onCallWith": "Caller",
        "statusItems": {  # one call: the server's JSON writer sends it as a bare object
            "uid": f"{number}-{n}",
            "presenceCallId": f"pc{n}",
            "callStatus": "connected",
            "StartTime": str(1359658008601 + n * 1000),  # each call its own times
            "lastCallTime": str(1359658008601 + n * 1000),
            "callername": "Jane Doe",
            "onCallWithName": "Caller",
            "isRecorded": "false",
            "isRecordingCCR": "false",
            "isRecordingODCR": "false",
            "startedWithClickToCall": "false",
            "numberOriginallyDialed": "",
            "accountId": "571700",
            "userId": str(869048 + n),
            "loginName": f"user{n}",
            "available": "true",
            "customTag": TAG,  # the moment of the change, time.monotonic_ns() (system-wide)
        },
    }


def dashui_app(*, extensions: int = 500) -> web.Application:
    """A Live Status server where every poll finds all ``extensions`` changed.

    A long poll (no ``firstRequest``) changes every extension's call the moment it arrives,
    stamps the change with ``time.monotonic_ns()`` in ``customTag`` and answers at once.
    """
    # The document in pieces around the tag, so that answering costs one join: the server
    # stands in for Vonage's, and its own work should not weigh on the client's latencies.
    pieces = (
        json.dumps(
            {
                "availability": "AVAILABLE",
                "numAvailableExts": extensions,
                "numUnavailableExts": 0,
                "extensions": [_live_extension(n) for n in range(extensions)],
            }
        )
        .encode()
        .split(TAG.encode())
    )

    async def login(request: web.Request) -> web.Response:
        if (request.headers.get("login"), request.headers.get("password")) != (
            LEGACY_USER,
            LEGACY_PASSWORD,
        ):
            return web.Response(status=401, text="LOGIN FAILED")
        response = web.Response(text="{}", content_type="application/json")
        response.set_cookie("JSESSIONID", "bench-session", path="/")
        return response

    async def dashui(request: web.Request) -> web.Response:
        if request.cookies.get("JSESSIONID") != "bench-session":
            return web.Response(status=403, text="USER NOT LOGGED IN")
        first = request.query.get("firstRequest") == "true"
        tag = b"0" if first else b"%d" % time.monotonic_ns()
        return web.Response(body=tag.join(pieces), content_type="application/json")

    app = web.Application()
    app.router.add_get("/appserver/rest/user/null", login)
    app.router.add_get("/presence/dashui", dashui)
    return app
