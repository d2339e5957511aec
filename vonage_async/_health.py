"""``/healthz`` for deployments: a tiny aiohttp server answering from a check function."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs
from aiohttp import web

from ._serve import serve

if TYPE_CHECKING:
    from ._watch import Watch

Check = Callable[[], tuple[bool, dict[str, Any]]]


class HealthServer:
    """Serves ``GET /healthz``: 200 while ``check()`` says healthy, 503 otherwise, with the
    check's details as JSON. Anything else is 404."""

    def __init__(self, check: Check, *, host: str, port: int) -> None:
        self._check = check
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self.address: tuple[str, int] | None = None

    async def _healthz(self, request: web.Request) -> web.Response:
        healthy, details = self._check()
        return web.Response(
            status=200 if healthy else 503,
            text=json.dumps({"healthy": healthy, **details}, default=str),
            content_type="application/json",
        )

    async def start(self) -> tuple[str, int]:
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        self._runner, host, port = await serve(app, self._host, self._port)
        self.address = (host, port)
        return self.address

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()


def watch_health(watch: Watch, max_age: float) -> Check:
    """Healthy while the watch's poll loop runs and its last successful read is younger than
    ``max_age`` seconds; the details are the watch's stats."""

    def check() -> tuple[bool, dict[str, Any]]:
        stats = watch.stats()
        age = stats.seconds_since_success
        healthy = stats.running and age is not None and age < max_age
        return healthy, {"max_age": max_age, **attrs.asdict(stats)}

    return check
