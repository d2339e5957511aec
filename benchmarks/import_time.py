"""5. Import time: ``python -X importtime -c "import vonage_async"`` against ``import aiohttp``.

Each is run in a fresh interpreter, alternately, several times; the best cumulative time of
the top-level package counts (the least disturbed by other work on the machine). Bytecode is
cached first, as an installed package has it: with ``PYTHONDONTWRITEBYTECODE`` set, a source
checkout would be compiled on every import and the figure would be the compiler's.
"""

from __future__ import annotations

import os
import subprocess
import sys

from ._common import Result

_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _import_us(module: str) -> int:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        check=True,
        env=_ENV,
    )
    for line in done.stderr.splitlines():
        parts = [p.strip() for p in line.removeprefix("import time:").split("|")]
        if len(parts) == 3 and parts[2] == module:  # unindented: the top-level import
            return int(parts[1])
    raise RuntimeError(f"no import time for {module} in: {done.stderr[-500:]}")


_FIRST_USE = (
    "import time, vonage_async._converter as c; t = time.perf_counter(); c.get_converter(); "
    "print(int((time.perf_counter() - t) * 1e6))"
)


def _first_use_us() -> int:
    """What the first decode pays once: the converter (and cattrs) is made then, not at import."""
    done = subprocess.run(
        [sys.executable, "-c", _FIRST_USE], capture_output=True, text=True, check=True, env=_ENV
    )
    return int(done.stdout)


def run(quick: bool = False) -> Result:
    runs = 3 if quick else 15
    result = Result("import_time")
    times: dict[str, list[int]] = {"vonage_async": [], "aiohttp": []}
    for module in times:
        _import_us(module)  # writes the bytecode caches; not counted
    for _ in range(runs):
        for module in times:
            times[module].append(_import_us(module))
    sdk, base = min(times["vonage_async"]), min(times["aiohttp"])
    result.note(f"best of {runs}: vonage_async {sdk / 1000:.1f} ms, aiohttp {base / 1000:.1f} ms")
    first_use = min(_first_use_us() for _ in range(runs))
    result.note(
        f"  and once, at the first decode (the converter is made then): {first_use / 1000:.1f} ms"
    )
    result.row(
        "5. import: vonage_async vs aiohttp",
        f"{sdk / 1000:.1f} ms",
        f"{base / 1000:.1f} ms",
        f"{sdk / base:.2f}x",
        "<= 1.3x",
        sdk / base <= 1.3,
    )
    return result
