"""The one pager over HAL, telephony and cursor pages, against real loopback servers."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

import attrs
import pytest
from aiohttp import web

from vonage_async import BearerToken, Page, Vonage, errors
from vonage_async._paging import CursorPages, HalPages, TelephonyPages

Loopback = Any  # conftest.Loopback
Start = Callable[..., Awaitable[Loopback]]


@attrs.frozen
class Item:
    id: int = 0
    name: str = ""


def items(first: int, count: int) -> list[dict[str, Any]]:
    return [{"id": n, "name": f"item {n}", "extra": "ignored"} for n in range(first, first + count)]


def client_for(server: Loopback) -> Vonage:
    return Vonage(vbc_auth=BearerToken("tok"), vbc_url=str(server.make_url("/t/vbc.prod")))


def hal_handler(
    total: int, *, latency: Callable[[int], float] = lambda page: 0.0
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """Provisioning-style pages, numbered from 1, ``page_size`` items each."""

    async def handler(request: web.Request) -> web.Response:
        size = int(request.query.get("page_size", "2"))
        page = int(request.query.get("page", "1"))
        await asyncio.sleep(latency(page))
        pages = max(1, -(-total // size))
        start = (page - 1) * size + 1
        return web.json_response(
            {
                "page": page,
                "page_size": size,
                "total_pages": pages,
                "total_items": total,
                "_embedded": {"data": items(start, max(0, min(size, total - start + 1)))},
            }
        )

    return handler


async def test_hal_pages_keep_the_filters_on_every_page(loopback: Start, service: Any) -> None:
    server = await loopback(hal_handler(5))
    async with client_for(server) as client:
        svc = service(client, "vbc", "provisioning")
        pager = svc.pager(
            svc.url("accounts", "7", "users"),
            {"status": "active", "page_size": "2"},
            Item,
            style=HalPages(),
        )
        found = await pager.all()

    assert found == [Item(n, f"item {n}") for n in range(1, 6)]
    assert [r.path for r in server.requests] == ["/t/vbc.prod/provisioning/accounts/7/users"] * 3
    assert sorted(r.query.get("page", "-") for r in server.requests) == ["-", "2", "3"]
    assert all(r.query["status"] == "active" for r in server.requests)
    assert all(r.query["page_size"] == "2" for r in server.requests)


@pytest.mark.parametrize("first_page", [0, 1])
async def test_telephony_pages_with_string_counters(
    loopback: Start, service: Any, first_page: int
) -> None:
    async def handler(request: web.Request) -> web.Response:
        page = int(request.query.get("page", str(first_page)))
        index = page - first_page
        return web.json_response(
            {
                "calls": items(index * 2 + 1, 2),
                "current_page": str(page),
                "pages": "3",
                "page_size": "2",
                "next_page": str(page + 1),
                "next_page_uri": f"/calls?page_size=2&order=desc&page={page + 1}",
            }
        )

    server = await loopback(handler)
    async with client_for(server) as client:
        svc = service(client, "vbc", "telephony/v3")
        pager = svc.pager(svc.url("calls"), {"order": "desc"}, Item, style=TelephonyPages("calls"))
        found = await pager.all()

    assert [i.id for i in found] == [1, 2, 3, 4, 5, 6]
    # The link shows how this server numbers its pages: the rest are asked for by that number.
    assert sorted(r.query.get("page", "-") for r in server.requests) == sorted(
        ["-", str(first_page + 1), str(first_page + 2)]
    )
    assert all(r.query["order"] == "desc" for r in server.requests)


async def test_telephony_next_page_uri_is_relative_to_the_service(
    loopback: Start, service: Any
) -> None:
    async def handler(request: web.Request) -> web.Response:
        page = int(request.query.get("page", "0"))
        devices = items(page * 2 + 1, 2) if page <= 2 else []
        body: dict[str, Any] = {"devices": devices, "current_page": page}
        if page < 2:  # no page count: the pager must follow the link
            body["next_page_uri"] = (
                f"/registration/accounts/1234/devices?page_size=2&page={page + 1}"
            )
            body["next_page"] = page + 1
        return web.json_response(body)

    server = await loopback(handler)
    async with client_for(server) as client:
        svc = service(client, "vbc", "telephony/v3")
        url = svc.url("registration", "accounts", "1234", "devices")
        found = await svc.pager(url, None, Item, style=TelephonyPages("devices")).all()

    assert [i.id for i in found] == [1, 2, 3, 4, 5, 6]
    assert {r.path for r in server.requests} == {
        "/t/vbc.prod/telephony/v3/registration/accounts/1234/devices"
    }
    assert [r.query.get("page") for r in server.requests] == [None, "1", "2"]


@pytest.mark.parametrize("absolute", [True, False])
async def test_cursor_pages_follow_the_next_link(
    loopback: Start, service: Any, absolute: bool
) -> None:
    async def handler(request: web.Request) -> web.Response:
        cursor = int(request.query.get("cursor", "0"))
        body: dict[str, Any] = {"_embedded": {"profiles": items(cursor + 1, 3)}, "_links": {}}
        if cursor < 6:
            href = f"/v1/network-registry/profiles?cursor={cursor + 3}&type=business"
            body["_links"]["next"] = {"href": str(server.url) + href if absolute else href}
        return web.json_response(body)

    server = await loopback(handler)
    client = Vonage(
        network_registry_auth=BearerToken("tok"),
        network_registry_url=str(server.make_url("/v1/network-registry")),
    )
    async with client:
        svc = service(client, "network_registry")
        pager = svc.pager(
            svc.url("profiles"), {"type": "business"}, Item, style=CursorPages("profiles")
        )
        found = await pager.all()

    assert [i.id for i in found] == list(range(1, 10))
    assert [r.query.get("cursor") for r in server.requests] == [None, "3", "6"]
    assert all(r.query["type"] == "business" for r in server.requests)


@pytest.mark.parametrize("scheme_relative", [False, True])
@pytest.mark.parametrize("style", ["cursor", "telephony"])
async def test_a_next_link_to_another_origin_is_refused(
    loopback: Start, service: Any, style: str, scheme_relative: bool
) -> None:
    elsewhere = await loopback(hal_handler(10))
    foreign = str(elsewhere.make_url("/t/vbc.prod/steal?page=2"))
    if scheme_relative:  # "//host/...": another host, whatever the scheme
        foreign = foreign.removeprefix("http:")

    async def handler(request: web.Request) -> web.Response:
        if style == "cursor":
            return web.json_response(
                {"_embedded": {"data": items(1, 2)}, "_links": {"next": {"href": foreign}}}
            )
        return web.json_response({"data": items(1, 2), "next_page_uri": foreign})

    server = await loopback(handler)
    async with client_for(server) as client:
        svc = service(client)
        page_style = CursorPages("data") if style == "cursor" else TelephonyPages("data")
        pager = svc.pager(svc.url("things"), None, Item, style=page_style)
        seen: list[int] = []
        with pytest.raises(errors.UnsafeURLError):
            async for item in pager:
                seen.append(item.id)

    assert seen == [1, 2]  # the first page was delivered before the bad link
    assert elsewhere.count() == 0
    assert server.count() == 1


@pytest.mark.parametrize("concurrency", [1, 3])
async def test_concurrency_is_bounded_and_items_stay_in_order(
    loopback: Start, service: Any, concurrency: int
) -> None:
    rng = random.Random(concurrency)
    delays = {page: rng.uniform(0, 0.03) for page in range(1, 13)}
    server = await loopback(hal_handler(24, latency=delays.__getitem__))
    async with client_for(server) as client:
        svc = service(client)
        pager = svc.pager(
            svc.url("things"), {"page_size": "2"}, Item, style=HalPages(), concurrency=concurrency
        )
        found = [item.id async for item in pager]

    assert found == list(range(1, 25))
    assert server.count() == 12
    assert server.max_in_flight <= concurrency
    if concurrency > 1:
        assert server.max_in_flight > 1


async def test_max_items_fetches_only_the_pages_it_needs(loopback: Start, service: Any) -> None:
    server = await loopback(hal_handler(40))
    async with client_for(server) as client:
        svc = service(client)
        pager = svc.pager(
            svc.url("things"),
            {"page_size": "2"},
            Item,
            style=HalPages(),
            concurrency=4,
            max_items=3,
        )
        found = await pager.all()
    assert [i.id for i in found] == [1, 2, 3]
    assert server.count() == 2  # pages 1 and 2 hold the three items


async def test_max_items_keeps_fetching_when_later_pages_are_shorter(
    loopback: Start, service: Any
) -> None:
    sizes = [4, 1, 4, 4, 4]  # the list shrank while it was being read

    async def shrinking(request: web.Request) -> web.Response:
        page = int(request.query.get("page", "1"))
        start = sum(sizes[: page - 1]) + 1
        return web.json_response(
            {
                "page": page,
                "total_pages": len(sizes),
                "_embedded": {"data": items(start, sizes[page - 1])},
            }
        )

    server = await loopback(shrinking)
    async with client_for(server) as client:
        svc = service(client)
        pager = svc.pager(svc.url("things"), {}, Item, style=HalPages(), concurrency=4, max_items=8)
        found = await pager.all()
    assert [i.id for i in found] == list(range(1, 9))
    # Pages 1 and 2 as planned, then a window (pages 3 to 5, the last) for what was owed.
    assert server.count() == 5


async def test_max_items_stops_at_a_page_that_comes_back_empty(
    loopback: Start, service: Any
) -> None:
    async def shrunk(request: web.Request) -> web.Response:
        page = int(request.query.get("page", "1"))
        data = items(1, 4) if page == 1 else []  # it said 51 pages, then the list emptied
        return web.json_response({"page": page, "total_pages": 51, "_embedded": {"data": data}})

    server = await loopback(shrunk)
    async with client_for(server) as client:
        svc = service(client)
        pager = svc.pager(svc.url("things"), {}, Item, style=HalPages(), concurrency=4, max_items=8)
        found = await pager.all()
    assert [i.id for i in found] == [1, 2, 3, 4]
    assert server.count() == 2


async def test_leaving_early_cancels_outstanding_fetches(loopback: Start, service: Any) -> None:
    release = asyncio.Event()

    async def slow_after_two(request: web.Request) -> web.Response:
        if int(request.query.get("page", "1")) > 2:
            await asyncio.wait_for(release.wait(), 5)
        return await hal_handler(40)(request)

    server = await loopback(slow_after_two)
    async with client_for(server) as client:
        svc = service(client)
        pager = svc.pager(
            svc.url("things"), {"page_size": "2"}, Item, style=HalPages(), concurrency=4
        )
        started = time.monotonic()
        seen = []
        async with contextlib.aclosing(pager.pages()) as pages:
            async for page in pages:
                seen.append(page.number)
                if len(seen) == 2:
                    break
        elapsed = time.monotonic() - started
        left = [
            task
            for task in asyncio.all_tasks()
            if "_get_number" in getattr(task.get_coro(), "__qualname__", "") and not task.done()
        ]

    release.set()
    assert seen == [1, 2]
    assert elapsed < 1.0
    assert left == []  # nothing keeps fetching after the caller has what it asked for
    assert server.max_in_flight <= 4


async def test_pages_first_and_all(loopback: Start, service: Any) -> None:
    server = await loopback(hal_handler(5))
    async with client_for(server) as client:
        svc = service(client)

        def pager() -> Any:
            return svc.pager(svc.url("things"), {"page_size": "2"}, Item, style=HalPages())

        pages = [page async for page in pager().pages()]
        assert server.count() == 3
        first = await pager().first()
        assert server.count() == 4  # first() reads one page only
        everything = await pager().all()

    assert all(isinstance(page, Page) for page in pages)
    assert [(p.number, p.total_pages, p.total_items) for p in pages] == [(1, 3, 5)] * 1 + [
        (2, 3, 5),
        (3, 3, 5),
    ]
    assert [[i.id for i in p.items] for p in pages] == [[1, 2], [3, 4], [5]]
    assert first == Item(1, "item 1")
    assert everything == [Item(n, f"item {n}") for n in range(1, 6)]


async def test_an_empty_listing(loopback: Start, service: Any) -> None:
    server = await loopback(hal_handler(0))
    async with client_for(server) as client:
        svc = service(client)
        pager = svc.pager(svc.url("things"), None, Item, style=HalPages())
        assert await pager.first() is None
        assert await pager.all() == []
        assert await svc.pager(svc.url("x"), None, Item, style=HalPages(), max_items=0).all() == []

    assert server.count() == 2  # max_items=0 sends nothing


@pytest.mark.parametrize(
    "bad", ["x/../y", "..", ".", "a/b", "", "  ", "a\\b", "a\x00b", None, True]
)
async def test_unsafe_path_segments_are_refused_before_sending(
    loopback: Start, service: Any, bad: Any
) -> None:
    server = await loopback(hal_handler(5))
    async with client_for(server) as client:
        svc = service(client)
        with pytest.raises(errors.ValidationError) as caught:
            svc.pager(
                svc.path("accounts", ("account_id", bad), "users"), None, Item, style=HalPages()
            )

    assert caught.value.parameter == "account_id"
    assert server.count() == 0


async def test_pre_encoded_dots_are_refused(loopback: Start, service: Any) -> None:
    # A ``%`` in an id is refused: a server or proxy that decodes twice would see ``..``.
    server = await loopback(hal_handler(1))
    async with client_for(server) as client:
        svc = service(client)
        with pytest.raises(errors.ValidationError):
            svc.path("accounts", ("account_id", "%2e%2e"), "users")

    assert server.count() == 0


@pytest.mark.parametrize(("argument", "value"), [("concurrency", 0), ("max_items", -1)])
async def test_bad_pager_arguments_are_refused_at_call_time(
    loopback: Start, service: Any, argument: str, value: int
) -> None:
    server = await loopback(hal_handler(5))
    async with client_for(server) as client:
        svc = service(client)
        with pytest.raises(errors.ValidationError) as caught:
            svc.pager(svc.url("things"), None, Item, style=HalPages(), **{argument: value})

    assert caught.value.parameter == argument
    assert server.count() == 0


async def test_a_cached_url_does_not_let_a_lookalike_value_skip_its_check() -> None:
    client = Vonage(vbc_auth=BearerToken("t"), vbc_url="http://127.0.0.1:9/t/vbc.prod")
    svc = client._service("vbc", "vbc_auth")
    assert str(svc.path("accounts", ("account_id", 1))).endswith("/accounts/1")
    with pytest.raises(errors.ValidationError):  # True == 1, but a bool is no id
        svc.path("accounts", ("account_id", True))
    await client.aclose()


@pytest.mark.parametrize("style", ["cursor", "telephony"])
async def test_a_link_keeps_the_filters_it_left_out_but_never_an_old_cursor(
    loopback: Start, service: Any, style: str
) -> None:
    async def handler(request: web.Request) -> web.Response:
        if "after" in request.query:
            return web.json_response({"data": items(3, 1)})
        link = "/t/vbc.prod/things?after=x1"
        if style == "cursor":
            return web.json_response({"data": items(1, 2), "_links": {"next": {"href": link}}})
        return web.json_response({"data": items(1, 2), "next_page_uri": link})

    server = await loopback(handler)
    async with client_for(server) as client:
        svc = service(client)
        page_style = CursorPages("data") if style == "cursor" else TelephonyPages("data")
        params = {"page_size": "2", "next": "c0"} if style == "cursor" else {"page_size": "2"}
        found = await svc.pager(svc.url("things"), params, Item, style=page_style).all()

    assert [i.id for i in found] == [1, 2, 3]
    assert dict(server.requests[1].query) == {"after": "x1", "page_size": "2"}
