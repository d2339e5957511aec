"""Telephony v3 (seed 002, specs/telephony.yml) against a loopback server answering with the
seed's example bodies: calls, legs and their control bodies, devices."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timezone
from typing import Any

import pytest
from aiohttp import web

from vonage_async import BearerToken, Vonage, errors
from vonage_async.telephony import (
    Call,
    CallState,
    CallStatus,
    CallType,
    CallUpdate,
    Device,
    Direction,
    Endpoint,
    Leg,
    LegState,
    LegUpdate,
    ProvisionedTime,
    RecordingService,
    RegistrationTime,
)

BASE = "/t/vbc.prod/telephony/v3"
CALLS = f"{BASE}/cc/accounts/1234/calls"
CALL_ID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
LEG_ID = "0d0a16ab-a508-4d58-bf24-5dc3cb248f3e"
LEG_URL = f"{CALLS}/{CALL_ID}/legs/{LEG_ID}"
DEVICES = f"{BASE}/registration/accounts/1234/devices"
WHEN = datetime.fromtimestamp(1595959736, tz=timezone.utc)

LEG = {
    "account_id": 1234,
    "call_id": CALL_ID,
    "direction": "inbound",
    "end_time": 1595959736,
    "from": 1231112222,
    "leg_id": CALL_ID,
    "start_time": 1595959736,
    "status": "busy",
    "to": 1234567890,
}
CALL = {
    "account_id": 1234,
    "call_id": CALL_ID,
    "direction": "inbound",
    "end_time": 1595959736,
    "from": 1235551111,
    "legs": [LEG],
    "start_time": 1595959736,
    "status": "busy",
    "to": 1234567890,
}
CALLS_PAGE = {
    "calls": [CALL],
    "current_page": 0,
    "first_page_uri": "/cc/accounts/1234/calls?page_size=0&order=desc",
    "next_page": 1,
    "next_page_uri": "/cc/accounts/1234/calls?page_size=0&order=desc",
    "order": "desc",
    "page_size": 1,
    "pages": 1,
    "previous_page_uri": "/cc/accounts/1234/calls?page_size=0&order=desc",
}
DEVICE = {
    "account_id": 1234,
    "device_ip": "150.24.83.17",
    "last_request": 1595937421,
    "last_success": 1595937421,
    "mac_address": "79-5C-7D-28-1B-B3",
    "registration": {"last_success": 1595937421},
    "provisioned": {"last_success": 1595937421, "last_request": 1595937421},
}
MODIFY_CALL = {
    "account_id": 1234,
    "call_id": CALL_ID,
    "call_state": "string",
    "destination": "string",
}
MODIFY_LEG = {**MODIFY_CALL, "call_id": LEG_ID, "leg_id": CALL_ID}

EXPECTED_LEG = Leg(
    account_id="1234",
    call_id=CALL_ID,
    leg_id=CALL_ID,
    direction=Direction.INBOUND,
    from_="1231112222",
    to="1234567890",
    status=CallStatus.BUSY,
    start_time=WHEN,
    end_time=WHEN,
)
EXPECTED_CALL = Call(
    account_id="1234",
    call_id=CALL_ID,
    direction=Direction.INBOUND,
    from_="1235551111",
    to="1234567890",
    status=CallStatus.BUSY,
    start_time=WHEN,
    end_time=WHEN,
    legs=[EXPECTED_LEG],
)

Reply = Any  # a JSON body, a web.Response, or an async function of the request giving either
Connect = Callable[[dict[tuple[str, str], Reply]], Awaitable[tuple[Any, Vonage]]]


@pytest.fixture
async def connect(loopback: Any) -> AsyncIterator[Connect]:
    """``server, client = await connect({(method, path): reply})``."""
    clients: list[Vonage] = []

    async def start(routes: dict[tuple[str, str], Reply]) -> tuple[Any, Vonage]:
        async def handle(request: web.Request) -> web.StreamResponse:
            reply = routes.get((request.method, request.path))
            if reply is None:
                return web.json_response(
                    {"code": 404, "message": "No matching resource found"}, status=404
                )
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


async def test_list_active_calls_with_filters(connect: Connect) -> None:
    server, client = await connect({("GET", CALLS): CALLS_PAGE})

    calls = await client.telephony.calls.list(
        "1234",
        extension="101",
        page_size=50,
        order="asc",
        start_time=datetime(2020, 7, 28, 17, 2, 50, tzinfo=timezone.utc),
        end_time=1595959736,
    ).all()

    request = only(server)
    assert request.method == "GET"
    assert dict(request.query) == {
        "extension": "101",
        "page_size": "50",
        "order": "asc",
        "start_time": "1595955770",
        "end_time": "1595959736",
    }
    # account_id and from/to come as numbers, times as epoch seconds: all decode.
    assert calls == [EXPECTED_CALL]


async def test_calls_of_my_account_by_default(connect: Connect) -> None:
    server, client = await connect({("GET", f"{BASE}/cc/accounts/self/calls"): CALLS_PAGE})

    assert await client.telephony.calls.list().first() == EXPECTED_CALL
    assert only(server).query == {}


async def test_telephony_paging_follows_next_page_uri(connect: Connect) -> None:
    # No "pages" count: the pager walks next_page_uri, which keeps the filters.
    async def page(request: web.Request) -> dict[str, Any]:
        number = int(request.query.get("page", "1"))
        last = number == 3
        return {
            "calls": [{**CALL, "call_id": f"call-{number}"}],
            "current_page": str(number),
            "next_page": None if last else str(number + 1),
            "next_page_uri": None
            if last
            else f"/cc/accounts/1234/calls?page={number + 1}&page_size=1&extension=101",
        }

    server, client = await connect({("GET", CALLS): page})

    calls = await client.telephony.calls.list("1234", extension="101", page_size=1).all()

    assert [c.call_id for c in calls] == ["call-1", "call-2", "call-3"]
    assert [r.query.get("page") for r in server.requests] == [None, "2", "3"]
    assert all(r.query["extension"] == "101" for r in server.requests)


async def test_telephony_paging_by_count_is_concurrent_and_ordered(connect: Connect) -> None:
    pages = 6

    async def page(request: web.Request) -> dict[str, Any]:
        number = int(request.query.get("page", "1"))
        await asyncio.sleep(0.002 * (pages - number))  # later pages answer first
        return {
            "devices": [{**DEVICE, "mac_address": f"00-00-00-00-00-0{number}"}],
            "current_page": number,
            "pages": str(pages),
            "next_page": number + 1,
            # The link shows how this server addresses a page: by its ``page`` parameter.
            "next_page_uri": f"/registration/accounts/1234/devices?order=desc&page={number + 1}",
        }

    server, client = await connect({("GET", DEVICES): page})

    devices = await client.telephony.devices.list("1234", order="desc", concurrency=3).all()

    assert [d.mac_address for d in devices] == [f"00-00-00-00-00-0{n}" for n in range(1, pages + 1)]
    assert all(r.query["order"] == "desc" for r in server.requests)
    assert 1 < server.max_in_flight <= 3


async def test_create_a_click_to_dial_call(connect: Connect) -> None:
    created = web.Response(text="e2610a31-88be-4f12-90c0-ee98dbfaf80b", content_type="text/plain")
    server, client = await connect({("POST", CALLS): created})

    call_id = await client.telephony.calls.create(
        "1234",
        from_=Endpoint.extension("1234"),
        to=Endpoint.pstn("+1234567890"),
        type=CallType.CLICK2DIAL,
    )

    request = only(server)
    assert request.method == "POST"
    assert request.json() == {
        "from": {"destination": "1234", "type": "extension"},
        "to": {"destination": "1234567890", "type": "pstn"},
        "type": "click2dial",
    }
    assert call_id == "e2610a31-88be-4f12-90c0-ee98dbfaf80b"


async def test_create_accepts_plain_dicts_like_the_seed(connect: Connect) -> None:
    server, client = await connect({("POST", f"{BASE}/cc/accounts/self/calls"): "abc-123"})

    call_id = await client.telephony.calls.create(
        from_={"destination": 1234, "type": "extension"},
        to={"destination": "*97", "type": "feature_code"},
    )

    assert only(server).json() == {
        "from": {"destination": "1234", "type": "extension"},
        "to": {"destination": "*97", "type": "feature_code"},
    }
    assert call_id == "abc-123"


async def test_get_one_call(connect: Connect) -> None:
    server, client = await connect({("GET", f"{CALLS}/{CALL_ID}"): CALL})

    assert await client.telephony.calls.get("1234", CALL_ID) == EXPECTED_CALL
    assert only(server).method == "GET"


async def test_park_a_call(connect: Connect) -> None:
    server, client = await connect({("PUT", f"{CALLS}/{CALL_ID}"): MODIFY_CALL})

    result = await client.telephony.calls.update(
        "1234", CALL_ID, from_=Endpoint.device("VH16370927"), state=CallState.PARKED
    )

    assert only(server).json() == {
        "from": {"destination": "VH16370927", "type": "device"},
        "state": "parked",
    }
    assert result == CallUpdate(
        account_id="1234", call_id=CALL_ID, call_state="string", destination="string"
    )


async def test_transfer_and_answer_a_call(connect: Connect) -> None:
    server, client = await connect({("PUT", f"{CALLS}/{CALL_ID}"): MODIFY_CALL})

    await client.telephony.calls.update(
        "1234", CALL_ID, from_=Endpoint.pstn("1234567890"), to=Endpoint.extension("102")
    )
    await client.telephony.calls.update(
        "1234", CALL_ID, state="active", to={"destination": "VH1", "type": "device"}
    )

    assert [r.json() for r in server.requests] == [
        {
            "from": {"destination": "1234567890", "type": "pstn"},
            "to": {"destination": "102", "type": "extension"},
        },
        {"state": "active", "to": {"destination": "VH1", "type": "device"}},
    ]


async def test_hang_up_a_call(connect: Connect) -> None:
    server, client = await connect({("DELETE", f"{CALLS}/{CALL_ID}"): MODIFY_CALL})

    result = await client.telephony.calls.delete("1234", CALL_ID)

    assert only(server).method == "DELETE"
    assert result.call_id == CALL_ID


async def test_list_legs_of_a_call(connect: Connect) -> None:
    # The spec documents the legs list as a bare JSON array.
    server, client = await connect({("GET", f"{CALLS}/{CALL_ID}/legs"): [LEG, LEG]})

    legs = await client.telephony.legs.list("1234", CALL_ID).all()

    assert only(server).path == f"{CALLS}/{CALL_ID}/legs"
    assert legs == [EXPECTED_LEG, EXPECTED_LEG]


async def test_list_legs_also_reads_a_paged_object(connect: Connect) -> None:
    _, client = await connect({("GET", f"{CALLS}/{CALL_ID}/legs"): {"legs": [LEG]}})

    assert await client.telephony.legs.list("1234", CALL_ID).all() == [EXPECTED_LEG]


async def test_get_one_leg(connect: Connect) -> None:
    _, client = await connect({("GET", LEG_URL): LEG})

    assert await client.telephony.legs.get("1234", CALL_ID, LEG_ID) == EXPECTED_LEG


LEG_ACTIONS: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = [
    ("hold", (), {"state": "held"}),
    ("unhold", (), {"state": "active"}),
    ("send_dtmf", ("*123#",), {"dtmf": "*123#"}),
    ("send_dtmf", ("1,,2p3",), {"dtmf": "1,,2p3"}),
    (
        "play",
        ("https://example.com/recorded_message.wav",),
        {"stream": True, "stream_url": "https://example.com/recorded_message.wav"},
    ),
    ("stop_sound", (), {"stream": False}),
    (
        "blind_transfer",
        (Endpoint.extension("102"),),
        {"state": "active", "to": {"destination": "102", "type": "extension"}},
    ),
    (
        "blind_transfer",
        ({"destination": 14155550100, "type": "pstn"},),
        {"state": "active", "to": {"destination": "14155550100", "type": "pstn"}},
    ),
    (  # telephony.yml's "ATT XFER" tab
        "attended_transfer",
        (CALL_ID,),
        {"state": "active", "to": {"destination": CALL_ID, "type": "leg"}},
    ),
    ("start_recording", (RecordingService.CCR,), {"recording": "start", "service": "ccr"}),
    ("stop_recording", ("ocr",), {"recording": "stop", "service": "ocr"}),
]


@pytest.mark.parametrize(
    ("action", "args", "body"),
    LEG_ACTIONS,
    ids=[f"{a}-{i}" for i, (a, _, _) in enumerate(LEG_ACTIONS)],
)
async def test_each_leg_action_sends_its_documented_body(
    connect: Connect, action: str, args: tuple[Any, ...], body: dict[str, Any]
) -> None:
    server, client = await connect({("PUT", LEG_URL): MODIFY_LEG})

    result = await getattr(client.telephony.legs, action)("1234", CALL_ID, LEG_ID, *args)

    request = only(server)
    assert (request.method, request.path) == ("PUT", LEG_URL)
    assert request.json() == body
    assert result == LegUpdate(
        account_id="1234",
        call_id=LEG_ID,
        leg_id=CALL_ID,
        call_state="string",
        destination="string",
    )


async def test_update_a_leg_directly(connect: Connect) -> None:
    server, client = await connect({("PUT", LEG_URL): MODIFY_LEG})

    await client.telephony.legs.update("1234", CALL_ID, LEG_ID, state="held")
    await client.telephony.legs.update("1234", CALL_ID, LEG_ID, state=LegState.ACTIVE)

    assert [r.json() for r in server.requests] == [{"state": "held"}, {"state": "active"}]


async def test_delete_a_leg_answers_204(connect: Connect) -> None:
    server, client = await connect({("DELETE", LEG_URL): web.Response(status=204)})

    await client.telephony.legs.delete("1234", CALL_ID, LEG_ID)  # an empty 204 is no error
    assert only(server).method == "DELETE"


async def test_a_refused_leg_change_names_what_the_server_disliked(connect: Connect) -> None:
    refused = web.json_response(
        {"code": "400", "message": "Invalid request parameters: stream_url unreachable"},
        status=400,
    )
    _, client = await connect({("PUT", LEG_URL): refused})

    with pytest.raises(errors.InvalidRequestError) as caught:
        await client.telephony.legs.play("1234", CALL_ID, LEG_ID, "https://example.com/a.wav")

    assert caught.value.status == 400
    assert "stream_url unreachable" in caught.value.message


async def test_device_registrations(connect: Connect) -> None:
    page = {
        "current_page": 1,
        "devices": [DEVICE],
        "first_page_uri": "/registration/accounts/1234/devices?page_size=100&order=desc",
        "next_page": "string",
        "next_page_uri": "/registration/accounts/1234/devices?page_size=100&order=desc",
        "order": "desc",
        "page_size": 10,
        "pages": 1,
    }
    server, client = await connect(
        {("GET", DEVICES): page, ("GET", f"{DEVICES}/38-99-62-93-E2-A9"): DEVICE}
    )

    listed = await client.telephony.devices.list(
        "1234", page_size=10, start_time=1595955770, end_time=1595959736
    ).all()
    one = await client.telephony.devices.get("1234", "38-99-62-93-E2-A9")

    assert dict(server.requests[0].query) == {
        "page_size": "10",
        "start_time": "1595955770",
        "end_time": "1595959736",
    }
    seen = datetime.fromtimestamp(1595937421, tz=timezone.utc)
    assert listed == [one]
    assert one == Device(
        account_id="1234",
        mac_address="79-5C-7D-28-1B-B3",
        device_ip="150.24.83.17",
        last_request="1595937421",
        last_success="1595937421",
        registration=RegistrationTime(last_success="1595937421"),
        provisioned=ProvisionedTime(last_success="1595937421", last_request="1595937421"),
    )
    # The file types these times as strings; their examples are epoch seconds.
    assert one.last_request_at == one.last_success_at == seen
    assert one.registration is not None and one.registration.last_success_at == seen
    assert one.provisioned is not None and one.provisioned.last_request_at == seen


async def test_device_times_that_are_not_times_still_decode(connect: Connect) -> None:
    odd = dict(DEVICE, last_request="eu", last_success="")
    _, client = await connect({("GET", f"{DEVICES}/38-99-62-93-E2-A9"): odd})
    device = await client.telephony.devices.get("1234", "38-99-62-93-E2-A9")
    assert device.last_request == "eu" and device.last_request_at is None
    assert device.last_success is None and device.last_success_at is None


async def test_unknown_values_and_missing_fields_decode(connect: Connect) -> None:
    odd = {"call_id": "c1", "status": "Parked-Elsewhere", "direction": "INBOUND", "extra": 1}
    _, client = await connect({("GET", f"{CALLS}/c1"): odd})

    call = await client.telephony.calls.get("1234", "c1")

    assert call.status is not None and not call.status.known
    assert call.status.value == "Parked-Elsewhere"
    assert call.direction is Direction.INBOUND
    assert call.legs == [] and call.start_time is None


@pytest.mark.parametrize(
    ("call", "parameter"),
    [
        (lambda t: t.calls.list(order="up").all(), "order"),
        (lambda t: t.calls.list(start_time="yesterday").all(), "start_time"),
        (lambda t: t.calls.list(start_time=20, end_time=10).all(), "end_time"),
        (lambda t: t.calls.list(extension="1-1").all(), "extension"),
        (lambda t: t.devices.list(page_size=0).all(), "page_size"),
        (lambda t: t.calls.get("1234", "../../admin"), "call_id"),
        (lambda t: t.calls.get("", CALL_ID), "account_id"),
        (
            lambda t: t.calls.create(from_=Endpoint.pstn("14155550100"), to=Endpoint.pstn("1")),
            "number",
        ),
        (
            lambda t: t.calls.create(
                from_={"destination": "14155550100", "type": "pstn"}, to=Endpoint.extension("10")
            ),
            "from_",
        ),
        (
            lambda t: t.calls.create(
                from_=Endpoint.extension("10"), to={"destination": "x", "type": "fax"}
            ),
            "to",
        ),
        (
            lambda t: t.calls.create(
                from_=Endpoint.extension("10"), to=Endpoint.extension("11"), type="robocall"
            ),
            "type",
        ),
        (lambda t: t.calls.update("1234", CALL_ID, state="held"), "state"),
        (lambda t: t.calls.update("1234", CALL_ID), "state"),
        (
            lambda t: t.calls.update(
                "1234", CALL_ID, to={"destination": "*9", "type": "feature_code"}
            ),
            "to",
        ),
        (lambda t: t.legs.update("1234", CALL_ID, LEG_ID, state="parked"), "state"),
        (lambda t: t.legs.update("1234", CALL_ID, LEG_ID), "state"),
        (lambda t: t.legs.send_dtmf("1234", CALL_ID, LEG_ID, "12E"), "digits"),
        (lambda t: t.legs.send_dtmf("1234", CALL_ID, LEG_ID, ""), "digits"),
        (lambda t: t.legs.play("1234", CALL_ID, LEG_ID, "ftp://example.com/a.wav"), "stream_url"),
        (lambda t: t.legs.start_recording("1234", CALL_ID, LEG_ID, "everything"), "service"),
        (lambda t: t.legs.attended_transfer("1234", CALL_ID, LEG_ID, "a/b"), "to_leg_id"),
        (
            lambda t: t.legs.blind_transfer(
                "1234", CALL_ID, LEG_ID, {"destination": CALL_ID, "type": "leg"}
            ),
            "to",
        ),
        (lambda t: t.legs.get("1234", CALL_ID, ".."), "leg_id"),
        (lambda t: t.devices.get("1234", "a/b"), "device_id"),
    ],
)
async def test_bad_input_is_refused_before_sending(
    connect: Connect, call: Callable[[Any], Awaitable[Any]], parameter: str
) -> None:
    server, client = await connect({})

    with pytest.raises(errors.ValidationError) as caught:
        await call(client.telephony)

    assert caught.value.parameter == parameter
    assert server.requests == []


def test_endpoint_helpers() -> None:
    assert Endpoint.extension(101) == Endpoint("101", "extension")
    assert Endpoint.pstn("+14155550100").destination == "14155550100"
    assert Endpoint.feature_code("*97").type == "feature_code"
    with pytest.raises(errors.ValidationError):
        Endpoint.feature_code("*9x")
    with pytest.raises(errors.ValidationError):
        Endpoint.device("")


# -- as telephony.yml writes it: paging by links, 409 conflicts ----------------------------

DOCUMENTED_QUERY = frozenset({"extension", "page_size", "order", "start_time", "end_time"})


class LinkPagingServer:
    """GET calls and devices as telephony.yml (and seed 002) document them, nothing more.

    Any ``page`` parameter is ignored (the files document none); the next page is reached
    through ``next_page_uri`` only, which carries an opaque token. A query parameter that
    neither the file lists nor one of this server's links carried is refused with 400.
    """

    def __init__(self, total: int, page_size: int = 2) -> None:
        self.total = total
        self.page_size = page_size
        self.tokens: dict[str, int] = {}  # opaque token -> page index
        self.refused: list[str] = []

    def link(self, path: str, index: int) -> str:
        token = f"t{len(self.tokens)}x{index * 7919:x}"
        self.tokens[token] = index
        return f"{path}?page_size={self.page_size}&cursor_token={token}"

    async def handle(self, request: web.Request) -> web.Response:
        token = request.query.get("cursor_token")
        allowed = DOCUMENTED_QUERY | ({"cursor_token"} if token in self.tokens else set())
        extra = sorted(set(request.query) - allowed)
        if extra:
            self.refused += extra
            return web.json_response({"code": 400, "message": f"unknown {extra}"}, status=400)
        index = self.tokens.get(token or "", 0)
        size = int(request.query.get("page_size", str(self.page_size)))
        pages = max(1, -(-self.total // size))
        key = "devices" if "devices" in request.path else "calls"
        path = request.path.removeprefix(BASE)
        first = index * size
        rows = [
            {"call_id": f"c{n}", "mac_address": f"d{n}", "status": "answered"}
            for n in range(first, min(first + size, self.total))
        ]
        body: dict[str, Any] = {
            key: rows,
            "current_page": str(index),
            "pages": str(pages),
            "page_size": str(size),
            "first_page_uri": self.link(path, 0),
        }
        if index + 1 < pages:  # left out on the last page, as the file types it a string
            body["next_page"] = str(index + 1)
            body["next_page_uri"] = self.link(path, index + 1)
        return web.json_response(body)


@pytest.mark.parametrize("what", ["calls", "devices"])
async def test_lists_follow_next_page_uri_from_a_server_that_ignores_page(
    connect: Connect, what: str
) -> None:
    spec = LinkPagingServer(total=7)
    path = CALLS if what == "calls" else DEVICES
    server, client = await connect({("GET", path): spec.handle})

    if what == "calls":
        found = [c.call_id for c in await client.telephony.calls.list("1234", page_size=2).all()]
    else:
        found = [d.mac_address for d in await client.telephony.devices.list("1234").all()]

    prefix = "c" if what == "calls" else "d"
    assert found == [f"{prefix}{n}" for n in range(7)]
    assert spec.refused == []
    assert len(server.requests) == 4
    assert all("page" not in r.query for r in server.requests)


async def test_watch_walks_the_active_calls_by_their_links(connect: Connect) -> None:
    from vonage_async import Snapshot

    spec = LinkPagingServer(total=5)
    _, client = await connect({("GET", CALLS): spec.handle})
    async with client.telephony.calls.watch("1234", page_size=2) as events:
        async for event in events:
            assert isinstance(event, Snapshot)
            assert sorted(c.call.call_id for c in event.calls) == [f"c{n}" for n in range(5)]
            break
    assert spec.refused == []


async def test_a_scheme_relative_next_page_uri_is_refused(connect: Connect) -> None:
    body = {"calls": [{"call_id": "c0"}], "next_page": "1", "current_page": "0"}
    body["next_page_uri"] = "//elsewhere.example/cc/accounts/1234/calls?page_size=1"
    server, client = await connect({("GET", CALLS): body})
    with pytest.raises(errors.UnsafeURLError):
        await client.telephony.calls.list("1234").all()
    assert len(server.requests) == 1


@pytest.mark.parametrize("operation", ["legs.hold", "legs.delete", "calls.update", "calls.delete"])
async def test_a_409_from_a_call_or_leg_is_a_call_state_conflict(
    connect: Connect, operation: str
) -> None:
    async def conflict(request: web.Request) -> web.Response:
        return web.json_response(
            {"code": 409, "message": "conflict while changing state of a leg"}, status=409
        )

    routes = {(m, p): conflict for m in ("PUT", "DELETE") for p in (LEG_URL, f"{CALLS}/{CALL_ID}")}
    _, client = await connect(routes)
    t = client.telephony
    with pytest.raises(errors.ConflictError) as caught:
        if operation == "legs.hold":
            await t.legs.hold("1234", CALL_ID, LEG_ID)
        elif operation == "legs.delete":
            await t.legs.delete("1234", CALL_ID, LEG_ID)
        elif operation == "calls.update":
            await t.calls.update("1234", CALL_ID, state="parked", from_=Endpoint.extension("101"))
        else:
            await t.calls.delete("1234", CALL_ID)

    assert isinstance(caught.value, errors.CallStateConflictError)
    assert not isinstance(caught.value, errors.SessionConflictError)
    assert caught.value.status == 409
    assert caught.value.message == "conflict while changing state of a leg"


def test_both_conflicts_share_one_parent() -> None:
    import vonage_async

    assert issubclass(errors.SessionConflictError, errors.ConflictError)
    assert issubclass(errors.CallStateConflictError, errors.ConflictError)
    assert vonage_async.ConflictError is errors.ConflictError
    assert vonage_async.CallStateConflictError is errors.CallStateConflictError
