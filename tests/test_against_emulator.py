"""The SDK's protocol, end to end, against the embedded emulator.

Each test is a user story through a real ``Vonage`` client: OAuth and legacy sessions that
expire under it, every paging style, a call's life seen through Telephony, Live Status and
call history, and both watchers under injected faults. A recorder in front of the emulator's
handlers shows what went over the wire (statuses, grants, polls in flight per session).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

import attrs
import pytest
from aiohttp import web

from vonage_async import (
    Backoff,
    CallEnded,
    CallStarted,
    OAuth2,
    SessionLogin,
    Snapshot,
    Watch,
    WatchEvent,
    errors,
)
from vonage_async.emulator import Emulator
from vonage_async.emulator._state import Call as EmulatedCall
from vonage_async.network_registry import ALL
from vonage_async.telephony import Endpoint

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
DASHUI = "/presence/dashui"
PSTN = "14155550123"


@attrs.frozen
class Exchange:
    method: str
    path: str
    query: dict[str, str]
    body: bytes
    status: int | None  # None: the connection was reset before an answer
    at: float

    @property
    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode()))

    def json(self) -> Any:
        return json.loads(self.body)


@attrs.define
class Wire:
    """Every request the emulator saw, and whether a Live Status poll ever overlapped another
    still-open poll of the same session (the server would answer one of them 409)."""

    exchanges: list[Exchange] = attrs.Factory(list)
    in_flight: dict[str, int] = attrs.Factory(Counter)
    max_in_flight: dict[str, int] = attrs.Factory(Counter)
    polls: dict[str, list[web.Request]] = attrs.Factory(dict)
    overlaps: list[str] = attrs.Factory(list)

    def seen(self, path: str | None = None, method: str | None = None) -> list[Exchange]:
        return [
            e
            for e in self.exchanges
            if (path is None or e.path.endswith(path)) and (method is None or e.method == method)
        ]

    def statuses(self, path: str, method: str | None = None) -> list[int | None]:
        return [e.status for e in self.seen(path, method)]

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        body = await request.read()
        path = request.path
        session = request.cookies.get("JSESSIONID", "")
        if path == DASHUI and session:
            # A poll the client gave up on (timed out, connection closed) doesn't count.
            open_polls = [r for r in self.polls.get(session, []) if r.transport is not None]
            if open_polls:
                self.overlaps.append(session)
            self.polls.setdefault(session, []).append(request)
        self.in_flight[path] += 1
        self.max_in_flight[path] = max(self.max_in_flight[path], self.in_flight[path])
        status: int | None = None
        try:
            response = await handler(request)
            status = response.status
            return response
        finally:
            self.in_flight[path] -= 1
            if path == DASHUI and session:
                self.polls[session].remove(request)
            self.exchanges.append(
                Exchange(request.method, path, dict(request.query), body, status, time.monotonic())
            )


@contextlib.asynccontextmanager
async def emulator(**options: Any) -> AsyncIterator[tuple[Emulator, Wire]]:
    """A started emulator with a ``Wire`` recording in front of everything it serves."""
    emu = Emulator(**options)
    wire = Wire()
    emu.app.middlewares.insert(0, wire.middleware)  # outermost: sees faults and resets too
    async with emu:
        yield emu, wire


async def eventually(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


class Collector:
    """Consumes a watch in the background, keeping every event."""

    def __init__(self, watch: Watch) -> None:
        self.events: list[WatchEvent] = []
        self.task = asyncio.ensure_future(self._run(watch))

    async def _run(self, watch: Watch) -> None:
        async for event in watch:
            self.events.append(event)

    def of(self, kind: type[WatchEvent]) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]

    async def stop(self) -> None:
        assert not self.task.done(), f"the watch ended early: {self.task}"
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


def live_keys(events: Iterable[Any]) -> Counter[tuple[str | None, str | None]]:
    """(extension, presenceCallId) of each Live Status call event."""
    return Counter((e.extension, e.call.presence_call_id) for e in events)


def touches(call: EmulatedCall) -> set[tuple[str | None, str | None]]:
    return {(ext, call.presence_call_id) for ext in call.extensions}


# -- auth ----------------------------------------------------------------------------------------


async def test_expired_tokens_are_renewed_once_for_concurrent_requests() -> None:
    async with emulator() as (emu, wire):
        c = emu.credentials
        auth = OAuth2(c.client_id, c.client_secret, c.username, c.password, token_url=emu.token_url)
        async with emu.client(vbc_auth=auth) as client:
            account = await client.provisioning.accounts.get()
            assert account.id == int(emu.account_id)

            emu.faults.expire_tokens()
            numbers = list(emu.state.extensions)[:5]
            found = await asyncio.gather(
                *(client.provisioning.extensions.get_by_number("self", n) for n in numbers)
            )
            assert [e.extension_number for e in found] == numbers

            # Refresh tokens spent too: the client falls back to the password grant.
            emu.faults.expire_tokens(refresh=True)
            assert (await client.provisioning.accounts.get()).name == emu.state.account_name

        grants = [e.form["grant_type"] for e in wire.seen("/token", "POST")]
        assert grants == ["password", "refresh_token", "refresh_token", "password"]
        assert auth.token_requests == 4
        # Five requests met the expired token; one refresh served them all.
        rejected = [e for e in wire.exchanges if e.status == 401 and e.path != "/token"]
        assert len(rejected) == 5 + 1


async def test_an_expired_legacy_session_is_logged_in_again() -> None:
    async with emulator() as (emu, wire):
        c = emu.credentials
        login = SessionLogin(c.legacy_username, c.legacy_password)
        async with emu.client(legacy_auth=login) as client:
            directory = await client.legacy.directory()
            assert set(directory.extensions) == set(emu.state.extensions)

            emu.faults.expire_sessions()
            info = await client.legacy.extension("302")
            user = emu.state.users[emu.state.extensions["302"].user_id]
            assert (info.extension_number, info.name) == ("302", user.name)

        assert login.logins == 2
        assert wire.statuses("/presence/rest/extension/302") == [403, 200]
        assert len(wire.seen("/appserver/rest/user/null")) == 2


# -- paging --------------------------------------------------------------------------------------


async def test_provisioning_pages_arrive_in_order_four_at_a_time() -> None:
    async with emulator(extensions=23) as (emu, wire):
        state = emu.state
        emu.faults.latency = 0.05  # long enough for concurrent pages to overlap at the server
        async with emu.client() as client:
            extensions = await client.provisioning.extensions.list(page_size=3).all()
            assert [e.extension_number for e in extensions] == list(state.extensions)
            assert [e.user.id for e in extensions if e.user] == [
                x.user_id for x in state.extensions.values()
            ]
            pages = wire.seen("/extensions", "GET")
            assert sorted(int(e.query.get("page", 1)) for e in pages) == list(range(1, 9))
            assert wire.max_in_flight[pages[0].path] == 4

            location = next(iter(state.locations))
            here = client.provisioning.extensions.list(location_id=location, page_size=2)
            assert [e.extension_number async for e in here] == [
                n for n, x in state.extensions.items() if x.location_id == location
            ]
            filtered = wire.seen("/extensions", "GET")[len(pages) :]
            assert len(filtered) == 6
            assert all(e.query["location_id"] == str(location) for e in filtered)

            users = await client.provisioning.users.list(page_size=4, concurrency=4).all()
            assert [u.id for u in users] == list(state.users)
            last = next(iter(state.users.values())).last_name
            named = await client.provisioning.users.list(last_name=last.upper()).all()
            assert {u.id for u in named} == {
                u.id for u in state.users.values() if u.last_name == last
            }


async def test_network_registry_cursor_pages_of_two() -> None:
    async with emulator() as (emu, wire):
        template = next(iter(emu.state.business_profiles.values()))
        for i in range(5):
            emu.state.create_business_profile(dict(template, name=f"Profile {i}"))
        async with emu.client() as client:
            profiles = client.network_registry.business_profiles
            listed = await profiles.list(limit=2).all()
            assert [p.id for p in listed] == list(emu.state.business_profiles)
            assert len(listed) == 7

            requests = wire.seen("/business-profiles", "GET")
            assert len(requests) == 4
            assert all(e.query["limit"] == "2" for e in requests)
            cursors = [e.query.get("next") for e in requests]
            assert cursors[0] is None and len(set(cursors[1:])) == 3

            three = await profiles.list(limit=2, max_items=3).all()
            assert [p.id for p in three] == [p.id for p in listed[:3]]
            assert len(wire.seen("/business-profiles", "GET")) == 4 + 2

            statuses = await profiles.csp_statuses(ALL, limit=2).all()
            expected = {
                (row["business_profile_id"], row["csp_id"])
                for row in emu.state.csp_statuses.values()
                if "application_profile_id" not in row
            }
            assert len(statuses) == len(expected) > 2
            assert {(s.business_profile_id, s.csp_id) for s in statuses} == expected


# -- telephony and legacy ------------------------------------------------------------------------


async def test_a_created_call_shows_everywhere_then_lands_in_history() -> None:
    slow = emulator(hold=1.0, ring_seconds=0.2, talk_seconds=60)
    async with slow as (emu, wire), emu.client() as client:
        call_id = await client.telephony.calls.create(
            from_=Endpoint.extension("301"), to=Endpoint.pstn("+14155550123")
        )
        assert call_id in emu.state.calls
        assert wire.seen("/calls", "POST")[0].json() == {
            "from": {"destination": "301", "type": "extension"},
            "to": {"destination": PSTN, "type": "pstn"},
        }

        active = await client.telephony.calls.list().all()
        mine = [c for c in active if c.call_id == call_id]
        assert len(mine) == 1 and (mine[0].from_, mine[0].to) == ("301", PSTN)
        assert len(mine[0].legs) == 2

        presence_id = emu.state.calls[call_id].presence_call_id
        await eventually(lambda: emu.state.calls[call_id].status == "on-call")
        snapshot = await client.legacy.live_status.snapshot("301")
        assert [e.extension for e in snapshot.extensions] == ["301"]
        live = snapshot.extensions[0]
        assert live.status == "outbound" and live.on_call_with == PSTN
        assert [(c.presence_call_id, c.state) for c in live.calls] == [(presence_id, "connected")]

        hung_up = await client.telephony.calls.delete("self", call_id)
        assert hung_up.call_id == call_id
        assert all(c.call_id != call_id for c in await client.telephony.calls.list().all())

        history = await client.legacy.call_history("301", to=PSTN)
        assert len(history) == 1
        record = history[0]
        assert (record.direction, record.result, record.to) == ("outbound", "answered", PSTN)
        assert record.timestamp is not None
        assert abs(record.timestamp.timestamp() - time.time()) < 10


async def test_hold_and_unhold_a_leg_of_a_live_call() -> None:
    async with emulator() as (emu, wire):
        call_id = emu.place_call("301", "302", hold_forever=True)
        emu.answer(call_id)
        async with emu.client() as client:
            legs = await client.telephony.legs.list("self", call_id).all()
            assert [leg.leg_id for leg in legs] == [x.leg_id for x in emu.state.calls[call_id].legs]
            leg = legs[0].leg_id

            held = await client.telephony.legs.hold("self", call_id, leg)
            assert (held.call_id, held.leg_id, held.call_state) == (call_id, leg, "held")
            assert emu.state.calls[call_id].legs[0].held

            with pytest.raises(errors.HTTPError) as again:
                await client.telephony.legs.hold("self", call_id, leg)
            assert again.value.status == 409

            active = await client.telephony.legs.unhold("self", call_id, leg)
            assert active.call_state == "active"
            assert not emu.state.calls[call_id].legs[0].held
        bodies = [e.json() for e in wire.seen(f"/legs/{leg}", "PUT")]
        assert bodies == [{"state": "held"}, {"state": "held"}, {"state": "active"}]


# -- rate limits ---------------------------------------------------------------------------------


async def test_429_bursts_are_retried_for_reads_but_never_for_a_new_call() -> None:
    async with emulator() as (emu, wire), emu.client() as client:
        # A token and a session first: a 429 to the login itself is another story (below).
        await client.provisioning.accounts.get()
        await client.legacy.directory()

        emu.faults.rate_limit(2, retry_after=0.2)
        started = time.monotonic()
        extension = await client.provisioning.extensions.get_by_number("self", "301")
        assert extension.extension_number == "301"
        assert wire.statuses("/extensions/301") == [429, 429, 200]
        assert time.monotonic() - started >= 1.9  # Retry-After: 1 (rounded up), twice

        emu.faults.rate_limit(1, family="legacy")
        assert (await client.legacy.extension("303")).extension_number == "303"
        assert wire.statuses("/presence/rest/extension/303") == [429, 200]

        emu.faults.rate_limit(1)
        with pytest.raises(errors.RateLimitedError) as limited:
            await client.telephony.calls.create(
                from_=Endpoint.extension("301"), to=Endpoint.pstn(PSTN)
            )
        assert limited.value.retry_after == 1
        assert wire.statuses("/calls", "POST") == [429]
        assert not emu.state.calls


@pytest.mark.parametrize("family", ["vbc", "legacy"])
async def test_a_transient_answer_to_the_login_itself_is_retried(family: str) -> None:
    async with emulator() as (emu, _), emu.client() as client:
        emu.faults.rate_limit(1, retry_after=0.2, family=family)  # type: ignore[arg-type]
        if family == "vbc":
            await client.provisioning.accounts.get()
        else:
            await client.legacy.directory()


# -- watchers ------------------------------------------------------------------------------------


async def test_live_status_watch_reports_each_call_once_through_every_fault() -> None:
    async with emulator(hold=0.5, ring_seconds=0.2, talk_seconds=0.8, seed=3) as (emu, wire):
        placed: list[EmulatedCall] = []

        def place(from_: str, to: str, **options: Any) -> None:
            # Longer than any outage below, so no call can start and end unseen.
            call_id = emu.place_call(from_, to, talk_seconds=2.5, **options)
            placed.append(emu.state.calls[call_id])

        did = emu.state.extensions["303"].dids[0].phone_number
        async with emu.client() as client:
            watch = client.legacy.live_status.watch(
                poll_timeout=1.2, backoff=Backoff(initial=0.05, maximum=0.3)
            )
            events = Collector(watch)
            await eventually(lambda: bool(events.of(Snapshot)))
            assert events.of(Snapshot)[0].calls == ()
            emu.simulate(mean_interval=0.3, max_calls=3)

            place("301", PSTN)
            place("19735550100", did, caller_name="Outside Caller")
            emu.faults.error_rate, emu.faults.reset_rate = 0.3, 0.1
            place("304", "305")
            await asyncio.sleep(1.5)
            emu.faults.clear()

            emu.faults.truncate_dashui(2)
            place("306", PSTN)
            await asyncio.sleep(1.0)

            emu.faults.stall_dashui(1)  # held 1.5 s, past the client's 1.2 s timeout
            place("307", "308")
            await asyncio.sleep(2.5)

            emu.faults.expire_sessions()
            place("302", PSTN, recorded=True)
            await asyncio.sleep(1.0)

            emu.stop_simulation()
            await eventually(lambda: not emu.state.calls, timeout=6)
            expected = set().union(*(touches(call) for call in placed))
            await eventually(lambda: expected <= set(live_keys(events.of(CallEnded))))
            await asyncio.sleep(0.3)  # nothing more should trickle in
            await events.stop()

        started = live_keys(events.of(CallStarted))
        ended = live_keys(events.of(CallEnded))
        for key in expected:
            assert (started[key], ended[key]) == (1, 1), key
        # Simulated calls too: never started or ended twice, never ended before starting.
        assert max(started.values()) == max(ended.values()) == 1
        assert set(ended) <= set(started)

        statuses = Counter(wire.statuses(DASHUI))
        assert statuses[None] and statuses[500] and statuses[403]  # resets, errors, expiry
        assert not wire.overlaps  # never two open polls on one session
        # The one 409 answers the resync after the stall: the server still held the poll the
        # client had given up on. The client logged in afresh instead of polling twice.
        assert statuses[409] <= 1
        assert len(wire.seen("/appserver/rest/user/null")) >= 2


async def test_a_live_status_snapshot_while_watching_sends_no_second_poll() -> None:
    async with emulator(hold=0.5, ring_seconds=0.2, talk_seconds=3) as (emu, wire):
        async with emu.client() as client:
            events = Collector(client.legacy.live_status.watch(poll_timeout=1.5))
            await eventually(lambda: bool(events.of(Snapshot)))
            call_id = emu.place_call("301", PSTN)
            presence = emu.state.calls[call_id].presence_call_id
            await eventually(lambda: bool(events.of(CallStarted)))
            polls = len(wire.seen(DASHUI))
            snapshot = await client.legacy.live_status.snapshot(["301"])
            assert [c.presence_call_id for c in snapshot.extensions[0].calls] == [presence]
            assert len(wire.seen(DASHUI)) - polls <= 1  # at most the watch's own next poll
            await events.stop()
        assert 409 not in wire.statuses(DASHUI)
        assert not wire.overlaps


async def test_telephony_watch_follows_calls_and_slows_down_when_rate_limited() -> None:
    async with emulator(ring_seconds=0.2, talk_seconds=0.8) as (emu, wire):
        async with emu.client() as client:
            events = Collector(client.telephony.calls.watch(interval=0.2))
            await eventually(lambda: bool(events.of(Snapshot)))
            first = [emu.place_call("301", PSTN), emu.place_call("302", "303")]
            await eventually(lambda: {e.call.call_id for e in events.of(CallEnded)} >= set(first))

            emu.faults.rate_limit(3, retry_after=0.2)
            burst_from = len(wire.exchanges)
            late = emu.place_call("304", PSTN, talk_seconds=4.0)
            await eventually(lambda: late in {e.call.call_id for e in events.of(CallEnded)}, 8)
            await events.stop()

        started = Counter(e.call.call_id for e in events.of(CallStarted))
        ended = Counter(e.call.call_id for e in events.of(CallEnded))
        for call_id in [*first, late]:
            assert (started[call_id], ended[call_id]) == (1, 1)
        assert all(e.extension is None for e in events.of(CallStarted))

        burst = [e for e in wire.exchanges[burst_from:] if e.path.endswith("/calls")]
        limited = [e for e in burst if e.status == 429]
        assert len(limited) == 3
        # Retry-After (1 s once rounded up) is honoured between every 429 and the next try.
        following = [burst[burst.index(e) + 1] for e in limited]
        assert all(after.at - e.at >= 0.9 for e, after in zip(limited, following, strict=True))
        assert burst[-1].status == 200
