"""The Integration Platform ("VIS") API (specs/integration-platform.yml) and its webhooks.

Every call of the shared model (placed through any family) is a VIS call: its id is a number
given on first sight, ``externalId`` the Telephony call id. Each change of state is appended to
the event log (``/self/events``), one record per state entered, all with the call's id, and
delivered to the registered webhooks the way webhooks.md describes: POST, 200 within
``timeout`` seconds (connect within 3), ``retries`` retries ``retry_interval`` seconds apart,
then the webhook is failed (no more deliveries) until renewed; 302/307 are followed (a 302 turns
the POST into a GET, as the docs say); a webhook past ``expireAt`` receives nothing. Offsets are
page numbers from 0; ``fromDate``/``toDate`` are epoch milliseconds matched against the time a
record's state was entered.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import Any

import aiohttp
import attrs
from aiohttp import web
from yarl import URL

from ._common import CONTEXT, VBC_PREFIX, ParamError, json_body, json_response
from ._state import Call, NotFound, State

SERVICE = f"{VBC_PREFIX}/vis/v1"
_FINAL = ("ANSWERED", "CANCELLED", "MISSED", "REJECTED")
_LIVE = ("INITIALIZING", "RINGING", "ACTIVE", "HELD", "REMOTE_HELD")
_ALL_STATES = (*_LIVE, "DETACHED", *_FINAL)
_DAY = 86400.0
_REDIRECTS = 5


def iso(moment: float | None) -> str | None:
    """The platform's time format: ``2020-10-01T16:10:06.000+0000``."""
    if moment is None:
        return None
    text = datetime.fromtimestamp(moment, timezone.utc).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "+0000")


def signature(event: dict[str, Any], key: str) -> str:
    """HMAC-SHA256 hex over the event's JSON, keys sorted, no whitespace (webhooks.md)."""
    text = json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hmac.new(key.encode(), text.encode(), hashlib.sha256).hexdigest()


@attrs.define
class Hook:
    id: str
    url: str
    events: list[str]
    signing_algo: str
    signing_key: str
    policy: str
    created: float
    expire: float
    renewed: float | None = None
    attempts: int = 0
    successes: int = 0
    failures: int = 0
    failed: bool = False
    last_success: float | None = None
    last_failure: float | None = None
    last_code: str | None = None
    last_message: str | None = None
    deleted: bool = False

    def json(self, vis: Vis) -> dict[str, Any]:
        stats: dict[str, Any] = {
            "totalAttempts": self.attempts,
            "totalSuccesses": self.successes,
            "totalFailures": self.failures,
            "failed": self.failed,
            "lastSuccess": iso(self.last_success),
            "lastFailure": iso(self.last_failure),
            "lastHttpErrorCode": self.last_code,
            "lastErrorMessage": self.last_message,
        }
        return {
            "id": self.id,
            "userId": str(vis.user_id),
            "accountId": str(vis.account_id),
            "url": self.url,
            "status": "ACTIVE",
            "events": self.events,
            "signingAlgo": self.signing_algo,
            "signingKey": self.signing_key,
            "metadataPolicy": self.policy,
            "expireAt": iso(self.expire),
            "createdAt": iso(self.created),
            "renewedAt": iso(self.renewed),
            "purgeAt": iso(self.expire + 90 * _DAY),
            "statistics": {k: v for k, v in stats.items() if v is not None},
        }


