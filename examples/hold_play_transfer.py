"""A call-handling bot: hold every inbound call for 2 s, play a message, then transfer it.

It watches Telephony v3's active calls (no legacy session needed) and drives each new inbound
call's leg. Runs against a real account when VONAGE_CLIENT_ID, VONAGE_CLIENT_SECRET,
VONAGE_USERNAME and VONAGE_PASSWORD are set, otherwise against the embedded emulator, where it
places a few inbound calls itself.

    python examples/hold_play_transfer.py [--to EXTENSION] [--duration SECONDS]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
from collections.abc import AsyncIterator

from vonage_async import CallStarted, CallUpdated, Direction, Endpoint, OAuth2, Vonage, errors
from vonage_async.emulator import Emulator
from vonage_async.telephony import CallStatus

MESSAGE_URL = "https://example.com/sounds/please-hold.mp3"


@contextlib.asynccontextmanager
async def connect() -> AsyncIterator[Vonage]:
    env = os.environ
    if all(env.get(k) for k in ("VONAGE_CLIENT_ID", "VONAGE_CLIENT_SECRET", "VONAGE_USERNAME")):
        auth = OAuth2(
            env["VONAGE_CLIENT_ID"],
            env["VONAGE_CLIENT_SECRET"],
            username=env["VONAGE_USERNAME"],
            password=env.get("VONAGE_PASSWORD", ""),
        )
        async with Vonage(vbc_auth=auth) as client:
            yield client
        return
    async with Emulator(ring_seconds=0.5, talk_seconds=8.0) as emu:
        did = next(iter(emu.state.extensions.values())).dids[0].phone_number

        async def callers() -> None:
            for n in range(3):
                emu.place_call(f"1212555{n:04d}", did)
                await asyncio.sleep(1.5)

        traffic = asyncio.create_task(callers())
        try:
            async with emu.client() as client:
                yield client
        finally:
            traffic.cancel()


async def handle(client: Vonage, call_id: str, leg_id: str, to: str) -> None:
    legs = client.telephony.legs
    try:
        await legs.hold("self", call_id, leg_id)
        print(f"call {call_id}: on hold")
        await asyncio.sleep(2)
        await legs.unhold("self", call_id, leg_id)
        await legs.play("self", call_id, leg_id, MESSAGE_URL)
        print(f"call {call_id}: playing the message")
        await legs.blind_transfer("self", call_id, leg_id, Endpoint.extension(to))
        print(f"call {call_id}: transferred to {to}")
    except errors.NotFoundError:
        print(f"call {call_id}: hung up before we were done")
    except errors.HTTPError as exc:
        print(f"call {call_id}: the server refused: {exc.message}")


async def run(client: Vonage, to: str) -> None:
    handled: set[str] = set()
    tasks: set[asyncio.Task[None]] = set()
    try:
        async for event in client.telephony.calls.watch(interval=0.5):
            # Act once an inbound call is answered: a ringing call cannot be held yet.
            if not isinstance(event, (CallStarted, CallUpdated)):
                continue
            call = event.call
            if call.direction != Direction.INBOUND or call.status != CallStatus.ON_CALL:
                continue
            legs = call.legs
            if not call.call_id or call.call_id in handled or not legs or not legs[0].leg_id:
                continue
            handled.add(call.call_id)
            print(f"call {call.call_id}: inbound from {call.from_}, answered")
            task = asyncio.create_task(handle(client, call.call_id, legs[0].leg_id, to))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
    finally:
        for task in tasks:  # stopping: leave no handler running against a closed client
            task.cancel()


async def main(to: str, duration: float | None) -> None:
    async with connect() as client:
        with contextlib.suppress(asyncio.TimeoutError):  # --duration reached
            await asyncio.wait_for(run(client, to), duration)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--to", default="302", help="extension to transfer calls to")
    parser.add_argument("--duration", type=float, default=None)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main(args.to, args.duration))
