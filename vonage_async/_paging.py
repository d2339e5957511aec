"""One pager for the three paging shapes the APIs use.

- ``HalPages``: Provisioning's ``page``/``page_size``/``total_pages`` with ``_embedded.data``.
- ``TelephonyPages``: ``current_page``/``pages``/``next_page``/``next_page_uri`` (relative to the
  service base, counters often sent as strings, first page numbered 0 or 1).
- ``CursorPages``: Network Registry's opaque ``_links.next.href`` cursor.

When the first page tells how many pages there are, the rest are fetched concurrently, at most
``concurrency`` requests in flight, and items still come out in server order.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterable, Mapping
from typing import Any, Generic, Protocol, TypeVar

import attrs
from yarl import URL

from . import _http, errors
from ._converter import to_int

T = TypeVar("T")

Fetch = Callable[[URL, Mapping[str, str] | None], Awaitable[Any]]


@attrs.frozen
class Page(Generic[T]):
    """One page: its items plus what the server said about paging."""

    items: list[T]
    number: int | None = None
    total_pages: int | None = None
    total_items: int | None = None
    next_url: URL | None = None
    raw: Any = attrs.field(default=None, eq=False, repr=False)


class PageStyle(Protocol):
    @property
    def numbered(self) -> bool:
        """Pages are fetched by number (``params_for``) rather than by a next link."""

    def parse(self, body: Any, base: URL) -> Page[Any]:
        """Read raw items and paging facts out of one response body."""

    def params_for(self, params: Mapping[str, str], number: int) -> dict[str, str]:
        """The query for page ``number`` (numbered styles only)."""


def _optional_int(value: Any) -> int | None:
    try:
        return None if value in (None, "") else to_int(value)
    except ValueError:
        return None


def _href(links: Any, rel: str) -> str | None:
    link = links.get(rel) if isinstance(links, Mapping) else None
    href = link.get("href") if isinstance(link, Mapping) else link
    # The docs' examples use the literal "string" as an href: treat it as absent.
    return href if isinstance(href, str) and href and href != "string" else None


@attrs.frozen
class HalPages:
    items_key: str = "data"
    numbered: bool = True

    def parse(self, body: Any, base: URL) -> Page[Any]:
        if not isinstance(body, Mapping):
            raise errors.DecodeError("expected a HAL page object")
        embedded = body.get("_embedded") or {}
        raw = embedded.get(self.items_key) if isinstance(embedded, Mapping) else None
        items = [] if raw is None else raw if isinstance(raw, list) else [raw]
        return Page(
            items=items,
            number=_optional_int(body.get("page")),
            total_pages=_optional_int(body.get("total_pages")),
            total_items=_optional_int(body.get("total_items")),
            raw=body,
        )

    def params_for(self, params: Mapping[str, str], number: int) -> dict[str, str]:
        return {**params, "page": str(number)}


@attrs.frozen
class TelephonyPages:
    items_key: str
    numbered: bool = True

    def parse(self, body: Any, base: URL) -> Page[Any]:
        if not isinstance(body, Mapping):
            raise errors.DecodeError("expected a telephony page object")
        raw = body.get(self.items_key)
        if raw is None and isinstance(body.get("_embedded"), Mapping):
            raw = body["_embedded"].get(self.items_key)
        items = [] if raw is None else raw if isinstance(raw, list) else [raw]
        next_uri = body.get("next_page_uri")
        number = _optional_int(body.get("current_page"))
        next_number = _optional_int(body.get("next_page"))
        has_next = (
            isinstance(next_uri, str)
            and bool(next_uri)
            and (next_number is None or number is None or next_number > number)
        )
        return Page(
            items=items,
            number=number,
            total_pages=_optional_int(body.get("pages")),
            total_items=_optional_int(body.get("total")),
            next_url=_resolve(base, str(next_uri)) if has_next else None,
            raw=body,
        )

    def params_for(self, params: Mapping[str, str], number: int) -> dict[str, str]:
        return {**params, "page": str(number)}


@attrs.frozen
class CursorPages:
    items_key: str
    numbered: bool = False

    def parse(self, body: Any, base: URL) -> Page[Any]:
        if not isinstance(body, Mapping):
            raise errors.DecodeError("expected a page object")
        embedded = body.get("_embedded")
        raw = embedded.get(self.items_key) if isinstance(embedded, Mapping) else None
        if raw is None:
            raw = body.get(self.items_key)
        items = [] if raw is None else raw if isinstance(raw, list) else [raw]
        href = _href(body.get("_links"), "next")
        return Page(
            items=items,
            total_items=_optional_int(body.get("total_items") or body.get("total")),
            next_url=_resolve(base, href) if href else None,
            raw=body,
        )

    def params_for(self, params: Mapping[str, str], number: int) -> dict[str, str]:
        raise NotImplementedError


def _resolve(base: URL, link: str) -> URL:
    target = URL(link)
    if target.is_absolute():
        return target
    prefix = base.path.rstrip("/")
    if target.path.startswith(prefix + "/"):  # root-relative: already under the base
        return base.origin().with_path(target.path).with_query(target.query)
    # Telephony's next_page_uri is relative to the service base (/cc/accounts/...).
    return base.with_path(prefix + "/" + target.path.lstrip("/")).with_query(target.query)


class AsyncPager(Generic[T]):
    """Async iterator over every item of a listing, fetching pages behind it.

    ``async for item in pager``; ``await pager.all()``; ``async for page in pager.pages()``.
    ``max_items`` stops early; ``concurrency`` bounds the requests in flight once the number of
    pages is known. A ``next`` link is only followed on the configured origin.
    """

    def __init__(
        self,
        fetch: Fetch,
        url: URL,
        params: Mapping[str, str] | None,
        *,
        style: PageStyle,
        decode: Callable[[list[Any]], list[T]],
        base: URL,
        concurrency: int = 4,
        max_items: int | None = None,
    ) -> None:
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise errors.ValidationError("concurrency", "must be an integer >= 1")
        if max_items is not None and (isinstance(max_items, bool) or max_items < 0):
            raise errors.ValidationError("max_items", "must be >= 0")
        self._fetch = fetch
        self._url = url
        self._params = dict(params or {})
        self._style = style
        self._decode = decode
        self._base = base
        self.concurrency = concurrency
        self.max_items = max_items

    def __repr__(self) -> str:
        return f"<AsyncPager {errors.redact_url(self._url)} concurrency={self.concurrency}>"

    def __aiter__(self) -> AsyncIterator[T]:
        return self._items()

    async def all(self) -> list[T]:
        """Every item, as a list."""
        return [item async for item in self]

    async def first(self) -> T | None:
        """The first item, fetching one page only."""
        async for item in self:
            return item
        return None

    async def _items(self) -> AsyncIterator[T]:
        left = self.max_items
        if left == 0:
            return
        pages = self.pages()
        try:
            async for page in pages:
                for item in page.items:
                    yield item
                    if left is not None:
                        left -= 1
                        if left <= 0:
                            return
        finally:
            await pages.aclose()

    async def pages(self) -> AsyncGenerator[Page[T], None]:
        """Every page in order, items decoded."""
        first = await self._get(self._url, self._params)
        yield first
        style = self._style
        if style.numbered and first.total_pages is not None and first.number is not None:
            last = first.number + first.total_pages - 1
            following, seen, rounds = first.number + 1, len(first.items), 0
            while following <= last:
                stop = last
                if self.max_items is not None and first.items:
                    # Fetch no page it won't need if pages are as long as the first; a shorter
                    # page means another round, of at least a window, for what is still owed.
                    owed = self.max_items - seen
                    if owed <= 0:
                        return
                    wanted = -(-owed // len(first.items))
                    stop = min(
                        last, following - 1 + (max(wanted, self.concurrency) if rounds else wanted)
                    )
                emptied = False
                # Closed at once when the caller stops, so outstanding fetches are cancelled.
                async with contextlib.aclosing(
                    self._concurrent(range(following, stop + 1))
                ) as pages:
                    async for page in pages:
                        seen += len(page.items)
                        emptied = emptied or not page.items
                        yield page
                if emptied:  # the listing shrank since the first page counted its pages
                    return
                following, rounds = stop + 1, rounds + 1
            return
        page = first
        # A server that links its pages ends the listing by leaving the link out.
        by_number = style.numbered and first.next_url is None
        while page.items and (page.next_url is not None or by_number):
            if page.next_url is not None:
                if not _http.same_origin(page.next_url, self._base.origin()):
                    raise errors.UnsafeURLError(
                        "refusing to follow a next link to another origin: "
                        + errors.redact_url(page.next_url.origin())
                    )
                page = await self._get(page.next_url, None)
            elif page.number is None:  # no total, no link, no number: nothing to walk by
                return
            else:  # numbered without a total: walk until a page comes back empty
                page = await self._get_number(page.number + 1)
            yield page

    async def _concurrent(self, numbers: Iterable[int]) -> AsyncGenerator[Page[T], None]:
        # At most ``concurrency`` requests in flight, and as many fetched pages again waiting
        # to be taken in order: a slow page holds back the iteration, not the other requests.
        todo = iter(numbers)
        slots = asyncio.Semaphore(self.concurrency)
        window: deque[asyncio.Task[Page[T]]] = deque()

        def refill() -> None:
            while len(window) < 2 * self.concurrency:
                number = next(todo, None)
                if number is None:
                    return
                window.append(asyncio.ensure_future(self._get_number(number, slots)))

        refill()
        try:
            while window:
                page = await window.popleft()
                refill()
                yield page
        finally:
            for task in window:
                task.cancel()
            if window:
                await asyncio.gather(*window, return_exceptions=True)

    async def _get_number(self, number: int, slots: asyncio.Semaphore | None = None) -> Page[T]:
        params = self._style.params_for(self._params, number)
        if slots is None:
            body = await self._fetch(self._url, params)
        else:
            async with slots:
                body = await self._fetch(self._url, params)
            await asyncio.sleep(0)  # let the next request go out before decoding this page
        page = self._parse(body)
        if page.number is not None and page.number != number:
            raise errors.DecodeError(
                f"asked for page {number} but the server sent page {page.number}"
            )
        return page

    async def _get(self, url: URL, params: Mapping[str, str] | None) -> Page[T]:
        return self._parse(await self._fetch(url, params))

    def _parse(self, body: Any) -> Page[T]:
        page = self._style.parse(body, self._base)
        return attrs.evolve(page, items=self._decode(page.items))
