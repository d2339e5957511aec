"""Telephony API v3 (seed 002, specs/telephony.yml): active calls, legs, device registrations.

Page numbers start at 1; ``*_page_uri`` links are relative to the service base
(``/t/vbc.prod/telephony/v3``) as the seed shows. The file documents no page parameter, so a link
to another page carries an opaque token of the emulator's own (only a client that follows
``next_page_uri`` gets there); ``next_page``/``next_page_uri``/``previous_page_uri`` are left out
when there is no such page (the file types them as strings, never null). Times are epoch seconds.
Error bodies type ``code`` as telephony.yml does: an integer for 401, a string otherwise.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from yarl import URL

from ._common import VBC_PREFIX, Context, ParamError, ctx, int_param, json_body, json_response
from ._query import PAGE_TOKEN
from ._state import Call, Leg, NotFound, State

SERVICE = f"{VBC_PREFIX}/telephony/v3"
CALLS = f"{SERVICE}/cc/accounts/{{account_id}}/calls"
DEVICES = f"{SERVICE}/registration/accounts/{{account_id}}/devices"
_DTMF = re.compile(r"[0-9*#A-Da-d,]+")
# The leg PUT body's fields, as the branches of telephony.yml's oneOf type them.
_LEG_FIELDS: dict[str, type | tuple[Any, ...]] = {
    "state": ("held", "active"),
    "dtmf": str,
    "stream": bool,
    "stream_url": str,
    "to": dict,
    "recording": ("start", "stop"),
    "service": ("ccr", "ocr", "odcr"),
}


def error(status: int, message: str) -> web.Response:
    # AuthorizationErrorMessage types code as an integer, the other error schemas as a string.
    return json_response(
        {"code": status if status == 401 else str(status), "message": message}, status
    )


# Page tokens name a page of this emulator process only: opaque, not guessable from a number.
_TOKEN_SALT = secrets.token_hex(4)


def _page_token(page: int) -> str:
    raw = f"{_TOKEN_SALT}:{page}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _page_of(token: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    salt, _, page = raw.partition(":")
    if salt != _TOKEN_SALT or not page.isdigit() or int(page) < 1:
        raise ParamError(PAGE_TOKEN, "is not a page token of this server")
    return int(page)


def _not_found() -> web.Response:
    return error(404, "No matching resource found for given API Request")


def leg_json(state: State, call: Call, leg: Leg) -> dict[str, Any]:
    data: dict[str, Any] = {
        "account_id": state.account_id,
        "call_id": call.call_id,
        "direction": leg.direction,
        "from": leg.from_,
        "leg_id": leg.leg_id,
        "start_time": leg.start_time,
        "status": leg.status,
        "to": leg.to,
    }
    if leg.end_time is not None:
        data["end_time"] = leg.end_time
    return data


def call_json(state: State, call: Call) -> dict[str, Any]:
    data: dict[str, Any] = {
        "account_id": state.account_id,
        "call_id": call.call_id,
        "direction": "inbound" if call.direction == "inbound" else "outbound",
        "from": call.from_,
        "legs": [leg_json(state, call, leg) for leg in call.legs],
        "start_time": int(call.start_time),
        "status": call.status,
        "to": call.to,
    }
    if call.end_time is not None:
        data["end_time"] = int(call.end_time)
    return data


def cc_page(
    request: web.Request, key: str, items: list[tuple[float, dict[str, Any]]]
) -> dict[str, Any]:
    """Filter by start/end time, order and cut one page, with service-relative page URIs."""
    q = request.query
    order = q.get("order", "desc")
    if order not in ("asc", "desc"):
        raise ParamError("order", "must be one of asc or desc")
    # Any epoch second (one before 1970 matches nothing); telephony.yml sets no page maximum.
    start = int_param(q, "start_time", -(2**62), minimum=-(2**62))
    end = int_param(q, "end_time", 2**62, minimum=-(2**62))
    size = int_param(q, "page_size", 100)
    page = _page_of(q[PAGE_TOKEN]) if PAGE_TOKEN in q else 1
    rows = sorted((r for r in items if start <= r[0] <= end), key=lambda r: r[0])
    if order == "desc":
        rows.reverse()
    pages = max(1, math.ceil(len(rows) / size))
    relative = URL(request.path[len(SERVICE) :]).with_query(request.query)
    kept = [(k, v) for k, v in relative.query.items() if k != PAGE_TOKEN]
    first = relative.with_query(kept).update_query(page_size=size, order=order)

    def uri(p: int) -> str:
        return str(first if p == 1 else first.update_query({PAGE_TOKEN: _page_token(p)}))

    data: dict[str, Any] = {
        key: [r[1] for r in rows[(page - 1) * size : page * size]],
        "current_page": page,
        "first_page_uri": uri(1),
        "order": order,
        "page_size": size,
        "pages": pages,
        "total": len(rows),
    }
    if page < pages:
        data["next_page"] = page + 1
        data["next_page_uri"] = uri(page + 1)
    if page > 1:
        data["previous_page_uri"] = uri(page - 1)
    return data


Op = Callable[[web.Request, Context], Awaitable[web.StreamResponse]]


def _op(fn: Op) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handler(request: web.Request) -> web.StreamResponse:
        c = ctx(request)
        if request.match_info["account_id"] not in ("self", c.state.account_id):
            return error(401, "User is not permitted to make a request against this account")
        try:
            return await fn(request, c)
        except ParamError as e:
            return error(400, f"Invalid request parameters: {e}")
        except NotFound:
            return _not_found()

    return handler


async def list_calls(request: web.Request, c: Context) -> web.Response:
    """Get list of active calls for a given account (paginated)."""
    s = c.state
    ext = request.query.get("extension")
    rows = [
        (call.start_time, call_json(s, call))
        for call in s.calls.values()
        if ext is None or ext in call.extensions
    ]
    return json_response(cc_page(request, "calls", rows))


def _endpoint(body: dict[str, Any], name: str, types: tuple[str, ...]) -> tuple[str, str]:
    """A Contact object: ``destination`` a string, ``type`` one of ``types`` (telephony.yml)."""
    part = body.get(name)
    if not isinstance(part, dict):
        raise ParamError(name, "must be an object with destination and type")
    destination = part.get("destination")
    if not isinstance(destination, str) or not destination:
        raise ParamError(f"{name}.destination", "must be a non-empty string")
    kind = part.get("type")
    if kind not in types:
        raise ParamError(f"{name}.type", f"must be one of {', '.join(types)}")
    return destination, str(kind)


def _check_fields(body: dict[str, Any], fields: dict[str, type | tuple[Any, ...]]) -> None:
    """Each field present has the file's type (a tuple: one of these values); null is refused."""
    for name, kind in fields.items():
        if name not in body:
            continue
        value = body[name]
        if isinstance(kind, tuple):
            if not isinstance(value, str) or value not in kind:
                raise ParamError(name, f"must be one of {', '.join(map(str, kind))}")
        elif kind is bool:
            if not isinstance(value, bool):
                raise ParamError(name, "must be a boolean")
        elif kind is dict:
            if not isinstance(value, dict):
                raise ParamError(name, "must be an object")
        elif not isinstance(value, kind):
            raise ParamError(name, f"must be a {kind.__name__}")


