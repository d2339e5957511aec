"""``python -m vonage_async.emulator``: run the emulator until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Sequence

from ._emulator import Emulator


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="vonage-async emulator",
        description="Serve an emulator of the Vonage Business Communications APIs on loopback.",
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080, help="0 picks a free port (default 8080)")
    p.add_argument("--hold", type=float, default=30.0, help="Live Status hold in seconds")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--extensions", type=int, default=8)
    p.add_argument("--ring-seconds", type=float, default=2.0)
    p.add_argument("--talk-seconds", type=float, default=5.0)
    p.add_argument("--token-ttl", type=float, default=3600.0)
    p.add_argument("--session-ttl", type=float, default=1800.0)
    p.add_argument("--simulate", action="store_true", help="generate random calls")
    p.add_argument("--simulate-interval", type=float, default=2.0)
    p.add_argument("--error-rate", type=float, default=0.0, help="share of requests failing 5xx")
    p.add_argument("--reset-rate", type=float, default=0.0, help="share of connections reset")
    p.add_argument("--latency", type=float, default=0.0, help="seconds added to each request")
    p.add_argument(
        "--fault-families",
        default="vbc,legacy,registry",
        help="comma-separated families the faults apply to",
    )
    return p


async def _serve(args: argparse.Namespace) -> None:
    emu = Emulator(
        host=args.host,
        port=args.port,
        hold=args.hold,
        seed=args.seed,
        extensions=args.extensions,
        ring_seconds=args.ring_seconds,
        talk_seconds=args.talk_seconds,
        token_ttl=args.token_ttl,
        session_ttl=args.session_ttl,
        simulate=args.simulate,
        simulate_interval=args.simulate_interval,
    )
    faults = emu.faults
    faults.error_rate, faults.reset_rate, faults.latency = (
        args.error_rate,
        args.reset_rate,
        args.latency,
    )
    families = {f.strip() for f in args.fault_families.split(",") if f.strip()}
    faults.families = frozenset(f for f in ("vbc", "legacy", "registry") if f in families)
    async with emu:
        c = emu.credentials
        print(f"Vonage emulator on {emu.url}  (account {emu.account_id})")
        print(f"  VBC:              {emu.vbc_url}")
        print(f"  OAuth token:      {emu.token_url}")
        print(f"  Network Registry: {emu.network_registry_url}")
        print(f"  Legacy:           {emu.legacy_url}")
        print(f"  client_id={c.client_id} client_secret={c.client_secret}")
        print(f"  username={c.username} password={c.password}")
        print(f"  api_key={c.api_key} api_secret={c.api_secret}")
        print(f"  legacy_username={c.legacy_username} legacy_password={c.legacy_password}")
        print(f"  extensions: {', '.join(emu.state.extensions)}", flush=True)
        await asyncio.Event().wait()


def main(argv: Sequence[str] | None = None) -> int:
    """Run until Ctrl-C; the exit status is 0."""
    args = _parser().parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
