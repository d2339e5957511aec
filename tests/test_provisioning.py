"""Provisioning (seed 000) and the Extension API (seed 001) against a loopback server answering
with the seeds' example bodies."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web

from vonage_async import BearerToken, Vonage, errors
from vonage_async.provisioning import (
    Account,
    Address,
    ContactNumber,
    Did,
    Extension,
    ExtensionUser,
    Handset,
    Location,
    User,
    UserExtension,
)

BASE = "/t/vbc.prod/provisioning/api/accounts"
LINKS = {rel: {"href": "string"} for rel in ("first", "prev", "self", "next", "last")}
PAGE = {"page_size": 100, "page": 1, "total_pages": 1, "total_items": 1, "_links": LINKS}

ACCOUNT = {
    "id": 571700,
    "name": "Vonage",
    "status": "ACTIVE",
    "address": {
        "address_1": "123 Example Street",
        "address_2": "Apt. 456",
        "country": "US",
        "state": "NJ",
        "city": "Holmdel",
        "postal_code": "07733",
    },
}
LOCATION = {
    "id": 327910,
    "name": "Headquarters",
    "address": {**ACCOUNT["address"], "time_zone": "America/New York"},  # type: ignore[dict-item]
}
EXTENSION = {
    "extension_number": "789",
    "user": {
        "id": 2111111,
        "email": "john.smith@example.com",
        "login_name": "jsmith",
        "first_name": "John",
        "last_name": "Smith",
    },
    "location_id": 145214,
    "vtt_enabled": True,
    "dnd_enabled": False,
    "caller_id": "John Smith",
    "external_id": "abc11111111111",
    "block_caller_id": False,
    "dids": [{"phone_number": "14155550100", "custom_tag": "My Tag"}],
    "extension_handsets": [{"handset_name": "line1-VH6370927", "sip_id": "VH16370927"}],
}
USER = {
    "email": "john.smith@example.com",
    "login_name": "jsmith",
    "first_name": "John",
    "last_name": "Smith",
    "id": 869048,
    "contact_numbers": [{"type": "Home", "value": "14155550100"}],
    "extensions": [
        {
            "dids": [{"phone_number": "14155550100", "custom_tag": "My Tag"}],
            "extension_number": "789",
        }
    ],
}

EXPECTED_EXTENSION = Extension(
    extension_number="789",
    user=ExtensionUser(
        id=2111111,
        email="john.smith@example.com",
        login_name="jsmith",
        first_name="John",
        last_name="Smith",
    ),
    location_id=145214,
    vtt_enabled=True,
    dnd_enabled=False,
    caller_id="John Smith",
    external_id="abc11111111111",
    block_caller_id=False,
    dids=[Did(phone_number="14155550100", custom_tag="My Tag")],
    extension_handsets=[Handset(handset_name="line1-VH6370927", sip_id="VH16370927")],
)
EXPECTED_USER = User(
    id=869048,
    email="john.smith@example.com",
    login_name="jsmith",
    first_name="John",
    last_name="Smith",
    contact_numbers=[ContactNumber(type="Home", value="14155550100")],
    extensions=[
        UserExtension(
            extension_number="789", dids=[Did(phone_number="14155550100", custom_tag="My Tag")]
        )
    ],
)

Reply = Any  # a JSON body, a web.Response, or a function of the request giving either
Connect = Callable[[dict[str, Reply]], Awaitable[tuple[Any, Vonage]]]


def hal(data: Any, **paging: Any) -> dict[str, Any]:
    return {**PAGE, **paging, "_embedded": {"data": copy.deepcopy(data)}}


@pytest.fixture
async def connect(loopback: Any) -> AsyncIterator[Connect]:
    """``server, client = await connect({path: reply})``: a loopback API and a client for it."""
    clients: list[Vonage] = []

    async def start(routes: dict[str, Reply]) -> tuple[Any, Vonage]:
        async def handle(request: web.Request) -> web.StreamResponse:
            reply = routes.get(request.path)
            if reply is None:
                return web.json_response({"msg": "Not found", "status": 404}, status=404)
            if callable(reply):
                reply = await reply(request)
            return reply if isinstance(reply, web.StreamResponse) else web.json_response(reply)

        server = await loopback(handle)
        client = Vonage(vbc_auth=BearerToken("t0k3n"), vbc_url=str(server.make_url("/t/vbc.prod")))
        clients.append(client)
        return server, client

    yield start
    for client in clients:
        await client.aclose()


def only(server: Any) -> Any:
    """The one request the server saw, after checking it carried the bearer token."""
    assert len(server.requests) == 1
    request = server.requests[0]
    assert request.headers["Authorization"] == "Bearer t0k3n"
    return request


async def test_get_my_account(connect: Connect) -> None:
    server, client = await connect({f"{BASE}/self": hal(ACCOUNT)})

    account = await client.provisioning.accounts.get()

    request = only(server)
    assert (request.method, request.path) == ("GET", f"{BASE}/self")
    assert account == Account(
        id=571700,
        name="Vonage",
        status="ACTIVE",
        address=Address(
            address_1="123 Example Street",
            address_2="Apt. 456",
            country="US",
            state="NJ",
            city="Holmdel",
            postal_code="07733",
        ),
    )
    assert account.links["self"].href == "string"  # the envelope's _links stay reachable


async def test_list_and_get_locations(connect: Connect) -> None:
    server, client = await connect(
        {f"{BASE}/1234/locations": hal([LOCATION]), f"{BASE}/1234/locations/327910": hal(LOCATION)}
    )

    listed = await client.provisioning.locations.list("1234").all()
    one = await client.provisioning.locations.get("1234", 327910)

    assert [r.path for r in server.requests] == [
        f"{BASE}/1234/locations",
        f"{BASE}/1234/locations/327910",
    ]
    assert listed == [one]
    assert one == Location(
        id=327910,
        name="Headquarters",
        address=Address(
            address_1="123 Example Street",
            address_2="Apt. 456",
            country="US",
            state="NJ",
            city="Holmdel",
            postal_code="07733",
            time_zone="America/New York",
        ),
    )


async def test_list_extensions_with_every_filter(connect: Connect) -> None:
    # The seed shows _embedded.data as one object, not a list: it is one extension.
    server, client = await connect({f"{BASE}/self/extensions": hal(EXTENSION)})

    extensions = await client.provisioning.extensions.list(
        page_size=10,
        location_id=145214,
        phone_number="+14155550100",
        login_name="jsmith",
        email="john.smith@example.com",
    ).all()

    request = only(server)
    assert request.method == "GET"
    assert dict(request.query) == {
        "page_size": "10",
        "location_id": "145214",
        "phone_number": "14155550100",
        "login_name": "jsmith",
        "email": "john.smith@example.com",
    }
    assert extensions == [EXPECTED_EXTENSION]


async def test_get_extension_by_external_id(connect: Connect) -> None:
    body = {
        "_links": {"self": {"href": "/api/accounts/1234/extensions/abc11111111111"}},
        "_embedded": {"extension": {**EXTENSION, "service_type_name": "UX"}},
    }
    server, client = await connect({f"{BASE}/1234/extensions/abc11111111111": body})

    extension = await client.provisioning.extensions.get("1234", "abc11111111111")

    assert only(server).path == f"{BASE}/1234/extensions/abc11111111111"
    assert extension.service_type_name == "UX"
    assert extension.links["self"].href == "/api/accounts/1234/extensions/abc11111111111"


async def test_an_items_own_links_win_over_the_envelopes(connect: Connect) -> None:
    own = {"self": {"href": "/own"}}
    body = {
        "_links": {"self": {"href": "/envelope"}},
        "_embedded": {"data": {**EXTENSION, "_links": own}},
    }
    _server, client = await connect({f"{BASE}/1234/extensions/abc11111111111": body})

    extension = await client.provisioning.extensions.get("1234", "abc11111111111")

    assert extension.links["self"].href == "/own"


@pytest.mark.parametrize("data", [EXTENSION, [EXTENSION]], ids=["object", "list"])
async def test_get_extension_by_number_through_the_extension_api(
    connect: Connect, data: Any
) -> None:
    # The Extension API's older BasicUser has no id: a missing field is simply None.
    without_user_id = copy.deepcopy(data)
    (without_user_id if isinstance(data, dict) else without_user_id[0])["user"].pop("id")
    server, client = await connect({f"{BASE}/self/extensions/789": hal(without_user_id)})

    extension = await client.provisioning.extensions.get_by_number("self", 789)

    assert only(server).path == f"{BASE}/self/extensions/789"
    assert extension.extension_number == "789"
    assert extension.user == ExtensionUser(
        email="john.smith@example.com", login_name="jsmith", first_name="John", last_name="Smith"
    )


async def test_list_users_with_filters_and_get_one(connect: Connect) -> None:
    server, client = await connect(
        {f"{BASE}/1234/users": hal([USER]), f"{BASE}/1234/users/869048": hal(USER)}
    )

    users = await client.provisioning.users.list(
        "1234", first_name="John", last_name="Smith", login_name="jsmith", email="j@example.com"
    ).all()
    user = await client.provisioning.users.get("1234", 869048)

    assert dict(server.requests[0].query) == {
        "first_name": "John",
        "last_name": "Smith",
        "login_name": "jsmith",
        "email": "j@example.com",
    }
    assert server.requests[1].path == f"{BASE}/1234/users/869048"
    assert users == [EXPECTED_USER]
    assert user == EXPECTED_USER


async def test_hal_paging_keeps_filters_and_order_under_concurrency(connect: Connect) -> None:
    pages = 9

    async def page(request: web.Request) -> dict[str, Any]:
        number = int(request.query.get("page", "1"))
        await asyncio.sleep(0.002 * (pages - number))  # later pages answer first
        users = [{**USER, "id": number * 10 + i, "first_name": "John"} for i in range(3)]
        return hal(users, page=number, page_size=3, total_pages=pages, total_items=3 * pages)

    server, client = await connect({f"{BASE}/self/users": page})

    users = await client.provisioning.users.list(
        page_size=3, first_name="John", concurrency=3
    ).all()

    assert [u.id for u in users] == [n * 10 + i for n in range(1, pages + 1) for i in range(3)]
    assert len(server.requests) == pages
    for request in server.requests:
        assert request.query["page_size"] == "3"
        assert request.query["first_name"] == "John"
    assert sorted(r.query.get("page", "1") for r in server.requests) == sorted(
        str(n) for n in range(1, pages + 1)
    )
    assert 1 < server.max_in_flight <= 3


async def test_max_items_stops_fetching(connect: Connect) -> None:
    async def page(request: web.Request) -> dict[str, Any]:
        number = int(request.query.get("page", "1"))
        return hal([{**LOCATION, "id": number}], page=number, total_pages=50)

    server, client = await connect({f"{BASE}/self/locations": page})

    locations = await client.provisioning.locations.list(max_items=2, concurrency=1).all()

    assert [loc.id for loc in locations] == [1, 2]
    assert len(server.requests) < 50


async def test_decoding_tolerates_what_servers_send(connect: Connect) -> None:
    sloppy = {
        "id": "571700",  # a number sent as a string
        "name": 42,  # a string sent as a number
        "status": "SUSPENDED",
        "address": {"country": "US", "brand_new_field": {"x": 1}},
        "unexpected": [1, 2, 3],
    }
    _, client = await connect({f"{BASE}/self": hal(sloppy)})

    account = await client.provisioning.accounts.get()

    assert account.id == 571700
    assert account.name == "42"
    assert account.address == Address(country="US")


async def test_extension_booleans_as_strings_and_missing_lists(connect: Connect) -> None:
    _, client = await connect(
        {f"{BASE}/self/extensions": hal({"extension_number": 101, "dnd_enabled": "true"})}
    )

    (extension,) = await client.provisioning.extensions.list().all()

    assert extension == Extension(extension_number="101", dnd_enabled=True)


async def test_not_found_error_carries_the_servers_message(connect: Connect) -> None:
    missing = web.json_response({"msg": "Extension not found", "status": 404}, status=404)
    _, client = await connect({f"{BASE}/self/extensions/999": missing})

    with pytest.raises(errors.NotFoundError) as caught:
        await client.provisioning.extensions.get_by_number("self", "999")

    assert caught.value.status == 404
    assert caught.value.message == "Extension not found"


async def test_invalid_parameters_are_reported(connect: Connect) -> None:
    body = {
        "status": 400,
        "title": "Invalid parameters given",
        "instance": "trk-1",
        "invalid_parameters": [{"name": "location_id", "reason": "must be a number"}],
    }
    _, client = await connect({f"{BASE}/self/extensions": web.json_response(body, status=400)})

    with pytest.raises(errors.InvalidRequestError) as caught:
        await client.provisioning.extensions.list(location_id=1).all()

    assert caught.value.invalid_parameters == [
        {"name": "location_id", "reason": "must be a number"}
    ]
    assert "location_id (must be a number)" in str(caught.value)


@pytest.mark.parametrize(
    ("call", "parameter"),
    [
        (lambda p: p.accounts.get("../admin"), "account_id"),
        (lambda p: p.accounts.get(""), "account_id"),
        (lambda p: p.locations.get("self", "1/2"), "location_id"),
        (lambda p: p.extensions.get("self", ".."), "external_id"),
        (lambda p: p.extensions.get_by_number("self", "78a"), "extension_number"),
        (lambda p: p.users.get("self", None), "user_id"),
        (lambda p: p.extensions.list(email="not-an-email").all(), "email"),
        (lambda p: p.extensions.list(page_size=0).all(), "page_size"),
        (lambda p: p.extensions.list(location_id="hq").all(), "location_id"),
        (lambda p: p.extensions.list(phone_number="call me").all(), "phone_number"),
        (lambda p: p.users.list(first_name=" ").all(), "first_name"),
        (lambda p: p.users.list(concurrency=0).all(), "concurrency"),
    ],
)
async def test_bad_input_is_refused_before_sending(
    connect: Connect, call: Callable[[Any], Awaitable[Any]], parameter: str
) -> None:
    server, client = await connect({})

    with pytest.raises(errors.ValidationError) as caught:
        await call(client.provisioning)

    assert caught.value.parameter == parameter
    assert server.requests == []


def test_list_validates_when_called_not_when_iterated() -> None:
    client = Vonage(vbc_auth=BearerToken("t"), vbc_url="http://127.0.0.1:9")

    with pytest.raises(errors.ValidationError):
        client.provisioning.users.list(email="nope")