def _resolve(state: State, destination: str, kind: str) -> str:
    """A device (MAC or SIP id) becomes its extension; other kinds are dialled as given."""
    if kind == "device":
        for device in state.devices.values():
            if destination in (device.mac_address, device.extension):
                return device.extension
        for ext in state.extensions.values():
            if any(destination == h["sip_id"] for h in ext.handsets):
                return ext.number
        raise ParamError("destination", f"unknown device {destination}")
    if kind == "extension" and destination not in state.extensions:
        raise ParamError("destination", f"unknown extension {destination}")
    return destination


async def create_call(request: web.Request, c: Context) -> web.Response:
    """Create a new call (answers the new call id as text)."""
    body = await json_body(request)
    src, src_type = _endpoint(body, "from", ("device", "extension", "feature_code"))
    dst, dst_type = _endpoint(body, "to", ("device", "extension", "pstn", "feature_code"))
    kind = body.get("type", "default")
    if kind not in ("click2dial", "click2dialme", "odr", "default"):
        raise ParamError("type", "must be one of click2dial, click2dialme, odr, default")
    s = c.state
    src = _resolve(s, src, src_type)
    dst = _resolve(s, dst, dst_type)
    if src_type == "feature_code":
        raise ParamError("from.type", "feature_code calls are not emulated")
    call = s.place_call(src, dst, click_to_call=kind.startswith("click2dial"))
    return web.Response(text=call.call_id, content_type="text/plain")


