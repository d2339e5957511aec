"""``Vonage``: the one client object, holding the transport and one namespace per API family."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import aiohttp
from yarl import URL

from . import errors
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


class Vonage(AsyncScoped):
    """The client for every Vonage Business Communications API.

    Give the auth for the families you use; the others stay unusable with a clear error::

        async with Vonage(vbc_auth=OAuth2(...), legacy_auth=SessionLogin(user, pw)) as client:
            async for ext in client.provisioning.extensions.list():
                ...

    Without ``async with``, call ``await client.aclose()`` when done. A ``session`` passed in is
    used and left open; otherwise the client creates one lazily and closes it.
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
    ) -> None:
        self._transport = Transport(
            retry=retry or RetryPolicy(), timeout=timeout, session=session, user_agent=user_agent
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
