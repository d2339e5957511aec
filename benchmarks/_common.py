"""What every benchmark shares: the seed-shaped records, results, timing and the table."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

TOKEN = "bench-token"
ACCOUNT = "self"


def extension_record(i: int) -> dict[str, Any]:
    """One extension as seed 000 shows it (``EndUserRoute``), made unique by ``i``."""
    return {
        "extension_number": str(1000 + i),
        "user": {
            "id": 2111111 + i,
            "email": f"user{i}@example.com",
            "login_name": f"user{i}",
            "first_name": "John",
            "last_name": f"Smith{i}",
        },
        "location_id": 145214,
        "vtt_enabled": True,
        "dnd_enabled": False,
        "caller_id": "John Smith",
        "external_id": f"abc{i:011d}",
        "service_type_name": "UX",
        "block_caller_id": False,
        "dids": [{"phone_number": f"1415555{i % 10000:04d}", "custom_tag": "My Tag"}],
        "extension_handsets": [
            {"handset_name": f"line1-VH{6370927 + i}", "sip_id": f"VH1{6370927 + i}"}
        ],
    }


def extension_body(i: int) -> bytes:
    """``GET .../extensions/{external_id}``: the HAL envelope of seed 000."""
    envelope = {"_links": {"self": {"href": "string"}}, "_embedded": {"data": extension_record(i)}}
    return json.dumps(envelope).encode()


@dataclass
class Row:
    """One line of the final table."""

    benchmark: str
    sdk: str
    baseline: str
    ratio: str
    target: str
    passed: bool | None  # None: reported, no target


@dataclass
class Result:
    name: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def row(
        self,
        benchmark: str,
        sdk: str,
        baseline: str,
        ratio: str,
        target: str,
        passed: bool | None,
    ) -> None:
        self.rows.append(Row(benchmark, sdk, baseline, ratio, target, passed))

    def note(self, text: str) -> None:
        self.notes.append(text)
        print(f"  {text}", flush=True)


class Timing:
    """Wall time and this process's CPU time (all threads) of a ``with`` block."""

    def __enter__(self) -> Timing:
        self._wall = time.perf_counter()
        self._cpu = time.process_time()
        self.wall = self.cpu = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self._wall
        self.cpu = time.process_time() - self._cpu


def verdict(passed: bool | None) -> str:
    return "-" if passed is None else "PASS" if passed else "MISS"


def table(rows: list[Row]) -> str:
    header = ("benchmark", "SDK", "baseline", "ratio", "target", "result")
    lines = [(r.benchmark, r.sdk, r.baseline, r.ratio, r.target, verdict(r.passed)) for r in rows]
    widths = [max(len(str(line[i])) for line in [header, *lines]) for i in range(len(header))]

    def fmt(cells: tuple[str, ...]) -> str:
        return " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True))

    rule = "-+-".join("-" * w for w in widths)
    return "\n".join([fmt(header), rule, *(fmt(line) for line in lines)])
