"""``python -m benchmarks [NAME ...] [--quick]``: run the benchmarks (default: all)."""

from __future__ import annotations

import argparse
import importlib
import sys
import time

from ._common import Row, table

BENCHMARKS = (
    "request_overhead",
    "paging",
    "decoding",
    "live_status",
    "import_time",
    "webhooks",
    "fanout",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "names",
        nargs="*",
        choices=[[], *BENCHMARKS],
        metavar="name",
        help=f"which to run (default: all): {', '.join(BENCHMARKS)}",
    )
    parser.add_argument("--quick", action="store_true", help="a fast smoke run, smaller sizes")
    args = parser.parse_args(argv)
    rows: list[Row] = []
    started = time.perf_counter()
    for name in args.names or BENCHMARKS:
        print(f"== {name}", flush=True)
        module = importlib.import_module(f"benchmarks.{name}")
        rows.extend(module.run(quick=args.quick).rows)
    print(
        f"\n{len(rows)} figures in {time.perf_counter() - started:.0f} s"
        f"{' (--quick: sizes reduced, figures indicative only)' if args.quick else ''}\n"
    )
    print(table(rows))
    return 1 if any(row.passed is False for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
