"""The legacy Business Solutions API (seed 003): click to call, directory, extension
information, call history, recordings, conferences, queues and the Live Status long poll.

Every service takes the login session's cookies (``JSESSIONID`` and/or ``HDAP-ID``, as seed 003
names them), or a login in the ``login``/``password`` headers (``htmlLogin``/``htmlPassword``
query), which opens a session on the spot; Live Status alone never logs in. Errors are plain-text
reasons.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import Any

from aiohttp import web

from ._auth import NOT_LOGGED_IN, Session, Watcher, set_session_cookies
from ._common import Context, ctx, json_response, text_response
from ._query import LEGACY_LOGIN, undocumented
from ._state import Call, Extension, State

Op = Callable[[web.Request, Context, Session], Awaitable[web.StreamResponse]]
_CHUNK = 16 * 1024


def _legacy(
    fn: Op, *, logs_in: bool = True
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """``logs_in=False``: a session must exist already (seed 003 says so of Live Status)."""

    async def handler(request: web.Request) -> web.StreamResponse:
        c = ctx(request)
        session = c.sessions.find(request.cookies)
        if session is None:
            if not logs_in:
                return text_response(NOT_LOGGED_IN, 403)
            login = request.headers.get("login") or request.query.get("htmlLogin")
            if login is None:
                return text_response(NOT_LOGGED_IN, 403)
            password = request.headers.get("password") or request.query.get("htmlPassword")
            if not c.sessions.check(login, password):
                return text_response(NOT_LOGGED_IN, 403)
            session = c.sessions.login(c.state.login_user.id)
        refused = undocumented(request, LEGACY_LOGIN if logs_in else frozenset())
        if refused is not None:
            return refused
        response = await fn(request, c, session)
        if _is_new(request, session) and not response.prepared:
            set_session_cookies(response, session)
        return response

    return handler


def _is_new(request: web.Request, session: Session) -> bool:
    """Whether the session was opened by this request (so its cookies must be sent)."""
    return request.cookies.get("JSESSIONID") != session.jsessionid


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _extension_number(raw: str) -> str | None:
    number = _digits(raw)
    return number if 2 <= len(number) <= 6 else None


# -- presence of one extension in one call -------------------------------------------------------


def _counterpart(state: State, call: Call, ext: str) -> tuple[str, str]:
    """The dial string and name of whoever ``ext`` is on the call with."""
    other = call.to if ext == call.caller_ext else call.from_
    other_ext = state.extensions.get(other)
    if other_ext is not None:
        return other, state.users[other_ext.user_id].name
    return other, call.caller_name if ext == call.callee_ext else ""


def _presence_status(call: Call, ext: str) -> str:
    if call.direction == "intrapbx":
        return "intrapbx"
    return "outbound" if ext == call.caller_ext else "inbound"


def _connected_ms(call: Call) -> int:
    if call.answer_time is None:
        return 0
    return int(((call.end_time or time.time()) - call.answer_time) * 1000)


_CALL_STATUS = {"ringing": "ringing", "on-call": "Connected", "ended": "Disconnected"}


def _status_item(state: State, call: Call, ext: Extension) -> dict[str, str]:
    user = state.users[ext.user_id]
    other, other_name = _counterpart(state, call, ext.number)
    recorded = "true" if call.recorded else "false"
    return {
        "uid": f"{call.presence_call_id}-{other}",
        "accountId": state.account_id,
        "lastCallTime": str(int((call.answer_time or call.start_time) * 1000)),
        "isRecorded": recorded,
        "isRecordingCCR": "false",
        "callername": call.caller_name,
        "isRecordingODCR": recorded,
        "numberOriginallyDialed": call.to if ext.number == call.callee_ext else "",
        "onCallWithName": other_name,
        "userId": str(user.id),
        "tapSessionId": "",
        # The seed names these in lower case and shows them capitalised; emit both.
        "callStatus": _CALL_STATUS[call.status],
        "StartTime": str(int(call.start_time * 1000)),
        "loginName": user.login_name,
        "startedWithClickToCall": "true" if call.click_to_call else "false",
        "available": "false" if ext.dnd else "true",
        "presenceCallId": call.presence_call_id,
        "customTag": call.custom_tag,
        "contactE": user.email,
    }


def _one_or_many(items: list[dict[str, Any]]) -> dict[str, Any] | list[dict[str, Any]]:
    """The server's JSON writer: one element alone, several as a list."""
    return items[0] if len(items) == 1 else items