async def get_call(request: web.Request, c: Context) -> web.Response:
    """Get details for a specific active call."""
    return json_response(call_json(c.state, c.state.get_call(request.match_info["call_id"])))


def _call_state(call: Call) -> str:
    if call.status == "ended":
        return "ended"
    if call.parked:
        return "parked"
    if any(leg.held for leg in call.legs):
        return "held"
    return "ringing" if call.status == "ringing" else "active"


def _ack(state: State, call: Call, destination: str, **extra: str) -> web.Response:
    return json_response(
        {
            "account_id": state.account_id,
            "call_id": call.call_id,
            "call_state": _call_state(call),
            "destination": destination,
            **extra,
        }
    )


async def update_call(request: web.Request, c: Context) -> web.Response:
    """Update an existing call: answer (state active), park (state parked) or transfer (to)."""
    s = c.state
    call = s.get_call(request.match_info["call_id"])
    body = await json_body(request)
    _check_fields(body, {"state": ("active", "parked"), "to": dict, "from": dict})
    types = ("device", "extension", "pstn")
    for name in ("to", "from"):
        if name in body:
            _endpoint(body, name, types)
    state = body.get("state")
    if state is None:
        dst, dst_type = _endpoint(body, "to", types)
        transfer(s, call, _resolve(s, dst, dst_type))
    elif state == "parked":
        call.parked = True
        s.touch(call.extensions)
    else:
        call.parked = False
        s.answer(call.call_id)
    return _ack(s, call, call.to)


def transfer(state: State, call: Call, to: str) -> None:
    """Send the far end of the call to ``to``; Live Status sees the extensions change."""
    before = call.extensions
    call.to = to
    ext = state.extension_by_did(to)
    call.callee_ext = to if to in state.extensions else (ext.number if ext else None)
    for leg in call.legs:
        leg.to = to
    state.touch(before + call.extensions)


async def delete_call(request: web.Request, c: Context) -> web.Response:
    """Delete a call resource (hang up)."""
    call = c.state.hangup(request.match_info["call_id"])
    return _ack(c.state, call, call.to)


def _leg(state: State, request: web.Request) -> tuple[Call, Leg]:
    call = state.get_call(request.match_info["call_id"])
    for leg in call.legs:
        if leg.leg_id == request.match_info["leg_id"]:
            return call, leg
    raise NotFound(request.match_info["leg_id"])


async def list_legs(request: web.Request, c: Context) -> web.Response:
    """Get list of legs for a given active call."""
    call = c.state.get_call(request.match_info["call_id"])
    return json_response([leg_json(c.state, call, leg) for leg in call.legs])


async def get_leg(request: web.Request, c: Context) -> web.Response:
    """Get details for a specific active call leg."""
    call, leg = _leg(c.state, request)
    return json_response(leg_json(c.state, call, leg))


