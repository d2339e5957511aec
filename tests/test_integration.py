"""The Integration Platform's 20 operations against a loopback server written from
specs/integration-platform.yml (paths, methods, parameters, bodies and schemas as the file
gives them), then against the emulator."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from typing import Any

import pytest
from aiohttp import web
from hypothesis import given, settings, strategies as st

from vonage_async import BearerToken, Vonage, errors
from vonage_async.emulator import Emulator
from vonage_async.integration import (
    Account,
    Call,
    Direction,
    Event,
    EventState,
    MetadataPolicy,
    User,
    Webhook,
)

BASE = "/t/vbc.prod/vis/v1"

# The file's schemas, with its examples where it gives them.
CALL = {
    "id": 9001,
    "externalId": "ext-1",
    "type": "CALL",
    "accountId": 257073,
    "userId": 522078,
    "uciId": 1,
    "direction": "INBOUND",
    "callerId": "Robert Smith",
    "phoneNumber": "14155550100",
    "duration": 0,
    "state": "RINGING",
    "startTime": "2020-10-01T16:10:06.000+0000",
}
WEBHOOK = {
    "id": "184094",
    "userId": "522078",
    "accountId": "257073",
    "url": "https://www.example.com",
    "status": "ACTIVE",
    "events": ["CALL"],
    "signingAlgo": "HMAC_SHA256",
    "metadataPolicy": "NONE",
    "expireAt": "2019-01-01T00:00:00.000Z",
    "createdAt": "2019-01-01T00:00:00.000Z",
    "renewedAt": "2019-01-01T00:00:00.000Z",
    "purgeAt": "2019-01-01T00:00:00.000Z",
    "signingKey": "string",
    "statistics": {"totalAttempts": 10, "totalSuccesses": 10, "totalFailures": 10, "failed": False},
}
USER = {
    "id": 522078,
    "accountId": 257073,
    "acountLabel": "Vonage",
    "firstName": "Robert",
    "lastName": "Smith",
    "emailAddress": "john.smith@example.com",
    "contactNumber": "14155550100",
    "status": "ACTIVE",
    "ucis": [{"id": 1, "ucpLabel": "VBC", "health": {"status": "OK"}, "type": "USER_UCI"}],
    "roles": [{"code": "AU", "name": "Account User"}],
}
ACCOUNT = {"id": 257073, "name": "Vonage", "org": "Vonage", "ucis": [], "status": "ACTIVE"}


bodies: list[Any] = []


def spec_app(seen: list[web.Request], events: int = 45) -> web.Application:
    """Every operation of the file; bearer required; listings honour offset/size."""
    log = [{**CALL, "id": 100 + i, "state": "ANSWERED"} for i in range(events)]

    def page(request: web.Request, rows: list[Any]) -> web.Response:
        size = int(request.query.get("size", "20"))
        offset = int(request.query.get("offset", "0"))
        return web.json_response(rows[offset * size : (offset + 1) * size])

    async def answer(request: web.Request) -> web.StreamResponse:
        seen.append(request)
        if not request.headers.get("Authorization", "").startswith("Bearer "):
            return web.Response(status=401)
        op = request.match_info.route.name
        bodies.append(await request.json() if request.can_read_body else None)
        if op == "getUser":
            return web.json_response(USER)
        if op == "getAccount":
            return web.json_response(ACCOUNT)
        if op == "createCall":
            return web.json_response([CALL], status=201)
        if op == "listCalls":
            return page(request, [CALL] * 3)
        if op in ("getCallsCount", "getEventsCount"):
            return web.json_response({"count": 7})
        if op in ("getRoles", "destroyCall"):
            return web.json_response([CALL])
        if op in ("callAnswer", "callHold", "callUnold", "callVMTransfer", "callTransfer"):
            return web.json_response({**CALL, "state": "ACTIVE"})
        if op == "listEvents":
            return page(request, log)
        if op == "getEvent":
            return web.json_response([log[0]])
        if op == "createWebhook":
            return web.json_response(WEBHOOK, status=201)
        if op == "listWebhooks":
            return web.json_response([WEBHOOK])
        if op in ("viewWebhook", "renewWebhook"):
            return web.json_response(WEBHOOK)
        if op == "destroyWebhook":
            return web.Response(status=204)
        if op == "failing":
            return web.json_response(
                {"errorCode": "VALIDATION", "errorMessage": "bad number", "errors": []},
                status=422,
            )
        raise AssertionError(op)

    app = web.Application()
    r = app.router
    for method, path, name in [
        ("GET", "/self", "getUser"),
        ("GET", "/self/account", "getAccount"),
        ("POST", "/self/calls", "createCall"),
        ("GET", "/self/calls", "listCalls"),
        ("GET", "/self/calls/count", "getCallsCount"),
        ("GET", "/self/calls/{id}", "getRoles"),
        ("DELETE", "/self/calls/{id}", "destroyCall"),
        ("PUT", "/self/calls/{id}/answer", "callAnswer"),
        ("PUT", "/self/calls/{id}/hold", "callHold"),
        ("DELETE", "/self/calls/{id}/hold", "callUnold"),
        ("PUT", "/self/calls/{id}/vmtransfer", "callVMTransfer"),
        ("POST", "/self/calls/{id}/transfer", "callTransfer"),
        ("GET", "/self/events", "listEvents"),
        ("GET", "/self/events/count", "getEventsCount"),
        ("GET", "/self/events/{id}", "getEvent"),
        ("POST", "/self/webhooks", "createWebhook"),
        ("GET", "/self/webhooks", "listWebhooks"),
        ("GET", "/self/webhooks/{id}", "viewWebhook"),
        ("DELETE", "/self/webhooks/{id}", "destroyWebhook"),
        ("PUT", "/self/webhooks/{id}/renew", "renewWebhook"),
        ("PUT", "/self/calls/{id}/failing", "failing"),
    ]:
        r.add_route(method, BASE + path, answer, name=name)
    return app


@pytest.fixture
async def spec() -> AsyncIterator[tuple[Vonage, list[web.Request]]]:
    seen: list[web.Request] = []
    runner = web.AppRunner(spec_app(seen), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    client = Vonage(vbc_auth=BearerToken("t0k"), vbc_url=f"http://{host}:{port}/t/vbc.prod")
    yield client, seen
    await client.aclose()
    await runner.cleanup()


def _last(seen: list[web.Request]) -> tuple[str, str, dict[str, str], Any]:
    r = seen[-1]
    return r.method, r.match_info.route.name or "", dict(r.query), bodies[-1]


async def test_every_operation_as_the_file_describes(
    spec: tuple[Vonage, list[web.Request]],
) -> None:
    client, seen = spec
    vis = client.integration
    when = datetime(2020, 10, 1, 16, 10, 6, tzinfo=timezone.utc)

    me = await vis.me()
    assert isinstance(me, User) and me.id == "522078" and me.account_label == "Vonage"
    assert me.ucis[0].health is not None and me.roles[0].code == "AU"
    assert _last(seen)[1] == "getUser"
    assert seen[-1].headers["Authorization"] == "Bearer t0k"
    account = await vis.account()
    assert isinstance(account, Account) and account.id == "257073"

    placed = await vis.calls.place("+14155550100")
    assert isinstance(placed, Call) and placed.state is EventState.RINGING
    assert placed.direction is Direction.INBOUND and placed.start_time == when
    assert _last(seen)[1:] == ("createCall", {}, {"phoneNumber": "14155550100"})

    calls = await vis.calls.list(direction=["INBOUND", Direction.OUTBOUND], order="ASC").all()
    assert len(calls) == 3
    assert _last(seen)[2] == {
        "direction": "INBOUND,OUTBOUND",
        "order": "ASC",
        "offset": "0",
        "size": "20",
    }
    assert await vis.calls.count(from_date=when, states=["ACTIVE", "ringing"]) == 7
    assert _last(seen)[2] == {"fromDate": "1601568606000", "states": "ACTIVE,RINGING"}

    for method, op, name, http in [
        (vis.calls.get, "getRoles", "GET", "GET"),
        (vis.calls.end, "destroyCall", "DELETE", "DELETE"),
        (vis.calls.answer, "callAnswer", "PUT", "PUT"),
        (vis.calls.hold, "callHold", "PUT", "PUT"),
        (vis.calls.unhold, "callUnold", "DELETE", "DELETE"),
        (vis.calls.to_voicemail, "callVMTransfer", "PUT", "PUT"),
    ]:
        result = await method(9001)
        assert isinstance(result, Call) and result.id == "9001"
        assert _last(seen)[:2] == (http, op), name
        assert seen[-1].match_info["id"] == "9001"
    moved = await vis.calls.transfer("9001", "14155550111")
    assert moved.state is EventState.ACTIVE
    assert _last(seen)[1:] == ("callTransfer", {}, {"phoneNumber": "14155550111"})

    # 45 events, 20 a page: three requests, offsets 0, 1, 2 (the last page short).
    before = len(seen)
    events = await vis.events.list(
        types="CALL", to_date=1601568606, states=[EventState.ANSWERED], sort="startTime"
    ).all()
    assert [e.id for e in events] == [str(100 + i) for i in range(45)]
    assert all(isinstance(e, Event) and e.state.final for e in events if e.state)
    offsets = [r.query["offset"] for r in seen[before:]]
    assert offsets == ["0", "1", "2"]
    assert _last(seen)[2] == {
        "types": "CALL",
        "toDate": "1601568606000",
        "states": "ANSWERED",
        "offset": "2",
        "size": "20",
        "sort": "startTime",
    }
    assert await vis.events.count(direction="OUTBOUND") == 7
    assert (await vis.events.get(100)).id == "100"

    hook = await vis.webhooks.create("https://example.com/hook", signing_key="s3cret")
    assert isinstance(hook, Webhook) and hook.metadata_policy is MetadataPolicy.NONE
    assert hook.statistics is not None and hook.statistics.total_attempts == 10
    assert hook.expire_datetime == datetime(2019, 1, 1, tzinfo=timezone.utc)
    assert _last(seen)[3] == {
        "url": "https://example.com/hook",
        "events": ["CALL"],
        "signingAlgo": "HMAC_SHA256",
        "signingKey": "s3cret",
        "metadataPolicy": "HEADER",
    }
    assert "s3cret" not in repr(hook) and "string" not in repr(hook)
    assert [h.id for h in await vis.webhooks.list()] == ["184094"]
    assert (await vis.webhooks.get("184094")).url == "https://www.example.com"
    assert (await vis.webhooks.renew("184094")).id == "184094"
    assert _last(seen)[:2] == ("PUT", "renewWebhook")
    assert await vis.webhooks.delete("184094") is None
    assert _last(seen)[:2] == ("DELETE", "destroyWebhook")
    assert len({r.match_info.route.name for r in seen}) == 20


async def test_error_response_shape_is_read(spec: tuple[Vonage, list[web.Request]]) -> None:
    client, _ = spec
    service = client.integration._service
    with pytest.raises(errors.HTTPError) as caught:
        await service.request("PUT", service.url("self", "calls", "1", "failing"))
    assert caught.value.status == 422 and caught.value.message == "bad number"


@pytest.mark.parametrize(
    "call",
    [
        lambda v: v.calls.place("not a number"),
        lambda v: v.calls.get("../x"),
        lambda v: v.calls.count(states=["ANSWERED"]),  # not a live state
        lambda v: v.events.count(direction="SIDEWAYS"),
        lambda v: v.webhooks.create("ftp://x", signing_key="k"),
        lambda v: v.webhooks.create("https://x.example", signing_key=""),
        lambda v: v.webhooks.create("https://x.example", signing_key="k", events=("SMS",)),
        lambda v: v.webhooks.create("https://x.example", signing_key="k", metadata_policy="X"),
    ],
)
async def test_bad_input_is_refused_before_sending(
    spec: tuple[Vonage, list[web.Request]], call: Any
) -> None:
    client, seen = spec
    with pytest.raises(errors.ValidationError):
        await call(client.integration)
    assert seen == []


def test_bad_pager_input_is_refused() -> None:
    client = Vonage(vbc_auth=BearerToken("t"))
    with pytest.raises(errors.ValidationError):
        client.integration.events.list(size=0)
    with pytest.raises(errors.ValidationError):
        client.integration.calls.list(order="SIDEWAYS")


@settings(max_examples=60, deadline=None)
@given(
    state=st.text(min_size=1, max_size=12),
    extra=st.dictionaries(st.text(min_size=1, max_size=8), st.integers() | st.text(), max_size=3),
)
def test_unknown_states_and_fields_are_kept_not_fatal(state: str, extra: dict[str, Any]) -> None:
    from vonage_async._converter import structure

    event = structure({**extra, **CALL, "state": state}, Event)
    assert event.id == "9001"
    assert event.state is not None
    assert event.state.known or event.state.value == state  # an unknown value is kept as sent


def test_prose_state_spelling_is_read() -> None:
    from vonage_async._converter import structure

    assert structure({"state": "Remote Held"}, Event).state is EventState.REMOTE_HELD
    assert structure({"state": "Ringing"}, Event).state is EventState.RINGING
    assert structure({"state": "Answered"}, Event).state is not None
    assert structure({"state": "Answered"}, Event).state.final  # type: ignore[union-attr]
    assert not EventState("SOMETHING_NEW").final


async def test_operations_against_the_emulator() -> None:
    async with Emulator(ring_seconds=30, talk_seconds=60) as emu, emu.client() as client:
        vis = client.integration
        me = await vis.me()
        assert me.account_id == emu.account_id
        ext = next(iter(emu.state.extensions.values()))
        did = ext.dids[0].phone_number
        emu.place_call("14155550100", did)  # placed through another family
        calls = await vis.calls.list().all()
        assert len(calls) == 1 and calls[0].direction is Direction.INBOUND
        incoming = calls[0]
        assert incoming.id is not None
        assert (await vis.calls.answer(incoming.id)).state is EventState.ACTIVE
        assert (await vis.calls.hold(incoming.id)).state is EventState.HELD
        assert (await vis.calls.unhold(incoming.id)).state is EventState.ACTIVE
        assert (await vis.calls.transfer(incoming.id, "14155550199")).phone_number == "14155550199"
        assert await vis.calls.count() == 1
        ended = await vis.calls.end(incoming.id)
        assert ended.state is EventState.ANSWERED and ended.end_time is not None
        out = await vis.calls.place("14155550123")
        assert out.direction is Direction.OUTBOUND and out.id is not None
        assert out.external_id in emu.state.calls
        with pytest.raises(errors.HTTPError) as caught:
            await vis.calls.to_voicemail(out.id)  # outbound ringing: only incoming can
        assert caught.value.status in (400, 422)
        await vis.calls.end(out.id)
        history = [e.state for e in await vis.events.list().all()]
        assert history[:6] == [
            EventState.RINGING,
            EventState.ACTIVE,
            EventState.HELD,
            EventState.ACTIVE,
            EventState.ACTIVE,  # transferred: same state, another number
            EventState.ANSWERED,
        ]
        assert await vis.events.count(states="RINGING") == 2
        assert len(await vis.events.list(size=2, max_items=3).all()) == 3
        assert [e.state for e in [await vis.events.get(incoming.id)]] == [EventState.RINGING]
        hook = await vis.webhooks.create("http://127.0.0.1:9/x", signing_key="k")
        assert hook.id is not None and hook.statistics is not None
        assert (await vis.webhooks.renew(hook.id)).renewed_datetime is not None
        await vis.webhooks.delete(hook.id)
        with pytest.raises(errors.NotFoundError):
            await vis.webhooks.get(hook.id)
        assert json.loads(json.dumps(await vis.webhooks.list(), default=str)) == []
