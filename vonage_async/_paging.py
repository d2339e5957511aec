"""One pager for the three paging shapes the APIs use.

- ``HalPages``: Provisioning's ``page``/``page_size``/``total_pages`` with ``_embedded.data``.
- ``TelephonyPages``: ``current_page``/``pages``/``next_page``/``next_page_uri`` (relative to the
  service base, counters often sent as strings, first page numbered 0 or 1). Pages are reached
  through ``next_page_uri`` only: the files document no page-number parameter.
- ``CursorPages``: Network Registry's opaque ``_links.next.href`` cursor (its ``next`` parameter).

Pages are fetched concurrently (at most ``concurrency`` requests in flight, items still in
server order) only when the first page tells how many pages there are and how to address one:
a numbered style, or a next link whose query carries the next page's number. Otherwise the
links are walked in order.
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
Address = Callable[[int], tuple[URL, Mapping[str, str] | None]]


@attrs.frozen
class Page(Generic[T]):
    """One page: its items plus what the server said about paging."""

    items: list[T]
    number: int | None = None
    total_pages: int | None = None
    total_items: int | None = None
    next_url: URL | None = None
    # The number the server gives the next page, and the opaque cursor its link carries.
    next_number: int | None = None
    cursor: str | None = None
    raw: Any = attrs.field(default=None, eq=False, repr=False)


class PageStyle(Protocol):
    @property
    def numbered(self) -> bool:
        """Pages are fetched by number (``params_for``) rather than by a next link."""

    @property
    def cursor_param(self) -> str | None:
        """The query parameter that carries a cursor (never carried over onto a link)."""

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
    cursor_param: str | None = None

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
    numbered: bool = False
    cursor_param: str | None = None

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
            next_number=next_number if has_next else None,
            raw=body,
        )

    def params_for(self, params: Mapping[str, str], number: int) -> dict[str, str]:
        raise NotImplementedError  # pages are addressed by the server's links only


@attrs.frozen
class OffsetPages:
    """Bare-array pages numbered by ``offset`` (the Integration Platform); the fetch wraps each
    body as ``{"offset": n, "items": [...]}``."""

    size: int
    numbered: bool = True
    cursor_param: str | None = None

    def parse(self, body: Any, base: URL) -> Page[Any]:
        items = body.get("items")
        if not isinstance(items, list):
            raise errors.DecodeError("expected a JSON array of records")
        # A short page is the last: without a number the pager stops there rather than ask
        # for an empty page.
        number = body["offset"] if len(items) >= self.size else None
        return Page(items=items, number=number)

    def params_for(self, params: Mapping[str, str], number: int) -> dict[str, str]:
        return {**params, "offset": str(number)}


@attrs.frozen
class CursorPages:
    items_key: str
    numbered: bool = False
    cursor_param: str | None = "next"  # seed 004

    def parse(self, body: Any, base: URL) -> Page[Any]:
        if not isinstance(body, Mapping):
            raise errors.DecodeError("expected a page object")
        embedded = body.get("_embedded")
        raw = embedded.get(self.items_key) if isinstance(embedded, Mapping) else None
        if raw is None:
            raw = body.get(self.items_key)
        items = [] if raw is None else raw if isinstance(raw, list) else [raw]
        href = _href(body.get("_links"), "next")
        next_url = _resolve(base, href) if href else None
        return Page(
            items=items,
            total_items=_optional_int(body.get("total_items") or body.get("total")),
            next_url=next_url,
            cursor=None if next_url is None else next_url.query.get(self.cursor_param or ""),
            raw=body,
        )

    def params_for(self, params: Mapping[str, str], number: int) -> dict[str, str]:
        raise NotImplementedError


def _resolve(base: URL, link: str) -> URL:
    try:
        target = URL(link)
    except ValueError:
        raise errors.UnsafeURLError("refusing to follow a next link that is not a URL") from None
    if target.is_absolute():  # "//host/..." too: the origin check refuses it
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
    pages and how to address one are known. A ``next`` link is only followed on the configured
    origin. ``next_cursor`` is the cursor of the page after the last page read, None at the end.
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
        # The opaque cursor of the page after the last one read (Network Registry), None at the
        # end: a job can stop and resume the listing later with ``cursor=``.
        self.next_cursor: str | None = None

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
        self.next_cursor = None
        first = await self._get(self._url, self._params)
        self.next_cursor = first.cursor
        yield first
        address = self._addressing(first)
        if address is not None and first.total_pages is not None and first.number is not None:
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
                    self._concurrent(address, range(following, stop + 1))
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
        by_number = self._style.numbered and first.next_url is None
        followed = {self._url.update_query(self._params)}
        walked = 1
        while page.items and (page.next_url is not None or by_number):
            if page.total_pages is not None and walked >= page.total_pages:
                return  # as many pages as the server counted: a further link leads nowhere new
            walked += 1
            if page.next_url is not None:
                if page.next_url in followed:  # a link back to a page already read: the end
                    return
                followed.add(page.next_url)
                page = await self._get(self._checked(page.next_url), None)
            elif page.number is None:  # no total, no link, no number: nothing to walk by
                return
            else:  # numbered without a total: walk until a page comes back empty
                page = await self._get_number(self._by_param, page.number + 1)
            self.next_cursor = page.cursor
            yield page

    def _by_param(self, number: int) -> tuple[URL, Mapping[str, str] | None]:
        return self._url, self._style.params_for(self._params, number)

    def _addressing(self, first: Page[T]) -> Address | None:
        """How to ask for page ``n``, if the style or the server's own link shows it."""
        if self._style.numbered:
            return self._by_param
        link, number = first.next_url, first.next_number
        if link is None or number is None:
            return None
        # The one query parameter of the link that carries the next page's number (and is not
        # a filter we sent with that same value) is how this server addresses pages.
        keys = [
            key
            for key, value in link.query.items()
            if value == str(number) and self._params.get(key) != value
        ]
        if len(keys) != 1 or len(link.query.getall(keys[0])) != 1:
            return None
        template, key = self._checked(link), keys[0]
        return lambda n: (template.update_query({key: str(n)}), None)

    def _checked(self, link: URL) -> URL:
        """The link on our origin, with the filters we sent that it left out (a link that
        drops ``page_size`` must not change the page size mid-walk); its own values win."""
        if not _http.same_origin(link, self._base.origin()):
            raise errors.UnsafeURLError(
                "refusing to follow a next link to another origin: "
                + errors.redact_url(URL.build(scheme=link.scheme, host=link.host or ""))
            )
        cursor = self._style.cursor_param
        missing = {k: v for k, v in self._params.items() if k not in link.query and k != cursor}
        return link.extend_query(missing) if missing else link

    async def _concurrent(
        self, address: Address, numbers: Iterable[int]
    ) -> AsyncGenerator[Page[T], None]:
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
                window.append(asyncio.ensure_future(self._get_number(address, number, slots)))

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

    async def _get_number(
        self, address: Address, number: int, slots: asyncio.Semaphore | None = None
    ) -> Page[T]:
        url, params = address(number)
        if slots is None:
            body = await self._fetch(url, params)
        else:
            async with slots:
                body = await self._fetch(url, params)
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
