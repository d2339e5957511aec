"""Event hooks (in the style of httpx's): callables told about every HTTP exchange.

The transport calls them; they see a ``RequestEvent`` that carries no header, no body and a
redacted URL, so a metrics or tracing hook cannot leak a credential by logging what it is given.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import attrs

from . import errors

__all__ = ["Hook", "Hooks", "PollEvent", "PollHook", "RequestEvent"]

logger = logging.getLogger("vonage_async")


@attrs.frozen
class RequestEvent:
    """One HTTP exchange as the hooks see it.

    ``id`` is the same in the ``on_request`` and the ``on_response`` of one exchange (and
    different for every attempt). ``family`` is the API family (``"vbc"``, ``"legacy"``,
    ``"network_registry"``), or None for a token request or a login. ``url`` is the
    URL with its query, secrets masked. ``attempt`` counts from 1; a retry, or a resend after
    the credentials were renewed, is attempt 2 and so on. ``status`` and ``elapsed`` (seconds)
    are set once the answer came; ``error`` is the name of the error when none came
    (``"TransportError"``, ``"CancelledError"``...).
    """

    id: int
    family: str | None
    method: str
    url: str
    attempt: int = 1
    status: int | None = None
    elapsed: float | None = None
    error: str | None = None


@attrs.frozen
class PollEvent:
    """One read of a watch's poll loop as the hooks see it.

    ``id`` is the same in ``on_poll_start`` and ``on_poll_end``; ``watch`` names the stream
    (``"Live Status"``, ``"Telephony calls"``); ``full`` is a full read (the first, or a
    resync) rather than a change poll. At the end, ``outcome`` is ``"changed"``,
    ``"unchanged"`` (a 304 or the same state), ``"failed"`` (``error`` names the error) or
    ``"cancelled"``; ``events`` counts the events the read produced, ``elapsed`` is seconds.
    """

    id: int
    watch: str
    full: bool
    outcome: str | None = None
    events: int = 0
    elapsed: float | None = None
    error: str | None = None


# Whatever a hook returns is awaited when it is awaitable.
Hook = Callable[[RequestEvent], object]
PollHook = Callable[[PollEvent], object]


def _hook_list(value: Iterable[Hook]) -> list[Hook]:
    if callable(value):  # one hook given bare rather than in a list
        value = [value]
    hooks = list(value)
    for hook in hooks:
        if not callable(hook):
            raise errors.ValidationError("hook", f"expected a callable, got {type(hook).__name__}")
    return hooks


@attrs.define
class Hooks:
    """The client's event hooks, three lists that may be appended to at any time.

    ``on_request`` runs before each exchange is sent, ``on_response`` once for each
    ``on_request`` when the exchange ended (with ``status``, or ``error`` when no answer came),
    ``on_retry`` before a request is sent again, with the event of the attempt that failed.
    ``on_poll_start`` and ``on_poll_end`` frame each read of a watch's poll loop
    (a ``PollEvent``); the reads' own exchanges happen between them.
    Hooks may be plain functions or coroutine functions (awaited in the request's task). A hook
    that raises is logged and skipped: observing a request never fails it.
    """

    on_request: list[Hook] = attrs.field(factory=list, converter=_hook_list)
    on_response: list[Hook] = attrs.field(factory=list, converter=_hook_list)
    on_retry: list[Hook] = attrs.field(factory=list, converter=_hook_list)
    on_poll_start: list[PollHook] = attrs.field(factory=list, converter=_hook_list)
    on_poll_end: list[PollHook] = attrs.field(factory=list, converter=_hook_list)

    def __bool__(self) -> bool:
        return bool(
            self.on_request
            or self.on_response
            or self.on_retry
            or self.on_poll_start
            or self.on_poll_end
        )

    def start_poll(self, event: PollEvent) -> list[Awaitable[object]]:
        """Call the ``on_poll_start`` hooks now, in the caller's context (a synchronous hook
        may set context, such as a current span, that the read's task then inherits); the
        awaitables that async hooks returned are for the caller to await."""
        pending: list[Awaitable[object]] = []
        for hook in tuple(self.on_poll_start):
            try:
                result = hook(event)
            except Exception:
                logger.exception("poll hook %s failed", getattr(hook, "__qualname__", "?"))
            else:
                if inspect.isawaitable(result):
                    pending.append(result)
        return pending

    async def emit(self, hooks: list[Any], event: Any) -> None:
        for hook in tuple(hooks):  # a hook may add or remove hooks
            try:
                result = hook(event)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                logger.exception("event hook %s failed", getattr(hook, "__qualname__", "?"))
