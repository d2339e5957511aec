"""``vonage-async watch --redis`` (one replica) and ``demo --replicas N --redis`` (a failover)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .._format import event_line, event_record, json_line

if TYPE_CHECKING:
    from .._client import Vonage
    from ..emulator import Emulator


async def replica(client: Vonage, args: argparse.Namespace) -> int:
    """Join the election and print the group's (or every) event as JSON lines."""
    from ..fanout import RedisFanout

    fanout = RedisFanout(
        args.redis,
        client.legacy.live_status,
        name=args.fanout_name,
        lease_ttl=args.lease_ttl,
        maxlen=args.maxlen,
        claim_idle=args.claim_idle,
        extensions=args.extensions or None,
    )

    async def consume() -> None:
        async with fanout:
            async for delivery in fanout.events(args.group, args.consumer):
                at = datetime.now().astimezone()
                if args.format == "text":
                    role = "leader  " if fanout.is_leader else "follower"
                    print(f"[{os.getpid()} {role}] {event_line(delivery.event, at)}", flush=True)
                else:
                    line = {
                        "id": delivery.id,
                        "key": delivery.key,
                        "redelivered": delivery.redelivered,
                        "pid": os.getpid(),
                        "leader": fanout.is_leader,
                        **event_record(delivery.event, at),
                    }
                    print(json_line(line), flush=True)

    if args.duration is None:
        await consume()
    else:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(consume(), args.duration)
    return 0


async def demo(emulator: Emulator, args: argparse.Namespace) -> int:
    """Start replicas against the emulator, kill the leader every few seconds, show it all."""
    from redis.asyncio import Redis

    creds = emulator.credentials
    env = {
        **os.environ,
        "VONAGE_LEGACY_URL": emulator.legacy_url,
        "VONAGE_LEGACY_USERNAME": creds.legacy_username,
        "VONAGE_LEGACY_PASSWORD": creds.legacy_password,
    }
    ttl = 2.0
    name = f"vonage-async-demo-{os.getpid()}"
    command = [sys.executable, "-m", "vonage_async", "watch", "--text", "--redis", args.redis]
    command += ["--group", "demo", "--name", name, "--lease-ttl", str(ttl)]
    replicas: list[asyncio.subprocess.Process] = []

    async def start() -> None:
        process = await asyncio.create_subprocess_exec(*command, env=env)
        replicas.append(process)
        print(f"replica {process.pid} started", file=sys.stderr, flush=True)

    redis: Any = Redis.from_url(args.redis)
    try:
        for _ in range(args.replicas):
            await start()
        loop = asyncio.get_running_loop()
        end = loop.time() + (args.duration or 30.0)
        while loop.time() < end:
            await asyncio.sleep(min(3 * ttl, max(0.0, end - loop.time())))
            holder = await redis.get(f"{name}:lease")
            leader = next((p for p in replicas if holder and f"-{p.pid}-" in holder.decode()), None)
            if leader is not None and loop.time() < end:
                print(f"killing the leader {leader.pid} (SIGKILL)", file=sys.stderr, flush=True)
                leader.send_signal(signal.SIGKILL)
                await leader.wait()
                replicas.remove(leader)
                await start()
    finally:
        for process in replicas:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
            await process.wait()
        keys = [k async for k in redis.scan_iter(f"{name}:*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()
    return 0
