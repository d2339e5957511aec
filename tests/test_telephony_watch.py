"""Telephony calls.watch: live call events from the active-calls list, against a server whose
list changes between polls and even between the pages of one walk."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections import Counter, deque
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from vonage_async import (
    Backoff,
    BearerToken,
    CallEnded,
    CallStarted,
    CallUpdated,
    OAuth2,
    RateLimit,
    Snapshot,
    Vonage,
    errors,
)
from vonage_async.telephony._watch import default_interval

FAST = Backoff(initial=0.01, maximum=0.05)
PATH = "/t/vbc.prod/telephony/v3/cc/accounts/{account}/calls"


# What a proxy or a broken server may answer instead of a page (issue 22, rule 4).
BAD_ANSWERS: dict[str, tuple[int, str, bytes]] = {
    "408": (408, "text/html", b"<html>Request Timeout</html>"),
    "302": (302, "text/html", b""),
    "304": (304, "application/json", b""),
    "empty": (200, "application/json", b""),
    "html": (200, "text/html", b"<html><body>Service Unavailable</body></html>"),
    # UTF-16 cut mid-character: no encoding JSON allows reads it
    "utf16": (200, "application/json", '{"calls": [], "pages": "1"}'.encode("utf-16")[:-1]),
    "{}": (200, "application/json", b"{}"),
    "deep": (200, "application/json", b'{"calls": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
    "truncated": (200, "application/json", b'{"calls": [{"call_id": "x'),
}


class CallsServer:
    def __init__(self) -> None:
        self.calls: dict[str, dict[str, Any]] = {}
        self.faults: deque[str] = deque()
        self.always: str | None = None
        self.walk_hooks: deque[Any] = deque()  # run when page 2 is asked for
        self.requests = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.tokens = {"tok"}  # access tokens the API accepts
        self.token_faults: deque[str] = deque()  # the token endpoint's next answers
        self.grants = 0
        self.delay = 0.0  # seconds each page takes
        self.walk_starts: list[float] = []  # when each first page was asked for
        self.app = web.Application()
        self.app.router.add_get(PATH, self.list_calls)
        self.app.router.add_post("/token", self.token)

    async def token(self, request: web.Request) -> web.Response:
        """The VBC token gateway: a form POST, answered with a token or an OAuth error."""
        self.grants += 1
        fault = self.token_faults.popleft() if self.token_faults else None
        if fault == "500":
            return web.json_response({"message": "gateway down"}, status=500)
        if fault is not None:  # an OAuth error code
            return web.json_response({"error": fault, "error_description": fault}, status=400)
        token = f"tok{self.grants}"
        self.tokens.add(token)
        return web.json_response({"access_token": token, "expires_in": 3600})

    def add(self, call_id: str, status: str = "ringing") -> None:
        self.calls[call_id] = {
            "account_id": 1234,
            "call_id": call_id,
            "direction": "inbound",
            "from": 1235551111,
            "to": "1234567890",
            "status": status,
            "start_time": 1595959736,
            "legs": [{"leg_id": f"{call_id}-leg", "status": status}],
        }

    async def list_calls(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            fault = self.faults.popleft() if self.faults else self.always
            if self.delay:
                await asyncio.sleep(self.delay)
            if fault == "401" or request.headers["Authorization"] not in {
                f"Bearer {token}" for token in self.tokens
            }:
                return web.json_response({"code": "401", "message": "bad token"}, status=401)
            if fault == "500":
                return web.json_response({"code": "500", "message": "boom"}, status=500)
            if fault == "429":
                return web.json_response(
                    {"code": "429", "message": "slow down"},
                    status=429,
                    headers={"Retry-After": "0.05"},
                )
            if fault == "not-an-object":  # valid JSON, wrong shape: a proxy's glitch
                return web.json_response(["unexpected"])
            if fault == "bad-item":
                return web.json_response(
                    {"calls": [{"call_id": "x", "start_time": "eu"}], "pages": "1"}
                )
            if fault in BAD_ANSWERS:
                status, content_type, body = BAD_ANSWERS[fault]
                headers = {"Location": "/elsewhere"} if 300 <= status < 400 else None
                return web.Response(
                    status=status, body=body, content_type=content_type, headers=headers
                )
            if fault == "reset":
                assert request.transport is not None
                request.transport.close()
                return web.Response()
            page = int(request.query.get("page", "1"))
            if page == 1:
                self.walk_starts.append(asyncio.get_running_loop().time())
            size = int(request.query.get("page_size", "100"))
            if page == 2 and self.walk_hooks:
                self.walk_hooks.popleft()()
            items = list(self.calls.values())
            pages = max(1, -(-len(items) // size))
            if page > pages:
                return web.json_response({"code": "404", "message": "no such page"}, status=404)
            body: dict[str, Any] = {
                "calls": items[(page - 1) * size : page * size],
                "current_page": str(page),
                "pages": str(pages),
                "page_size": str(size),
            }
            if page < pages:
                body["next_page"] = str(page + 1)
                body["next_page_uri"] = f"/cc/accounts/1234/calls?page={page + 1}"
            return web.json_response(body)
        finally:
            self.in_flight -= 1


@pytest.fixture
async def calls_server() -> AsyncIterator[tuple[CallsServer, Vonage]]:
    server = CallsServer()
    test_server = TestServer(server.app, host="127.0.0.1")
    await test_server.start_server()
    client = Vonage(vbc_auth=BearerToken("tok"), vbc_url=str(test_server.make_url("/t/vbc.prod")))
    yield server, client
    await client.aclose()
    await test_server.close()


class Recorder:
    def __init__(self, events: AsyncIterator[Any]) -> None:
        self.seen: list[Any] = []
        self.task = asyncio.create_task(self._run(events))

    async def _run(self, events: AsyncIterator[Any]) -> None:
        async for event in events:
            self.seen.append(event)

    def count(self, kind: type) -> Counter[str]:
        return Counter(e.call.call_id for e in self.seen if isinstance(e, kind))

    async def until(self, predicate: Any, timeout: float = 5.0) -> None:
        for _ in range(int(timeout / 0.02)):
            if predicate():
                return
            if self.task.done():
                self.task.result()
            await asyncio.sleep(0.02)
        raise AssertionError(f"timed out; seen {self.seen[-5:]}")

    async def stop(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


async def test_calls_start_and_end_once_across_faults_and_shifting_pages(
    calls_server: tuple[CallsServer, Vonage],
) -> None:
    server, client = calls_server
    fillers = [f"f{n}" for n in range(6)]
    for filler in fillers:  # long-lived calls, so every walk spans several pages
        server.add(filler)
    recorder = Recorder(client.telephony.calls.watch(interval=0.02, backoff=FAST, page_size=2))
    await recorder.until(lambda: recorder.seen)
    snapshot = recorder.seen[0]
    assert isinstance(snapshot, Snapshot)
    assert [r.call.call_id for r in snapshot.calls] == fillers

    faults = ["500", "reset", "429", ""]
    ids = []
    popped: list[str] = []

    def end_the_front_call() -> None:
        # Mid-walk, the call at the front ends: every later call shifts one place up,
        # and one of them is never on the page the walker reads next.
        front = next(iter(server.calls))
        if front in fillers:
            popped.append(front)
            server.calls.pop(front)

    for n in range(12):
        call_id = f"c{n}"
        ids.append(call_id)
        server.faults.append(faults[n % len(faults)])
        server.add(call_id)
        if n % 2 == 0:
            server.walk_hooks.append(end_the_front_call)
        await recorder.until(lambda call_id=call_id: recorder.count(CallStarted)[call_id])
        server.calls[call_id]["status"] = "on-call"
        server.calls[call_id]["legs"][0]["status"] = "on-call"
        await recorder.until(lambda call_id=call_id: recorder.count(CallUpdated)[call_id])
        if n % 2:
            server.faults.append("500")
        server.calls.pop(call_id)
    await recorder.until(lambda: all(recorder.count(CallEnded)[i] for i in ids))
    await asyncio.sleep(0.3)  # room for a duplicate to appear
    await recorder.stop()

    assert len(popped) >= 4
    assert recorder.count(CallStarted) == Counter(ids)
    assert recorder.count(CallEnded) == Counter([*ids, *popped])
    assert server.max_in_flight <= 4  # one walker, at most `concurrency` pages at once


async def test_a_live_call_that_slips_between_pages_is_not_ended(
    calls_server: tuple[CallsServer, Vonage],
) -> None:
    server, client = calls_server
    for n in range(4):
        server.add(f"k{n}")
    recorder = Recorder(client.telephony.calls.watch(interval=0.02, backoff=FAST, page_size=2))
    await recorder.until(lambda: recorder.seen)

    def shift() -> None:  # k2 moves to the front while page 1 is already read
        server.calls = {"k2": server.calls.pop("k2"), **server.calls}

    server.walk_hooks.append(shift)
    await asyncio.sleep(0.3)
    await recorder.stop()
    assert not recorder.count(CallEnded), "k2 was live all along"


async def test_rate_limits_slow_the_interval_instead_of_failing(
    calls_server: tuple[CallsServer, Vonage],
) -> None:
    server, client = calls_server
    watch = client.telephony.calls.watch(interval=0.05, backoff=FAST)
    recorder = Recorder(watch)
    await recorder.until(lambda: recorder.seen)
    hub = client.telephony.calls._hubs[("self", None)]
    server.always = "429"
    await asyncio.sleep(0.5)
    assert hub.source.interval > 0.05  # stretched
    during = server.requests
    server.always = None
    server.add("after")
    await recorder.until(lambda: recorder.count(CallStarted)["after"])
    assert hub.source.interval == 0.05  # back to normal after a success
    await recorder.stop()
    assert during < 40  # a 429 storm is not hammered


async def test_consumers_share_one_poller_and_cancel_cleanly(
    calls_server: tuple[CallsServer, Vonage],
) -> None:
    server, client = calls_server
    first = Recorder(client.telephony.calls.watch(interval=0.05))
    second = Recorder(client.telephony.calls.watch(interval=0.05))
    await first.until(lambda: first.seen and second.seen)
    server.add("shared")
    await first.until(
        lambda: first.count(CallStarted)["shared"] and second.count(CallStarted)["shared"]
    )
    assert server.max_in_flight == 1
    assert len(client.telephony.calls._hubs) == 1
    await first.stop()
    await second.stop()
    hub = client.telephony.calls._hubs[("self", None)]
    assert not hub.running


async def test_bad_watch_arguments_are_refused_before_sending(
    calls_server: tuple[CallsServer, Vonage],
) -> None:
    server, client = calls_server
    with pytest.raises(errors.ValidationError):
        client.telephony.calls.watch(interval=0)
    with pytest.raises(errors.ValidationError):
        client.telephony.calls.watch(extension="x/../y")
    with pytest.raises(errors.ValidationError):
        client.telephony.calls.watch("../other")
    assert server.requests == 0


async def test_a_malformed_answer_is_retried_not_fatal(
    calls_server: tuple[CallsServer, Vonage],
) -> None:
    server, client = calls_server
    recorder = Recorder(client.telephony.calls.watch(interval=0.02, backoff=FAST))
    await recorder.until(lambda: recorder.seen)
    server.faults.extend(["not-an-object", "bad-item"])
    server.add("later")
    await recorder.until(lambda: recorder.count(CallStarted)["later"])
    assert not server.faults and not recorder.task.done()
    await recorder.stop()
    assert recorder.count(CallStarted) == Counter(["later"])  # "x" never counted as a call


@pytest.mark.parametrize("fault", sorted(BAD_ANSWERS))
async def test_a_bad_answer_is_retried_and_ends_no_live_call(
    calls_server: tuple[CallsServer, Vonage], fault: str
) -> None:
    server, client = calls_server
    server.add("lives-on", "answered")
    recorder = Recorder(client.telephony.calls.watch(interval=0.02, backoff=FAST))
    await recorder.until(lambda: recorder.seen)
    server.faults.extend([fault, fault])
    await recorder.until(lambda: not server.faults)
    server.add("later")
    await recorder.until(lambda: recorder.count(CallStarted)["later"])
    assert not recorder.task.done()
    await recorder.stop()
    # A bad answer is not an empty list: the call that lives on was neither ended nor
    # started twice.
    assert recorder.count(CallEnded) == Counter(), recorder.seen
    assert recorder.count(CallStarted) == Counter(["later"])


# -- issue 22, rule 2: tokens expire or are revoked at any time; only a refused grant ends --


def oauth_client(server: CallsServer, url: str, **kw: Any) -> Vonage:
    auth = OAuth2("app", "app-secret", "jdoe", "s3cret", token_url=url + "/token")
    return Vonage(vbc_auth=auth, vbc_url=url + "/t/vbc.prod", **kw)


@pytest.fixture
async def oauth_server() -> AsyncIterator[tuple[CallsServer, Vonage]]:
    server = CallsServer()
    test_server = TestServer(server.app, host="127.0.0.1")
    await test_server.start_server()
    client = oauth_client(server, str(test_server.make_url("")).rstrip("/"))
    yield server, client
    await client.aclose()
    await test_server.close()


async def test_a_revoked_token_whose_successor_is_refused_once_is_recovered(
    oauth_server: tuple[CallsServer, Vonage],
) -> None:
    server, client = oauth_server
    recorder = Recorder(client.telephony.calls.watch(interval=0.02, backoff=FAST))
    await recorder.until(lambda: recorder.seen)
    server.tokens.clear()  # revoked: the next page gets 401, and so does the new token once
    server.faults.append("")
    server.faults.append("401")
    await recorder.until(lambda: not server.faults)
    server.add("after-revoke")
    await recorder.until(lambda: recorder.count(CallStarted)["after-revoke"])
    assert server.grants >= 2
    await recorder.stop()


@pytest.mark.parametrize("hiccup", ["temporarily_unavailable", "500"])
async def test_a_token_endpoint_hiccup_is_recovered(
    oauth_server: tuple[CallsServer, Vonage], hiccup: str
) -> None:
    server, client = oauth_server
    recorder = Recorder(client.telephony.calls.watch(interval=0.02, backoff=FAST))
    await recorder.until(lambda: recorder.seen)
    server.token_faults.extend([hiccup] * 3)  # more than the transport's own retries
    server.tokens.clear()
    await recorder.until(lambda: not server.token_faults)
    server.add("after-hiccup")
    await recorder.until(lambda: recorder.count(CallStarted)["after-hiccup"])
    await recorder.stop()


@pytest.mark.parametrize("refusal", ["invalid_grant", "invalid_client"])
async def test_a_refused_grant_ends_the_watch(
    oauth_server: tuple[CallsServer, Vonage], refusal: str
) -> None:
    server, client = oauth_server
    recorder = Recorder(client.telephony.calls.watch(interval=0.02, backoff=FAST))
    await recorder.until(lambda: recorder.seen)
    server.token_faults.extend([refusal] * 5)
    server.tokens.clear()
    with pytest.raises(errors.AuthenticationError) as caught:
        await asyncio.wait_for(recorder.task, 5)
    assert caught.value.error == refusal
    assert "s3cret" not in str(caught.value) and "app-secret" not in str(caught.value)


async def test_a_strategy_with_no_grant_left_ends_the_watch() -> None:
    # Only a refresh token: once the endpoint turns it down (here with an OAuth error that
    # alone would not be fatal) no grant is left to try, and the watch must not go on for ever.
    server = CallsServer()
    test_server = TestServer(server.app, host="127.0.0.1")
    await test_server.start_server()
    base = str(test_server.make_url("")).rstrip("/")
    auth = OAuth2("app", "app-secret", refresh_token="rt-1", token_url=base + "/token")
    client = Vonage(vbc_auth=auth, vbc_url=base + "/t/vbc.prod")
    recorder = Recorder(client.telephony.calls.watch(interval=0.02, backoff=FAST))
    await recorder.until(lambda: recorder.seen)
    server.token_faults.append("temporarily_unavailable")
    server.tokens.clear()
    with pytest.raises(errors.AuthenticationError) as caught:
        await asyncio.wait_for(recorder.task, 5)
    assert caught.value.error == "invalid_grant"
    assert "no usable grant left" in str(caught.value)
    await client.aclose()
    await test_server.close()


# -- rule 6: closing the client mid-walk ends every watch cleanly ---------------------------


async def test_closing_the_client_mid_walk_ends_the_watch_cleanly(
    calls_server: tuple[CallsServer, Vonage],
) -> None:
    server, client = calls_server
    for n in range(10):
        server.add(f"w{n}")
    server.delay = 0.05  # a walk of 10 pages takes half a second
    recorder = Recorder(client.telephony.calls.watch(interval=0.01, page_size=1))
    await recorder.until(lambda: recorder.seen)
    await asyncio.sleep(0.12)  # mid-walk
    # Another watcher that takes its time to stop: the walk goes on meanwhile.
    client._transport.on_close(lambda: asyncio.sleep(0.2))
    client._transport._closers.reverse()
    await client.aclose()
    await asyncio.wait_for(recorder.task, 1.0)  # ended, without an error
    assert client.closed


# -- rule 7: the watch lives within the token's quota by default ----------------------------


def test_the_default_interval_spends_half_the_quota() -> None:
    assert default_interval(None) == 12.0  # VBC's default 10 a minute: 5 for the watch
    assert default_interval(RateLimit(calls=60, period=60.0)) == 2.0


async def test_the_default_interval_follows_the_client_s_rate_limit_and_counts_pages() -> None:
    server = CallsServer()
    for n in range(6):
        server.add(f"p{n}")
    test_server = TestServer(server.app, host="127.0.0.1")
    await test_server.start_server()
    # 1,200 a minute: half of it is 10 pages a second, so 0.1 s a page, 0.3 s a 3-page walk.
    client = Vonage(
        vbc_auth=BearerToken("tok"),
        vbc_url=str(test_server.make_url("/t/vbc.prod")),
        vbc_rate_limit=RateLimit(calls=1200, period=60.0),
    )
    recorder = Recorder(client.telephony.calls.watch(page_size=2))
    await asyncio.sleep(1.5)
    await recorder.stop()
    await client.aclose()
    await test_server.close()
    starts = server.walk_starts
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert len(starts) >= 3, "the default is not the old 2 s"
    assert all(gap >= 0.28 for gap in gaps), "each page of a walk counts"


async def test_a_chosen_interval_that_cannot_fit_is_said_once_at_start(
    calls_server: tuple[CallsServer, Vonage], caplog: pytest.LogCaptureFixture
) -> None:
    _, client = calls_server
    with caplog.at_level(logging.WARNING, "vonage_async"):
        recorder = Recorder(client.telephony.calls.watch(interval=0.5))
        client.telephony.calls.watch(interval=0.5)  # joins the running watch: no new warning
        await recorder.until(lambda: recorder.seen)
        await recorder.stop()
    said = [r for r in caplog.records if "quota" in r.getMessage()]
    assert len(said) == 1 and "0.5" in said[0].getMessage()


# -- a walk that finishes after its watch stopped leaves nothing for the next watch ---------


async def test_a_walk_finishing_after_a_reset_leaves_no_stale_calls(
    calls_server: tuple[CallsServer, Vonage],
) -> None:
    from vonage_async.telephony._watch import ActiveCallsSource

    # The hub forgets (resets the source) as soon as its last consumer leaves, then cancels
    # its loop; a walk whose last page arrives in between used to store its calls after the
    # reset, and the next watch carried them (a call that had ended shown as live) or took a
    # first slip between pages for a second absence (a live call ended).
    server, client = calls_server
    for call_id in ("a", "b", "c"):
        server.add(call_id)
    calls = client.telephony.calls
    source = ActiveCallsSource(
        lambda page_size: calls.list("self", page_size=page_size),
        is_closed=lambda: False,
        extension=None,
        interval=0.01,
        page_size=1,
        quota=None,
    )
    server.delay = 0.1
    walk = asyncio.create_task(source.read(None, first=True))
    for _ in range(500):
        if server.requests >= 3:  # the last page is on its way
            break
        await asyncio.sleep(0.01)
    source.reset()
    await walk
    server.delay = 0.0
    del server.calls["a"]  # ended while nobody watched
    fresh = await source.read(None, first=True)
    assert fresh is not None
    assert sorted(call_id for _, call_id in fresh.calls) == ["b", "c"], "a stale call carried"
