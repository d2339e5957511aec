"""Serving an aiohttp application on a loopback or public port, written once."""

from __future__ import annotations

from aiohttp import web


async def serve(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, str, int]:
    """Start ``app`` on ``host:port`` (0: a free port): its runner (the caller's to clean up)
    and the address it is bound to. Nothing is left running if the port cannot be had."""
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except BaseException:
        await runner.cleanup()
        raise
    bound_host, bound_port = runner.addresses[0][:2]
    return runner, bound_host, bound_port
