"""1. Request overhead: GETs of one extension at concurrency 50; the target is client CPU per
request against raw aiohttp.

Three contenders hit the same loopback server (another process): the SDK (BearerToken, retry
policy, error decoding, HAL unwrapping, models), raw aiohttp with the SDK's session settings
doing ``json()``, and ``requests.Session`` in a thread pool of 50 workers.
"""

from __future__ import annotations

import asyncio
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
CONCURRENCY = 50


def _split(total: int) -> list[int]:
    """``total`` requests shared out between the workers."""
    return [
        total // CONCURRENCY + (1 if i < total % CONCURRENCY else 0) for i in range(CONCURRENCY)
    ]


async def _sdk(vbc_url: str, total: int, warm: int) -> Timing:
    async with Vonage(vbc_auth=BearerToken(TOKEN), vbc_url=vbc_url) as client:
        extensions = client.provisioning.extensions

        async def worker(count: int) -> None:
            for _ in range(count):
                extension = await extensions.get(ACCOUNT, EXTERNAL_ID)
                assert isinstance(extension, Extension)

        await asyncio.gather(*(worker(n) for n in _split(warm)))  # open the connections
        with Timing() as timing:
            await asyncio.gather(*(worker(n) for n in _split(total)))
        return timing


async def _aiohttp(url: str, total: int, warm: int) -> Timing:
    headers = {"Authorization": f"Bearer {TOKEN}", "User-Agent": default_user_agent()}
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:

        async def worker(count: int) -> None:
            for _ in range(count):
                async with session.get(
                    url, headers=headers, timeout=timeout, allow_redirects=False
                ) as response:
                    response.raise_for_status()
                    body = await response.json()
                    assert body["_embedded"]["data"]["external_id"]

        await asyncio.gather(*(worker(n) for n in _split(warm)))
        with Timing() as timing:
            await asyncio.gather(*(worker(n) for n in _split(total)))
        return timing


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
    total = 1_000 if quick else 5_000
    # SDK and raw aiohttp alternate, several rounds each: the machine's speed drifts and the
    # best round of each is the least disturbed. The thread pool, 8x slower, gets two.
    rounds, thread_rounds = (1, 1) if quick else (7, 2)
    result = Result("request_overhead")
    with ServerProcess("benchmarks._apps:extensions_app", total=10) as server:
        url = server.url + EXTENSIONS.format(account_id=ACCOUNT) + "/" + EXTERNAL_ID
        times: dict[str, list[Timing]] = {"sdk": [], "aiohttp": [], "requests": []}
        for round_number in range(rounds):
            pair = [
                ("sdk", lambda: asyncio.run(_sdk(server.vbc_url, total, 200))),
                ("aiohttp", lambda: asyncio.run(_aiohttp(url, total, 200))),
            ]
            for name, contender in pair[:: 1 if round_number % 2 else -1]:  # each goes first
                times[name].append(contender())
            if round_number < thread_rounds:
                times["requests"].append(_threads(url, total, 200))
    best = {k: min(v, key=lambda t: t.wall) for k, v in times.items()}
    sdk, raw, threads = (best[k].wall for k in ("sdk", "aiohttp", "requests"))
    result.note(
        f"{total} GETs at concurrency {CONCURRENCY}, best of {rounds} rounds "
        f"({thread_rounds} for the thread pool):"
    )
    for name, key in (
        ("SDK", "sdk"),
        ("raw aiohttp", "aiohttp"),
        ("requests+50 threads", "requests"),
    ):
        t = best[key]
        result.note(
            f"  {name:<20} {t.wall:6.3f} s wall {total / t.wall:7.0f} req/s, "
            f"client CPU {t.cpu * 1e6 / total:5.0f} us/request"
        )
    # The target is the client's CPU per request (the server runs in another process): the
    # least CPU of each contender's rounds, the round least disturbed by other work.
    cpu = {k: min(t.cpu for t in v) * 1e6 / total for k, v in times.items()}
    ratios = [s.cpu / a.cpu for s, a in zip(times["sdk"], times["aiohttp"], strict=True)]
    result.note(f"  wall time, SDK / raw aiohttp: {sdk / raw:.2f}x")
    result.row(
        "1. client CPU/request: SDK vs raw aiohttp",
        f"{cpu['sdk']:.0f} us",
        f"{cpu['aiohttp']:.0f} us",
        f"{cpu['sdk'] / cpu['aiohttp']:.2f}x (rounds {min(ratios):.2f}-{max(ratios):.2f})",
        "<= 1.25x",
        cpu["sdk"] / cpu["aiohttp"] <= 1.25,
    )
    result.row(
        "1. requests: SDK vs requests+threads",
        f"{sdk:.3f} s",
        f"{threads:.3f} s",
        f"{sdk / threads:.2f}x",
        "< 1.00x",
        sdk < threads,
    )
    return result