class Vis:
    """The VIS view of the shared model: call ids, the event log, webhooks and deliveries."""

    def __init__(
        self,
        state: State,
        *,
        retries: int = 5,
        retry_interval: float = 10.0,
        timeout: float = 2.0,
        expire_after: float = 10 * _DAY,
        log_kept: int = 2_000,
    ) -> None:
        self.state = state
        # The platform keeps its log for a while, not for ever: the newest ``log_kept`` events
        # stay, and an ended call is forgotten with its last event, so memory stays flat.
        self.log_kept = log_kept
        self.retries = retries
        self.retry_interval = retry_interval
        self.timeout = timeout
        self.expire_after = expire_after
        self.ids: dict[str, int] = {}  # Telephony call id -> VIS call id
        self.calls: dict[int, Call] = {}
        self.log: list[tuple[float, dict[str, Any]]] = []
        self.current: dict[int, dict[str, Any]] = {}
        self.hooks: dict[str, Hook] = {}
        self._next_id = 7_000_000_001
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        state.call_listeners.append(self.on_call)

    @property
    def user_id(self) -> int:
        return self.state.login_user.id

    @property
    def account_id(self) -> int:
        return int(self.state.account_id)

    # -- the event log ----------------------------------------------------------------------------

    def vis_id(self, call: Call) -> int:
        known = self.ids.get(call.call_id)
        if known is None:
            known = self.ids[call.call_id] = self._next_id
            self._next_id += 1
            self.calls[known] = call
        return known

    def _forget(self, dropped: list[tuple[float, dict[str, Any]]]) -> None:
        del self.log[: len(dropped)]
        still_logged = {event["id"] for _, event in self.log}
        for _, event in dropped:
            vis_id = event["id"]
            call = self.calls.get(vis_id)
            if vis_id not in still_logged and call is not None and call.end_time is not None:
                del self.calls[vis_id]
                self.current.pop(vis_id, None)
                self.ids.pop(call.call_id, None)

    def record(self, call: Call) -> dict[str, Any]:
        call_id = self.vis_id(call)
        inbound = call.direction == "inbound"
        if call.status == "ringing":
            state = "RINGING"
        elif call.status == "on-call":
            # A hold through Telephony's legs shows here too (its event comes with the next change).
            state = "HELD" if any(leg.held for leg in call.legs) else "ACTIVE"
        elif call.result == "answered":
            state = "ANSWERED"
        elif call.result == "voicemail":
            state = "REJECTED"
        else:
            state = "MISSED" if inbound else "CANCELLED"
        ended = call.end_time if state in _FINAL else None
        answered = call.answer_time if state in ("ACTIVE", "HELD", "ANSWERED") else None
        duration = int(((call.end_time or 0) - (call.answer_time or 0)) * 1000)
        return {
            "id": call_id,
            "externalId": call.call_id,
            "type": "CALL",
            "accountId": self.account_id,
            "userId": self.user_id,
            "uciId": 1,
            "direction": "INBOUND" if inbound else "OUTBOUND",
            "callerId": call.caller_name,
            "phoneNumber": call.from_ if inbound else call.to,
            "duration": duration if state == "ANSWERED" else 0,
            "state": state,
            "startTime": iso(call.start_time),
            "answerTime": iso(answered),
            "endTime": iso(ended),
        }

    def on_call(self, call: Call) -> None:
        """A call changed: log the state it entered and deliver it."""
        event = self.record(call)
        call_id = event["id"]
        if self.current.get(call_id) == event:
            return
        self.current[call_id] = event
        self.log.append((time.time(), event))
        if len(self.log) > self.log_kept + self.log_kept // 10:  # trimmed a tenth at a time
            self._forget(self.log[: len(self.log) - self.log_kept])
        now = time.time()
        for hook in self.hooks.values():
            if not hook.failed and now < hook.expire and "CALL" in hook.events:
                self._spawn(self._deliver(hook, event))

    def _spawn(self, work: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- deliveries -------------------------------------------------------------------------------

    async def _deliver(self, hook: Hook, event: dict[str, Any]) -> None:
        delivery = str(uuid.uuid4())
        failure = ("", "")
        for attempt in range(1, self.retries + 2):
            if hook.deleted:
                return
            failure = await self._post(hook, event, delivery, attempt)
            if not failure[0]:
                hook.attempts += 1
                hook.successes += 1
                hook.last_success = time.time()
                return
            if attempt <= self.retries:
                await asyncio.sleep(self.retry_interval)
        # Only once every retry failed is it one attempt, one failure (webhooks.md).
        hook.attempts += 1
        hook.failures += 1
        hook.failed = True
        hook.last_failure = time.time()
        hook.last_code, hook.last_message = failure

    async def _post(
        self, hook: Hook, event: dict[str, Any], delivery: str, attempt: int
    ) -> tuple[str, str]:
        """One attempt: ("", "") on a 200, else the error code and message."""
        body: dict[str, Any] = {"event": event}
        headers = {"Content-Type": "application/json"}
        meta: dict[str, Any] = {"attempt": attempt, "deliveryId": delivery, "webhookId": hook.id}
        if hook.signing_algo == "HMAC_SHA256" and hook.signing_key:
            meta["signature"] = signature(event, hook.signing_key)
        if hook.policy == "HEADER":
            names = {
                "signature": "X-VON-Signature",
                "webhookId": "X-VON-Webhook-Id",
                "deliveryId": "X-VON-Delivery-Id",
                "attempt": "X-VON-Attempt",
            }
            headers.update({names[k]: str(v) for k, v in meta.items()})
        elif hook.policy == "BODY":
            body["metadata"] = meta
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        # webhooks.md: the connection within 3 s, then the 200 within ``timeout`` (2 s).
        timeout = aiohttp.ClientTimeout(
            total=3.0 + self.timeout, sock_connect=3.0, sock_read=self.timeout
        )
        method, url = "POST", URL(hook.url)
        data: str | None = json.dumps(body)
        try:
            # Redirects by hand, as webhooks.md says: a 302 is followed with a GET (no body),
            # a 307 with the same POST, up to a limit.
            for _ in range(_REDIRECTS + 1):
                async with self._session.request(
                    method,
                    url,
                    data=data,
                    headers=headers,
                    timeout=timeout,
                    allow_redirects=False,
                ) as response:
                    await response.read()
                    location = response.headers.get("Location")
                    if response.status in (302, 307) and location:
                        url = url.join(URL(location))
                        if response.status == 302:
                            method, data = "GET", None
                        continue
                    if response.status == 200:
                        return "", ""
                    code = f"{response.status} {response.reason or ''}".strip()
                    return code, f"{code}: delivery refused"
            return "310 TOO_MANY_REDIRECTS", f"more than {_REDIRECTS} redirects"
        except asyncio.TimeoutError:
            return "408 REQUEST_TIMEOUT", f"no 200 within {self.timeout} s"
        except aiohttp.ClientError as exc:
            return "CONNECTION_FAILED", f"connection failed: {type(exc).__name__}"

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._session is not None:
            await self._session.close()
            self._session = None

    # -- webhooks ---------------------------------------------------------------------------------

    def create_hook(self, body: dict[str, Any]) -> Hook:
        url = body.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ParamError("url", "must be an http(s) URL")
        events = body.get("events") or ["CALL"]
        if not isinstance(events, list) or any(e != "CALL" for e in events):
            raise ParamError("events", "must be a list of CALL")
        algo = body.get("signingAlgo") or "NONE"
        if algo not in ("HMAC_SHA256", "NONE"):
            raise ParamError("signingAlgo", "must be HMAC_SHA256")
        key = body.get("signingKey") or ""
        if not isinstance(key, str):
            raise ParamError("signingKey", "must be a string")
        policy = body.get("metadataPolicy") or "NONE"
        if policy not in ("NONE", "HEADER", "BODY"):
            raise ParamError("metadataPolicy", "must be NONE, HEADER or BODY")
        now = time.time()
        hook = Hook(str(uuid.uuid4()), url, events, algo, key, policy, now, now + self.expire_after)
        self.hooks[hook.id] = hook
        return hook

    def hook(self, hook_id: str) -> Hook:
        hook = self.hooks.get(hook_id)
        if hook is None:
            raise NotFound(hook_id)
        return hook

    def renew(self, hook_id: str) -> Hook:
        hook = self.hook(hook_id)
        hook.renewed = time.time()
        hook.expire = hook.renewed + self.expire_after
        hook.failed = False  # the other statistics stay
        return hook

    def expire(self, hook_id: str) -> None:
        """Make a webhook expire now (tests)."""
        self.hook(hook_id).expire = time.time()

    def call(self, call_id: str) -> Call:
        try:
            call = self.calls[int(call_id)]
        except (ValueError, KeyError):
            raise NotFound(call_id) from None
        return call


# -- HTTP -----------------------------------------------------------------------------------------

VIS: web.AppKey[Vis] = web.AppKey("vis", Vis)


def error(status: int, message: str, field: str | None = None) -> web.Response:
    body: dict[str, Any] = {"errorCode": str(status), "errorMessage": message, "errors": []}
    if field:
        body["errors"] = [{"field": field, "message": message}]
    return json_response(body, status)


Op = Callable[[web.Request, Vis], Awaitable[web.StreamResponse]]


def _op(fn: Op) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handler(request: web.Request) -> web.StreamResponse:
        try:
            return await fn(request, request.app[VIS])
        except ParamError as e:
            return error(400, e.reason, e.name)
        except NotFound:
            return error(404, "Resource not found")

    return handler


def _int(request: web.Request, name: str, default: int | None, minimum: int = 0) -> int | None:
    raw = request.query.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(str(raw))
    except ValueError:
        raise ParamError(name, "must be an integer") from None
    if value < minimum:
        raise ParamError(name, f"must be at least {minimum}")
    return value


def _csv(request: web.Request, name: str, allowed: tuple[str, ...]) -> set[str] | None:
    raw = request.query.get(name)
    if not raw:
        return None
    values = {v.strip().upper() for v in raw.split(",") if v.strip()}
    if not values <= set(allowed):
        raise ParamError(name, f"must be among {','.join(allowed)}")
    return values


def _page(request: web.Request, rows: list[dict[str, Any]], default_order: str) -> web.Response:
    size = _int(request, "size", 20, 1) or 20
    offset = _int(request, "offset", 0) or 0
    order = (request.query.get("order") or default_order).upper()
    if order not in ("ASC", "DESC"):
        raise ParamError("order", "must be ASC or DESC")
    if order == "DESC":
        rows = rows[::-1]
    return json_response(rows[offset * size : (offset + 1) * size])


def _match(request: web.Request, rows: list[tuple[float, dict[str, Any]]], states: Any) -> Any:
    start = _int(request, "fromDate", None)
    end = _int(request, "toDate", None)
    directions = _csv(request, "direction", ("INBOUND", "OUTBOUND"))
    return [
        row
        for at, row in rows
        if (start is None or at * 1000 >= start)
        and (end is None or at * 1000 <= end)
        and (directions is None or row["direction"] in directions)
        and (states is None or row["state"] in states)
    ]


async def get_self(request: web.Request, v: Vis) -> web.Response:
    user = v.state.login_user
    return json_response(
        {
            "id": user.id,
            "accountId": v.account_id,
            "acountLabel": v.state.account_name,
            "firstName": user.first_name,
            "lastName": user.last_name,
            "emailAddress": user.email,
            "contactNumber": (user.contact_numbers or [{}])[0].get("value"),
            "status": "ACTIVE",
            "ucis": [{"id": 1, "ucpLabel": "VBC", "health": {"status": "OK"}, "type": "USER_UCI"}],
            "roles": [{"code": "AU", "name": "Account User"}],
        }
    )


async def get_account(request: web.Request, v: Vis) -> web.Response:
    return json_response(
        {
            "id": v.account_id,
            "name": v.state.account_name,
            "org": v.state.account_name,
            "ucis": [{"id": 1, "ucpLabel": "VBC", "ucpAccountId": v.state.account_id}],
            "status": "ACTIVE" if v.state.account_active else "ARCHIVED",
        }
    )


def _active(v: Vis) -> list[tuple[float, dict[str, Any]]]:
    calls = sorted(v.state.calls.values(), key=lambda call: call.start_time)
    return [(call.start_time, v.record(call)) for call in calls]


async def place_call(request: web.Request, v: Vis) -> web.Response:
    body = await json_body(request)
    number = body.get("phoneNumber")
    if not isinstance(number, str) or not number.strip().lstrip("+").isdigit():
        raise ParamError("phoneNumber", "must be a phone number")
    own = v.state.user_extensions(v.user_id)
    if not own:
        return error(422, "The user has no extension to call from")
    call = v.state.place_call(own[0].number, number.strip().lstrip("+"))
    return json_response([v.record(call)], 201)


async def list_calls(request: web.Request, v: Vis) -> web.Response:
    return _page(request, _match(request, _active(v), None), "DESC")


async def count_calls(request: web.Request, v: Vis) -> web.Response:
    states = _csv(request, "states", _LIVE) or {"ACTIVE"}
    return json_response({"count": len(_match(request, _active(v), states))})


def _live(v: Vis, call_id: str) -> Call:
    call = v.call(call_id)
    if call.status == "ended":
        raise ParamError("id", "the call has ended")
    return call


async def get_call(request: web.Request, v: Vis) -> web.Response:
    return json_response([v.record(v.call(request.match_info["id"]))])


async def end_call(request: web.Request, v: Vis) -> web.Response:
    call = _live(v, request.match_info["id"])
    return json_response([v.record(v.state.hangup(call.call_id))])


async def answer_call(request: web.Request, v: Vis) -> web.Response:
    call = _live(v, request.match_info["id"])
    if call.status != "ringing" or call.direction == "outbound":
        return error(422, "Only a ringing incoming call can be answered")
    return json_response(v.record(v.state.answer(call.call_id)))


def _hold(v: Vis, request: web.Request, held: bool) -> web.Response:
    call = _live(v, request.match_info["id"])
    if call.status != "on-call":
        return error(422, "Only an active call can be held or unheld")
    for leg in call.legs:
        leg.held = held
    v.state.touch(call.extensions)
    v.state.call_changed(call)
    return json_response(v.record(call))


async def hold_call(request: web.Request, v: Vis) -> web.Response:
    return _hold(v, request, True)


async def unhold_call(request: web.Request, v: Vis) -> web.Response:
    return _hold(v, request, False)


async def voicemail_call(request: web.Request, v: Vis) -> web.Response:
    call = _live(v, request.match_info["id"])
    if call.status != "ringing" or call.direction != "inbound":
        return error(422, "Only a ringing incoming call can be sent to voicemail")
    return json_response(v.record(v.state.hangup(call.call_id, result="voicemail")))


async def transfer_call(request: web.Request, v: Vis) -> web.Response:
    call = _live(v, request.match_info["id"])
    body = await json_body(request)
    number = body.get("phoneNumber")
    if not isinstance(number, str) or not number.strip().lstrip("+").isdigit():
        raise ParamError("phoneNumber", "must be a phone number")
    if call.direction == "inbound":
        call.from_ = number.strip().lstrip("+")
    else:
        call.to = number.strip().lstrip("+")
    v.state.touch(call.extensions)
    v.state.call_changed(call)
    return json_response(v.record(call))


async def list_events(request: web.Request, v: Vis) -> web.Response:
    _csv(request, "types", ("CALL",))
    rows = _match(request, v.log, _csv(request, "states", _ALL_STATES))
    sort = request.query.get("sort")
    if sort:
        rows = sorted(rows, key=lambda r: str(r.get(sort) or ""))
    return _page(request, rows, "ASC")


async def count_events(request: web.Request, v: Vis) -> web.Response:
    states = _csv(request, "states", _ALL_STATES)
    return json_response({"count": len(_match(request, v.log, states))})


async def get_event(request: web.Request, v: Vis) -> web.Response:
    wanted = request.match_info["id"]
    rows = [row for _, row in v.log if str(row["id"]) == wanted]
    if not rows:
        raise NotFound(wanted)
    return json_response(rows)


async def create_webhook(request: web.Request, v: Vis) -> web.Response:
    return json_response(v.create_hook(await json_body(request)).json(v), 201)


async def list_webhooks(request: web.Request, v: Vis) -> web.Response:
    return json_response([h.json(v) for h in v.hooks.values()])


async def get_webhook(request: web.Request, v: Vis) -> web.Response:
    return json_response(v.hook(request.match_info["id"]).json(v))


async def delete_webhook(request: web.Request, v: Vis) -> web.Response:
    hook = v.hooks.pop(request.match_info["id"], None)
    if hook is None:
        raise NotFound(request.match_info["id"])
    hook.deleted = True
    return web.Response(status=204)


async def renew_webhook(request: web.Request, v: Vis) -> web.Response:
    return json_response(v.renew(request.match_info["id"]).json(v))


def add_routes(app: web.Application) -> Vis:
    """Mount the 20 operations; the ``Vis`` listens to the app's shared model."""
    vis = app[VIS] = Vis(app[CONTEXT].state)

    async def close(_: web.Application) -> None:
        await vis.close()

    app.on_cleanup.append(close)  # for callers who run the app themselves
    r = app.router
    r.add_get(f"{SERVICE}/self", _op(get_self))
    r.add_get(f"{SERVICE}/self/account", _op(get_account))
    r.add_post(f"{SERVICE}/self/calls", _op(place_call))
    r.add_get(f"{SERVICE}/self/calls", _op(list_calls))
    r.add_get(f"{SERVICE}/self/calls/count", _op(count_calls))
    r.add_get(f"{SERVICE}/self/calls/{{id}}", _op(get_call))
    r.add_delete(f"{SERVICE}/self/calls/{{id}}", _op(end_call))
    r.add_put(f"{SERVICE}/self/calls/{{id}}/answer", _op(answer_call))
    r.add_put(f"{SERVICE}/self/calls/{{id}}/hold", _op(hold_call))
    r.add_delete(f"{SERVICE}/self/calls/{{id}}/hold", _op(unhold_call))
    r.add_put(f"{SERVICE}/self/calls/{{id}}/vmtransfer", _op(voicemail_call))
    r.add_post(f"{SERVICE}/self/calls/{{id}}/transfer", _op(transfer_call))
    r.add_get(f"{SERVICE}/self/events", _op(list_events))
    r.add_get(f"{SERVICE}/self/events/count", _op(count_events))
    r.add_get(f"{SERVICE}/self/events/{{id}}", _op(get_event))
    r.add_post(f"{SERVICE}/self/webhooks", _op(create_webhook))
    r.add_get(f"{SERVICE}/self/webhooks", _op(list_webhooks))
    r.add_get(f"{SERVICE}/self/webhooks/{{id}}", _op(get_webhook))
    r.add_delete(f"{SERVICE}/self/webhooks/{{id}}", _op(delete_webhook))
    r.add_put(f"{SERVICE}/self/webhooks/{{id}}/renew", _op(renew_webhook))
    return vis
