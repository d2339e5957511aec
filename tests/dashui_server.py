"""A small scriptable Live Status server for the watcher's protocol tests.

It behaves like seed 003 says (hold, 304 when quiet, 409 on a second concurrent poll on one
session, 403 once the session expires) and takes scripted faults for the next requests: the
dashui faults are listed in ``DashServer.dashui``, the login's in ``login_faults``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

USERNAME = "jdoe"
PASSWORD = "s3cret-pass"


# 200s that are not a Live Status document: (content type, body)
MALFORMED: dict[str, tuple[str, bytes]] = {
    "empty": ("application/json", b""),
    "html": ("text/html", b"<html><body>Service Unavailable</body></html>"),
    "utf16": ("application/json", json.dumps({"extensions": "x"}).encode("utf-16")),
    "{}": ("application/json", b"{}"),
    "deep": ("application/json", b"[" * 100_000 + b"]" * 100_000),
    "deep-extension": (
        "application/json",
        b'{"extensions": [{"extension": "301", "name": ' + b"[" * 5000 + b"]" * 5000 + b"}]}",
    ),
    "shape": ("application/json", b'{"extensions": [{"extension": {"a": 1}}], "availability": 7}'),
    "not-object": ("application/json", b"[1, 2, 3]"),
}


class DashServer:
    def __init__(self, *, hold: float = 0.5, extensions: tuple[str, ...] = ("301", "302")) -> None:
        self.hold = hold
        self.extensions: dict[str, dict[str, Any]] = {
            number: {"name": f"User {number}", "calls": {}} for number in extensions
        }
        self.version = 0
        self.changed = asyncio.Condition()
        self.sessions: dict[str, dict[str, Any]] = {}
        self.faults: deque[str] = deque()
        self.always: str | None = None  # a fault for every dashui request
        self.login_faults: deque[str] = deque()  # "500" or "408": the next login fails
        self.password = PASSWORD
        self.logins = 0
        self.polls = 0
        self.conflicts = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.poll_times: list[float] = []
        self.filters: list[str | None] = []
        self.disconnects = 0
        self._ids = itertools.count(1)
        self.app = web.Application()
        self.app.router.add_get("/appserver/rest/user/null", self.login)
        self.app.router.add_get("/presence/dashui", self.dashui)
        self.url = ""  # set by serving()

    # -- scripting -------------------------------------------------------------------------
    async def _bump(self) -> None:
        self.version += 1
        async with self.changed:
            self.changed.notify_all()

    async def set_call(self, ext: str, uid: str, status: str, **extra: Any) -> None:
        self.put_call(ext, uid, status, **extra)
        await self._bump()

    async def set_calls(self, calls: dict[str, tuple[str, str]]) -> None:
        """Several extensions' calls ({extension: (uid, status)}) in one change."""
        for ext, (uid, status) in calls.items():
            self.put_call(ext, uid, status)
        await self._bump()

    def put_call(self, ext: str, uid: str, status: str, **extra: Any) -> None:
        """A call's new state, served from the next answer on (no waiting poll is woken)."""
        self.extensions[ext]["calls"][uid] = {
            "uid": uid,
            "presenceCallId": uid.split("-")[0],
            "callStatus": status,
            "StartTime": "1359658008601",
            "callername": "Jane Doe",
            "isRecorded": "false",
            **extra,
        }

    async def drop_call(self, ext: str, uid: str) -> None:
        self.extensions[ext]["calls"].pop(uid, None)
        await self._bump()

    def expire_sessions(self) -> None:
        for session in self.sessions.values():
            session["expired"] = True

    # -- the protocol ----------------------------------------------------------------------
    def document(self, wanted: set[str] | None) -> dict[str, Any]:
        exts = []
        for number, ext in self.extensions.items():
            if wanted is not None and number not in wanted:
                continue
            calls = list(ext["calls"].values())
            exts.append(
                {
                    "name": ext["name"],
                    "status": "inbound" if calls else "",
                    "extension": number,
                    "duration": 1000 * self.version,  # ticks: must not count as a change
                    "phoneNumbers": ["1555" + number],
                    "onCallWith": "",
                    # one call is an object, several a list, none absent: as the seed shows
                    "statusItems": calls[0] if len(calls) == 1 else calls,
                }
            )
        return {
            "availability": "AVAILABLE",
            "numAvailableExts": len(exts),
            "numUnavailableExts": 0,
            "extensions": exts,
        }

    async def login(self, request: web.Request) -> web.Response:
        self.logins += 1
        fault = self.login_faults.popleft() if self.login_faults else None
        if fault == "500":
            return web.Response(status=500, text="LOGIN SERVICE DOWN")
        if fault == "408":  # a gateway's request timeout on the login itself
            return web.Response(status=408, text="Request Timeout")
        if request.headers.get("login") != USERNAME or request.headers.get("password") != (
            self.password
        ):
            return web.Response(status=401, text="BAD LOGIN")
        sid = f"S{next(self._ids)}"
        self.sessions[sid] = {"last": -1, "polling": False, "expired": False}
        response = web.Response(text="OK")
        response.set_cookie("JSESSIONID", sid)
        response.set_cookie("AWSALB", f"lb-{sid}")
        return response

    async def dashui(self, request: web.Request) -> web.StreamResponse:
        sid = request.cookies.get("JSESSIONID", "")
        session = self.sessions.get(sid)
        if session is None or session["expired"] or request.cookies.get("AWSALB") != f"lb-{sid}":
            return web.Response(status=403, text="USER NOT LOGGED IN")
        fault = self.faults.popleft() if self.faults else self.always
        if session["polling"]:
            self.conflicts += 1
            return web.Response(status=409, text="CONFLICT")
        raw = request.query.get("filterExtension")
        self.filters.append(raw)
        wanted = set(raw.split(",")) if raw else None
        first = request.query.get("firstRequest") == "true"
        self.polls += 1
        self.poll_times.append(asyncio.get_running_loop().time())
        session["polling"] = True
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if fault == "500":
                return web.Response(status=500, text="ERROR")
            if fault == "409":
                self.conflicts += 1
                return web.Response(status=409, text="CONFLICT")
            if fault == "403":
                session["expired"] = True
                return web.Response(status=403, text="USER NOT LOGGED IN")
            if fault == "403empty":
                session["expired"] = True
                return web.Response(status=403)
            if fault == "408":  # a gateway's request timeout
                return web.Response(status=408, text="Request Timeout")
            if fault == "304now":  # "no change" without holding
                return web.Response(status=304)
            if fault is not None and fault.startswith("429:"):
                return web.Response(status=429, headers={"Retry-After": fault[4:]})
            if fault in MALFORMED:
                return web.Response(body=MALFORMED[fault][1], content_type=MALFORMED[fault][0])
            if fault == "reset":
                assert request.transport is not None
                request.transport.close()
                return web.Response(status=200)
            if fault == "stall":
                await asyncio.sleep(3600)
            if not first and session["last"] == self.version:
                async with self.changed:
                    try:
                        await asyncio.wait_for(
                            self.changed.wait_for(lambda: session["last"] != self.version),
                            self.hold,
                        )
                    except asyncio.TimeoutError:
                        return web.Response(status=304)
            session["last"] = self.version
            body = json.dumps(self.document(wanted))
            if fault == "truncate":
                body = body[: len(body) // 2]
            return web.Response(text=body, content_type="application/json")
        except asyncio.CancelledError:
            self.disconnects += 1
            raise
        finally:
            self.in_flight -= 1
            session["polling"] = False


@contextlib.asynccontextmanager
async def serving(hold: float) -> AsyncIterator[DashServer]:
    """A ``DashServer`` on 127.0.0.1 for the block, its ``url`` set."""
    server = DashServer(hold=hold)
    test_server = TestServer(server.app, host="127.0.0.1")
    await test_server.start_server()
    server.url = str(test_server.make_url(""))
    try:
        yield server
    finally:
        await test_server.close()
