"""A bot fed by pushed call events: a signed webhook, renewed and backfilled for you.

Runs against a real account when VONAGE_CLIENT_ID, VONAGE_CLIENT_SECRET, VONAGE_USERNAME,
VONAGE_PASSWORD, VONAGE_WEBHOOK_SIGNING_KEY and PUBLIC_URL (where the platform can reach this
machine, e.g. an ngrok URL ending in /vonage/events) are set, otherwise against the embedded
emulator with simulated traffic.

    python examples/webhook_bot.py [--port 8080] [--duration SECONDS]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
from collections.abc import AsyncIterator

from vonage_async import CallEnded, CallStarted, CallUpdated, OAuth2, Vonage
from vonage_async.emulator import Emulator
from vonage_async.webhooks import WebhookReceiver


@contextlib.asynccontextmanager
async def connect() -> AsyncIterator[tuple[Vonage, str | None]]:
    names = ("VONAGE_CLIENT_ID", "VONAGE_CLIENT_SECRET", "VONAGE_USERNAME", "VONAGE_PASSWORD")
    if all(os.environ.get(n) for n in (*names, "VONAGE_WEBHOOK_SIGNING_KEY", "PUBLIC_URL")):
        auth = OAuth2(
            client_id=os.environ["VONAGE_CLIENT_ID"],
            client_secret=os.environ["VONAGE_CLIENT_SECRET"],
            username=os.environ["VONAGE_USERNAME"],
            password=os.environ["VONAGE_PASSWORD"],
        )
        async with Vonage(vbc_auth=auth) as client:
            yield client, os.environ["PUBLIC_URL"]
        return
    print("using the embedded emulator")
    async with Emulator(ring_seconds=1.0, talk_seconds=2.0, simulate=True) as emu:
        emu.simulate(mean_interval=0.5)
        async with emu.client() as client:
            yield client, None


async def show(receiver: WebhookReceiver) -> None:
    async for event in receiver.events():
        call = event.call  # type: ignore[attr-defined]
        if isinstance(event, CallStarted):
            print(f"call {call.id}: {call.direction} {call.phone_number} {call.state}")
        elif isinstance(event, CallUpdated):
            print(f"call {call.id}: now {call.state}")
        elif isinstance(event, CallEnded):
            print(f"call {call.id}: ended {call.state}")


async def main(port: int, duration: float | None) -> None:
    key = os.environ.get("VONAGE_WEBHOOK_SIGNING_KEY") or secrets.token_hex(32)
    receiver = WebhookReceiver(key)
    own_url = await receiver.start("127.0.0.1", port)
    try:
        async with (
            connect() as (client, public_url),
            client.integration.subscribe(receiver, url=public_url or own_url),
        ):
            with contextlib.suppress(asyncio.TimeoutError):  # --duration reached
                await asyncio.wait_for(show(receiver), duration)
    finally:
        await receiver.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--duration", type=float, default=None)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main(args.port, args.duration))