def live_status_document(
    state: State, numbers: list[str], ended: list[Call], user_id: int
) -> dict[str, Any]:
    """The Live Status answer for these extensions; ``ended`` calls show as Disconnected."""
    mine = state.user_extensions(user_id)
    unavailable = sum(e.dnd for e in mine)
    available = len(mine) - unavailable
    if available and unavailable:
        availability = "MIXED"
    else:
        availability = "UNAVAILABLE" if unavailable else "AVAILABLE"
    entries = []
    for number in numbers:
        ext = state.extensions[number]
        calls = sorted(state.calls_of(number), key=lambda c: c.start_time)
        calls += [c for c in ended if number in c.extensions]
        entry: dict[str, Any] = {
            "name": state.users[ext.user_id].name,
            "status": _presence_status(calls[0], number) if calls else "",
            "extension": number,
            "duration": _connected_ms(calls[0]) if calls else -1,
            "phoneNumbers": [d.phone_number for d in ext.dids],
            "onCallWith": _counterpart(state, calls[0], number)[0] if calls else "",
        }
        if calls:
            entry["statusItems"] = _one_or_many([_status_item(state, c, ext) for c in calls])
        entries.append(entry)
    return {
        "availability": availability,
        "numAvailableExts": available,
        "numUnavailableExts": unavailable,
        "extensions": entries,
    }


# -- Live Status ---------------------------------------------------------------------------------


async def dashui(request: web.Request, c: Context, session: Session) -> web.Response:
    """``GET /presence/dashui``: now (firstRequest), on a change (200) or after the hold (304).

    Without ``firstRequest=true`` every poll is a long poll, the session's first one included.
    """
    user = session.user_id  # concurrent polls are counted per user, across sessions
    c.polls[user] = c.polls.get(user, 0) + 1
    c.max_concurrent_polls = max(c.max_concurrent_polls, c.polls[user])
    try:
        return await _dashui(request, c, session)
    finally:
        c.polls[user] -= 1


async def _dashui(request: web.Request, c: Context, session: Session) -> web.Response:
    """The poll itself (``dashui`` counts concurrent polls around it)."""
    s = c.state
    raw = request.query.get("filterExtension")
    numbers = [n for n in _digits_list(raw) if n in s.extensions] if raw else list(s.extensions)
    key = tuple(numbers)
    if session.polling:
        return text_response("SESSION IN USE BY ANOTHER REQUEST", 409)
    watcher = session.watchers.setdefault(key, Watcher())
    if request.query.get("firstRequest", "").lower() == "true":
        return _deliver(c, session, watcher, numbers, ended=[])
    if watcher.version < 0:  # no firstRequest yet: a long poll for changes from now on
        watcher.version = s.version
    session.polling = True
    try:
        stall = c.faults.take_stall(c.hold)
        deadline = asyncio.get_running_loop().time() + (stall if stall is not None else c.hold)
        while stall is not None or not (
            watcher.showed_disconnected or s.changed_since(numbers, watcher.version)
        ):
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0 or c.closing.is_set():
                return web.Response(status=304)
            try:
                await asyncio.wait_for(s.wait_changed(), remaining)
            except asyncio.TimeoutError:
                return web.Response(status=304)
        ended = s.recent_ended(numbers, watcher.version)
        return _deliver(c, session, watcher, numbers, ended=ended)
    finally:
        session.polling = False


def _digits_list(raw: str) -> list[str]:
    return [n for n in (_digits(part) for part in raw.split(",")) if n]


