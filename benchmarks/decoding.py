"""3. Decoding: bytes to models, 10,000 extension records (seed 000 shape).

``json.loads`` plus the SDK's converter into ``list[Extension]``, against pydantic v2's
``TypeAdapter(list[Model]).validate_json`` on equivalent models (what the official Vonage SDK
uses) and against stock cattrs with the SDK's hooks. Needs the ``bench`` extra (pydantic).
The ways take turns in one process; each round keeps each way's best of three runs in CPU
time (so other processes on the machine weigh less). Each run starts after ``gc.collect()``,
so that no way pays for collections the one before it left due; within a run the collector
works as usual, and its share is a third of each way's time. The ratio is best round against
best round, and the range gives each round's own ratio.
"""

from __future__ import annotations

import gc
import json
import time
from collections.abc import Callable
from typing import Any

from vonage_async._converter import get_converter, make_converter
from vonage_async.provisioning import Extension

from ._common import Result, extension_record


def _pydantic_models() -> Any:
    try:
        from pydantic import BaseModel, TypeAdapter
    except ImportError:
        raise SystemExit("decoding needs pydantic: pip install -e '.[bench]'") from None

    class User(BaseModel):
        id: int | None = None
        email: str | None = None
        login_name: str | None = None
        first_name: str | None = None
        last_name: str | None = None

    class Did(BaseModel):
        phone_number: str | None = None
        custom_tag: str | None = None

    class Handset(BaseModel):
        handset_name: str | None = None
        sip_id: str | None = None

    class PydanticExtension(BaseModel):
        extension_number: str | None = None
        user: User | None = None
        location_id: int | None = None
        vtt_enabled: bool | None = None
        dnd_enabled: bool | None = None
        caller_id: str | None = None
        external_id: str | None = None
        service_type_name: str | None = None
        block_caller_id: bool | None = None
        dids: list[Did] = []
        extension_handsets: list[Handset] = []

    return TypeAdapter(list[PydanticExtension])


def _round(ways: dict[str, Callable[[], object]], runs: int = 3) -> dict[str, float]:
    """Each way's best CPU time over ``runs``, the ways taking turns and starting in turn
    (so that a slow moment of the machine does not fall on one way only)."""
    best = dict.fromkeys(ways, float("inf"))
    names = list(ways)
    for run in range(runs):
        for name in names[run % len(names) :] + names[: run % len(names)]:
            gc.collect()  # no way pays for a collection another left due
            started = time.process_time()
            ways[name]()
            best[name] = min(best[name], time.process_time() - started)
    return best


def run(quick: bool = False) -> Result:
    count = 2_000 if quick else 10_000
    rounds = 3 if quick else 10
    result = Result("decoding")
    raw = json.dumps([extension_record(i) for i in range(count)]).encode()
    sdk, stock, adapter = get_converter(), make_converter(fast=False), _pydantic_models()
    models = sdk.structure(json.loads(raw), list[Extension])
    assert models == stock.structure(json.loads(raw), list[Extension])
    assert models[7].user is not None and models[7].user.id == 2111118
    assert adapter.validate_json(raw)[7].dids[0].phone_number == models[7].dids[0].phone_number

    ways: dict[str, Callable[[], object]] = {
        "SDK (json.loads + converter)": lambda: sdk.structure(json.loads(raw), list[Extension]),
        "stock cattrs, same hooks": lambda: stock.structure(json.loads(raw), list[Extension]),
        "pydantic v2 validate_json": lambda: adapter.validate_json(raw),
        "json.loads alone": lambda: json.loads(raw),
    }
    times: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(rounds):
        for name, best in _round(ways).items():
            times[name].append(best)
    pydantic = times["pydantic v2 validate_json"]

    def speed(name: str) -> tuple[float, float, float]:
        """Best against best (noise only adds time), and the range of the rounds' ratios."""
        ratios = sorted(p / t for p, t in zip(pydantic, times[name], strict=True))
        return ratios[0], min(pydantic) / min(times[name]), ratios[-1]

    result.note(f"{count} records, {len(raw) / 1e6:.1f} MB of JSON, {rounds} rounds:")
    for name, spent in times.items():
        low, mid, high = speed(name)
        result.note(
            f"  {name:30s} {count / min(spent):10,.0f} records/s; "
            f"speed vs pydantic {mid:.2f}x (rounds {low:.2f}-{high:.2f})"
        )
    low, mid, high = speed("SDK (json.loads + converter)")
    result.row(
        "3. bytes to models: SDK vs pydantic v2",
        f"{count / min(times['SDK (json.loads + converter)']):,.0f} rec/s",
        f"{count / min(pydantic):,.0f} rec/s",
        f"{mid:.2f}x its speed ({low:.2f}-{high:.2f})",
        ">= 1.0x",
        mid >= 1.0,
    )
    low, mid, high = speed("stock cattrs, same hooks")
    result.row(
        "3. bytes to models: stock cattrs vs pydantic",
        f"{count / min(times['stock cattrs, same hooks']):,.0f} rec/s",
        f"{count / min(pydantic):,.0f} rec/s",
        f"{mid:.2f}x its speed ({low:.2f}-{high:.2f})",
        "(reported)",
        None,
    )
    return result
