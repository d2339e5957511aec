"""Network Registry (seed 004): business and application profiles, catalogue.

Lists page with an opaque ``next`` cursor and ``limit`` (1..100, default 10); the next page is
``_links.next.href``, an absolute URL that keeps the filters, absent on the last page.
Operations the seed answers without a body answer 204.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from aiohttp import web

from . import _catalogue as cat
from ._common import (
    REGISTRY_PREFIX,
    Context,
    ParamError,
    ctx,
    int_param,
    json_body,
    json_response,
    registry_error,
)
from ._state import NotFound, State

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_MAX_PROFILES = 50


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def _offset(token: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        kind, _, value = raw.partition(":")
        if kind == "offset" and value.isdigit():
            return int(value)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise ParamError("next", "is not a valid page token")


def cursor_page(request: web.Request, key: str, items: list[dict[str, Any]]) -> web.Response:
    q = request.query
    limit = int_param(q, "limit", 10, maximum=100)
    offset = _offset(q["next"]) if q.get("next") else 0
    links: dict[str, Any] = {"self": {"href": str(request.url)}}
    if offset + limit < len(items):
        links["next"] = {"href": str(request.url.update_query(next=_cursor(offset + limit)))}
    return json_response({"_links": links, "_embedded": {key: items[offset : offset + limit]}})


Op = Callable[[web.Request, Context], Awaitable[web.Response]]


def _op(fn: Op) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handler(request: web.Request) -> web.Response:
        try:
            return await fn(request, ctx(request))
        except ParamError as e:
            return registry_error(400, "The request failed validation", invalid=[e])
        except NotFound as e:
            return registry_error(404, f"{e.args[0]} was not found")

    return handler


def _empty() -> web.Response:
    return web.Response(status=204)


def _csv(value: str | None) -> list[str] | None:
    return [v for v in value.split(",") if v] if value else None


# -- business profiles ---------------------------------------------------------------------------


def _visible_bp(s: State, shared: bool | None = None) -> list[dict[str, Any]]:
    mine = s.registry_account_id
    out = []
    for p in s.business_profiles.values():
        is_shared = p["account_id"] != mine and mine in s.shared_with.get(p["id"], [])
        if (p["account_id"] == mine and shared is not True) or (is_shared and shared is not False):
            out.append(p)
    return out


def _bp(s: State, profile_id: str, *, own: bool = False) -> dict[str, Any]:
    for p in _visible_bp(s, shared=False if own else None):
        if p["id"] == profile_id:
            return p
    raise NotFound(f"Business profile {profile_id}")


def _bool_param(request: web.Request, name: str) -> bool | None:
    raw = request.query.get(name)
    if raw is None:
        return None
    if raw not in ("true", "false"):
        raise ParamError(name, "must be true or false")
    return raw == "true"


def _require(body: dict[str, Any], *names: str) -> None:
    for name in names:
        if body.get(name) in (None, "", []):
            raise ParamError(name, "is required")


def _check_business(body: dict[str, Any], *, partial: bool) -> None:
    if not partial:
        _require(
            body,
            "countries",
            "contact_role",
            "name",
            "organisation_type",
            "tax_number",
            "privacy_policy_url",
            "privacy_policy_manager_email",
            "business_information",
        )
        if body.get("terms_and_conditions_accepted") is not True:
            raise ParamError("terms_and_conditions_accepted", "must be true")
    known = {c["code"] for c in cat.COUNTRIES}
    countries = body.get("countries", [])
    if not isinstance(countries, list) or any(c not in known for c in countries):
        raise ParamError("countries", "must list supported ISO 3166 country codes")
    org = body.get("organisation_type")
    if org is not None and org not in {o["id"] for o in cat.ORGANISATION_TYPES}:
        raise ParamError("organisation_type", "is not a supported organisation type")
    for name in ("name", "contact_role", "trading_name", "tax_number"):
        if len(str(body.get(name, ""))) > 100:
            raise ParamError(name, "must be at most 100 characters")
    for name in ("privacy_policy_manager_email", "dpo_email"):
        if name in body and not _EMAIL.match(str(body[name])):
            raise ParamError(name, "must be an email address")
    info = body.get("business_information")
    if info is not None:
        if not isinstance(info, dict):
            raise ParamError("business_information", "must be an object")
        for name in ("address_street_1", "postal_code", "country", "city"):
            if not info.get(name):
                raise ParamError(f"business_information.{name}", "is required")


async def create_business_profile(request: web.Request, c: Context) -> web.Response:
    """Create a new network Business Profile registration."""
    body = await json_body(request)
    _check_business(body, partial=False)
    if len(_visible_bp(c.state, shared=False)) >= _MAX_PROFILES:
        return registry_error(409, f"There is a limit of {_MAX_PROFILES} business profiles")
    return json_response(c.state.create_business_profile(body), 201)


async def list_business_profiles(request: web.Request, c: Context) -> web.Response:
    """List network Business Profile registrations."""
    items = _visible_bp(c.state, _bool_param(request, "shared"))
    return cursor_page(request, "business_profiles", items)


async def get_business_profile(request: web.Request, c: Context) -> web.Response:
    """Get a network Business Profile registration."""
    return json_response(_bp(c.state, request.match_info["id"]))


def _delete_at() -> str:
    later = datetime.now(timezone.utc) + timedelta(days=30)
    return later.isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def delete_business_profile(request: web.Request, c: Context) -> web.Response:
    """Delete a network Business Profile registration (and its Application Profiles)."""
    s = c.state
    profile = _bp(s, request.match_info["id"], own=True)
    when = _delete_at()
    profile["delete_at"] = when
    for app in s.application_profiles.values():
        if app["business_profile_id"] == profile["id"]:
            app["delete_at"] = when
    return _empty()


async def undelete_business_profile(request: web.Request, c: Context) -> web.Response:
    """Undelete a network Business Profile registration."""
    s = c.state
    profile = _bp(s, request.match_info["id"], own=True)
    if profile["delete_at"] is None:
        return registry_error(409, "The business profile is not marked for deletion")
    profile["delete_at"] = None
    for app in s.application_profiles.values():
        if app["business_profile_id"] == profile["id"]:
            app["delete_at"] = None
    return _empty()


def _dismiss(profile: dict[str, Any]) -> web.Response:
    note = profile.get("notification")
    if not note:
        raise NotFound("Notification")
    note["dismissed"] = True
    if "nr_notifications" in profile:
        profile["nr_notifications"] = 0
    return _empty()


async def dismiss_business_notification(request: web.Request, c: Context) -> web.Response:
    """Dismiss the Custom Notification."""
    return _dismiss(_bp(c.state, request.match_info["id"], own=True))


def _status_filter(rows: list[dict[str, Any]], request: web.Request) -> list[dict[str, Any]]:
    q = request.query
    for name in ("status", "csp_id"):
        if q.get(name):
            rows = [r for r in rows if r[name] == q[name]]
    if q.get("plmn_id"):
        if not 14 <= len(q["plmn_id"]) <= 15:
            raise ParamError("plmn_id", "must be 14 to 15 characters")
        rows = []  # no PLMN ids are recorded in the emulator
    return rows


def _csp_rows(s: State, key: str, profile_ids: list[str]) -> list[dict[str, Any]]:
    wanted = set(profile_ids)
    return [v for (pid, _), v in s.csp_statuses.items() if pid in wanted and key in v]


async def business_csps(request: web.Request, c: Context) -> web.Response:
    """Detailed information of Business Profile registration status per CSP (id may be ``*``)."""
    s = c.state
    pid = request.match_info["id"]
    ids = [p["id"] for p in _visible_bp(s)] if pid == "*" else [_bp(s, pid)["id"]]
    rows = [
        r for r in _csp_rows(s, "business_profile_id", ids) if "application_profile_id" not in r
    ]
    return cursor_page(request, "business_profile_csp_statuses", _status_filter(rows, request))


async def business_csp(request: web.Request, c: Context) -> web.Response:
    """Detailed information of Business Profile registration status for a given CSP."""
    profile = _bp(c.state, request.match_info["id"])
    row = c.state.csp_statuses.get((profile["id"], request.match_info["csp_id"]))
    if row is None:
        raise NotFound(f"CSP {request.match_info['csp_id']}")
    return json_response(row)


def _shares(request: web.Request, accounts: list[str]) -> web.Response:
    return cursor_page(request, "account_ids", [{"account_id": a} for a in accounts])


async def business_shared(request: web.Request, c: Context) -> web.Response:
    """Get a list of accounts the Business Profile is shared with."""
    profile = _bp(c.state, request.match_info["id"])
    return _shares(request, c.state.shared_with.get(profile["id"], []))


async def put_change_request(request: web.Request, c: Context) -> web.Response:
    """Create or update a change request."""
    profile = _bp(c.state, request.match_info["id"], own=True)
    body = await json_body(request)
    _check_business(body, partial=True)
    now = c.state.iso_now()
    existing = profile.get("change_request")
    created = existing["created_at"] if existing else now
    profile["change_request"] = {
        **(existing or {}),
        **body,
        "status": {"status": "pending", "message": ""},
        "created_at": created,
        "updated_at": now,
    }
    profile["updated_at"] = now
    return json_response(profile, 200 if existing else 201)


async def delete_change_request(request: web.Request, c: Context) -> web.Response:
    """Delete Business Profile Change Request (404 when there is none)."""
    profile = _bp(c.state, request.match_info["id"], own=True)
    if not profile.get("change_request"):
        raise NotFound("Change request")
    profile["change_request"] = None
    return _empty()


def _linked(request: web.Request, s: State, profile_id: str) -> web.Response:
    rows = [
        {"account_id": s.registry_account_id, "vonage_application_id": a}
        for a in s.linked_applications.get(profile_id, [])
    ]
    return cursor_page(request, "linked_applications", rows)


async def business_linked(request: web.Request, c: Context) -> web.Response:
    """Get a list of linked Vonage Applications under the Business profile."""
    return _linked(request, c.state, _bp(c.state, request.match_info["id"])["id"])


# -- application profiles ------------------------------------------------------------------------


def _visible_ap(s: State, shared: bool | None = None) -> list[dict[str, Any]]:
    mine = s.registry_account_id
    out = []
    for p in s.application_profiles.values():
        is_shared = p["account_id"] != mine and mine in s.shared_with.get(p["id"], [])
        if (p["account_id"] == mine and shared is not True) or (is_shared and shared is not False):
            out.append(p)
    return out


def _ap(s: State, profile_id: str, *, own: bool = False) -> dict[str, Any]:
    for p in _visible_ap(s, shared=False if own else None):
        if p["id"] == profile_id:
            return p
    raise NotFound(f"Application profile {profile_id}")


async def list_application_profiles(request: web.Request, c: Context) -> web.Response:
    """List network Application Profile registrations."""
    q = request.query
    items = _visible_ap(c.state, _bool_param(request, "shared"))
    if q.get("status"):
        items = [p for p in items if p["status"]["status"] == q["status"]]
    if q.get("business_profile_id"):
        items = [p for p in items if p["business_profile_id"] == q["business_profile_id"]]
    return cursor_page(request, "application_profiles", items)


async def create_application_profile(request: web.Request, c: Context) -> web.Response:
    """Create a new network Application Profile."""
    s = c.state
    body = await json_body(request)
    _require(body, "business_profile_id", "name", "category_id", "network_apis")
    if body.get("terms_and_conditions_accepted") is not True:
        raise ParamError("terms_and_conditions_accepted", "must be true")
    if body["business_profile_id"] not in {p["id"] for p in _visible_bp(s, shared=False)}:
        raise ParamError("business_profile_id", "is not one of your business profiles")
    if body["category_id"] not in {x["id"] for x in cat.CATEGORIES}:
        raise ParamError("category_id", "is not a supported category")
    apis = body["network_apis"]
    known = {a["id"] for a in cat.NETWORK_APIS}
    if not isinstance(apis, list) or any(
        not isinstance(a, dict) or a.get("network_api_id") not in known for a in apis
    ):
        raise ParamError("network_apis", "must list supported network_api_id values")
    if len(_visible_ap(s, shared=False)) >= _MAX_PROFILES:
        return registry_error(409, f"There is a limit of {_MAX_PROFILES} application profiles")
    return json_response(s.create_application_profile(body), 201)


async def get_application_profile(request: web.Request, c: Context) -> web.Response:
    """Get network Application Profile."""
    return json_response(_ap(c.state, request.match_info["id"]))


async def delete_application_profile(request: web.Request, c: Context) -> web.Response:
    """Delete a network Application Profile."""
    _ap(c.state, request.match_info["id"], own=True)["delete_at"] = _delete_at()
    return _empty()


async def undelete_application_profile(request: web.Request, c: Context) -> web.Response:
    """Undelete network Application Profile."""
    profile = _ap(c.state, request.match_info["id"], own=True)
    if profile["delete_at"] is None:
        return registry_error(409, "The application profile is not marked for deletion")
    profile["delete_at"] = None
    return _empty()


async def dismiss_application_notification(request: web.Request, c: Context) -> web.Response:
    """Dismiss the Custom Notification."""
    return _dismiss(_ap(c.state, request.match_info["id"], own=True))


async def application_csps(request: web.Request, c: Context) -> web.Response:
    """Detailed information of Application Profile registration status per CSP (id may be ``*``)."""
    s = c.state
    pid = request.match_info["id"]
    ids = [p["id"] for p in _visible_ap(s)] if pid == "*" else [_ap(s, pid)["id"]]
    rows = _csp_rows(s, "application_profile_id", ids)
    return cursor_page(request, "application_profile_csp_statuses", _status_filter(rows, request))


async def application_csp(request: web.Request, c: Context) -> web.Response:
    """Detailed information of Application Profile registration status for the given CSP."""
    profile = _ap(c.state, request.match_info["id"])
    row = c.state.csp_statuses.get((profile["id"], request.match_info["csp_id"]))
    if row is None:
        raise NotFound(f"CSP {request.match_info['csp_id']}")
    return json_response(row)


async def share_application(request: web.Request, c: Context) -> web.Response:
    """Share network Application Profile (``{}`` shares with the partner account)."""
    s = c.state
    profile = _ap(s, request.match_info["id"], own=True)
    body = await json_body(request) if request.can_read_body else {}
    account = str(body.get("account_id") or s.partner_account_id)
    shared = s.shared_with.setdefault(profile["id"], [])
    if account not in shared:
        shared.append(account)
    return _empty()


async def application_shared(request: web.Request, c: Context) -> web.Response:
    """Get a list of accounts the Application Profile is shared with."""
    profile = _ap(c.state, request.match_info["id"])
    return _shares(request, c.state.shared_with.get(profile["id"], []))


async def unshare_application(request: web.Request, c: Context) -> web.Response:
    """Unshare network Application Profile."""
    profile = _ap(c.state, request.match_info["id"], own=True)
    shared = c.state.shared_with.get(profile["id"], [])
    if request.match_info["account_id"] not in shared:
        raise NotFound(f"Share with {request.match_info['account_id']}")
    shared.remove(request.match_info["account_id"])
    return _empty()


async def application_linked(request: web.Request, c: Context) -> web.Response:
    """Get a list of linked Vonage Applications under the Application profile."""
    return _linked(request, c.state, _ap(c.state, request.match_info["id"])["id"])


# -- catalogue -----------------------------------------------------------------------------------


def _catalogue_list(key: str, rows: list[dict[str, Any]]) -> Op:
    async def op(request: web.Request, c: Context) -> web.Response:
        return cursor_page(request, key, rows)

    op.__doc__ = f"List supported {key.replace('_', ' ')}."
    return op


async def catalogue_csps(request: web.Request, c: Context) -> web.Response:
    """List Communications Service Providers (CSP)."""
    countries = _csv(request.query.get("countries"))
    rows = cat.CSPS if countries is None else cat.csps_in(countries)
    return cursor_page(request, "csps", rows)


async def catalogue_network_apis(request: web.Request, c: Context) -> web.Response:
    """List supported Network APIs."""
    countries = _csv(request.query.get("countries"))
    rows = cat.NETWORK_APIS
    if countries is not None:
        offered = {a for csp in cat.csps_in(countries) for a in csp["supported_network_apis"]}
        rows = [a for a in rows if a["id"] in offered]
    return cursor_page(request, "network_apis", rows)


async def catalogue_purposes(request: web.Request, c: Context) -> web.Response:
    """List supported Purposes."""
    apis = _csv(request.query.get("network-apis"))
    rows = [p for p in cat.PURPOSES if apis is None or p["network_api_id"] in apis]
    return cursor_page(request, "purposes", rows)


def _catalogue_item(rows: list[dict[str, Any]], what: str) -> Op:
    async def op(request: web.Request, c: Context) -> web.Response:
        for row in rows:
            if row["id"] == request.match_info["id"]:
                return json_response(row)
        raise NotFound(f"{what} {request.match_info['id']}")

    return op


def add_routes(app: web.Application) -> None:
    r = app.router
    bp = f"{REGISTRY_PREFIX}/business-profiles"
    ap = f"{REGISTRY_PREFIX}/application-profiles"
    cg = f"{REGISTRY_PREFIX}/catalogue"
    routes: list[tuple[str, str, Op]] = [
        ("POST", bp, create_business_profile),
        ("GET", bp, list_business_profiles),
        ("GET", bp + "/{id}", get_business_profile),
        ("DELETE", bp + "/{id}", delete_business_profile),
        ("POST", bp + "/{id}/notification/dismiss", dismiss_business_notification),
        ("POST", bp + "/{id}/undelete", undelete_business_profile),
        ("GET", bp + "/{id}/csps", business_csps),
        ("GET", bp + "/{id}/csps/{csp_id}", business_csp),
        ("GET", bp + "/{id}/shared", business_shared),
        ("PUT", bp + "/{id}/change-request", put_change_request),
        ("DELETE", bp + "/{id}/change-request", delete_change_request),
        ("GET", bp + "/{id}/linked-applications", business_linked),
        ("GET", ap, list_application_profiles),
        ("POST", ap, create_application_profile),
        ("GET", ap + "/{id}", get_application_profile),
        ("DELETE", ap + "/{id}", delete_application_profile),
        ("POST", ap + "/{id}/notification/dismiss", dismiss_application_notification),
        ("POST", ap + "/{id}/undelete", undelete_application_profile),
        ("GET", ap + "/{id}/csps", application_csps),
        ("GET", ap + "/{id}/csps/{csp_id}", application_csp),
        ("POST", ap + "/{id}/shared", share_application),
        ("GET", ap + "/{id}/shared", application_shared),
        ("DELETE", ap + "/{id}/shared/{account_id}", unshare_application),
        ("GET", ap + "/{id}/linked-applications", application_linked),
        ("GET", cg + "/countries", _catalogue_list("countries", cat.COUNTRIES)),
        (
            "GET",
            cg + "/organisation-types",
            _catalogue_list("organisation_types", cat.ORGANISATION_TYPES),
        ),
        ("GET", cg + "/categories", _catalogue_list("categories", cat.CATEGORIES)),
        ("GET", cg + "/csps", catalogue_csps),
        ("GET", cg + "/network-apis", catalogue_network_apis),
        ("GET", cg + "/purposes", catalogue_purposes),
        ("GET", cg + "/vetting-levels", _catalogue_list("vetting_levels", cat.VETTING_LEVELS)),
        ("GET", cg + "/vetting-levels/{id}", _catalogue_item(cat.VETTING_LEVELS, "Vetting level")),
        (
            "GET",
            cg + "/terms-and-conditions",
            _catalogue_list("terms_and_conditions", cat.TERMS_AND_CONDITIONS),
        ),
        (
            "GET",
            cg + "/terms-and-conditions/{id}",
            _catalogue_item(cat.TERMS_AND_CONDITIONS, "Terms and conditions"),
        ),
    ]
    for method, path, op in routes:
        r.add_route(method, path, _op(op))