def _deliver(
    c: Context, session: Session, watcher: Watcher, numbers: list[str], *, ended: list[Call]
) -> web.Response:
    doc = live_status_document(c.state, numbers, ended, session.user_id)
    watcher.version = c.state.version
    # The next poll answers at once, so the Disconnected calls are seen to go away.
    watcher.showed_disconnected = bool(ended)
    body = json.dumps(doc).encode()
    if c.faults.take_truncation():
        body = body[: len(body) // 2]
    return web.Response(body=body, content_type="application/json")


# -- the other services --------------------------------------------------------------------------


async def click_to_call(request: web.Request, c: Context, session: Session) -> web.Response:
    """``/presence/rest/clicktocall/{number}``: ring the user's extension, then dial."""
    s = c.state
    exts = s.user_extensions(session.user_id)
    if not exts:
        return text_response("USER HAS NO EXTENSIONS", 404)
    if not s.account_active:
        return text_response("ACCOUNT INACTIVE", 404)
    number = _digits(request.match_info["number"])
    if number not in s.extensions:
        if len(number) < 6 or (number.startswith("011") and len(number) < 9):
            return text_response("BAD USER PHONE", 400)
        domestic = len(number) == 10 or (len(number) == 11 and number.startswith("1"))
        if not domestic and s.international_blocked:
            return text_response("INTERNATIONAL BLOCKED", 403)
        if len(number) == 10:
            number = "1" + number
    try:
        s.place_call(exts[0].number, number, click_to_call=True)
    except Exception:
        return text_response("ERROR", 500)
    return text_response("OK")


async def directory(request: web.Request, c: Context, session: Session) -> web.Response:
    """``/presence/rest/directory``: conferences, queues and extensions with their status."""
    s = c.state
    active = list(s.calls.values())
    extensions = {}
    for number, ext in s.extensions.items():
        user = s.users[ext.user_id]
        status = "dnd" if ext.dnd else ("busy" if s.calls_of(number) else "available")
        extensions[number] = {"status": status, "name": user.name, "loginName": user.login_name}
    return json_response(
        {
            "conferences": {
                n: {"name": name, "calls": sum(call.to == n for call in active)}
                for n, name in s.conferences.items()
            },
            "queues": {
                n: {
                    "queueId": q.queue_id,
                    "name": q.name,
                    "calls": sum(call.to == n for call in active),
                }
                for n, q in s.queues.items()
            },
            "extensions": extensions,
        }
    )


def _presence(state: State, call: Call, ext: str) -> dict[str, Any]:
    other, other_name = _counterpart(state, call, ext)
    return {
        "status": _presence_status(call, ext),
        "duration": _connected_ms(call),
        "onCallWith": other,
        "onCallWithName": other_name,
        "isRecorded": "true" if call.recorded else "false",
        "startedWithClickToCall": "true" if call.click_to_call else "false",
        "presenceCallId": call.presence_call_id,
        "customTag": call.custom_tag,
    }


async def extension_info(request: web.Request, c: Context, session: Session) -> web.Response:
    """``/presence/rest/extension/{n}``: the extension and its active calls, if any."""
    s = c.state
    number = _extension_number(request.match_info["number"])
    if number is None:
        return text_response("INVALID EXTENSION", 400)
    ext = s.extensions.get(number)
    if ext is None:
        return text_response("EXTENSION NOT FOUND", 404)
    user = s.users[ext.user_id]
    details: dict[str, Any] = {}
    calls = sorted(s.calls_of(number), key=lambda x: x.start_time)
    if calls:
        details["presence"] = _one_or_many([_presence(s, call, number) for call in calls])
    details |= {
        "name": user.name,
        "type": "extension",
        "extensionNumber": number,
        "loginName": user.login_name,
    }
    return json_response({"details": details})


def _when(text: str | None, name: str) -> float | None:
    if not text:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc).timestamp()
    except ValueError:
        raise ValueError(f"INVALID {name.upper()} DATE") from None


def _stamp(ts: float) -> str:
    t = datetime.fromtimestamp(ts, timezone.utc)
    return f"{t.month}/{t.day}/{t.year} {t:%I:%M:%S %p}"


async def call_history(request: web.Request, c: Context, session: Session) -> web.Response:
    """``/presence/rest/callhistory/{ext}``: at most 100 records, newest first."""
    s = c.state
    number = _extension_number(request.match_info["number"])
    if number is None or number not in s.extensions:
        return text_response("EXTENSION NOT FOUND", 404)
    q = request.query
    try:
        start = _when(q.get("start"), "start")
        end = _when(q.get("end"), "end") or time.time()
        min_d = int(q["minduration"]) if q.get("minduration") else None
        max_d = int(q["maxduration"]) if q.get("maxduration") else None
    except ValueError as e:
        return text_response(str(e) if "DATE" in str(e) else "INVALID DURATION", 400)
    results = set(q["result"].lower().split(",")) if q.get("result") else None
    recorded = q.get("isrecorded", "").lower()
    rows = []
    for r in sorted(s.history, key=lambda r: r.timestamp, reverse=True):
        if (
            r.extension != number
            or r.timestamp > end
            or (start is not None and r.timestamp < start)
        ):
            continue
        if (q.get("from") and q["from"] not in r.from_) or (q.get("to") and q["to"] not in r.to):
            continue
        if results is not None and r.result not in results:
            continue
        if q.get("callerid") and q["callerid"].lower() not in r.caller_id.lower():
            continue
        if q.get("customtag") and q["customtag"].lower() != r.custom_tag.lower():
            continue
        if (min_d is not None and r.duration <= min_d) or (
            max_d is not None and r.duration >= max_d
        ):
            continue
        if recorded in ("true", "false") and r.recorded != (recorded == "true"):
            continue
        rows.append(
            {
                "timestamp": _stamp(r.timestamp),
                "from": r.from_,
                "to": r.to,
                "direction": r.direction,
                "extension": r.extension,
                "customTag": r.custom_tag,
                "callerId": r.caller_id,
                "duration": r.duration,
                "result": r.result.capitalize(),
                "recordingUrl": (
                    f"{request.url.origin()}/recordingplayer/{r.presence_call_id}"
                    if r.recorded
                    else ""
                ),
            }
        )
        if len(rows) == 100:
            break
    return json_response({"callHistoryList": rows})


