"""The :class:`Emulator`: one aiohttp application speaking every API family on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import math
from typing import Any, Literal

from aiohttp import web

from .._lifecycle import AsyncScoped
from .._serve import serve
from . import _integration, _legacy, _provisioning, _registry, _telephony
from ._auth import Credentials, Sessions, Tokens, auth_middleware, authorize, legacy_login, token
from ._common import CONTEXT, REGISTRY_PREFIX, VBC_PREFIX, Context
from ._faults import Faults, fault_middleware
from ._query import query_middleware
from ._simulator import simulate
from ._state import State


def build_app(context: Context) -> web.Application:
    """The aiohttp application, for callers who run it themselves."""
    app = web.Application(middlewares=[fault_middleware, auth_middleware, query_middleware])
    app[CONTEXT] = context
    app.router.add_post("/token", token)
    app.router.add_get("/authorize", authorize)
    app.router.add_get("/appserver/rest/user/null", legacy_login)
    _provisioning.add_routes(app)
    _telephony.add_routes(app)
    _registry.add_routes(app)
    _legacy.add_routes(app)
    _integration.add_routes(app)
    return app


class Emulator(AsyncScoped):
    """An embedded, stateful emulator of the VBC, Network Registry and legacy APIs.

    ``async with Emulator() as emu:`` serves on ``emu.url`` (loopback, an ephemeral port when
    ``port=0``) until the block ends. ``hold`` is the Live Status long-poll hold in seconds,
    ``ring_seconds``/``talk_seconds`` the schedule of every call, ``token_ttl`` and
    ``session_ttl`` the lifetime of OAuth access tokens and idle legacy sessions.
    ``webhook_*`` shape the Integration Platform's deliveries (``emu.integration``): retries
    and the pause between them, the 2 s answer budget, and how long a registration lasts.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        hold: float = 30.0,
        seed: int = 0,
        ring_seconds: float = 2.0,
        talk_seconds: float = 5.0,
        token_ttl: float = 3600.0,
        session_ttl: float = 1800.0,
        extensions: int = 8,
        history_per_extension: int = 25,
        recording_size: int = 256 * 1024,
        international_blocked: bool = True,
        credentials: Credentials | None = None,
        simulate: bool = False,
        simulate_interval: float = 2.0,
        webhook_retries: int = 5,
        webhook_retry_interval: float = 10.0,
        webhook_timeout: float = 2.0,
        webhook_expire_after: float = 10 * 86400.0,
    ) -> None:
        self.host = host
        self.port = port
        self.seed = seed
        self.credentials = credentials or Credentials()
        self.state = State(
            seed=seed,
            extensions=extensions,
            ring_seconds=ring_seconds,
            talk_seconds=talk_seconds,
            history_per_extension=history_per_extension,
            recording_size=recording_size,
            international_blocked=international_blocked,
        )
        self._tokens = Tokens(self.credentials, token_ttl)
        self._sessions = Sessions(self.credentials, session_ttl)
        self.faults = Faults(self._tokens, self._sessions, seed=seed)
        self._context = Context(self.state, self._tokens, self._sessions, self.faults, hold)
        self.app = build_app(self._context)
        #: The Integration Platform's event log, webhooks and deliveries (settable for tests).
        self.integration = self.app[_integration.VIS]
        self.integration.retries = webhook_retries
        self.integration.retry_interval = webhook_retry_interval
        self.integration.timeout = webhook_timeout
        self.integration.expire_after = webhook_expire_after
        self._runner: web.AppRunner | None = None
        self._simulation: asyncio.Task[None] | None = None
        self._simulate_on_start = simulate
        self._simulate_interval = simulate_interval
        self.url = ""

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> Emulator:
        """Serve on ``host:port``; ``url`` then names the real port."""
        if self._runner is not None:
            return self
        self._context.closing.clear()
        self._runner, host, port = await serve(self.app, self.host, self.port)
        self.port = port
        self.url = f"http://{host}:{port}"
        if self._simulate_on_start:
            self.simulate(mean_interval=self._simulate_interval)
        return self

    async def stop(self) -> None:
        """Stop serving; held Live Status polls answer 304 at once, calls stop moving."""
        task, self._simulation = self._simulation, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._context.closing.set()
        self.state.close()
        await self.integration.close()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def _open(self) -> None:
        await self.start()

    async def _close(self) -> None:
        await self.stop()

    # -- where and who ------------------------------------------------------------------------

    @property
    def hold(self) -> float:
        """Seconds a Live Status poll is held before 304 (settable at any time)."""
        return self._context.hold

    @hold.setter
    def hold(self, seconds: float) -> None:
        self._context.hold = seconds

    @property
    def max_concurrent_polls(self) -> int:
        """The most Live Status polls one user had under way at once, across sessions."""
        return self._context.max_concurrent_polls

    @property
    def vbc_url(self) -> str:
        return self.url + VBC_PREFIX

    @property
    def network_registry_url(self) -> str:
        return self.url + REGISTRY_PREFIX

    @property
    def legacy_url(self) -> str:
        return self.url

    @property
    def token_url(self) -> str:
        return self.url + "/token"

    @property
    def account_id(self) -> str:
        return self.state.account_id

    def client(self, **overrides: Any) -> Any:
        """An SDK client wired to this emulator with its credentials; ``overrides`` win."""
        from vonage_async import Vonage
        from vonage_async.auth import BasicAuth, OAuth2, SessionLogin

        c = self.credentials
        options: dict[str, Any] = {
            "vbc_auth": OAuth2(
                client_id=c.client_id,
                client_secret=c.client_secret,
                username=c.username,
                password=c.password,
                token_url=self.token_url,
            ),
            "network_registry_auth": BasicAuth(c.api_key, c.api_secret),
            "legacy_auth": SessionLogin(c.legacy_username, c.legacy_password),
            "vbc_url": self.vbc_url,
            "network_registry_url": self.network_registry_url,
            "legacy_url": self.legacy_url,
        }
        options.update(overrides)
        return Vonage(**options)

    def authorization_code(self, redirect_uri: str) -> str:
        """A one-time code for the ``authorization_code`` grant (as ``GET /authorize`` gives)."""
        return self._tokens.new_code(redirect_uri)

    # -- driving the model --------------------------------------------------------------------

    def place_call(
        self,
        from_: str,
        to: str,
        *,
        answer: bool = True,
        recorded: bool = False,
        custom_tag: str = "",
        caller_name: str = "",
        ring_seconds: float | None = None,
        talk_seconds: float | None = None,
        hold_forever: bool = False,
    ) -> str:
        """Start a call and answer its Telephony call id (needs the running loop).

        ``from_``/``to`` are extension numbers, DIDs or outside numbers: an outside number
        calling a DID is inbound, an extension calling out is outbound, two extensions intrapbx.
        With ``hold_forever`` the call stays connected until :meth:`hangup`.
        """
        call = self.state.place_call(
            from_,
            to,
            answer=answer,
            recorded=recorded,
            custom_tag=custom_tag,
            caller_name=caller_name,
            ring_seconds=ring_seconds,
            talk_seconds=math.inf if hold_forever else talk_seconds,
        )
        return call.call_id

    def answer(self, call_id: str) -> None:
        """Answer a ringing call now."""
        self.state.answer(call_id)

    def hangup(self, call_id: str) -> None:
        """End a call now; it moves to call history."""
        self.state.hangup(call_id)

    def set_extension_status(self, extension: str, status: Literal["dnd", "available"]) -> None:
        """Put an extension on Do Not Disturb or make it available again."""
        if status not in ("dnd", "available"):
            raise ValueError(f"status must be 'dnd' or 'available', not {status!r}")
        self.state.set_dnd(extension, status == "dnd")

    def simulate(self, *, mean_interval: float = 2.0, max_calls: int | None = None) -> None:
        """Generate random calls in the background (seeded) until :meth:`stop_simulation`."""
        self.stop_simulation()
        self._simulation = asyncio.get_running_loop().create_task(
            simulate(self.state, seed=self.seed, mean_interval=mean_interval, max_calls=max_calls)
        )

    def stop_simulation(self) -> None:
        """Stop generating calls (calls under way still finish)."""
        if self._simulation is not None:
            self._simulation.cancel()
