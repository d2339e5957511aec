"""Telephony API v3 (seed 002, specs/telephony.yml): active calls, legs, device registrations.

Page numbers start at 1; ``*_page_uri`` links are relative to the service base
(``/t/vbc.prod/telephony/v3``) as the seed shows, and ``next_page``/``next_page_uri`` are null on
the last page. Times are epoch seconds.
"""

from __future__ import annotations

import math
import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from yarl import URL

from ._common import VBC_PREFIX, Context, ParamError, ctx, int_param, json_body, json_response
from ._state import Call, Leg, NotFound, State

SERVICE = f"{VBC_PREFIX}/telephony/v3"
CALLS = f"{SERVICE}/cc/accounts/{{account_id}}/calls"
DEVICES = f"{SERVICE}/registration/accounts/{{account_id}}/devices"
_DTMF = re.compile(r"^[0-9*#A-Da-d,]+$")


def error(status: int, message: str) -> web.Response:
    return json_response({"code": status, "message": message}, status)


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
    start = int_param(q, "start_time", 0, minimum=0)
    end = int_param(q, "end_time", 2**62, minimum=0)
    size = int_param(q, "page_size", 100, maximum=1000)
    page = int_param(q, "page", 1)
    rows = sorted((r for r in items if start <= r[0] <= end), key=lambda r: r[0])
    if order == "desc":
        rows.reverse()
    pages = max(1, math.ceil(len(rows) / size))
    relative = URL(request.path[len(SERVICE) :]).with_query(request.query)

    def uri(p: int) -> str:
        return str(relative.update_query(page=p, page_size=size, order=order))

    return {
        key: [r[1] for r in rows[(page - 1) * size : page * size]],
        "current_page": page,
        "first_page_uri": uri(1),
        "next_page": page + 1 if page < pages else None,
        "next_page_uri": uri(page + 1) if page < pages else None,
        "previous_page_uri": uri(page - 1) if page > 1 else None,
        "order": order,
        "page_size": size,
        "pages": pages,
        "total": len(rows),
    }


Op = Callable[[web.Request, Context], Awaitable[web.StreamResponse]]


def _op(fn: Op) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handler(request: web.Request) -> web.StreamResponse:
        c = ctx(request)
        if request.match_info["account_id"] not in ("self", c.state.account_id):
            return error(403, "User is not permitted to make a request against this account")
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
    part = body.get(name)
    if not isinstance(part, dict) or "destination" not in part:
        raise ParamError(name, "must be an object with destination and type")
    kind = part.get("type")
    if kind not in types:
        raise ParamError(f"{name}.type", f"must be one of {', '.join(types)}")
    return str(part["destination"]), str(kind)


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
    state = body.get("state")
    if state not in (None, "active", "parked"):
        raise ParamError("state", "must be one of active, parked")
    types = ("device", "extension", "pstn")
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
    to = body.get("to")
    if isinstance(to, dict) and to.get("type") == "leg":  # attended transfer
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
        if not _DTMF.match(str(body["dtmf"])):
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
