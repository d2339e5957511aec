"""Loopback servers for the benchmarks, each run in its own process.

The machine has two cores: a server in a child process keeps its work off the client's event
loop, so the client-side figures are the client's. ``ServerProcess("module:factory", **kw)``
starts ``factory(**kw)`` (an ``aiohttp.web.Application``, see ``_apps``) on 127.0.0.1 and an
ephemeral port. Only the child imports ``aiohttp.web``: the client's heap, which the garbage
collector walks, stays the size a client's is.
"""

from __future__ import annotations

import asyncio
import importlib
import multiprocessing
import time
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any

VBC_PREFIX = "/t/vbc.prod"
EXTENSIONS = VBC_PREFIX + "/provisioning/api/accounts/{account_id}/extensions"
LEGACY_USER = "bench"
LEGACY_PASSWORD = "bench-pass"


def _serve(factory: str, options: dict[str, Any], conn: Connection) -> None:
    from aiohttp import web

    module, name = factory.split(":")
    app = getattr(importlib.import_module(module), name)(**options)

    async def main() -> None:
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        conn.send(runner.addresses[0][1])
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # wait for "stop"
        await runner.cleanup()

    asyncio.run(main())


class ServerProcess:
    """``with ServerProcess("benchmarks._apps:extensions_app", latency=0.05) as server:``"""

    def __init__(self, factory: str, **options: Any) -> None:
        self._factory = factory
        self._options = options
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def vbc_url(self) -> str:
        return self.url + VBC_PREFIX

    def __enter__(self) -> ServerProcess:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(
            target=_serve, args=(self._factory, self._options, child), daemon=True
        )
        self._process.start()
        deadline = time.monotonic() + 60
        while not self._conn.poll(0.1):
            if not self._process.is_alive() or time.monotonic() > deadline:
                self._process.kill()
                raise RuntimeError(f"the {self._factory} server did not start")
        self.port = self._conn.recv()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._conn.send("stop")
        self._process.join(5)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()