def fake_mp3(size: int, seed: str) -> bytes:
    """``size`` bytes that look like an MP3 (ID3 tag, then frames), the same for one id."""
    header = b"ID3\x03\x00\x00\x00\x00\x00\x0a" + seed.encode()[:10].ljust(10, b"\x00")
    frame = b"\xff\xfb\x90\x64" + bytes((int(ch) * 7 + i) % 256 for i, ch in enumerate(seed * 20))
    body = header + frame * (size // len(frame) + 1)
    return body[:size]


async def call_recording(request: web.Request, c: Context, session: Session) -> web.StreamResponse:
    """``/presence/rest/callrecording/{presenceCallId}``: the MP3, streamed in chunks."""
    pid = request.match_info["call_id"]
    if not pid.isdigit():
        return text_response("ILLEGAL CALL ID", 400)
    size = c.state.recordings.get(pid)
    if size is None:
        return text_response("RECORDING NOT FOUND", 404)
    response = web.StreamResponse(
        headers={
            "Content-Type": "audio/mpeg",
            "Content-Disposition": f'attachment; filename="{pid}.mp3"',
        }
    )
    response.enable_chunked_encoding()
    if _is_new(request, session):
        set_session_cookies(response, session)
    await response.prepare(request)
    data = fake_mp3(size, pid)
    for i in range(0, len(data), _CHUNK):
        await response.write(data[i : i + _CHUNK])
    await response.write_eof()
    return response


async def conference(request: web.Request, c: Context, session: Session) -> web.Response:
    """``/presence/rest/conference/{n}``: the bridge and who is on it."""
    s = c.state
    number = _extension_number(request.match_info["number"])
    if number is None or number not in s.conferences:
        return text_response("CONFERENCE NOT FOUND", 404)
    participants = [
        call.caller_ext or call.from_
        for call in s.calls.values()
        if call.to == number and call.status == "on-call"
    ]
    details = {"participants": participants} if participants else {}
    return json_response(
        {
            "details": details,
            "name": s.conferences[number],
            "type": "conference",
            "extensionNumber": number,
        }
    )


async def queue(request: web.Request, c: Context, session: Session) -> web.Response:
    """``/presence/rest/queue/{n}``: calls and agents of a call queue (numbers as strings)."""
    s = c.state
    number = _extension_number(request.match_info["number"])
    q = s.queues.get(number or "")
    if number is None or q is None:
        return text_response("QUEUE NOT FOUND", 404)
    calls = [call for call in s.calls.values() if call.to == number]
    waiting = sum(call.status == "ringing" for call in calls)
    busy = sum(bool(s.calls_of(m)) for m in q.members)
    dnd = sum(s.extensions[m].dnd for m in q.members)
    details = {
        "numberOfCalls": len(calls),
        "callersOnHold": 0,
        "averageWaitTime": 0,
        "agentsAvailable": len(q.members) - busy - dnd,
        "callersWaiting": waiting,
        "agentsBusy": busy,
        "agentsLoggedIn": len(q.members) - dnd,
    }
    return json_response(
        {
            "details": {k: str(v) for k, v in details.items()},
            "queueId": q.queue_id,
            "name": q.name,
            "type": "queue",
            "extensionNumber": number,
        }
    )


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/presence/dashui", _legacy(dashui, logs_in=False))
    r.add_get("/presence/rest/clicktocall/{number}", _legacy(click_to_call))
    r.add_get("/presence/rest/directory", _legacy(directory))
    r.add_get("/presence/rest/extension/{number}", _legacy(extension_info))
    r.add_get("/presence/rest/callhistory/{number}", _legacy(call_history))
    r.add_get("/presence/rest/callrecording/{call_id}", _legacy(call_recording))
    r.add_get("/presence/rest/conference/{number}", _legacy(conference))
    r.add_get("/presence/rest/queue/{number}", _legacy(queue))
