"""4. Live Status: the watcher at a realistic busy load, and with every extension changing.

The server (``busy_app``) watches ``extensions`` extensions, each on one call; every long
poll changes ``changing`` of them (in turn, so every extension changes now and then) and
answers at once, stamping the changed calls' ``customTag`` with ``time.monotonic_ns()`` (one
clock for both processes on Linux) as it answers. The consumer reads the clock when each
``CallUpdated`` reaches it, so the latency covers the transfer, parsing the document,
decoding, diffing and queueing: from the response leaving the server to the event. CPU per
poll is the client process's CPU time over the measured polls, divided by their number.

The watcher runs in a freshly spawned interpreter with the garbage collector as Python
sets it (the library never touches it), so the heap the collector walks is a watcher's.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import time
from array import array
from concurrent.futures import ProcessPoolExecutor

from aiohttp import web

from vonage_async import CallUpdated, SessionLogin, Vonage

from ._common import Result
from ._server import LEGACY_PASSWORD, LEGACY_USER, ServerProcess

BUCKET_NS = 10_000  # latency histogram: 10 us buckets up to 1 s, so memory stays flat
BUCKETS = 100_000
TAG = "@TAG@"


def _extension(n: int) -> str:
    """One extension on one call, as JSON text with ``TAG`` where the change stamp goes."""
    number = str(1000 + n)
    return json.dumps(
        {
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
                "StartTime": str(1359658008601 + n * 1000),
                "lastCallTime": str(1359658008601 + n * 1000),
                "callername": "Jane Doe",
                "onCallWithName": "Caller",
                "isRecorded": "false",
                "isRecordingCCR": "false",
                "isRecordingODCR": "false",
                "startedWithClickToCall": "false",
                "numberOriginallyDialed": "",
                "accountId": "571700",
                "userId": str(n),
                "loginName": f"user{n}",
                "tapSessionId": "",
                "available": "true",
                "contactE": f"user{n}@example.com",
                "customTag": TAG,
            },
        }
    )


def busy_app(*, extensions: int, changing: int) -> web.Application:
    """A Live Status server where every long poll finds ``changing`` extensions changed."""
    templates = [_extension(n).encode().split(TAG.encode()) for n in range(extensions)]
    parts = [b"0".join(template) for template in templates]
    head = b'{"availability": "AVAILABLE", "numAvailableExts": %d, "extensions": [' % extensions
    turn = 0

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
        nonlocal turn
        if request.cookies.get("JSESSIONID") != "bench-session":
            return web.Response(status=403, text="USER NOT LOGGED IN")
        if request.query.get("firstRequest") != "true":
            stamp = b"%d" % time.monotonic_ns()
            for n in range(turn, turn + changing):
                n %= extensions
                parts[n] = stamp.join(templates[n])
            turn = (turn + changing) % extensions
        body = head + b",".join(parts) + b"]}"
        return web.Response(body=body, content_type="application/json")

    app = web.Application()
    app.router.add_get("/appserver/rest/user/null", login)
    app.router.add_get("/presence/dashui", dashui)
    return app


def _percentile_ms(histogram: array[int], pct: float) -> float:
    rank = pct / 100 * sum(histogram)
    seen = 0
    for bucket, count in enumerate(histogram):
        seen += count
        if seen >= rank:
            return (bucket + 1) * BUCKET_NS / 1e6
    return float("inf")


async def _watch(url: str, warm: int, polls: int) -> dict[str, float]:
    # An array, not a list: the collector would walk a list's 100,000 slots.
    histogram = array("q", bytes(8 * BUCKETS))
    figures: dict[str, float] = {}
    seen_polls = 0
    stamp = -1
    cpu = 0.0
    auth = SessionLogin(LEGACY_USER, LEGACY_PASSWORD)
    async with (
        Vonage(legacy_auth=auth, legacy_url=url) as c,
        c.legacy.live_status.watch(poll_timeout=45.0, max_queue=10_000) as watch,
    ):
        async for event in watch:
            if not isinstance(event, CallUpdated):
                continue  # the first Snapshot
            now = time.monotonic_ns()
            tag = int(event.call.custom_tag)
            if tag != stamp:  # the first event of a new poll
                stamp = tag
                seen_polls += 1
                if seen_polls == warm + 1:
                    cpu = time.process_time()
                    histogram = array("q", bytes(8 * BUCKETS))
                elif seen_polls == warm + polls + 1:
                    figures["cpu_ms"] = (time.process_time() - cpu) * 1000 / polls
                    break
            histogram[min((now - tag) // BUCKET_NS, BUCKETS - 1)] += 1
    figures["p50"] = _percentile_ms(histogram, 50)
    figures["p99"] = _percentile_ms(histogram, 99)
    figures["max"] = _percentile_ms(histogram, 100)
    return figures


def _measure(url: str, warm: int, polls: int) -> dict[str, float]:
    return asyncio.run(_watch(url, warm, polls))


def measure(extensions: int, changing: int, warm: int, polls: int) -> dict[str, float]:
    """One run: a server process, and the watcher in a fresh interpreter."""
    context = multiprocessing.get_context("spawn")
    with (
        ServerProcess(
            "benchmarks.live_status:busy_app", extensions=extensions, changing=changing
        ) as server,
        ProcessPoolExecutor(1, mp_context=context) as pool,
    ):
        return pool.submit(_measure, server.url, warm, polls).result()


def run(quick: bool = False) -> Result:
    warm, polls = (50, 300) if quick else (200, 2_000)
    result = Result("live_status")
    busy = measure(1_000, 50, warm, polls)
    every = measure(500, 500, warm, polls)
    for label, f in (("1,000 extensions, 50 changing", busy), ("500, all changing", every)):
        result.note(
            f"{label}, {polls} polls: response -> event p50 {f['p50']:.2f} ms, "
            f"p99 {f['p99']:.2f} ms, max {f['max']:.2f} ms; CPU {f['cpu_ms']:.2f} ms a poll"
        )
    result.row(
        "4. live status 1,000/50: p99 (p50), CPU/poll",
        f"{busy['p99']:.1f} ms ({busy['p50']:.1f}), {busy['cpu_ms']:.1f} ms",
        "-",
        "-",
        "p99 < 10 ms",
        busy["p99"] < 10,
    )
    result.row(
        "4. live status 500/500: p99 (p50), CPU/poll",
        f"{every['p99']:.1f} ms ({every['p50']:.1f}), {every['cpu_ms']:.1f} ms",
        "-",
        "-",
        "(reported)",
        None,
    )
    return result
