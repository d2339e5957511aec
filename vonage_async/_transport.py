"""The one request path: session ownership, auth hooks, retries, rate limits and logging."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import platform
import random
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol

import aiohttp
import attrs
from multidict import CIMultiDict
from yarl import URL

from . import _http, errors
from ._hooks import Hooks, RequestEvent
from ._http import (
    Request,
    Response as Response,  # re-exported: older imports name it here
)
from ._version import __version__
from .auth import Auth

logger = logging.getLogger("vonage_async")

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


@attrs.frozen
class Backoff:
    """Exponential backoff with full jitter: attempt ``n`` waits ``uniform(0, min(maximum,
    initial * multiplier**n))`` seconds."""

    initial: float = 0.5
    maximum: float = 30.0
    multiplier: float = 2.0

    def __attrs_post_init__(self) -> None:
        if not 0 <= self.initial <= self.maximum:
            raise errors.ValidationError("backoff", "need 0 <= initial <= maximum")
        if self.multiplier < 1:
            raise errors.ValidationError("backoff", "multiplier must be >= 1")

    def ceiling(self, attempt: int) -> float:
        """The longest wait before retry number ``attempt`` (0-based)."""
        return min(self.maximum, self.initial * self.multiplier ** min(attempt, 64))

    def delay(self, attempt: int) -> float:
        return random.uniform(0, self.ceiling(attempt))


@attrs.frozen
class RetryPolicy:
    """Which failures are retried, and how often.

    Only idempotent methods (GET, PUT, DELETE) are retried, on connection errors and on the
    ``statuses``. POST never is: a retried "create call" would ring a phone twice.
    A ``Retry-After`` longer than ``max_retry_after`` is not waited out: the 429 is raised.
    """

    attempts: int = 3
    backoff: Backoff = Backoff()
    statuses: frozenset[int] = frozenset({429, 502, 503, 504})
    max_retry_after: float = 120.0

    def __attrs_post_init__(self) -> None:
        if self.attempts < 1:
            raise errors.ValidationError("attempts", "must be at least 1")


@attrs.frozen
class RateLimit:
    """At most ``calls`` requests per ``period`` seconds, sliding window."""

    calls: int
    period: float = 60.0

    def __attrs_post_init__(self) -> None:
        if self.calls < 1 or self.period <= 0:
            raise errors.ValidationError("rate_limit", "calls must be >= 1 and period > 0")


class Limiter(Protocol):
    """What a binding's limiter does (``RateLimiter``, or one shared between processes such
    as ``fanout.RedisRateLimit``)."""

    limit: RateLimit  # what it allows, so a watcher can fit its polls into it

    async def acquire(self) -> None: ...


class RateLimiter:
    """Makes callers wait so that no more than ``limit.calls`` start within any ``period``."""

    def __init__(self, limit: RateLimit, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self._clock = clock
        self._starts: deque[float] = deque()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:  # FIFO: waiters go in the order they came
            while True:
                now = self._clock()
                while self._starts and now - self._starts[0] >= self.limit.period:
                    self._starts.popleft()
                if len(self._starts) < self.limit.calls:
                    self._starts.append(now)
                    return
                await asyncio.sleep(self._starts[0] + self.limit.period - now)


@attrs.frozen
class Binding:
    """What one API family adds to the transport: its base URL, auth and rate limiter."""

    name: str
    base_url: URL
    auth: Auth | None
    limiter: Limiter | None = None
    origin: URL = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "origin", self.base_url.origin())  # checked on every request


def _timeout(seconds: float, stream: bool) -> aiohttp.ClientTimeout:
    if stream:  # a long download may take its time, as long as bytes keep coming
        return aiohttp.ClientTimeout(total=None, sock_connect=seconds, sock_read=seconds)
    return aiohttp.ClientTimeout(total=seconds)


def default_user_agent() -> str:
    python = ".".join(platform.python_version_tuple()[:2])
    aiohttp_version = ".".join(aiohttp.__version__.split(".")[:2])
    return f"vonage-async/{__version__} python/{python} aiohttp/{aiohttp_version}"


class Transport:
    """Owns (or borrows) the aiohttp session and runs every request through one loop."""

    def __init__(
        self,
        *,
        retry: RetryPolicy,
        timeout: float,
        session: aiohttp.ClientSession | None = None,
        user_agent: str | None = None,
        trust_env: bool = False,
        trace_configs: Sequence[aiohttp.TraceConfig] = (),
        proxy: URL | None = None,
        hooks: Hooks | None = None,
    ) -> None:
        if timeout <= 0:
            raise errors.ValidationError("timeout", "must be positive")
        if session is not None and (trust_env or trace_configs):
            raise errors.ConfigurationError(
                "trust_env and trace_configs apply to the session the client creates;"
                " set them on the session you pass instead"
            )
        self._trust_env = trust_env
        self._trace_configs = list(trace_configs)
        self._proxy = proxy
        # (scheme, host, port) -> proxy, for the families given a proxy of their own (set by
        # the client, which knows the families' hosts).
        self._proxy_routes: dict[tuple[str, str, int | None], URL] = {}
        self.hooks = hooks if hooks is not None else Hooks()
        self._exchange_ids = itertools.count(1)
        self.retry = retry
        self.timeout = timeout
        self.user_agent = user_agent or default_user_agent()
        self._session = session
        self._owns_session = session is None
        self._closers: list[Callable[[], Awaitable[None]]] = []
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    def on_close(self, closer: Callable[[], Awaitable[None]]) -> None:
        """Run ``closer`` when the client closes (watch loops register here)."""
        self._closers.append(closer)

    def _get_session(self) -> aiohttp.ClientSession:
        if self._closed:
            raise errors.ConfigurationError("the client is closed")
        if self._session is None:
            # Cookies are kept by SessionLogin for its own host only, never in a shared jar.
            self._session = aiohttp.ClientSession(
                cookie_jar=aiohttp.DummyCookieJar(),
                trust_env=self._trust_env,  # HTTP(S)_PROXY, NO_PROXY, ~/.netrc, read by aiohttp
                trace_configs=self._trace_configs or None,
            )
        return self._session

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        closers, self._closers = self._closers, []
        try:
            for closer in closers:
                try:
                    await closer()
                except Exception:  # one failing closer must not keep the session open
                    logger.exception("error while stopping a watch")
        finally:
            if self._owns_session and self._session is not None:
                await self._session.close()

    def _headers(self, extra: Mapping[str, str] | None) -> CIMultiDict[str]:
        headers: CIMultiDict[str] = CIMultiDict({"User-Agent": self.user_agent})
        if extra:
            headers.update(extra)
        return headers

    async def send_raw(
        self,
        method: str,
        url: URL,
        *,
        headers: Mapping[str, str] | None = None,
        data: Any = None,
        timeout: float | None = None,
    ) -> Response:
        """One exchange with no auth and no retry: for token requests and logins."""
        request = Request(method, url, self._headers(headers), data=data, timeout=timeout)
        return await self._exchange(request, stream=False)

    # Auth strategies are handed the transport as their ``Send`` callable; ``send_raw`` stays
    # for strategies written when they were handed the transport itself.
    __call__ = send_raw

    async def request(
        self,
        binding: Binding,
        method: str,
        url: URL,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        retry: bool = True,
        not_modified: bool = False,
    ) -> Response:
        """Send through ``binding``'s auth and limiter, retrying what is safe to retry.

        Error statuses raise the typed errors, a 3xx ``UnexpectedRedirectError`` (a 304 too,
        unless ``not_modified``); anything else is returned.
        """
        request = Request(
            method,
            url,
            self._headers(headers),
            params,
            json,
            timeout=timeout,
            family=binding.name,
            not_modified=not_modified,
        )
        return await self._run(binding, request, stream=False, retry=retry)

    @contextlib.asynccontextmanager
    async def stream(
        self, binding: Binding, method: str, url: URL, *, timeout: float | None = None
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """Like ``request`` but the body is left unread, for streaming downloads."""
        request = Request(method, url, self._headers(None), timeout=timeout, family=binding.name)
        live = (await self._run(binding, request, stream=True, retry=True)).live
        assert live is not None
        try:
            yield live
        finally:
            live.release()

    async def _run(
        self, binding: Binding, request: Request, *, stream: bool, retry: bool
    ) -> Response:
        if not _http.same_origin(request.url, binding.origin):
            raise errors.UnsafeURLError(
                f"refusing to send {binding.name} credentials to "
                f"{errors.redact_url(request.url.origin())}"
            )
        policy = self.retry
        retryable = retry and request.method in IDEMPOTENT_METHODS
        attempt = 0
        auth_recovered = False
        while True:
            try:
                if binding.auth is not None:
                    # A token request or login that fails transiently is retried like the
                    # request it serves.
                    await binding.auth.prepare(request, self)
                # The slot is taken once auth is ready, so a slow token fetch cannot bunch
                # one window's requests into the next: a request counts when it is sent.
                if binding.limiter is not None:
                    await binding.limiter.acquire()
                response = await self._exchange(request, stream=stream)
            except (errors.TransportError, errors.ServerError, errors.RateLimitedError) as exc:
                # An HTTP error here came from a token request or login: the same policy applies.
                status = getattr(exc, "status", None)
                if status is not None and status not in policy.statuses:
                    raise
                if retryable and attempt + 1 < policy.attempts:
                    hint = getattr(exc, "retry_after", None)
                    if hint is None or hint <= policy.max_retry_after:
                        await asyncio.sleep(policy.backoff.delay(attempt) if hint is None else hint)
                        attempt += 1
                        continue
                raise
            if binding.auth is not None:
                binding.auth.observe(request, response)
            if response.status < 400:
                return response
            if response.status in (401, 403) and binding.auth is not None:
                denied = binding.auth.denied(request, response)
                if denied is not None:  # fresh credentials refused: renewing cannot help
                    raise denied
                if not auth_recovered and await binding.auth.recover(request, response, self):
                    auth_recovered = True
                    continue
            error = _http.error_for(
                response.status, request.method, response.url, response.body, response.headers
            )
            if retryable and response.status in policy.statuses and attempt + 1 < policy.attempts:
                hint = _http.retry_after(response.headers, response.body)
                if hint is None or hint <= policy.max_retry_after:
                    await asyncio.sleep(policy.backoff.delay(attempt) if hint is None else hint)
                    attempt += 1
                    continue
            raise error

    def _proxy_for(self, url: URL) -> URL | None:
        if self._proxy_routes:
            route = (url.scheme, (url.host or "").lower(), url.port)
            return self._proxy_routes.get(route, self._proxy)
        return self._proxy

    async def _exchange(self, request: Request, *, stream: bool) -> Response:
        """One exchange, told to the hooks."""
        request.attempts += 1
        hooks = self.hooks
        if not hooks:
            return await self._send(request, stream=stream)
        shown_url = request.url.update_query(request.params) if request.params else request.url
        event = RequestEvent(
            next(self._exchange_ids),
            request.family,
            request.method,
            errors.redact_url(shown_url),
            request.attempts,
        )
        if request.last is not None and hooks.on_retry:
            await hooks.emit(hooks.on_retry, request.last)
        if hooks.on_request:
            await hooks.emit(hooks.on_request, event)
        started = time.perf_counter()
        try:
            response = await self._send(request, stream=stream)
        except BaseException as exc:  # cancelled too: a span that was opened must be closed
            request.last = attrs.evolve(
                event,
                status=getattr(exc, "status", None),
                elapsed=time.perf_counter() - started,
                error=type(exc).__name__,
            )
            if hooks.on_response:
                await hooks.emit(hooks.on_response, request.last)
            raise
        request.last = attrs.evolve(
            event, status=response.status, elapsed=time.perf_counter() - started
        )
        if hooks.on_response:
            await hooks.emit(hooks.on_response, request.last)
        return response

    async def _send(self, request: Request, *, stream: bool) -> Response:
        session = self._get_session()
        timeout = _timeout(request.timeout or self.timeout, stream)
        started = time.perf_counter()
        failure: BaseException | None = None
        try:
            live = await session.request(
                request.method,
                request.url,
                params=request.params,
                json=request.json,
                data=request.data,
                headers=request.headers,
                timeout=timeout,
                allow_redirects=False,  # a redirect must not carry credentials elsewhere
                proxy=self._proxy_for(request.url),
            )
            try:
                body = b"" if stream and live.status < 400 else await live.read()
            except BaseException:
                live.release()
                raise
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            failure = exc
        if failure is not None:
            # Raised here, outside the handler, so the aiohttp error is neither the cause nor
            # the context: its args and repr carry the request's headers (tokens, passwords).
            raise self._transport_error(request, failure, started)
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s %s -> %d (%.1f ms)",
                request.method,
                errors.redact_url(live.url),
                live.status,
                (time.perf_counter() - started) * 1000,
            )
        if 300 <= live.status < 400 and not (live.status == 304 and request.not_modified):
            live.release()
            raise _redirect_error(request.method, live.url, live.status, live.headers)
        if stream and live.status < 400:
            return Response(
                request.method, live.url, live.status, live.headers, body, live.cookies, live
            )
        live.release()
        return Response(request.method, live.url, live.status, live.headers, body, live.cookies)

    @staticmethod
    def _transport_error(
        request: Request, exc: BaseException, started: float
    ) -> errors.TransportError:
        elapsed = (time.perf_counter() - started) * 1000
        shown_url = request.url.update_query(request.params) if request.params else request.url
        name = type(exc).__name__
        logger.debug(
            "%s %s failed after %.1f ms: %s",
            request.method,
            errors.redact_url(shown_url),
            elapsed,
            name,
        )
        if isinstance(exc, asyncio.TimeoutError):
            reason = "timed out"
        elif isinstance(exc, aiohttp.ClientResponseError):
            reason = f"malformed answer ({name})"  # a bad status line, an oversized header...
        else:
            reason = name
        error = errors.TransportError(reason, method=request.method, url=shown_url)
        if isinstance(exc, OSError) and exc.errno is not None:
            # A sanitised cause: the OS error alone, without aiohttp's connection details.
            error.__cause__ = OSError(exc.errno, exc.strerror)
        return error


def _redirect_error(
    method: str, url: URL, status: int, headers: Mapping[str, str]
) -> errors.UnexpectedRedirectError:
    location = headers.get("Location")
    try:
        shown = None if location is None else errors.redact_url(url.join(URL(location)))
    except ValueError:
        shown = "(unreadable Location)"
    return errors.UnexpectedRedirectError(
        status=status,
        method=method,
        url=url,
        message=f"{_http.reason_phrase(status)}: redirect to {shown or 'nowhere'} not followed",
        location=shown,
    )
