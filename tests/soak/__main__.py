"""``python -m tests.soak --minutes 10`` (what ``nox -s soak`` runs): the long soak of each
watcher, with a report of polls, faults injected, events, calls checked and RSS growth after
the warm-up (which must stay under 5 MiB)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from ._harness import LIVE_FAULTS, SEED_ENV, TELEPHONY_FAULTS, Settings, soak

MAX_RSS_GROWTH = 5 * 2**20


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.soak", description=__doc__)
    parser.add_argument("--minutes", type=float, default=10.0, help="per watcher (default 10)")
    parser.add_argument("--seed", type=int, help=f"replay a run (default: ${SEED_ENV} or random)")
    parser.add_argument("--watcher", choices=("live_status", "telephony", "both"), default="both")
    args = parser.parse_args(argv)
    if args.seed is not None:
        os.environ[SEED_ENV] = str(args.seed)
    watchers = {"live_status": LIVE_FAULTS, "telephony": TELEPHONY_FAULTS}
    if args.watcher != "both":
        watchers = {args.watcher: watchers[args.watcher]}
    failed = False
    for watcher, kinds in watchers.items():
        seconds = args.minutes * 60
        settings = Settings.from_env(kinds, seconds=seconds)
        report = asyncio.run(soak(watcher, settings, warm_up=min(60.0, seconds / 5)))
        print(report.summary(), flush=True)
        if report.violations:
            failed = True
            print(report.failure(), flush=True)
        if report.rss_growth is not None and report.rss_growth >= MAX_RSS_GROWTH:
            failed = True
            print(f"  RSS grew {report.rss_growth / 2**20:.2f} MiB after the warm-up (limit 5)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
