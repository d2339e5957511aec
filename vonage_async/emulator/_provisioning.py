"""Provisioning API (seed 000) and the Extension API (seed 001), with HAL page-number paging.

``/extensions/{id}`` is claimed by both: the Provisioning API reads it as an external id, the
Extension API as an extension number. External ids here are never all digits, so an id that
names an extension number is a number lookup (HAL page with ``_embedded.data``) and anything
else an external-id lookup (``_embedded.extension``), as each seed shows.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from aiohttp import web

from ._common import (
    VBC_PREFIX,
    Context,
    ParamError,
    ctx,
    int_param,
    json_response,
    validation_error,
)
from ._state import Extension, State, User

BASE = f"{VBC_PREFIX}/provisioning/api/accounts/{{account_id}}"


def hal_page(url: Any, items: list[dict[str, Any]], page: int, page_size: int) -> dict[str, Any]:
    """One page of a collection, its links keeping the request's filters."""
    total_pages = max(1, math.ceil(len(items) / page_size))

    def link(p: int) -> dict[str, str]:
        return {"href": str(url.update_query(page=p, page_size=page_size))}

    links = {"first": link(1), "self": link(page), "last": link(total_pages)}
    if page > 1:
        links["prev"] = link(min(page - 1, total_pages))
    if page < total_pages:
        links["next"] = link(page + 1)
    start = (page - 1) * page_size
    return {
        "page_size": page_size,
        "page": page,
        "total_pages": total_pages,
        "total_items": len(items),
        "_links": links,
        "_embedded": {"data": items[start : start + page_size]},
    }


def hal_one(url: Any, item: dict[str, Any]) -> dict[str, Any]:
    """A single resource, in the same page envelope the seeds show."""
    href = {"href": str(url)}
    return {
        "page_size": 1,
        "page": 1,
        "total_pages": 1,
        "total_items": 1,
        "_links": {"first": href, "self": href, "last": href},
        "_embedded": {"data": item},
    }


def not_found(message: str) -> web.Response:
    return json_response({"msg": message, "status": 404}, 404)


def extension_json(state: State, ext: Extension, *, detailed: bool = False) -> dict[str, Any]:
    user = state.users[ext.user_id]
    data: dict[str, Any] = {
        "extension_number": ext.number,
        "user": {
            "id": user.id,
            "email": user.email,
            "login_name": user.login_name,
            "first_name": user.first_name,
            "last_name": user.last_name,
        },
        "location_id": ext.location_id,
        "vtt_enabled": ext.vtt_enabled,
        "dnd_enabled": ext.dnd,
        "caller_id": ext.caller_id,
        "external_id": ext.external_id,
        "block_caller_id": ext.block_caller_id,
        "dids": [{"phone_number": d.phone_number, "custom_tag": d.custom_tag} for d in ext.dids],
        "extension_handsets": [dict(h) for h in ext.handsets],
    }
    if detailed:
        data["service_type_name"] = "UX"
    return data


def user_json(state: State, user: User) -> dict[str, Any]:
    return {
        "email": user.email,
        "login_name": user.login_name,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "id": user.id,
        "contact_numbers": [dict(c) for c in user.contact_numbers],
        "extensions": [
            {
                "dids": [
                    {"phone_number": d.phone_number, "custom_tag": d.custom_tag} for d in e.dids
                ],
                "extension_number": e.number,
            }
            for e in state.user_extensions(user.id)
        ],
    }


Op = Callable[[web.Request, Context], web.Response]


def _op(fn: Op) -> Callable[[web.Request], Any]:
    """Check the account, turn refused parameters into the 400 body."""

    async def handler(request: web.Request) -> web.Response:
        c = ctx(request)
        if request.match_info["account_id"] not in ("self", c.state.account_id):
            return json_response({"msg": "Access to this account is forbidden", "status": 403}, 403)
        try:
            return fn(request, c)
        except ParamError as e:
            return validation_error([e])

    return handler


def _paging(request: web.Request) -> tuple[int, int]:
    q = request.query
    return int_param(q, "page", 1), int_param(q, "page_size", 100, maximum=1000)


