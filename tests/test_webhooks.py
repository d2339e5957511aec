"""Signed webhooks end to end on loopback: the emulator (or a signed POST) to a real
:class:`WebhookReceiver` to ``events()``, and the subscription's renewal and backfill."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from hypothesis import given, settings, strategies as st

from vonage_async import CallEnded, CallStarted, CallUpdated, WatchEvent, errors
from vonage_async.emulator import Emulator
from vonage_async.integration import EventState
from vonage_async.webhooks import WebhookReceiver, canonical_json, sign, verify_signature

KEY = "k3y-for-tests"
EVENT = {
    "accountId": "-1",
    "direction": "OUTBOUND",
    "duration": 0,
    "externalId": "abc1234-288c-40d3-8ec8-3618a3ae7698_123",
    "id": "abc1234a806d07a6ff17ba",
    "internal": False,
    "phoneNumber": "xxxxxxxxxx",
    "startTime": "2020-10-01T16:10:06.000+0000",
    "state": "RINGING",
    "type": "CALL",
    "ucpType": "VBS",
    "userId": "1234",
}

# -- the signature ---------------------------------------------------------------------------------


def test_signature_follows_the_written_rule() -> None:
    # Written out by hand from webhooks.md: keys sorted, no whitespace at all.
    text = (
        '{"accountId":"-1","direction":"OUTBOUND","duration":0,'
        '"externalId":"abc1234-288c-40d3-8ec8-3618a3ae7698_123","id":"abc1234a806d07a6ff17ba",'
        '"internal":false,"phoneNumber":"xxxxxxxxxx","startTime":"2020-10-01T16:10:06.000+0000",'
        '"state":"RINGING","type":"CALL","ucpType":"VBS","userId":"1234"}'
    )
    assert canonical_json(dict(reversed(EVENT.items()))) == text.encode()
    expected = hmac.new(b"mysecretkey", text.encode(), hashlib.sha256).hexdigest()
    assert verify_signature(EVENT, expected, "mysecretkey")
    assert verify_signature(EVENT, expected.upper(), b"mysecretkey")
    assert not verify_signature(EVENT, expected, "othersecret")
    assert not verify_signature({**EVENT, "state": "ACTIVE"}, expected, "mysecretkey")
    assert not verify_signature(EVENT, expected[:-1], "mysecretkey")
    assert not verify_signature(EVENT, None, "mysecretkey")  # type: ignore[arg-type]
    # The docs' printed example cannot be reproduced (SOURCES.md): it is not what we compute.
    printed = "95aafd08cb72b1f9216ccd002b8917b04e41ecb19276ae759241fdc0cbb53fb5"
    assert not verify_signature(EVENT, printed, "mysecretkey")
    with pytest.raises(errors.ValidationError):
        sign(EVENT, "")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)


@settings(max_examples=100, deadline=None)
@given(event=st.dictionaries(st.text(max_size=8), json_values, max_size=6), key=st.text(min_size=1))
def test_signature_property(event: dict[str, Any], key: str) -> None:
    signature = sign(event, key)
    assert verify_signature(json.loads(json.dumps(event)), signature, key)  # a JSON round trip
    assert not verify_signature({**event, "\x00extra": 1}, signature, key)
    assert not verify_signature(event, signature, key + "x")


STATES = [s.value for s in EventState] + ["Remote Held", "SOMETHING_NEW"]


@settings(max_examples=300, deadline=None)
@given(
    steps=st.lists(
        st.tuples(st.sampled_from("abc"), st.sampled_from(STATES), st.booleans()), max_size=30
    )
)
def test_tracker_starts_and_ends_each_call_once_whatever_the_order(
    steps: list[tuple[str, str, bool]],
) -> None:
    from vonage_async._converter import structure
    from vonage_async.integration import Event
    from vonage_async.webhooks import _CallTracker, _rank

    tracker = _CallTracker(remember=100)
    out: list[WatchEvent] = []
    batch: dict[str, Any] = {}
    for call_id, state, from_log in steps:
        event = structure({"id": call_id, "state": state}, Event)
        out += tracker.apply(event, batch if from_log else None)
    for call_id in "abc":
        mine = [e for e in out if e.call.id == call_id]  # type: ignore[attr-defined]
        names = [type(e).__name__ for e in mine]
        sent = [s for c, s, _ in steps if c == call_id]
        assert names.count("CallStarted") == (1 if sent else 0)
        assert names[:1] in ([], ["CallStarted"])
        final = any(EventState(s).final for s in sent)
        assert names.count("CallEnded") == (1 if final else 0)
        if final:
            assert names[-1] == "CallEnded"  # nothing after the end
        shown = None
        for event in mine:  # each update follows what was shown before
            if isinstance(event, CallUpdated):
                assert event.previous == shown and event.call != shown
                assert _rank(event.call.state) >= _rank(event.previous.state)  # never back
            shown = event.call


# -- helpers ---------------------------------------------------------------------------------------


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    receiver = WebhookReceiver(KEY)
    await receiver.start("127.0.0.1", 0)
    yield receiver
    await receiver.stop()


async def collect(
    receiver: WebhookReceiver,
    until: Callable[[list[WatchEvent]], bool],
    into: list[WatchEvent],
    timeout: float = 10.0,
) -> list[WatchEvent]:
    """Take events into ``into`` until ``until(into)`` holds (or the time runs out)."""

    async def run() -> None:
        async for event in receiver.events():
            into.append(event)
            if until(into):
                return

    if not until(into):
        await asyncio.wait_for(run(), timeout)
    return into


async def quiet(receiver: WebhookReceiver, into: list[WatchEvent], seconds: float = 0.3) -> None:
    """Take whatever arrives within ``seconds``."""
    with contextlib.suppress(asyncio.TimeoutError):
        await collect(receiver, lambda _: False, into, seconds)


def kinds(events: list[WatchEvent]) -> Counter[tuple[str, str]]:
    return Counter((type(e).__name__, e.call.id) for e in events)  # type: ignore[attr-defined]


def once_each(events: list[WatchEvent], calls: int) -> bool:
    counted = kinds(events)
    started = [k for k in counted if k[0] == "CallStarted"]
    ended = [k for k in counted if k[0] == "CallEnded"]
    return len(started) == len(ended) == calls and all(n == 1 for n in counted.values())


async def post(
    url: str,
    event: dict[str, Any],
    *,
    key: str | None = KEY,
    delivery: str | None = None,
    attempt: int = 1,
    policy: str = "HEADER",
    signature: str | None = None,
) -> int:
    signature = signature or (sign(event, key) if key else None)
    delivery = delivery or str(uuid.uuid4())
    body: dict[str, Any] = {"event": event}
    headers = {}
    meta = {"deliveryId": delivery, "attempt": attempt, "webhookId": "w1"}
    if signature:
        meta["signature"] = signature
    if policy == "HEADER":
        headers = {
            "X-VON-Signature": str(meta.get("signature", "")),
            "X-VON-Delivery-Id": delivery,
            "X-VON-Attempt": str(attempt),
        }
        if not signature:
            del headers["X-VON-Signature"]
    else:
        body["metadata"] = meta
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, json=body, headers=headers) as response,
    ):
        return response.status


def call_event(call_id: str, state: str, **extra: Any) -> dict[str, Any]:
    return {**EVENT, "id": call_id, "state": state, **extra}


# -- the receiver ----------------------------------------------------------------------------------


async def test_wrong_missing_or_stale_signature_is_401_and_nothing_emitted(
    receiver: WebhookReceiver,
) -> None:
    assert receiver.url is not None
    event = call_event("c1", "RINGING")
    assert await post(receiver.url, event, key="not-the-key") == 401
    assert await post(receiver.url, event, key=None) == 401
    assert await post(receiver.url, event, key=None, policy="BODY") == 401
    # Stale: a genuine signature, of this call's earlier event.
    earlier = sign(call_event("c1", "INITIALIZING"), KEY)
    assert await post(receiver.url, event, signature=earlier) == 401
    assert receiver.rejected == 4 and receiver.accepted == 0
    # The next good delivery is the first thing emitted; nothing was recorded before it.
    assert await post(receiver.url, call_event("c2", "RINGING"), policy="BODY") == 200
    got = await collect(receiver, lambda e: len(e) >= 1, [])
    await quiet(receiver, got)
    assert [(type(e), e.call.id) for e in got] == [(CallStarted, "c2")]  # type: ignore[attr-defined]


async def test_same_delivery_twice_is_one_event(receiver: WebhookReceiver) -> None:
    assert receiver.url is not None
    event = call_event("c1", "RINGING")
    assert await post(receiver.url, event, delivery="d-1") == 200
    assert await post(receiver.url, event, delivery="d-1", attempt=2) == 200
    got: list[WatchEvent] = []
    await quiet(receiver, got)
    assert receiver.duplicates == 1
    assert kinds(got) == Counter({("CallStarted", "c1"): 1})


async def test_events_out_of_order_never_restart_a_call(receiver: WebhookReceiver) -> None:
    assert receiver.url is not None
    assert await post(receiver.url, call_event("c1", "ANSWERED", duration=5000)) == 200
    assert await post(receiver.url, call_event("c1", "RINGING")) == 200  # late
    assert await post(receiver.url, call_event("c2", "ACTIVE")) == 200
    assert await post(receiver.url, call_event("c2", "RINGING")) == 200  # late, not final
    assert await post(receiver.url, call_event("c2", "HELD")) == 200
    got: list[WatchEvent] = []
    await quiet(receiver, got)
    assert [(type(e).__name__, e.call.id, e.call.state) for e in got] == [  # type: ignore[attr-defined]
        ("CallStarted", "c1", EventState.ANSWERED),
        ("CallEnded", "c1", EventState.ANSWERED),
        ("CallStarted", "c2", EventState.ACTIVE),
        ("CallUpdated", "c2", EventState.HELD),
    ]
    assert isinstance(got[-1], CallUpdated) and got[-1].previous.state is EventState.ACTIVE


async def test_a_backfill_overlapping_deliveries_repeats_nothing(
    receiver: WebhookReceiver,
) -> None:
    assert receiver.url is not None
    held = call_event("c1", "HELD")
    log = [call_event("c1", s) for s in ("RINGING", "ACTIVE")] + [held]
    log += [call_event("c1", "ACTIVE"), call_event("c1", "ANSWERED", duration=9)]
    for event in log[:4]:  # delivered: rang, answered, held, unheld
        assert await post(receiver.url, event) == 200
    got: list[WatchEvent] = []
    await collect(receiver, lambda e: len(e) == 4, got)
    receiver.feed(log)  # the log read back from before the gap: only the end is news
    await quiet(receiver, got)
    assert [type(e).__name__ for e in got] == [
        "CallStarted",
        "CallUpdated",
        "CallUpdated",
        "CallUpdated",
        "CallEnded",
    ]
    # Delivered only up to ACTIVE: the log's hold and unhold are news, once each.
    assert await post(receiver.url, call_event("c2", "RINGING")) == 200
    assert await post(receiver.url, call_event("c2", "ACTIVE")) == 200
    got = await collect(receiver, lambda e: len(e) == 2, [])
    c2 = [call_event("c2", s) for s in ("RINGING", "ACTIVE", "HELD", "ACTIVE")]
    receiver.feed(c2)
    receiver.feed(c2)  # a second overlapping backfill adds nothing
    await quiet(receiver, got)
    states = [(type(e).__name__, e.call.state.value) for e in got]  # type: ignore[attr-defined]
    assert states == [
        ("CallStarted", "RINGING"),
        ("CallUpdated", "ACTIVE"),
        ("CallUpdated", "HELD"),
        ("CallUpdated", "ACTIVE"),
    ]


async def test_bad_bodies_are_400(receiver: WebhookReceiver) -> None:
    assert receiver.url is not None
    async with aiohttp.ClientSession() as session:
        for data in (b"not json", b"[]", b'{"event": 3}'):
            async with session.post(receiver.url, data=data) as response:
                assert response.status == 400


async def test_mounted_in_a_users_application() -> None:
    receiver = WebhookReceiver(KEY, path="/hooks/vonage")
    app = web.Application()
    app.router.add_post(receiver.path, receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    try:
        assert await post(f"http://{host}:{port}/hooks/vonage", call_event("c9", "RINGING")) == 200
        got = await collect(receiver, lambda e: len(e) == 1, [])
        assert isinstance(got[0], CallStarted) and got[0].extension is None
    finally:
        await runner.cleanup()


async def test_events_end_after_stop_once_the_queue_is_drained() -> None:
    receiver = WebhookReceiver(KEY)
    url = await receiver.start()
    assert await post(url, call_event("c1", "RINGING")) == 200
    assert await post(url, call_event("c1", "MISSED")) == 200
    await receiver.stop()

    async def consume() -> list[str]:
        return [type(e).__name__ async for e in receiver.events()]

    assert await asyncio.wait_for(consume(), 5) == ["CallStarted", "CallEnded"]
    assert await asyncio.wait_for(consume(), 5) == []  # a second consumer ends too


def test_receiver_refuses_bad_setup() -> None:
    with pytest.raises(errors.ValidationError):
        WebhookReceiver("")
    with pytest.raises(errors.ValidationError):
        WebhookReceiver(KEY, path="no-slash")


# -- emulator to receiver --------------------------------------------------------------------------


def fast_emulator(**options: Any) -> Emulator:
    settings: dict[str, Any] = {
        "ring_seconds": 0.05,
        "talk_seconds": 0.1,
        "webhook_retries": 2,
        "webhook_retry_interval": 0.15,
        "webhook_timeout": 1.0,
    }
    settings.update(options)
    return Emulator(**settings)


def inbound(emu: Emulator) -> str:
    ext = next(e for e in emu.state.extensions.values() if e.dids)
    return emu.place_call("14155550100", ext.dids[0].phone_number)


async def test_emulator_delivers_signed_events_to_the_receiver(receiver: WebhookReceiver) -> None:
    assert receiver.url is not None
    async with fast_emulator() as emu, emu.client() as client:
        hook = await client.integration.webhooks.create(
            receiver.url, signing_key=KEY, metadata_policy="BODY"
        )
        inbound(emu)
        got = await collect(receiver, lambda e: once_each(e, 1), [])
        assert [type(e) for e in got] == [CallStarted, CallUpdated, CallEnded]
        assert got[-1].call.state is EventState.ANSWERED  # type: ignore[attr-defined]
        assert got[-1].call.duration > 0  # type: ignore[attr-defined]
        await asyncio.sleep(0.05)
        stats = (await client.integration.webhooks.get(hook.id or "")).statistics
        assert stats is not None and stats.total_successes == 3 and not stats.failed


async def test_emulator_signing_with_another_key_is_refused_then_failed(
    receiver: WebhookReceiver,
) -> None:
    assert receiver.url is not None
    async with fast_emulator(webhook_retries=1) as emu, emu.client() as client:
        hook = await client.integration.webhooks.create(receiver.url, signing_key="wrong")
        inbound(emu)
        got: list[WatchEvent] = []
        await quiet(receiver, got, 0.6)
        assert got == [] and receiver.accepted == 0 and receiver.rejected >= 2
        stats = (await client.integration.webhooks.get(hook.id or "")).statistics
        assert (
            stats is not None and stats.failed and stats.last_http_error_code == "401 Unauthorized"
        )


async def test_emulator_follows_a_307(receiver: WebhookReceiver) -> None:
    assert receiver.url is not None
    target = receiver.url

    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPTemporaryRedirect(target)

    app = web.Application()
    app.router.add_post("/old", moved)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    try:
        async with fast_emulator() as emu, emu.client() as client:
            await client.integration.webhooks.create(f"http://{host}:{port}/old", signing_key=KEY)
            inbound(emu)
            got = await collect(receiver, lambda e: once_each(e, 1), [])
            assert len(got) == 3
    finally:
        await runner.cleanup()


async def test_emulator_counts_a_200_later_than_the_budget_as_a_failure() -> None:
    """webhooks.md: connect within 3 s, then the 200 within 2 s (here 0.3 s): a receiver that
    answers later fails the delivery, however quick its connection."""
    delays = {"/slow": 0.8, "/quick": 0.0}

    async def answer(request: web.Request) -> web.Response:
        await asyncio.sleep(delays[request.path])
        return web.Response(status=200)

    app = web.Application()
    for path in delays:
        app.router.add_post(path, answer)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    try:
        async with fast_emulator(webhook_retries=0, webhook_timeout=0.3) as emu:
            hooks = {
                path: emu.integration.create_hook(
                    {"url": f"http://{host}:{port}{path}", "signingKey": KEY}
                )
                for path in delays
            }
            emu.place_call("14155550100", "301", ring_seconds=5.0)
            for _ in range(100):
                if hooks["/slow"].failed and hooks["/quick"].successes:
                    break
                await asyncio.sleep(0.05)
            assert hooks["/slow"].failed and hooks["/slow"].last_code == "408 REQUEST_TIMEOUT"
            assert hooks["/quick"].successes and not hooks["/quick"].failed
    finally:
        await runner.cleanup()


async def test_emulator_turns_a_302_into_a_get_as_the_docs_say() -> None:
    seen: list[str] = []

    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPFound("/new")

    async def new(request: web.Request) -> web.Response:
        seen.append(request.method)
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/old", moved)
    app.router.add_route("*", "/new", new)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    try:
        async with fast_emulator() as emu, emu.client() as client:
            hook = await client.integration.webhooks.create(
                f"http://{host}:{port}/old", signing_key=KEY
            )
            inbound(emu)
            for _ in range(100):
                stats = (await client.integration.webhooks.get(hook.id or "")).statistics
                if stats is not None and stats.total_successes == 3:
                    break
                await asyncio.sleep(0.05)
            assert seen == ["GET", "GET", "GET"]
    finally:
        await runner.cleanup()


async def test_receiver_down_then_back_retries_and_backfill_fill_the_gap(
    receiver: WebhookReceiver,
) -> None:
    assert receiver.url is not None
    port = int(receiver.url.split(":")[2].split("/")[0])
    async with (
        fast_emulator() as emu,
        emu.client() as client,
        client.integration.subscribe(
            receiver, url=receiver.url, check_interval=0.1, margin=1.0
        ) as sub,
    ):
        got: list[WatchEvent] = []
        inbound(emu)
        await collect(receiver, lambda e: once_each(e, 1), got)
        # A short outage: the retries deliver once it is back.
        await receiver.pause()
        inbound(emu)
        await asyncio.sleep(0.25)
        await receiver.start("127.0.0.1", port)
        await collect(receiver, lambda e: once_each(e, 2), got)
        assert sub.renewals == 0
        # A long one: the retries run out, the webhook fails, the renewal's backfill
        # reads what was missed from the event log.
        await receiver.pause()
        inbound(emu)
        inbound(emu)
        hook_id = sub.webhook.id if sub.webhook else ""
        for _ in range(100):
            await asyncio.sleep(0.05)
            hook = emu.integration.hooks[hook_id or ""]
            if hook.failed:
                break
        assert emu.integration.hooks[hook_id or ""].failed
        await receiver.start("127.0.0.1", port)
        await collect(receiver, lambda e: once_each(e, 4), got)
        await quiet(receiver, got)
        assert once_each(got, 4), kinds(got)
        assert sub.renewals >= 1 and sub.backfilled > 0


async def test_webhook_expiring_mid_test_is_renewed_and_nothing_lost(
    receiver: WebhookReceiver,
) -> None:
    assert receiver.url is not None
    # Checked by hand here (the timed loop is exercised above): no race with the expiry.
    async with (
        fast_emulator() as emu,
        emu.client() as client,
        client.integration.subscribe(
            receiver, url=receiver.url, check_interval=3600, renew_before=timedelta(0)
        ) as sub,
    ):
        got: list[WatchEvent] = []
        inbound(emu)
        await collect(receiver, lambda e: once_each(e, 1), got)
        assert sub.webhook is not None and sub.webhook.id
        before = sub.webhook.expire_datetime
        emu.integration.expire(sub.webhook.id)
        inbound(emu)  # the whole call while expired: nothing is delivered
        await quiet(receiver, got, 0.4)
        assert once_each(got, 1) and not emu.state.calls
        await sub.check()
        await collect(receiver, lambda e: once_each(e, 2), got)
        await quiet(receiver, got)
        assert once_each(got, 2) and sub.renewals == 1
        after = sub.webhook.expire_datetime
        assert after is not None and before is not None and after > before


async def test_webhook_renewed_well_before_its_expiry(receiver: WebhookReceiver) -> None:
    """Renewed once less than ``renew_before`` is left, before it expires or fails; a healthy
    one further from its expiry is left alone, and a renewal alone needs no backfill."""
    assert receiver.url is not None
    async with (
        fast_emulator(webhook_expire_after=3600.0) as emu,
        emu.client() as client,
        client.integration.subscribe(
            receiver, url=receiver.url, check_interval=3600, renew_before=timedelta(minutes=30)
        ) as sub,
    ):
        assert sub.webhook is not None
        backfilled = sub.backfilled
        await sub.check()
        assert sub.renewals == 0  # an hour left
        emu.integration.expire_after = 600.0
        await client.integration.webhooks.renew(sub.webhook.id or "")  # now 10 minutes left
        await sub.check()
        assert sub.renewals == 1 and sub.backfilled == backfilled
        assert not emu.integration.hooks[sub.webhook.id or ""].failed


async def test_a_restarted_process_repeats_no_call() -> None:
    """The checkpoint saved after handling, passed to the new process: the start backfill
    (from lastSuccess less the margin) brings the call missed while down and repeats none."""
    first = WebhookReceiver(KEY)
    url = await first.start("127.0.0.1", 0)
    port = int(url.split(":")[2].split("/")[0])
    got: list[WatchEvent] = []
    async with fast_emulator() as emu, emu.client() as client:
        async with client.integration.subscribe(first, url=url, check_interval=3600):
            inbound(emu)
            await collect(first, lambda e: once_each(e, 1), got)
            saved = json.dumps(first.checkpoint())
        await first.stop()
        inbound(emu)  # while the process is gone: the retries run out
        await asyncio.sleep(1.0)
        second = WebhookReceiver(KEY, checkpoint=json.loads(saved))
        await second.start("127.0.0.1", port)
        async with client.integration.subscribe(second, url=url, check_interval=3600) as sub:
            await quiet(second, got, 1.0)
            assert sub.backfilled > 0
        await second.stop()
    assert once_each(got, 2), kinds(got)


def test_a_malformed_checkpoint_is_refused_by_name() -> None:
    good = WebhookReceiver(KEY).checkpoint()
    bad: list[Any] = [
        [],
        {},
        {**good, "version": 99},
        {**good, "active": {"a": "not an event"}},
        {**good, "active": {"a": {"id": "b", "state": "RINGING"}}},
        {**good, "seen": {"a": [[{"id": "a"}, 0]]}},
        {**good, "seen": {"a": [[{"id": "a"}]]}},
        {**good, "ended": "abc"},
        {**good, "deliveries": [1]},
        {**good, "last_delivery": "yesterday"},
        {**good, "last_delivery": "2026-01-01T00:00:00"},
        {**good, "pending": [{"kind": "paused", "call": {"id": "a"}}]},
        {**good, "pending": [{"kind": "updated", "call": {"id": "a"}, "previous": None}]},
        {k: v for k, v in good.items() if k != "seen"},
    ]
    for checkpoint in bad:
        with pytest.raises(errors.ValidationError) as raised:
            WebhookReceiver(KEY, checkpoint=checkpoint)
        assert raised.value.parameter == "checkpoint", checkpoint
    WebhookReceiver(KEY, checkpoint=json.loads(json.dumps(good)))


LOG_STATES = ["INITIALIZING", "RINGING", "ACTIVE", "HELD", "ANSWERED", "MISSED", "SOMETHING_NEW"]
TIMES = ["2026-01-01T10:00:00Z", "2026-01-01T10:00:00.250+02:00", 1767261600]


def _step_event(call: str, state: str, when: int) -> dict[str, Any]:
    return {"id": call, "state": state, "startTime": TIMES[when], "direction": "INBOUND"}


def _shown(event: WatchEvent) -> tuple[Any, ...]:
    return (type(event).__name__, event.call, getattr(event, "previous", None))  # type: ignore[attr-defined]


@settings(max_examples=150, deadline=None)
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from("abc"),
            st.sampled_from(LOG_STATES),
            st.integers(0, len(TIMES) - 1),
            st.booleans(),  # from the log (a backfill) rather than a delivery
        ),
        max_size=25,
        # Each log record once. A record repeated around a different one is a known limit: a
        # re-read of the whole log credits the repeats by count, which the original mix of
        # deliveries and partial re-reads need not match.
        unique_by=lambda step: step[:3],
    ),
    data=st.data(),
)
def test_checkpoint_restart_anywhere_changes_nothing(
    steps: list[tuple[str, str, int, bool]], data: st.DataObject
) -> None:
    """A run split anywhere, some of its events taken, its checkpoint through JSON into a new
    receiver which first re-reads part of the log before the split (the start backfill's
    margin): what the two emit, concatenated, is what one uninterrupted receiver emits."""
    split = data.draw(st.integers(0, len(steps)), label="split")
    reread = data.draw(st.integers(0, split), label="reread from")
    mid = data.draw(st.integers(0, split), label="taken after")
    events = [_step_event(c, s, t) for c, s, t, _ in steps]

    def feed(receiver: WebhookReceiver, part: range) -> None:
        for i in part:
            if steps[i][3]:
                receiver.feed([events[i]])
            else:
                receiver._queue(events[i], None)  # what handle() queues for a delivery

    def taken(receiver: WebhookReceiver, most: int | None = None) -> list[WatchEvent]:
        receiver._drain()
        out: list[WatchEvent] = []
        while not receiver._out.empty() and (most is None or len(out) < most):
            out.append(receiver._out.get_nowait())
        return out

    async def run() -> tuple[list[WatchEvent], list[WatchEvent]]:
        whole = WebhookReceiver(KEY)
        feed(whole, range(len(steps)))
        expected = taken(whole)
        first = WebhookReceiver(KEY)
        feed(first, range(mid))
        got = taken(first, data.draw(st.integers(0, len(steps) * 2), label="handled"))
        feed(first, range(mid, split))  # accepted, not yet drained: in the checkpoint too
        saved = json.loads(json.dumps(first.checkpoint()))
        second = WebhookReceiver(KEY, checkpoint=saved)
        second.feed(events[reread:split])  # already taken: repeats nothing
        feed(second, range(split, len(steps)))
        return expected, got + taken(second)

    expected, got = asyncio.run(run())
    assert [_shown(e) for e in got] == [_shown(e) for e in expected]
    counted = kinds(got)
    for call in "abc":
        sent = [s for c, s, _, _ in steps if c == call]
        assert counted[("CallStarted", call)] == (1 if sent else 0)
        final = any(EventState(s).final for s in sent)
        assert counted[("CallEnded", call)] == (1 if final else 0)


async def test_subscription_adopts_replaces_and_deletes(receiver: WebhookReceiver) -> None:
    assert receiver.url is not None
    async with fast_emulator() as emu, emu.client() as client:
        hooks = client.integration.webhooks
        mine = await hooks.create(receiver.url, signing_key=KEY)
        async with client.integration.subscribe(receiver, url=receiver.url) as sub:
            assert sub.webhook is not None and sub.webhook.id == mine.id  # adopted
        assert [h.id for h in await hooks.list()] == [mine.id]  # kept: delete_on_exit is off
        await hooks.delete(mine.id or "")
        other = await hooks.create(receiver.url, signing_key="an-old-key")
        async with client.integration.subscribe(
            receiver, url=receiver.url, delete_on_exit=True
        ) as sub:
            assert sub.webhook is not None and sub.webhook.id != other.id
            assert [h.id for h in await hooks.list()] == [sub.webhook.id]
        assert await hooks.list() == []
        with pytest.raises(errors.ValidationError):
            client.integration.subscribe(receiver, url=receiver.url, metadata_policy="NONE")
        with pytest.raises(errors.ValidationError):
            client.integration.subscribe(receiver, url="not a url")
        with pytest.raises(errors.ValidationError):
            client.integration.subscribe(WebhookReceiver(b"\xff\xfe"), url=receiver.url)


# -- command line ----------------------------------------------------------------------------------


def test_cli_webhooks_never_print_the_signing_key(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from vonage_async._cli import main

    monkeypatch.setenv("VONAGE_WEBHOOK_SIGNING_KEY", "cli-s3cret")
    assert main(["--emulator", "webhooks", "create", "https://example.com/hook"]) == 0
    out = capsys.readouterr().out
    created = json.loads(out)
    assert created["url"] == "https://example.com/hook" and created["metadataPolicy"] == "HEADER"
    assert "cli-s3cret" not in out and "signingKey" not in created
    assert main(["--emulator", "webhooks", "renew", "nope"]) == 1  # a fresh emulator: 404
    assert main(["--emulator", "webhooks", "create", "ftp://x"]) == 2


def test_cli_webhooks_need_credentials(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from vonage_async._cli import main

    for name in ("VONAGE_CLIENT_ID", "VONAGE_CLIENT_SECRET", "VONAGE_USERNAME"):
        monkeypatch.delenv(name, raising=False)
    assert main(["webhooks", "list"]) == 2
    assert "VONAGE_CLIENT_ID" in capsys.readouterr().err


def test_cli_listen_offline_prints_pushed_events(capsys: pytest.CaptureFixture[str]) -> None:
    from vonage_async._cli import main

    assert main(["--emulator", "listen", "--port", "0", "--duration", "3.5"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines and lines[0]["type"] == "call_started"
    assert {line["call"]["state"] for line in lines} >= {"RINGING"}


async def test_the_emulator_keeps_a_bounded_event_log_and_forgets_ended_calls() -> None:
    from vonage_async.emulator import Emulator

    async with Emulator(ring_seconds=0.0, talk_seconds=0.0) as emu:
        vis = emu.integration
        vis.log_kept = 20
        for _ in range(40):
            emu.place_call("14155550123", "301")
        for _ in range(200):
            if len(vis.calls) < 40:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)
        assert len(vis.log) <= 22
        logged = {event["id"] for _, event in vis.log}
        assert set(vis.calls) <= logged | {i for i, c in vis.calls.items() if c.end_time is None}
