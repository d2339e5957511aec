"""6. Webhooks: 1,000 signed deliveries a second through the WebhookReceiver, 2 s budget kept.

The receiver runs in a freshly spawned interpreter (with a consumer draining ``events()``), the
sender here: an open-loop generator writing prebuilt requests at a fixed rate over a pool of
raw keep-alive connections (cheap next to any server), each delivery signed beforehand
(HEADER metadata, a unique ``deliveryId``, calls going RINGING, ACTIVE, ANSWERED so the tracker
does its work). Latency is from the request's
scheduled send time to its response, so a server that falls behind shows it; the server's CPU
time per delivery is reported too, as latency on a shared machine mostly measures the others.
The baseline is a bare aiohttp handler answering 200 to the same requests, in the same run.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import time
import uuid
from typing import Any

from aiohttp import web

from vonage_async.webhooks import WebhookReceiver, sign

from ._common import Result

KEY = "bench-signing-key"
RATE = 1000
BUDGET = 2.0
STATES = ("RINGING", "ACTIVE", "ANSWERED")


def _serve(kind: str, ports: Any, stop: Any) -> None:
    async def main() -> None:
        if kind == "receiver":
            receiver = WebhookReceiver(KEY)
            app = receiver.app

            async def consume() -> None:
                async for _ in receiver.events():
                    pass

            consumer = asyncio.get_running_loop().create_task(consume())
        else:

            async def bare(request: web.Request) -> web.Response:
                await request.read()
                return web.Response(status=200)

            app = web.Application()
            app.router.add_post("/vonage/events", bare)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        ports.put(runner.addresses[0][1])
        cpu = time.process_time()
        # A multiprocessing event cannot be awaited: wait for it in a thread.
        await asyncio.to_thread(stop.wait)
        ports.put(time.process_time() - cpu)  # the server's CPU over every delivery
        if kind == "receiver":
            consumer.cancel()
        await runner.cleanup()

    asyncio.run(main())


def _deliveries(count: int) -> list[bytes]:
    """Whole HTTP requests, signed beforehand."""
    out = []
    for i in range(count):
        event = {
            "id": str(1_000_000 + i // 3),
            "type": "CALL",
            "accountId": "257073",
            "userId": "522078",
            "direction": "INBOUND",
            "phoneNumber": "14155550100",
            "duration": 0,
            "state": STATES[i % 3],
            "startTime": "2020-10-01T16:10:06.000+0000",
        }
        body = json.dumps({"event": event}).encode()
        head = (
            "POST /vonage/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n"
            f"X-VON-Signature: {sign(event, KEY)}\r\n"
            f"X-VON-Delivery-Id: {uuid.uuid4()}\r\n"
            "X-VON-Attempt: 1\r\nX-VON-Webhook-Id: bench\r\n\r\n"
        )
        out.append(head.encode() + body)
    return out


async def _load(port: int, deliveries: list[bytes], connections: int = 64) -> dict[str, float]:
    """Open loop over raw keep-alive connections: the sender costs little next to a server."""
    latencies: list[float] = []
    failures = 0
    schedule: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue()

    async def worker() -> None:
        nonlocal failures
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while (item := await schedule.get()) is not None:
                at, request = item
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                if length:
                    await reader.readexactly(length)
                if not head.startswith(b"HTTP/1.1 200"):
                    failures += 1
                latencies.append(time.perf_counter() - at)
        finally:
            writer.close()

    workers = [asyncio.ensure_future(worker()) for _ in range(connections)]
    start = time.perf_counter() + 0.2
    for i, request in enumerate(deliveries):
        at = start + i / RATE
        delay = at - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        schedule.put_nowait((at, request))
    for _ in workers:
        schedule.put_nowait(None)
    await asyncio.gather(*workers)
    elapsed = time.perf_counter() - start
    latencies.sort()
    n = len(latencies)
    return {
        "p50": latencies[n // 2] * 1000,
        "p99": latencies[min(n - 1, int(n * 0.99))] * 1000,
        "max": latencies[-1] * 1000,
        "over_budget": sum(1 for x in latencies if x > BUDGET),
        "failures": failures,
        "rate": n / elapsed,
    }


def _measure(kind: str, deliveries: list[bytes]) -> dict[str, float]:
    context = multiprocessing.get_context("spawn")
    ports = context.Queue()
    stop = context.Event()
    process = context.Process(target=_serve, args=(kind, ports, stop), daemon=True)
    process.start()
    try:
        port = ports.get(timeout=30)
        warm = _deliveries(300)
        asyncio.run(_load(port, warm))
        figures = asyncio.run(_load(port, deliveries))
        stop.set()
        figures["cpu_us"] = ports.get(timeout=30) / (len(warm) + len(deliveries)) * 1e6
        return figures
    finally:
        stop.set()
        process.join(10)


def run(quick: bool = False) -> Result:
    seconds = 3 if quick else 15
    result = Result("webhooks")
    deliveries = _deliveries(RATE * seconds)
    bare = _measure("bare", deliveries)
    receiver = _measure("receiver", deliveries)
    for name, figures in (("bare aiohttp handler", bare), ("WebhookReceiver", receiver)):
        result.note(
            f"{name}: {figures['rate']:,.0f} deliveries/s offered for {seconds} s; latency p50 "
            f"{figures['p50']:.2f} ms, p99 {figures['p99']:.2f} ms, max {figures['max']:.1f} ms; "
            f"{figures['over_budget']:.0f} over {BUDGET:.0f} s, {figures['failures']:.0f} not 200; "
            f"server CPU {figures['cpu_us']:.0f} us a delivery"
        )
    kept = receiver["over_budget"] == 0 and receiver["failures"] == 0
    result.row(
        "6. webhooks: 1,000/s latency p99 (p50)",
        f"{receiver['p99']:.1f} ms ({receiver['p50']:.1f})",
        f"{bare['p99']:.1f} ms ({bare['p50']:.1f})",
        f"{receiver['p99'] / max(bare['p99'], 1e-9):.1f}x",
        "all 200 within 2 s",
        kept,
    )
    result.row(
        "6. webhooks: server CPU per delivery",
        f"{receiver['cpu_us']:.0f} us",
        f"{bare['cpu_us']:.0f} us",
        f"{receiver['cpu_us'] / max(bare['cpu_us'], 1e-9):.2f}x",
        "(reported)",
        None,
    )
    return result


if __name__ == "__main__":
    run()
