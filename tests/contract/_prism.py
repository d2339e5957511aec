"""Prism (the Stoplight mock server) serving the official OpenAPI files, behind a prefix proxy.

The files' servers are ``{vbc}/provisioning`` and ``{vbc}/telephony/v3``; Prism serves their
paths from its root. A loopback proxy strips the prefix, so a real ``Vonage(vbc_url=...)`` talks
to Prism unchanged, and records each exchange so a test can match it to the file's operation.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, web

ROOT = Path(__file__).resolve().parents[2]
SPECS = Path(os.environ.get("VONAGE_SPECS", ROOT.parent / "shared" / "specs"))
PRISM = Path(os.environ.get("PRISM", ROOT / ".contract" / "node_modules" / ".bin" / "prism"))
JS_YAML = PRISM.parent / "js-yaml"
VBC = "/t/vbc.prod"
PREFIXES = {
    "provisioning": "/provisioning",
    "telephony": "/telephony/v3",
    "integration": "/vis/v1",
}
METHODS = ("get", "put", "post", "delete", "patch")


def missing() -> str | None:
    """Why Prism cannot run here, or None."""
    if shutil.which("node") is None:
        return "node is not installed, so the Prism mock server cannot run"
    if not PRISM.exists():
        return f"Prism is not installed at {PRISM}: run tests/contract/run.sh (needs npm)"
    if not SPECS.is_dir():
        return f"the OpenAPI files are not at {SPECS} (set VONAGE_SPECS)"
    return None


@dataclass(frozen=True)
class Operation:
    spec: str
    method: str
    template: str
    operation_id: str
    query: frozenset[str]

    @property
    def pattern(self) -> re.Pattern[str]:
        return re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", self.template) + "$")

    def __str__(self) -> str:
        return f"{self.method} {self.template}"


def load(spec: str) -> dict[str, Any]:
    """An OpenAPI file as JSON (converted by the js-yaml that comes with Prism)."""
    done = subprocess.run(
        [str(JS_YAML), str(SPECS / spec)], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def operations(spec: str) -> list[Operation]:
    document = load(spec)
    shared = document.get("components", {}).get("parameters", {})
    found = []
    for path, item in document["paths"].items():
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            params = [*item.get("parameters", []), *op.get("parameters", [])]
            names = set()
            for param in params:
                if "$ref" in param:
                    param = shared[param["$ref"].rsplit("/", 1)[1]]
                if param.get("in") == "query":
                    names.add(param["name"])
            found.append(
                Operation(spec, method.upper(), path, op.get("operationId", ""), frozenset(names))
            )
    return found


@dataclass
class Exchange:
    method: str
    path: str
    query: dict[str, str]
    authorization: str | None
    body: Any
    status: int
    answer: Any


@dataclass
class Mock:
    """One Prism process and its proxy: ``vbc_url`` for the client, ``exchanges`` seen."""

    spec: str
    dynamic: bool
    seed: str | None = None
    vbc_url: str = ""
    exchanges: list[Exchange] = field(default_factory=list)

    def match(self, exchange: Exchange) -> Operation | None:
        for op in operations_cached(self.spec):
            if op.method == exchange.method and op.pattern.match(exchange.path):
                return op
        return None


_OPERATIONS: dict[str, list[Operation]] = {}


def operations_cached(spec: str) -> list[Operation]:
    if spec not in _OPERATIONS:
        _OPERATIONS[spec] = operations(spec)
    return _OPERATIONS[spec]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _wait_listening(port: int, process: asyncio.subprocess.Process) -> None:
    for _ in range(600):
        if process.returncode is not None:
            raise RuntimeError(f"Prism exited with {process.returncode}")
        with contextlib.suppress(OSError):
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            await writer.wait_closed()
            return
        await asyncio.sleep(0.1)
    raise RuntimeError("Prism did not start within 60 s")


@contextlib.asynccontextmanager
async def serve(spec: str, *, dynamic: bool, seed: str = "vonage-async") -> AsyncIterator[Mock]:
    """Prism serving ``spec`` with ``--errors`` (and ``-d --seed seed``), behind the proxy."""
    port = _free_port()
    args = [str(PRISM), "mock", "-h", "127.0.0.1", "-p", str(port), "--errors", "-v", "error"]
    if dynamic:
        args += ["-d", "--seed", seed]
    process = await asyncio.create_subprocess_exec(
        *args, str(SPECS / spec), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    mock = Mock(spec, dynamic, seed if dynamic else None)
    try:
        await _wait_listening(port, process)
        async with ClientSession() as upstream:

            async def forward(request: web.Request) -> web.Response:
                tail = request.match_info["tail"]
                body = await request.read()
                headers = {
                    k: v
                    for k, v in request.headers.items()
                    if k.lower() in ("authorization", "content-type", "accept")
                }
                async with upstream.request(
                    request.method,
                    f"http://127.0.0.1:{port}/{tail}",
                    params=request.query,
                    data=body or None,
                    headers=headers,
                ) as answer:
                    raw = await answer.read()
                    kind = answer.headers.get("Content-Type", "application/json")
                mock.exchanges.append(
                    Exchange(
                        request.method,
                        "/" + tail,
                        dict(request.query),
                        request.headers.get("Authorization"),
                        json.loads(body) if body else None,
                        answer.status,
                        json.loads(raw) if raw and "json" in kind else raw.decode(),
                    )
                )
                return web.Response(status=answer.status, body=raw, headers={"Content-Type": kind})

            app = web.Application()
            for prefix in PREFIXES.values():
                app.router.add_route("*", VBC + prefix + "/{tail:.*}", forward)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            proxy_port = runner.addresses[0][1]
            mock.vbc_url = f"http://127.0.0.1:{proxy_port}{VBC}"
            try:
                yield mock
            finally:
                await runner.cleanup()
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 10)
            except asyncio.TimeoutError:
                process.kill()
                await process.wait()
