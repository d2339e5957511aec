"""Background traffic: random calls across the account's extensions, from a seeded RNG."""

from __future__ import annotations

import asyncio
import random

from ._state import NotFound, State


async def simulate(
    state: State, *, seed: int = 0, mean_interval: float = 2.0, max_calls: int | None = None
) -> None:
    """Start a call every ``mean_interval`` seconds on average, until cancelled."""
    rng = random.Random(seed)
    limit = max_calls if max_calls is not None else max(1, len(state.extensions) // 2)
    while True:
        await asyncio.sleep(rng.expovariate(1 / mean_interval) if mean_interval > 0 else 0)
        if len(state.calls) >= limit:
            continue
        numbers = list(state.extensions)
        ext = rng.choice(numbers)
        outside = f"1{rng.randrange(200, 999)}555{rng.randrange(10000):04d}"
        kind = rng.choice(("outbound", "inbound", "intrapbx"))
        if kind == "outbound":
            src, dst = ext, outside
        elif kind == "inbound":
            src, dst = outside, state.extensions[ext].dids[0].phone_number
        else:
            others = [n for n in numbers if n != ext]
            src, dst = ext, rng.choice(others) if others else outside
        try:
            state.place_call(
                src,
                dst,
                answer=rng.random() < 0.85,
                recorded=rng.random() < 0.3,
                custom_tag=rng.choice(("", "", "sales", "support")),
                caller_name="Simulated Caller" if kind == "inbound" else "",
                ring_seconds=rng.uniform(0.3, 1.5) * state.ring_seconds,
                talk_seconds=rng.uniform(0.5, 2.0) * state.talk_seconds,
            )
        except NotFound:
            continue
