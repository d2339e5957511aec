"""What every API family module is built on: URLs under its base, JSON calls and pagers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from yarl import URL

from . import _validation as check, errors
from ._converter import structure
from ._http import Response
from ._paging import AsyncPager, PageStyle
from ._transport import Binding, Transport

T = TypeVar("T")


class Service:
    """One API family bound to the client's transport: its base URL, auth and rate limiter."""

    #: What a 409 means in this family: Live Status's session shared by two callers, a
    #: Telephony call changing state, or (documented nowhere else) a plain ConflictError.
    conflict: type[errors.ConflictError] = errors.ConflictError

    def __init__(self, transport: Transport, binding: Binding, base_url: URL | None = None) -> None:
        self.transport = transport
        self.binding = binding
        self._base_url = base_url or binding.base_url
        self._urls: dict[tuple[Any, ...], URL] = {}

    def __repr__(self) -> str:
        return f"<Service {self.binding.name} {self._base_url}>"

    @property
    def base_url(self) -> URL:
        return self._base_url

    def url(self, *segments: str | int) -> URL:
        """``base_url`` plus path segments; each segment was validated with ``check``."""
        return self.base_url.joinpath(*(str(s) for s in segments))

    def path(self, *parts: tuple[str, Any] | str) -> URL:
        """Build a URL from literal parts and ``(name, value)`` pairs, validating each value."""
        # Cached: without it the request-overhead benchmark costs 8-11% more (A/B, one loop).
        # Keyed with each value's type too: True == 1 == 1.0 must not share a checked URL.
        key = tuple(p if isinstance(p, str) else (p[0], type(p[1]), p[1]) for p in parts)
        try:
            url = self._urls.get(key)
        except TypeError:  # an unhashable value: the checks below refuse it
            url = None
        if url is None:  # bots ask for the same few resources again and again
            segments = [
                part if isinstance(part, str) else check.path_segment(part[0], part[1])
                for part in parts
            ]
            url = self.url(*segments)
            if len(self._urls) < 1024:
                self._urls[key] = url  # the key was hashable: the lookup above worked
        return url

    async def request(
        self,
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
        try:
            return await self.transport.request(
                self.binding,
                method,
                url,
                params=params,
                json=json,
                headers=headers,
                timeout=timeout,
                retry=retry,
                not_modified=not_modified,
            )
        except errors.ConflictError as exc:
            if isinstance(exc, self.conflict):
                raise
            conflict = self.conflict(
                status=exc.status,
                method=exc.method,
                url=exc.url,
                message=exc.message,
                body=exc.body,
                code=exc.code,
                details=exc.details,
            )
        raise conflict

    async def get_json(self, url: URL, params: Mapping[str, str] | None = None) -> Any:
        response = await self.request("GET", url, params=params)
        return response.json()

    async def call(
        self,
        method: str,
        url: URL,
        model: type[T],
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        unwrap: str | None = None,
    ) -> T:
        """Send, then decode the JSON answer (or its ``unwrap`` member) into ``model``."""
        response = await self.request(method, url, params=params, json=json)
        data = response.json()
        if unwrap is not None and isinstance(data, Mapping):
            data = data.get(unwrap, data)
        return structure(data, model)

    def pager(
        self,
        url: URL,
        params: Mapping[str, str] | None,
        model: type[T],
        *,
        style: PageStyle,
        concurrency: int = 4,
        max_items: int | None = None,
    ) -> AsyncPager[T]:
        item_list = list[model]  # type: ignore[valid-type]

        def decode(items: list[Any]) -> list[T]:
            return structure(items, item_list, what=f"a list of {model.__name__}")

        return AsyncPager(
            self.get_json,
            url,
            params,
            style=style,
            decode=decode,
            base=self.base_url,
            concurrency=concurrency,
            max_items=max_items,
        )
