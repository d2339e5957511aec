"""1. Request overhead: GETs of one extension at concurrency 50; the target is client CPU per
request against raw aiohttp.

Three contenders hit the same loopback server (another process): the SDK (BearerToken, retry
policy, error decoding, HAL unwrapping, models), raw aiohttp with the SDK's session settings
doing ``json()``, and ``requests.Session`` in a thread pool of 50 workers.
"""

from __future__ import annotations

import asyncio
import statistics
from concurrent.futures import ThreadPoolExecutor

import aiohttp
import requests
from requests.adapters import HTTPAdapter

from vonage_async import BearerToken, Vonage
from vonage_async._transport import default_user_agent
from vonage_async.provisioning import Extension

from ._common import ACCOUNT, TOKEN, Result, Timing
from ._server import EXTENSIONS, ServerProcess

EXTERNAL_ID = "abc00000000001"
Times = dict[str, list[Timing]]
CONCURRENCY = 50


def _split(total: int) -> list[int]:
    """``total`` requests shared out between the workers."""
    return [
        total // CONCURRENCY + (1 if i < total % CONCURRENCY else 0) for i in range(CONCURRENCY)
    ]


async def _alternate(vbc_url: str, url: str, batch: int, pairs: int, warm: int) -> Times:
    """The SDK and raw aiohttp in one event loop, ``pairs`` batches each, taking turns.

    Batches of a pair run back to back (which goes first alternates), so a pair's ratio
    compares the two under the same load on the machine, whatever else it is running.
    """
    headers = {"Authorization": f"Bearer {TOKEN}", "User-Agent": default_user_agent()}
    timeout = aiohttp.ClientTimeout(total=30)
    times: Times = {"sdk": [], "aiohttp": []}
    async with (
        Vonage(vbc_auth=BearerToken(TOKEN), vbc_url=vbc_url) as client,
        aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session,
    ):
        extensions = client.provisioning.extensions

        async def sdk(count: int) -> None:
            for _ in range(count):
                extension = await extensions.get(ACCOUNT, EXTERNAL_ID)
                assert isinstance(extension, Extension)

        async def raw(count: int) -> None:
            for _ in range(count):
                async with session.get(
                    url, headers=headers, timeout=timeout, allow_redirects=False
                ) as response:
                    response.raise_for_status()
                    body = await response.json()
                    assert body["_embedded"]["data"]["external_id"]

        workers = {"sdk": sdk, "aiohttp": raw}
        for worker in workers.values():  # open the connections
            await asyncio.gather(*(worker(n) for n in _split(warm)))
        for pair in range(pairs):
            for name in ("sdk", "aiohttp")[:: 1 if pair % 2 else -1]:
                with Timing() as timing:
                    await asyncio.gather(*(workers[name](n) for n in _split(batch)))
                times[name].append(timing)
    return times


def _threads(url: str, total: int, warm: int) -> Timing:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with requests.Session() as session:
        # A pool as large as the thread pool: the default (10) would make it slower still.
        session.mount("http://", HTTPAdapter(pool_connections=1, pool_maxsize=CONCURRENCY))

        def fetch(_: int) -> None:
            response = session.get(url, headers=headers, timeout=30, allow_redirects=False)
            response.raise_for_status()
            assert response.json()["_embedded"]["data"]["external_id"]

        with ThreadPoolExecutor(CONCURRENCY) as pool:
            list(pool.map(fetch, range(warm)))
            with Timing() as timing:
                list(pool.map(fetch, range(total)))
            return timing


def run(quick: bool = False) -> Result:
    # Many short batches rather than a few long rounds: the machine's load changes within
    # seconds, and only batches close in time see the same load.
    batch, pairs, thread_rounds = (500, 4, 1) if quick else (1_000, 35, 2)
    total = 1_000 if quick else 5_000  # for the thread pool, 8x slower
    result = Result("request_overhead")
    with ServerProcess("benchmarks._apps:extensions_app", total=10) as server:
        url = server.url + EXTENSIONS.format(account_id=ACCOUNT) + "/" + EXTERNAL_ID
        times = asyncio.run(_alternate(server.vbc_url, url, batch, pairs, 200))
        threads = [_threads(url, total, 200) for _ in range(thread_rounds)]
    result.note(
        f"GETs at concurrency {CONCURRENCY}: {pairs} batches of {batch} for the SDK and for raw "
        f"aiohttp, taking turns; {thread_rounds} rounds of {total} for the thread pool"
    )
    wall = {k: statistics.median(t.wall for t in v) / batch for k, v in times.items()}
    cpu = {k: statistics.median(t.cpu for t in v) * 1e6 / batch for k, v in times.items()}
    best_threads = min(threads, key=lambda t: t.wall)
    for name, key in (("SDK", "sdk"), ("raw aiohttp", "aiohttp")):
        result.note(
            f"  {name:<20} {1 / wall[key]:7.0f} req/s, client CPU {cpu[key]:5.0f} us/request"
            " (median batch)"
        )
    result.note(
        f"  {'requests+50 threads':<20} {total / best_threads.wall:7.0f} req/s, client CPU "
        f"{best_threads.cpu * 1e6 / total:5.0f} us/request (best round)"
    )
    # The target is the client's CPU per request (the server runs in another process): the
    # median of the pairs' ratios, with the middle half of them for the spread.
    ratios = sorted(s.cpu / a.cpu for s, a in zip(times["sdk"], times["aiohttp"], strict=True))
    low, ratio, high = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else ratios * 3
    result.note(f"  wall time, SDK / raw aiohttp: {wall['sdk'] / wall['aiohttp']:.2f}x")
    result.row(
        "1. client CPU/request: SDK vs raw aiohttp",
        f"{cpu['sdk']:.0f} us",
        f"{cpu['aiohttp']:.0f} us",
        f"{ratio:.2f}x (middle half {low:.2f}-{high:.2f})",
        "<= 1.25x",
        ratio <= 1.25,
    )
    sdk_wall = wall["sdk"] * total
    result.row(
        "1. requests: SDK vs requests+threads",
        f"{sdk_wall:.3f} s",
        f"{best_threads.wall:.3f} s",
        f"{sdk_wall / best_threads.wall:.2f}x",
        "< 1.00x",
        sdk_wall < best_threads.wall,
    )
    return result
