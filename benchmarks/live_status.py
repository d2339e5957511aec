"""4. Live Status: the watcher against a server that changes 500 extensions on every poll.

Every long poll finds all 500 extensions' calls changed (500 ``CallUpdated`` events per poll);
the server stamps the change with ``time.monotonic_ns()`` (one clock for both processes on
Linux), the consumer reads the clock when the event reaches it. Latency therefore covers the
server answering, the transfer, parsing the 500-extension document, and decoding, diffing and
queueing it up to the event's part (the watcher hands a poll out 50 extensions at a time).
RSS is read from ``/proc/self/statm`` after a warm-up and again after the measured polls.

The watcher runs in a freshly spawned interpreter, so the heap that CPython's collector walks is
a watcher's (about 37,000 objects, mostly asyncio's and aiohttp's; a full collection of it
takes 10 to 25 ms here). A second run calls ``gc.freeze()`` after the warm-up, as
latency-minded services do, to show what the collector still costs the watcher, which holds
young collections back while it handles a poll (reported; the target applies to the default).
"""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import os
import time
from array import array
from concurrent.futures import ProcessPoolExecutor

from vonage_async import CallUpdated, SessionLogin, Vonage

from ._common import Result
from ._server import LEGACY_PASSWORD, LEGACY_USER, ServerProcess

EXTENSIONS = 500
BUCKET_NS = 10_000  # latency histogram: 10 us buckets up to 1 s, so memory stays flat
BUCKETS = 100_000


def _histogram() -> array[int]:
    # An array, not a list: the collector would walk a list's 100,000 slots in every full
    # collection (3 ms here), a cost of the harness landing in the watcher's latencies.
    return array("q", bytes(8 * BUCKETS))


def rss_bytes() -> int:
    gc.collect()
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _percentile_ms(histogram: array[int], pct: float) -> float:
    total = sum(histogram)
    rank = pct / 100 * total
    seen = 0
    for bucket, count in enumerate(histogram):
        seen += count
        if seen >= rank:
            return (bucket + 1) * BUCKET_NS / 1e6
    return float("inf")


async def _watch(url: str, warm: int, polls: int, freeze: bool) -> dict[str, float]:
    histogram = _histogram()
    figures: dict[str, float] = {}
    seen_polls = events = 0
    tag, stamp = "", 0
    started = 0.0
    async with Vonage(legacy_auth=SessionLogin(LEGACY_USER, LEGACY_PASSWORD), legacy_url=url) as c:
        watch = c.legacy.live_status.watch(poll_timeout=45.0)
        async with watch:
            async for event in watch:
                if not isinstance(event, CallUpdated):
                    continue  # the first Snapshot
                now = time.monotonic_ns()
                if event.call.custom_tag != tag:  # the first event of a new poll
                    seen_polls += 1
                    if seen_polls == warm + 1:
                        figures["rss_before"] = rss_bytes()
                        if freeze:
                            gc.freeze()  # what latency-minded services do once started
                        started = time.perf_counter()
                        histogram = _histogram()
                        events = 0
                    elif seen_polls == warm + polls + 1:
                        figures["seconds"] = time.perf_counter() - started
                        break
                    tag = event.call.custom_tag
                    stamp = int(tag)
                events += 1
                histogram[min((now - stamp) // BUCKET_NS, BUCKETS - 1)] += 1
        figures["rss_after"] = rss_bytes()
    figures["events"] = events
    figures["p50"] = _percentile_ms(histogram, 50)
    figures["p99"] = _percentile_ms(histogram, 99)
    figures["max"] = _percentile_ms(histogram, 100)
    return figures


def _measure(url: str, warm: int, polls: int, freeze: bool = False) -> dict[str, float]:
    return asyncio.run(_watch(url, warm, polls, freeze))


def _client(url: str, warm: int, polls: int, freeze: bool = False) -> dict[str, float]:
    """``_watch`` in a fresh interpreter: the heap the collector walks is a watcher's, not that
    of the other benchmarks run before this one."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        return pool.submit(_measure, url, warm, polls, freeze).result()


def run(quick: bool = False) -> Result:
    # One run of 10,000 polls of 500 changed extensions (about 4 minutes here) gives the
    # throughput, the latencies and the memory; a shorter one the latencies with gc.freeze().
    warm, polls, frozen_polls = (50, 300, 100) if quick else (200, 10_000, 1_000)
    result = Result("live_status")
    with ServerProcess("benchmarks._apps:dashui_app", extensions=EXTENSIONS) as server:
        f = _client(server.url, warm, polls)
        frozen = _client(server.url, warm, frozen_polls, freeze=True)
    rate = f["events"] / f["seconds"]
    growth = (f["rss_after"] - f["rss_before"]) / 2**20
    result.note(
        f"{polls} polls after {warm} warm-up polls, {EXTENSIONS} extensions changed per poll:"
    )
    result.note(
        f"  {f['events']:.0f} events in {f['seconds']:.1f} s: {rate:,.0f} events/s, "
        f"{polls / f['seconds']:.0f} polls/s"
    )
    result.note(
        f"  change -> consumer latency: p50 {f['p50']:.2f} ms, p99 {f['p99']:.2f} ms, "
        f"max {f['max']:.2f} ms"
    )
    result.note(
        f"  RSS {f['rss_before'] / 2**20:.1f} MiB after warm-up, "
        f"{f['rss_after'] / 2**20:.1f} MiB after {polls} polls: {growth:+.2f} MiB"
    )
    result.note(
        f"{frozen_polls} polls as above, gc.freeze() after the warm-up: p50 "
        f"{frozen['p50']:.2f} ms, p99 {frozen['p99']:.2f} ms, max {frozen['max']:.2f} ms"
    )
    result.row("4. live status: events/s", f"{rate:,.0f}/s", "-", "-", "(reported)", None)
    result.row(
        "4. live status: latency p99 (p50)",
        f"{f['p99']:.1f} ms ({f['p50']:.1f})",
        "-",
        "-",
        "p99 < 20 ms",
        f["p99"] < 20,
    )
    result.row(
        "4. live status: p99 (p50), gc.freeze()",
        f"{frozen['p99']:.1f} ms ({frozen['p50']:.1f})",
        "-",
        "-",
        "(reported)",
        None,
    )
    result.row(
        f"4. live status: RSS growth, {polls} polls",
        f"{growth:+.2f} MiB",
        f"{f['rss_before'] / 2**20:.1f} MiB",
        "-",
        "< 5 MiB",
        growth < 5,
    )
    return result
