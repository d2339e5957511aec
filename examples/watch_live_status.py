"""A Live Status watcher a bot can start from: print every call as it starts and ends.

Runs against a real account when VONAGE_LEGACY_USERNAME and VONAGE_LEGACY_PASSWORD are set,
otherwise against the embedded emulator with simulated traffic.

    python examples/watch_live_status.py [--duration SECONDS] [EXTENSION ...]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
from collections.abc import AsyncIterator

from vonage_async import (
    CallEnded,
    CallStarted,
    CallUpdated,
    ExtensionUpdated,
    SessionLogin,
    Snapshot,
    Vonage,
    Watch,
)
from vonage_async.emulator import Emulator


@contextlib.asynccontextmanager
async def connect() -> AsyncIterator[Vonage]:
    username = os.environ.get("VONAGE_LEGACY_USERNAME")
    password = os.environ.get("VONAGE_LEGACY_PASSWORD")
    if username and password:
        async with Vonage(legacy_auth=SessionLogin(username, password)) as client:
            yield client
        return
    async with Emulator(hold=5.0, ring_seconds=1.0, talk_seconds=2.0, simulate=True) as emu:
        emu.simulate(mean_interval=1.0)
        async with emu.client() as client:
            yield client


async def print_events(events: Watch) -> None:
    async for event in events:
        if isinstance(event, Snapshot):
            print(f"{len(event.extensions)} extensions, {len(event.calls)} calls now")
        elif isinstance(event, CallStarted):
            print(f"ext {event.extension}: call {event.call.id} {event.call.state}")
        elif isinstance(event, CallUpdated):
            print(f"ext {event.extension}: call {event.call.id} now {event.call.state}")
        elif isinstance(event, CallEnded):
            print(f"ext {event.extension}: call {event.call.id} ended")
        elif isinstance(event, ExtensionUpdated) and event.current is not None:
            print(f"ext {event.extension}: {event.current.status or 'idle'}")


async def main(extensions: list[str], duration: float | None) -> None:
    async with connect() as client:
        watch = client.legacy.live_status.watch(extensions or None)
        with contextlib.suppress(asyncio.TimeoutError):  # --duration reached
            await asyncio.wait_for(print_events(watch), duration)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("extensions", nargs="*")
    parser.add_argument("--duration", type=float, default=None)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main(args.extensions, args.duration))
