"""``Vonage``: the one client object, holding the transport and one namespace per API family."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import aiohttp
from yarl import URL

from . import errors
from ._hooks import Hook, Hooks
from ._lifecycle import AsyncScoped
from ._service import Service
from ._transport import Binding, Limiter, RateLimit, RateLimiter, RetryPolicy, Transport
from .auth import Auth

if TYPE_CHECKING:
    from .integration import Integration
    from .legacy import Legacy
    from .network_registry import NetworkRegistry
    from .provisioning import Provisioning
    from .telephony import Telephony

DEFAULT_VBC_URL = "https://api.vonage.com/t/vbc.prod"
DEFAULT_NETWORK_REGISTRY_URL = "https://api-eu.vonage.com/v1/network-registry"
DEFAULT_LEGACY_URL = "https://my.vonagebusiness.com"


def _base_url(name: str, value: str | URL) -> URL:
    url = URL(value)
    if url.scheme not in ("http", "https") or not url.host:
        raise errors.ValidationError(name, f"expected an http(s) URL, got {str(value)!r}")
    if url.query_string or url.fragment or url.user:
        raise errors.ValidationError(name, "must not carry a query, fragment or credentials")
    return url.with_path(url.path.rstrip("/"))


def _proxy_url(name: str, value: str | URL | None) -> URL | None:
    if value is None:
        return None
    try:
        url = URL(value)
    except (TypeError, ValueError):
        url = URL()
    if url.scheme not in ("http", "https") or not url.host:
        # Not echoed: a proxy URL may carry a password.
        raise errors.ValidationError(name, "expected an http(s) proxy URL")
    return url


def _route(url: URL) -> tuple[str, str, int | None]:
    return (url.scheme, (url.host or "").lower(), url.port)


class Vonage(AsyncScoped):
    """The client for every Vonage Business Communications API.

    Give the auth for the families you use; the others stay unusable with a clear error::

        async with Vonage(vbc_auth=OAuth2(...), legacy_auth=SessionLogin(user, pw)) as client:
            async for ext in client.provisioning.extensions.list():
                ...

    Without ``async with``, call ``await client.aclose()`` when done. A ``session`` passed in is
    used and left open; otherwise the client creates one lazily and closes it.

    Proxies: ``proxy`` for every family, ``vbc_proxy`` (and the others) for one family, its
    token requests or logins included; ``trust_env=True`` lets aiohttp read ``HTTP(S)_PROXY``,
    ``NO_PROXY`` and ``~/.netrc``. ``trace_configs`` go to the aiohttp session the client
    creates. ``on_request``, ``on_response`` and ``on_retry`` are event hooks (see ``Hooks``);
    more can be added later through ``client.hooks``.
    """

    def __init__(
        self,
        *,
        vbc_auth: Auth | None = None,
        network_registry_auth: Auth | None = None,
        legacy_auth: Auth | None = None,
        vbc_url: str | URL = DEFAULT_VBC_URL,
        network_registry_url: str | URL = DEFAULT_NETWORK_REGISTRY_URL,
        legacy_url: str | URL = DEFAULT_LEGACY_URL,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
        session: aiohttp.ClientSession | None = None,
        vbc_rate_limit: RateLimit | Limiter | None = None,
        network_registry_rate_limit: RateLimit | Limiter | None = None,
        legacy_rate_limit: RateLimit | Limiter | None = None,
        user_agent: str | None = None,
        trust_env: bool = False,
        proxy: str | URL | None = None,
        vbc_proxy: str | URL | None = None,
        network_registry_proxy: str | URL | None = None,
        legacy_proxy: str | URL | None = None,
        trace_configs: Sequence[aiohttp.TraceConfig] = (),
        on_request: Iterable[Hook] = (),
        on_response: Iterable[Hook] = (),
        on_retry: Iterable[Hook] = (),
    ) -> None:
        proxies = {
            "vbc": _proxy_url("vbc_proxy", vbc_proxy),
            "network_registry": _proxy_url("network_registry_proxy", network_registry_proxy),
            "legacy": _proxy_url("legacy_proxy", legacy_proxy),
        }
        self._transport = Transport(
            retry=retry or RetryPolicy(),
            timeout=timeout,
            session=session,
            user_agent=user_agent,
            trust_env=trust_env,
            trace_configs=trace_configs,
            proxy=_proxy_url("proxy", proxy),
            hooks=Hooks(on_request, on_response, on_retry),
        )
        self._bindings = {
            "vbc": self._bind("vbc", vbc_auth, _base_url("vbc_url", vbc_url), vbc_rate_limit),
            "network_registry": self._bind(
                "network_registry",
                network_registry_auth,
                _base_url("network_registry_url", network_registry_url),
                network_registry_rate_limit,
            ),
            "legacy": self._bind(
                "legacy", legacy_auth, _base_url("legacy_url", legacy_url), legacy_rate_limit
            ),
        }
        self._transport._proxy_routes = self._proxy_routes(proxies)

    @staticmethod
    def _bind(
        name: str, auth: Auth | None, base: URL, limit: RateLimit | Limiter | None
    ) -> Binding:
        if auth is not None:
            if not isinstance(auth, Auth):
                raise errors.ValidationError(f"{name}_auth", "expected an auth strategy")
            auth.bind(base)
        if isinstance(limit, RateLimit):
            return Binding(name, base, auth, RateLimiter(limit))
        if limit is not None and not callable(getattr(limit, "acquire", None)):
            raise errors.ValidationError(
                f"{name}_rate_limit", "expected a RateLimit or a limiter such as RedisRateLimit"
            )
        return Binding(name, base, auth, limit)  # a limiter of its own (RedisRateLimit)

    def _proxy_routes(
        self, proxies: dict[str, URL | None]
    ) -> dict[tuple[str, str, int | None], URL]:
        """Which proxy each host takes: a family's own proxy covers its host and its token host."""
        routes: dict[tuple[str, str, int | None], tuple[str, URL | None]] = {}
        for name, binding in self._bindings.items():
            if binding.auth is None:  # an unusable family sends nothing
                continue
            proxy = proxies[name] or self._transport._proxy
            hosts = [binding.base_url]
            token_url = getattr(binding.auth, "token_url", None)
            if isinstance(token_url, URL):
                hosts.append(token_url)
            for url in hosts:
                owner = routes.setdefault(_route(url), (name, proxy))
                if owner[1] != proxy:
                    raise errors.ValidationError(
                        f"{name}_proxy",
                        f"{name} and {owner[0]} share the host {url.host},"
                        " so they need the same proxy",
                    )
        return {route: proxy for route, (_, proxy) in routes.items() if proxy is not None}

    @property
    def hooks(self) -> Hooks:
        """The event hooks; append to ``hooks.on_request`` (and the others) at any time."""
        return self._transport.hooks

    def __repr__(self) -> str:
        families = ", ".join(
            f"{name}={binding.base_url}" for name, binding in self._bindings.items() if binding.auth
        )
        return f"<Vonage {families or 'no auth configured'}>"

    def _service(self, name: str, argument: str, path: str = "") -> Service:
        binding = self._bindings[name]
        if binding.auth is None:
            raise errors.ConfigurationError(
                f"this API needs {argument}=...: pass it to Vonage(...)"
            )
        base = binding.base_url.joinpath(*path.split("/")) if path else binding.base_url
        return Service(self._transport, binding, base)

    @functools.cached_property
    def provisioning(self) -> Provisioning:
        """VBC Provisioning and the Extension API (OAuth)."""
        from .provisioning import Provisioning

        return Provisioning(self._service("vbc", "vbc_auth", "provisioning"))

    @functools.cached_property
    def telephony(self) -> Telephony:
        """VBC Telephony v3: active calls, legs and devices (OAuth)."""
        from .telephony import Telephony

        return Telephony(self._service("vbc", "vbc_auth", "telephony/v3"))

    @functools.cached_property
    def integration(self) -> Integration:
        """The Integration Platform ("VIS") API: call control, call events, webhooks (OAuth)."""
        from .integration import Integration

        return Integration(self._service("vbc", "vbc_auth", "vis/v1"))

    @functools.cached_property
    def network_registry(self) -> NetworkRegistry:
        """Network Registry: business and application profiles, catalogue (Basic auth)."""
        from .network_registry import NetworkRegistry

        return NetworkRegistry(self._service("network_registry", "network_registry_auth"))

    @functools.cached_property
    def legacy(self) -> Legacy:
        """The legacy Business Solutions API, Live Status included (session login)."""
        from .legacy import Legacy

        return Legacy(self._service("legacy", "legacy_auth"))

    @property
    def closed(self) -> bool:
        return self._transport.closed

    async def aclose(self) -> None:
        """Stop every watcher, then close the HTTP session if the client created it."""
        await self._transport.aclose()

    async def _close(self) -> None:
        await self.aclose()
