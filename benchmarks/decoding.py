"""3. Decoding: 10,000 extension records (seed 000 shape) into models.

The SDK's converter structuring parsed records into ``list[Extension]`` (as the pager decodes a
page), against ``json.loads`` alone and a plain dict walk (reading every field, as a script
does). The target applies to the structuring, as the issue states it; the whole path from
bytes (``json.loads`` plus the converter, against ``json.loads`` plus the walk) is reported too.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from vonage_async._converter import get_converter
from vonage_async.provisioning import Extension

from ._common import Result, extension_record


def _walk(records: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    out = []
    for r in records:
        user = r.get("user") or {}
        out.append(
            (
                r.get("extension_number"),
                user.get("id"),
                user.get("email"),
                user.get("login_name"),
                user.get("first_name"),
                user.get("last_name"),
                r.get("location_id"),
                r.get("vtt_enabled"),
                r.get("dnd_enabled"),
                r.get("caller_id"),
                r.get("external_id"),
                r.get("service_type_name"),
                r.get("block_caller_id"),
                [(d.get("phone_number"), d.get("custom_tag")) for d in r.get("dids") or ()],
                [
                    (h.get("handset_name"), h.get("sip_id"))
                    for h in r.get("extension_handsets") or ()
                ],
            )
        )
    return out


def _best(runs: int, fn: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def run(quick: bool = False) -> Result:
    count = 10_000
    runs = 3 if quick else 9
    result = Result("decoding")
    converter = get_converter()
    raw = json.dumps([extension_record(i) for i in range(count)]).encode()
    parsed = json.loads(raw)
    models = converter.structure(parsed, list[Extension])
    assert models[7].user is not None and models[7].user.id == 2111118
    assert models[7].dids[0].phone_number == "14155550007"

    t_json = _best(runs, lambda: json.loads(raw))
    t_walk = _best(runs, lambda: _walk(parsed))
    t_sdk = _best(runs, lambda: converter.structure(parsed, list[Extension]))

    def rate(seconds: float) -> float:
        return count / seconds

    result.note(f"{count} records, {len(raw) / 1e6:.1f} MB of JSON, best of {runs}:")
    result.note(f"  json.loads alone:              {rate(t_json):10,.0f} records/s")
    result.note(f"  dict walk alone:               {rate(t_walk):10,.0f} records/s")
    result.note(f"  SDK converter alone:           {rate(t_sdk):10,.0f} records/s")
    result.note(f"  json.loads + dict walk:        {rate(t_json + t_walk):10,.0f} records/s")
    result.note(f"  json.loads + SDK converter:    {rate(t_json + t_sdk):10,.0f} records/s")
    result.row(
        "3. decoding: SDK converter vs json.loads",
        f"{rate(t_sdk):,.0f} rec/s",
        f"{rate(t_json):,.0f} rec/s",
        f"{t_sdk / t_json:.2f}x its time",
        ">= 100,000 rec/s",
        rate(t_sdk) >= 100_000,
    )
    result.row(
        "3. decoding: SDK converter vs dict walk",
        f"{rate(t_sdk):,.0f} rec/s",
        f"{rate(t_walk):,.0f} rec/s",
        f"{t_sdk / t_walk:.1f}x slower",
        "(reported)",
        None,
    )
    result.row(
        "3. decoding: json+converter vs json+walk",
        f"{rate(t_json + t_sdk):,.0f} rec/s",
        f"{rate(t_json + t_walk):,.0f} rec/s",
        f"{(t_json + t_sdk) / (t_json + t_walk):.1f}x slower",
        "(reported)",
        None,
    )
    return result