async def update_leg(request: web.Request, c: Context) -> web.Response:
    """Modify a call leg: hold, unhold, DTMF, play/stop sound, transfer, recording."""
    s = c.state
    call, leg = _leg(s, request)
    body = await json_body(request)
    _check_fields(body, _LEG_FIELDS)
    to = body.get("to")
    if to is not None and to.get("type") == "leg":  # attended transfer ("ATT XFER")
        if not isinstance(to.get("destination"), str):
            raise ParamError("to.destination", "must be a leg id (a string)")
        try:
            other = next(
                x for x in s.calls.values() for lg in x.legs if lg.leg_id == to.get("destination")
            )
        except StopIteration:
            raise NotFound(str(to.get("destination"))) from None
        if other is call:
            return error(409, "Cannot transfer a leg to its own call")
        far = other.to if other.caller_ext else other.from_
        s.hangup(other.call_id)
        transfer(s, call, far)
        return _ack(s, call, str(to["destination"]), leg_id=leg.leg_id)
    if body.get("state") == "active" and isinstance(to, dict):  # blind transfer
        dst, dst_type = _endpoint(body, "to", ("device", "extension", "pstn"))
        transfer(s, call, _resolve(s, dst, dst_type))
        return _ack(s, call, call.to, leg_id=leg.leg_id)
    if body.get("state") in ("held", "active"):
        held = body["state"] == "held"
        if call.status != "on-call":
            return error(409, "Conflict while changing state of a leg: the call is not connected")
        if leg.held == held:
            return error(409, f"Conflict while changing state of a leg: already {body['state']}")
        leg.held = held
        s.touch(call.extensions)
    elif "dtmf" in body:
        if not _DTMF.fullmatch(body["dtmf"]):
            raise ParamError("dtmf", "must be digits, *, #, A-D or ,")
        leg.dtmf.append(str(body["dtmf"]))
    elif "stream" in body:
        if body["stream"] is True:
            if not isinstance(body.get("stream_url"), str):
                raise ParamError("stream_url", "is required to play a sound")
            leg.stream_url = body["stream_url"]
        else:
            leg.stream_url = None
    elif body.get("recording") in ("start", "stop"):
        if body.get("service", "ccr") not in ("ccr", "ocr", "odcr"):
            raise ParamError("service", "must be one of ccr, ocr, odcr")
        if body["recording"] == "start":
            call.recorded = True  # a stopped recording is still kept
        s.touch(call.extensions)
    else:
        raise ParamError("body", "is none of hold, unhold, dtmf, stream, transfer, recording")
    return _ack(s, call, leg.to, leg_id=leg.leg_id)


async def delete_leg(request: web.Request, c: Context) -> web.Response:
    """Delete a call leg (the two-party call ends)."""
    call, _ = _leg(c.state, request)
    c.state.hangup(call.call_id)
    return web.Response(status=204)


def device_json(state: State, device: Any) -> dict[str, Any]:
    return {
        "account_id": state.account_id,
        "device_ip": device.device_ip,
        "last_request": device.last_request,
        "last_success": device.last_success,
        "mac_address": device.mac_address,
        "registration": {"last_success": device.last_success},
        "provisioned": {"last_success": device.registered_at, "last_request": device.last_request},
    }


async def list_devices(request: web.Request, c: Context) -> web.Response:
    """Get account device's registration info."""
    s = c.state
    rows = [(float(d.registered_at), device_json(s, d)) for d in s.devices.values()]
    return json_response(cc_page(request, "devices", rows))


async def get_device(request: web.Request, c: Context) -> web.Response:
    """Get device registration info (by MAC address)."""
    device = c.state.devices.get(request.match_info["device_id"].upper())
    if device is None:
        return _not_found()
    return json_response(device_json(c.state, device))


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get(CALLS, _op(list_calls))
    r.add_post(CALLS, _op(create_call))
    r.add_get(CALLS + "/{call_id}", _op(get_call))
    r.add_put(CALLS + "/{call_id}", _op(update_call))
    r.add_delete(CALLS + "/{call_id}", _op(delete_call))
    r.add_get(CALLS + "/{call_id}/legs", _op(list_legs))
    r.add_get(CALLS + "/{call_id}/legs/{leg_id}", _op(get_leg))
    r.add_put(CALLS + "/{call_id}/legs/{leg_id}", _op(update_leg))
    r.add_delete(CALLS + "/{call_id}/legs/{leg_id}", _op(delete_leg))
    r.add_get(DEVICES, _op(list_devices))
    r.add_get(DEVICES + "/{device_id}", _op(get_device))