def _path_id(request: web.Request, name: str) -> int | None:
    """A numeric id from the path; None (so 404, the only error the file documents) if not one."""
    raw = request.match_info[name]
    return int(raw) if raw.isascii() and raw.isdigit() else None


def _filter(value: str | None, actual: str) -> bool:
    return value is None or value.lower() == actual.lower()


def account(request: web.Request, c: Context) -> web.Response:
    """Get account data by ID."""
    s = c.state
    hq = next(iter(s.locations.values()))
    address = {k: v for k, v in hq.address.items() if k != "time_zone"}
    data = {
        "id": int(s.account_id),
        "name": s.account_name,
        "status": "ACTIVE" if s.account_active else "INACTIVE",
        "address": address,
    }
    return json_response(hal_one(request.url, data))


def locations(request: web.Request, c: Context) -> web.Response:
    """Get account locations data by account ID."""
    page, size = _paging(request)
    items = [
        {"id": loc.id, "name": loc.name, "address": dict(loc.address)}
        for loc in c.state.locations.values()
    ]
    return json_response(hal_page(request.url, items, page, size))


def location(request: web.Request, c: Context) -> web.Response:
    """Get location data by account ID and location ID."""
    loc_id = _path_id(request, "location_id")
    loc = None if loc_id is None else c.state.locations.get(loc_id)
    if loc is None:
        return not_found("Location not found")
    return json_response(
        hal_one(request.url, {"id": loc.id, "name": loc.name, "address": dict(loc.address)})
    )


def extensions(request: web.Request, c: Context) -> web.Response:
    """Get account extensions data by account ID (filters: location_id, phone_number, ...)."""
    q = request.query
    page, size = _paging(request)
    location_id = int_param(q, "location_id", 0) if q.get("location_id") else None
    phone = q.get("phone_number", "").lstrip("+") or None
    s = c.state
    items = []
    for ext in s.extensions.values():
        user = s.users[ext.user_id]
        if location_id is not None and ext.location_id != location_id:
            continue
        if phone is not None and phone not in [d.phone_number for d in ext.dids]:
            continue
        if not (
            _filter(q.get("login_name"), user.login_name) and _filter(q.get("email"), user.email)
        ):
            continue
        items.append(extension_json(s, ext))
    return json_response(hal_page(request.url, items, page, size))


def extension(request: web.Request, c: Context) -> web.Response:
    """Get extension data by external id, or (Extension API) by extension number."""
    s = c.state
    key = request.match_info["extension_id"]
    if key in s.extensions:
        return json_response(hal_one(request.url, extension_json(s, s.extensions[key])))
    for ext in s.extensions.values():
        if ext.external_id == key:
            return json_response(
                {
                    "_links": {"self": {"href": str(request.url)}},
                    "_embedded": {"extension": extension_json(s, ext, detailed=True)},
                }
            )
    return not_found("Extension not found")


def users(request: web.Request, c: Context) -> web.Response:
    """Get account users data by account ID (filters: first_name, last_name, ...)."""
    q = request.query
    page, size = _paging(request)
    items = [
        user_json(c.state, u)
        for u in c.state.users.values()
        if _filter(q.get("first_name"), u.first_name)
        and _filter(q.get("last_name"), u.last_name)
        and _filter(q.get("login_name"), u.login_name)
        and _filter(q.get("email"), u.email)
    ]
    return json_response(hal_page(request.url, items, page, size))


def user(request: web.Request, c: Context) -> web.Response:
    """Get user data by account ID and user ID."""
    user_id = _path_id(request, "user_id")
    found = None if user_id is None else c.state.users.get(user_id)
    if found is None:
        return not_found("User not found")
    return json_response(hal_one(request.url, user_json(c.state, found)))


def add_routes(app: web.Application) -> None:
    app.router.add_get(BASE, _op(account))
    app.router.add_get(f"{BASE}/locations", _op(locations))
    app.router.add_get(f"{BASE}/locations/{{location_id}}", _op(location))
    app.router.add_get(f"{BASE}/extensions", _op(extensions))
    app.router.add_get(f"{BASE}/extensions/{{extension_id}}", _op(extension))
    app.router.add_get(f"{BASE}/users", _op(users))
    app.router.add_get(f"{BASE}/users/{{user_id}}", _op(user))
