"""The legacy Business Solutions API (seed 003) against a loopback server that logs in like the
real one (JSESSIONID, HDAP-ID and AWSALB cookies) and answers with the seed's examples."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from yarl import URL

from vonage_async import Backoff, RetryPolicy, SessionLogin, Vonage, errors
from vonage_async.legacy import (
    AccountInactiveError,
    BadPhoneNumberError,
    CallDirection,
    CallHistoryRecord,
    CallResult,
    ExtensionStatus,
    InternationalBlockedError,
    InvalidCallIdError,
    LineStatus,
    NoExtensionError,
    RecordingNotFoundError,
    RecordingNotPermittedError,
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

DIRECTORY = {
    "conferences": {"8991": {"name": "Main Conference", "calls": 1}},
    "queues": {"9013": {"queueId": "3421", "name": "Billing Queue", "calls": 0}},
    "extensions": {
        "301": {"status": "busy", "name": "John Doe", "loginName": "jdoe"},
        "309": {"status": "available", "name": "David Smith", "loginName": "dsmith"},
        "310": {"status": "dnd", "name": "Sarah Roberts", "loginName": "sroberts"},
    },
}
PRESENCE = {
    "status": "outbound",
    "duration": 10325,
    "onCallWith": "15557852675",
    "onCallWithName": "Jane Doe",
    "isRecorded": "true",
    "startedWithClickToCall": "false",
    "presenceCallId": "4182737411359658008242",
    "customTag": "",
}
EXTENSION = {
    "details": {
        "presence": PRESENCE,
        "name": "Sarah Smith",
        "type": "extension",
        "extensionNumber": "301",
        "loginName": "ssmith",
    }
}
CONFERENCE = {
    "details": {"participants": ["301", "302", "15551234567"]},
    "name": "Sales Conference ",
    "type": "conference",
    "extensionNumber": "199",
}
QUEUE = {
    "details": {
        "numberOfCalls": "1",
        "callersOnHold": "0",
        "averageWaitTime": "0",
        "agentsAvailable": "5",
        "callersWaiting": "0",
        "agentsBusy": "1",
        "agentsLoggedIn": "6",
    },
    "queueId": "1234",
    "name": "Sales Queue",
    "type": "queue",
    "extensionNumber": "9004",
}
HISTORY = {
    "callHistoryList": [
        {
            "timestamp": "1/18/2013 03:57:00 PM",
            "from": "19902223333",
            "to": "17701234567",
            "direction": "Outbound",
            "extension": "301",
            "customTag": "",
            "callerId": "John Doe",
            "duration": 410,
            "result": "Answered",
            "recordingUrl": "",
        },
        {
            "timestamp": "1/18/2013 03:45:00 PM",
            "from": "17701234567",
            "to": "19902223333",
            "direction": "Inbound",
            "extension": "301",
            "customTag": "sales",
            "callerId": "John Doe",
            "duration": "325",
            "result": "Voicemail",
            "recordingUrl": "https://my.vonagebusiness.com/recordingplayer/38723872582735",
        },
    ]
}
COOKIES = ("JSESSIONID", "HDAP-ID", "AWSALB")


class LegacyServer:
    """The legacy host: a login, session cookies, and one answer per path (tests replace them)."""

    def __init__(self) -> None:
        self.logins = 0
        self.sessions: set[str] = set()
        self.seen: list[web.Request] = []  # requests under /presence that got past the login
        self.answers: dict[str, Handler] = {
            "/presence/rest/directory": _json(DIRECTORY),
            "/presence/rest/extension/301": _json(EXTENSION),
            "/presence/rest/conference/199": _json(CONFERENCE),
            "/presence/rest/queue/9004": _json(QUEUE),
            "/presence/rest/callhistory/301": _json(HISTORY),
        }
        self.app = web.Application()
        self.app.router.add_get("/appserver/rest/user/null", self.login)
        self.app.router.add_get("/presence/{tail:.*}", self.presence)

    async def login(self, request: web.Request) -> web.Response:
        if (request.headers.get("login"), request.headers.get("password")) != ("alice", "s3cret"):
            return web.Response(status=401, text="LOGIN FAILED")
        self.logins += 1
        session = f"session-{self.logins}"
        self.sessions.add(session)
        response = web.Response(text="{}", content_type="application/json")
        response.set_cookie("JSESSIONID", session, path="/")
        response.set_cookie("HDAP-ID", f"hdap-{self.logins}", path="/")
        response.set_cookie("AWSALB", f"lb-{self.logins}", path="/")
        return response

    async def presence(self, request: web.Request) -> web.StreamResponse:
        if request.cookies.get("JSESSIONID") not in self.sessions or not all(
            request.cookies.get(name) for name in COOKIES
        ):
            return web.Response(status=403, text="USER NOT LOGGED IN")
        self.seen.append(request)
        answer = self.answers.get(request.path)
        if answer is None:
            return web.Response(status=404, text="NOT FOUND")
        return await answer(request)

    def paths(self) -> list[str]:
        return [r.path for r in self.seen]


def _json(body: Any) -> Handler:
    async def answer(request: web.Request) -> web.Response:
        return web.json_response(body)

    return answer


def _text(status: int, text: str) -> Handler:
    async def answer(request: web.Request) -> web.Response:
        return web.Response(status=status, text=text)

    return answer


@pytest.fixture
async def server() -> AsyncIterator[tuple[LegacyServer, TestServer]]:
    legacy = LegacyServer()
    test_server = TestServer(legacy.app, host="127.0.0.1")
    await test_server.start_server()
    try:
        yield legacy, test_server
    finally:
        await test_server.close()


@pytest.fixture
async def host(server: tuple[LegacyServer, TestServer]) -> LegacyServer:
    return server[0]


@pytest.fixture
async def client(server: tuple[LegacyServer, TestServer]) -> AsyncIterator[Vonage]:
    test_server = server[1]
    async with Vonage(
        legacy_auth=SessionLogin("alice", "s3cret"),
        legacy_url=str(test_server.make_url("/")),
        vbc_url=str(test_server.make_url("/t/vbc.prod")),
        retry=RetryPolicy(attempts=3, backoff=Backoff(initial=0.01, maximum=0.01)),
    ) as vonage:
        yield vonage


# -- session ------------------------------------------------------------------------------------


async def test_the_session_cookies_come_back_and_an_expired_session_logs_in_again(
    client: Vonage, host: LegacyServer
) -> None:
    await client.legacy.directory()
    first = host.seen[-1].cookies
    assert {name: first[name] for name in COOKIES} == {
        "JSESSIONID": "session-1",
        "HDAP-ID": "hdap-1",
        "AWSALB": "lb-1",
    }

    host.sessions.clear()  # the server times the session out
    await client.legacy.directory()

    assert host.logins == 2
    assert host.seen[-1].cookies["JSESSIONID"] == "session-2"


# -- click to call ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "dialed"),
    [
        ("+1 (678) 807-9084", "16788079084"),
        ("678.807.9084", "6788079084"),
        ("011 44 8807 9084", "0114488079084"),
        ("30", "30"),
        (501, "501"),
        ("123456", "123456"),
    ],
)
async def test_click_to_call_dials_the_number_without_its_formatting(
    client: Vonage, host: LegacyServer, number: str | int, dialed: str
) -> None:
    host.answers[f"/presence/rest/clicktocall/{dialed}"] = _text(200, "OK")

    assert await client.legacy.click_to_call(number) is None

    assert host.paths() == [f"/presence/rest/clicktocall/{dialed}"]
    assert host.seen[0].method == "GET"


@pytest.mark.parametrize(
    "number",
    ["678x807x9084", "1", "", "0114488", "12+34", "++16788079084", "#301", "١٢٣٤", None, True],
)
async def test_click_to_call_refuses_a_bad_number_before_sending(
    client: Vonage, host: LegacyServer, number: Any
) -> None:
    with pytest.raises(errors.ValidationError) as caught:
        await client.legacy.click_to_call(number)

    assert caught.value.parameter == "number"
    assert host.logins == 0 and host.seen == []


@pytest.mark.parametrize(
    ("status", "text", "error", "base", "words"),
    [
        (400, "BAD USER PHONE", BadPhoneNumberError, errors.InvalidRequestError, "refused"),
        (
            403,
            "INTERNATIONAL BLOCKED",
            InternationalBlockedError,
            errors.PermissionDeniedError,
            "international dialing is blocked",
        ),
        (404, "USER HAS NO EXTENSIONS", NoExtensionError, errors.NotFoundError, "no extension"),
        (404, "ACCOUNT INACTIVE", AccountInactiveError, errors.NotFoundError, "not active"),
        (500, "ERROR", errors.ServerError, errors.ServerError, "system error"),
    ],
)
async def test_click_to_call_reasons_become_typed_errors_that_say_what_happened(
    client: Vonage,
    host: LegacyServer,
    status: int,
    text: str,
    error: type[errors.HTTPError],
    base: type[errors.HTTPError],
    words: str,
) -> None:
    host.answers["/presence/rest/clicktocall/0114488079084"] = _text(status, text)

    with pytest.raises(base) as caught:
        await client.legacy.click_to_call("0114488079084")

    assert type(caught.value) is error
    assert caught.value.status == status
    assert caught.value.code == text
    assert words in caught.value.message and words in str(caught.value)
    assert host.logins == 1  # a 403 reason is not mistaken for an expired session


async def test_click_to_call_is_never_retried_so_a_phone_never_rings_twice(
    client: Vonage, host: LegacyServer
) -> None:
    host.answers["/presence/rest/clicktocall/301"] = _text(503, "Service Unavailable")
    host.answers["/presence/rest/directory"] = _text(503, "Service Unavailable")

    with pytest.raises(errors.ServerError):
        await client.legacy.click_to_call("301")
    assert len(host.seen) == 1

    with pytest.raises(errors.ServerError):
        await client.legacy.directory()  # a read is retried: the policy is live
    assert len(host.seen) == 1 + 3


# -- directory, extension, conference, queue ----------------------------------------------------


async def test_directory_lists_every_bridge_queue_and_extension_by_number(
    client: Vonage, host: LegacyServer
) -> None:
    directory = await client.legacy.directory()

    assert host.paths() == ["/presence/rest/directory"]
    assert sorted(directory.extensions) == ["301", "309", "310"]
    john = directory.extensions["301"]
    assert (john.number, john.name, john.login_name) == ("301", "John Doe", "jdoe")
    assert john.status is ExtensionStatus.BUSY
    assert directory.extensions["310"].status is ExtensionStatus.DND
    assert directory.conferences["8991"].name == "Main Conference"
    assert directory.conferences["8991"].calls == 1
    assert directory.queues["9013"].queue_id == "3421"
    assert directory.queues["9013"].number == "9013"


async def test_extension_shows_its_active_call(client: Vonage, host: LegacyServer) -> None:
    info = await client.legacy.extension("301")

    assert host.paths() == ["/presence/rest/extension/301"]
    assert (info.extension_number, info.name, info.login_name) == ("301", "Sarah Smith", "ssmith")
    [call] = info.calls
    assert call.status is LineStatus.OUTBOUND
    assert call.duration_ms == 10325
    assert call.is_recorded is True and call.started_with_click_to_call is False
    assert call.presence_call_id == "4182737411359658008242"
    assert (call.on_call_with, call.on_call_with_name) == ("15557852675", "Jane Doe")


@pytest.mark.parametrize(("presence", "count"), [(None, 0), ([PRESENCE, PRESENCE], 2)])
async def test_extension_without_a_call_or_with_several(
    client: Vonage, host: LegacyServer, presence: Any, count: int
) -> None:
    details = {k: v for k, v in EXTENSION["details"].items() if k != "presence"}
    if presence is not None:
        details["presence"] = presence
    host.answers["/presence/rest/extension/7020"] = _json({"details": details})

    info = await client.legacy.extension(7020)

    assert len(info.calls) == count
    assert info.name == "Sarah Smith"


@pytest.mark.parametrize("method", ["extension", "conference", "queue"])
@pytest.mark.parametrize("number", ["1", "1234567", "30a", "..", "", 3.5])
async def test_extension_numbers_are_checked_before_sending(
    client: Vonage, host: LegacyServer, method: str, number: Any
) -> None:
    with pytest.raises(errors.ValidationError) as caught:
        await getattr(client.legacy, method)(number)

    assert caught.value.parameter == "number"
    assert host.seen == [] and host.logins == 0


async def test_conference_lists_its_participants(client: Vonage, host: LegacyServer) -> None:
    bridge = await client.legacy.conference("199")

    assert host.paths() == ["/presence/rest/conference/199"]
    assert bridge.participants == ["301", "302", "15551234567"]
    assert (bridge.extension_number, bridge.type) == ("199", "conference")


async def test_queue_counts_decode_from_strings(client: Vonage, host: LegacyServer) -> None:
    queue = await client.legacy.queue("9004")

    assert host.paths() == ["/presence/rest/queue/9004"]
    assert queue.number_of_calls == 1
    assert (queue.agents_available, queue.agents_busy, queue.agents_logged_in) == (5, 1, 6)
    assert (queue.queue_id, queue.name, queue.extension_number) == ("1234", "Sales Queue", "9004")


# -- call history -------------------------------------------------------------------------------


async def test_call_history_sends_every_filter_and_decodes_the_records(
    client: Vonage, host: LegacyServer
) -> None:
    records = await client.legacy.call_history(
        "301",
        start=datetime(2013, 1, 18, 3, 45),
        end=datetime(2013, 1, 19, 1, 0, tzinfo=timezone(timedelta(hours=-5))),
        from_="1770",
        to="1990",
        result={"voicemail", CallResult.ANSWERED},
        caller_id="john",
        custom_tag="Sales",
        min_duration=0,
        max_duration=timedelta(minutes=10),
        is_recorded=True,
    )

    [request] = host.seen
    assert request.path == "/presence/rest/callhistory/301"
    assert dict(request.query) == {
        "start": "2013-01-18T03:45:00",
        "end": "2013-01-19T06:00:00",
        "from": "1770",
        "to": "1990",
        "result": "answered,voicemail",
        "callerid": "john",
        "customtag": "Sales",
        "minduration": "0",
        "maxduration": "600",
        "isrecorded": "true",
    }
    newest, older = records
    assert newest.timestamp == datetime(2013, 1, 18, 15, 57, tzinfo=timezone.utc)
    assert newest.direction is CallDirection.OUTBOUND
    assert newest.result is CallResult.ANSWERED
    assert newest.presence_call_id is None
    assert (older.from_, older.to, older.duration) == ("17701234567", "19902223333", 325)
    assert older.result is CallResult.VOICEMAIL
    assert older.presence_call_id == "38723872582735"


async def test_call_history_without_filters_sends_no_query(
    client: Vonage, host: LegacyServer
) -> None:
    await client.legacy.call_history(301)

    assert dict(host.seen[0].query) == {}


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"extension": "1"}, "extension"),
        ({"result": "missed"}, "result"),
        ({"result": []}, "result"),
        ({"start": "2013-01-18"}, "start"),
        ({"min_duration": -1}, "min_duration"),
        ({"is_recorded": "yes"}, "is_recorded"),
        ({"caller_id": ""}, "caller_id"),
    ],
)
async def test_call_history_filters_are_checked_before_sending(
    client: Vonage, host: LegacyServer, kwargs: dict[str, Any], parameter: str
) -> None:
    extension = kwargs.pop("extension", "301")
    with pytest.raises(errors.ValidationError) as caught:
        await client.legacy.call_history(extension, **kwargs)
    with pytest.raises(errors.ValidationError):
        client.legacy.call_history_all(extension, **kwargs)  # checked at call time too

    assert caught.value.parameter == parameter
    assert host.seen == []


async def _walk(records: AsyncIterator[CallHistoryRecord]) -> list[CallHistoryRecord]:
    async def collect() -> list[CallHistoryRecord]:
        return [r async for r in records]

    return await asyncio.wait_for(collect(), 5)  # a walk that never ends fails, not hangs


def _stamp(moment: datetime) -> str:
    return f"{moment.month}/{moment.day}/{moment.year} {moment:%I:%M:%S %p}"


def _history_server(calls: list[tuple[datetime, str]], *, ignore_end: bool = False) -> Handler:
    """Call history as the service does it: filter by start/end (inclusive), newest first,
    at most 100."""

    async def answer(request: web.Request) -> web.Response:
        def when(key: str) -> datetime | None:
            text = request.query.get(key)
            return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S") if text else None

        start, end = when("start"), None if ignore_end else when("end")
        rows = [
            {"timestamp": _stamp(t), "from": caller, "to": "301", "extension": "301"}
            for t, caller in sorted(calls, key=lambda c: c[0], reverse=True)
            if (start is None or t >= start) and (end is None or t <= end)
        ]
        return web.json_response({"callHistoryList": rows[:100]})

    return answer


async def test_call_history_all_walks_back_through_windows_without_repeats(
    client: Vonage, host: LegacyServer
) -> None:
    base = datetime(2024, 3, 1, 12, 0, 0)
    calls = [(base - timedelta(minutes=i), f"1555000{i:04d}") for i in range(250)]
    # Three calls in the same second straddle the first window's edge.
    edge = calls[99][0]
    calls += [(edge, "15559990001"), (edge, "15559990002")]
    host.answers["/presence/rest/callhistory/301"] = _history_server(calls)

    seen = await _walk(client.legacy.call_history_all("301", result="answered"))

    assert len(seen) == len(calls)
    assert len({(r.timestamp, r.from_) for r in seen}) == len(calls)
    assert [r.timestamp for r in seen] == sorted((r.timestamp for r in seen), reverse=True)
    assert len(host.seen) == 3
    assert [r.query.get("end") for r in host.seen] == [
        None,
        "2024-03-01T10:21:01",  # the whole second of the oldest of the first 100
        "2024-03-01T08:44:01",
    ]
    assert all(r.query["result"] == "answered" for r in host.seen)


async def test_call_history_all_stops_at_start(client: Vonage, host: LegacyServer) -> None:
    base = datetime(2024, 3, 1, 12, 0, 0)
    calls = [(base - timedelta(minutes=i), f"1555000{i:04d}") for i in range(500)]
    host.answers["/presence/rest/callhistory/301"] = _history_server(calls)
    start = base - timedelta(minutes=150)

    seen = await _walk(client.legacy.call_history_all("301", start=start))

    assert len(seen) == 151
    assert len(host.seen) == 2
    assert all(r.query["start"] == "2024-03-01T09:30:00" for r in host.seen)


async def test_call_history_all_steps_past_a_second_with_more_than_100_calls(
    client: Vonage, host: LegacyServer
) -> None:
    busy = datetime(2024, 3, 1, 12, 0, 0)
    calls = [(busy, f"1555000{i:04d}") for i in range(120)]
    calls += [(busy - timedelta(seconds=5), "15551112222")]
    host.answers["/presence/rest/callhistory/301"] = _history_server(calls)

    seen = await _walk(client.legacy.call_history_all("301"))

    assert len(seen) == 101 and len({r.from_ for r in seen}) == 101
    assert seen[-1].from_ == "15551112222"
    assert [r.query.get("end") for r in host.seen] == [
        None,
        "2024-03-01T12:00:01",  # the whole busy second: nothing new
        "2024-03-01T12:00:00",  # a second back: still the busy second
        "2024-03-01T11:59:59",
    ]


async def test_call_history_all_ends_when_the_server_ignores_end(
    client: Vonage, host: LegacyServer, caplog: pytest.LogCaptureFixture
) -> None:
    base = datetime(2024, 3, 1, 12, 0, 0)
    calls = [(base - timedelta(minutes=i), f"1555000{i:04d}") for i in range(300)]
    host.answers["/presence/rest/callhistory/301"] = _history_server(calls, ignore_end=True)

    seen = await _walk(client.legacy.call_history_all("301"))

    assert len(seen) == 100
    assert "did not move back" in caplog.text


def _seed_history_server(times: list[datetime], *, precise: bool) -> Handler:
    """Call history written from seed 003 alone: ``start``/``end`` as ``YYYY-MM-DDTHH:MM:SS``,
    at most 100 records, timestamps shown as ``1/18/2013 03:45:00 PM`` (whole seconds).

    The seed does not say how the service compares a whole-second ``end`` with the times it
    keeps: ``precise`` keeps them to the millisecond (a call at 12:00:05.4 is after an ``end`` of
    12:00:05), otherwise to the second."""

    def kept(t: datetime) -> datetime:
        return t if precise else t.replace(microsecond=0)

    async def answer(request: web.Request) -> web.Response:
        def when(key: str) -> datetime | None:
            text = request.query.get(key)
            return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S") if text else None

        start, end = when("start"), when("end")
        rows = [
            {"timestamp": _stamp(t), "from": f"1555{i:07d}", "to": "301", "extension": "301"}
            for i, t in sorted(enumerate(times), key=lambda c: c[1], reverse=True)
            if (start is None or kept(t) >= start) and (end is None or kept(t) <= end)
        ]
        return web.json_response({"callHistoryList": rows[:100]})

    return answer


@pytest.mark.parametrize("precise", [True, False], ids=["ms-times", "second-times"])
async def test_call_history_all_loses_nothing_at_a_busy_window_boundary(
    client: Vonage, host: LegacyServer, precise: bool
) -> None:
    # 260 calls, 5 a second at .1 .3 .5 .7 .9 with 3 in the newest second: each window of 100
    # ends part-way through a second, whose other calls come after its whole-second ``end``.
    newest = datetime(2024, 3, 1, 12, 0, 0)
    times = [newest - timedelta(seconds=0.5 + 0.2 * i) for i in range(260)]
    host.answers["/presence/rest/callhistory/301"] = _seed_history_server(times, precise=precise)

    seen = await _walk(client.legacy.call_history_all("301"))

    assert sorted(r.from_ or "" for r in seen) == sorted(f"1555{i:07d}" for i in range(260))
    assert host.seen[1].query["end"] == "2024-03-01T11:59:40"  # the whole of 11:59:39


# -- recordings ---------------------------------------------------------------------------------

RECORDING_ID = "4182737411359658008242"
RECORDING_PATH = f"/presence/rest/callrecording/{RECORDING_ID}"
MP3 = bytes(range(256)) * (5 * 1024 * 1024 // 256)  # 5 MiB


def _mp3(body: bytes, *, cut_after: int | None = None) -> Handler:
    async def answer(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "audio/mpeg"})
        response.content_length = len(body)
        await response.prepare(request)
        end = len(body) if cut_after is None else cut_after
        for i in range(0, end, 256 * 1024):
            await response.write(body[i : min(i + 256 * 1024, end)])
        if cut_after is not None:
            assert request.transport is not None
            request.transport.close()  # the connection drops mid-body
            return response
        await response.write_eof()
        return response

    return answer


async def test_a_recording_streams_in_small_chunks(client: Vonage, host: LegacyServer) -> None:
    host.answers[RECORDING_PATH] = _mp3(MP3)

    sizes = []
    received = bytearray()
    async for chunk in client.legacy.recordings.stream(RECORDING_ID):
        sizes.append(len(chunk))
        received += chunk

    assert host.paths() == [RECORDING_PATH]
    assert bytes(received) == MP3
    assert max(sizes) <= 64 * 1024
    assert len(sizes) >= len(MP3) // (64 * 1024)


async def test_leaving_a_stream_early_releases_the_connection(
    client: Vonage, host: LegacyServer
) -> None:
    host.answers[RECORDING_PATH] = _mp3(MP3)

    async with contextlib.aclosing(client.legacy.recordings.stream(RECORDING_ID)) as chunks:
        async for _ in chunks:
            break

    await client.legacy.directory()  # the client is still usable
    assert host.paths() == [RECORDING_PATH, "/presence/rest/directory"]


async def test_a_recording_downloads_to_a_file(
    client: Vonage, host: LegacyServer, tmp_path: Path
) -> None:
    host.answers[RECORDING_PATH] = _mp3(MP3)
    target = tmp_path / "call.mp3"

    written = await client.legacy.recordings.download(int(RECORDING_ID), target)

    assert written == len(MP3)
    assert target.read_bytes() == MP3
    assert os.listdir(tmp_path) == ["call.mp3"]


async def test_a_failed_download_leaves_no_file(
    client: Vonage, host: LegacyServer, tmp_path: Path
) -> None:
    host.answers[RECORDING_PATH] = _mp3(MP3, cut_after=1024 * 1024)
    target = tmp_path / "call.mp3"

    with pytest.raises(errors.TransportError, match="interrupted"):
        await client.legacy.recordings.download(RECORDING_ID, str(target))

    assert os.listdir(tmp_path) == []


async def test_a_failed_download_keeps_the_old_file(
    client: Vonage, host: LegacyServer, tmp_path: Path
) -> None:
    host.answers[RECORDING_PATH] = _mp3(MP3, cut_after=100_000)
    target = tmp_path / "call.mp3"
    target.write_bytes(b"previous")

    with pytest.raises(errors.TransportError):
        await client.legacy.recordings.download(RECORDING_ID, target)

    assert target.read_bytes() == b"previous"
    assert os.listdir(tmp_path) == ["call.mp3"]


@pytest.mark.parametrize(
    ("status", "text", "error", "words"),
    [
        (400, "ILLEGAL CALL ID", InvalidCallIdError, "malformed"),
        (403, "USER NOT PERMITTED", RecordingNotPermittedError, "not permitted"),
        (404, "RECORDING NOT FOUND", RecordingNotFoundError, "no recording"),
    ],
)
async def test_recording_reasons_become_typed_errors_and_no_file(
    client: Vonage,
    host: LegacyServer,
    tmp_path: Path,
    status: int,
    text: str,
    error: type[errors.HTTPError],
    words: str,
) -> None:
    host.answers[RECORDING_PATH] = _text(status, text)

    with pytest.raises(error) as caught:
        await client.legacy.recordings.download(RECORDING_ID, tmp_path / "call.mp3")
    assert caught.value.code == text and words in str(caught.value)
    with pytest.raises(error):
        async for _ in client.legacy.recordings.stream(RECORDING_ID):
            pass

    assert os.listdir(tmp_path) == []
    assert host.logins == 1


@pytest.mark.parametrize("call_id", ["abc", "", "../1", -5])
async def test_recording_ids_are_checked_when_called(
    client: Vonage, host: LegacyServer, call_id: Any
) -> None:
    with pytest.raises(errors.ValidationError):
        client.legacy.recordings.stream(call_id)
    with pytest.raises(errors.ValidationError):
        await client.legacy.recordings.download(call_id, "unused.mp3")
    with pytest.raises(errors.ValidationError):
        client.legacy.recording_url(call_id)

    assert host.seen == []


async def test_recording_url_points_at_the_player_on_the_legacy_host(
    server: tuple[LegacyServer, TestServer],
) -> None:
    async with Vonage(legacy_auth=SessionLogin("alice", "s3cret")) as vonage:
        assert vonage.legacy.recording_url(RECORDING_ID) == URL(
            f"https://my.vonagebusiness.com/ui/recordingsplayer/{RECORDING_ID}"
        )
    proxied = str(server[1].make_url("/legacy-proxy"))
    async with Vonage(legacy_auth=SessionLogin("alice", "s3cret"), legacy_url=proxied) as vonage:
        url = vonage.legacy.recordings.recording_url(int(RECORDING_ID))
        assert url == server[1].make_url(f"/ui/recordingsplayer/{RECORDING_ID}")
