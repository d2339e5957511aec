"""Which query parameters each operation takes: what its document lists, plus what the
emulator's own links carry. Anything else is refused (400, naming the parameter), so neither
the SDK nor a user's code can come to rely on a parameter the documents never promised.

Sources: provisioning.yml and the vbc-*.yml files (seeds 000/001), telephony.yml (seed 002),
seed 003 (legacy), seed 004's "Query Parameters" tables (Network Registry),
integration-platform.yml.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from ._common import (
    REGISTRY_PREFIX,
    VBC_PREFIX,
    ParamError,
    error_response,
    family_of,
    json_response,
    registry_error,
    validation_error,
)

_PROV = f"{VBC_PREFIX}/provisioning/api/accounts/{{account_id}}"
_CALLS = f"{VBC_PREFIX}/telephony/v3/cc/accounts/{{account_id}}/calls"
_DEVICES = f"{VBC_PREFIX}/telephony/v3/registration/accounts/{{account_id}}/devices"
_BP = f"{REGISTRY_PREFIX}/business-profiles"
_AP = f"{REGISTRY_PREFIX}/application-profiles"
_CG = f"{REGISTRY_PREFIX}/catalogue"
_VIS = f"{VBC_PREFIX}/vis/v1/self"
_VIS_FILTERS = ("fromDate", "toDate", "direction", "states")

# Telephony's next/previous links carry this opaque token (see _telephony.cc_page).
PAGE_TOKEN = "page_token"
_CURSOR = ("next",)  # the Network Registry's _links.next.href carries it

DOCUMENTED: dict[tuple[str, str], frozenset[str]] = {
    (m, p): frozenset(names)
    for m, p, names in [
        # OAuth endpoints (RFC 6749 names)
        ("GET", "/authorize", ("response_type", "client_id", "redirect_uri", "scope", "state")),
        # seed 003: login by URL parameters; Live Status; call history's filters
        ("GET", "/appserver/rest/user/null", ("htmlLogin", "htmlPassword")),
        ("GET", "/presence/dashui", ("filterExtension", "firstRequest")),
        (
            "GET",
            "/presence/rest/callhistory/{number}",
            (
                "start",
                "end",
                "from",
                "to",
                "result",
                "callerid",
                "customtag",
                "minduration",
                "maxduration",
                "isrecorded",
            ),
        ),
        # provisioning: locations' HAL links carry page and page_size
        ("GET", f"{_PROV}/locations", ("page", "page_size")),
        (
            "GET",
            f"{_PROV}/extensions",
            ("page_size", "page", "location_id", "phone_number", "login_name", "email"),
        ),
        (
            "GET",
            f"{_PROV}/users",
            ("page_size", "page", "first_name", "last_name", "login_name", "email"),
        ),
        # telephony.yml (no `page`: the links carry an opaque token instead)
        (
            "GET",
            _CALLS,
            ("extension", "page_size", "order", "start_time", "end_time", PAGE_TOKEN),
        ),
        ("GET", _DEVICES, ("page_size", "order", "start_time", "end_time", PAGE_TOKEN)),
        # integration-platform.yml
        ("GET", f"{_VIS}/calls", ("direction", "offset", "size", "order")),
        ("GET", f"{_VIS}/calls/count", _VIS_FILTERS),
        (
            "GET",
            f"{_VIS}/events",
            ("types", *_VIS_FILTERS, "offset", "size", "order", "sort"),
        ),
        ("GET", f"{_VIS}/events/count", _VIS_FILTERS),
        # seed 004
        ("GET", _BP, ("next", "limit", "shared")),
        ("GET", f"{_BP}/{{id}}/csps", ("status", "next", "limit")),
        ("GET", f"{_BP}/{{id}}/shared", ("next", "limit")),
        ("GET", f"{_BP}/{{id}}/linked-applications", _CURSOR),
        ("GET", _AP, ("status", "business_profile_id", "shared", "limit", "next")),
        ("GET", f"{_AP}/{{id}}/csps", ("next", "limit", "plmn_id", "status", "csp_id")),
        ("GET", f"{_AP}/{{id}}/shared", ("next", "limit")),
        ("GET", f"{_AP}/{{id}}/linked-applications", _CURSOR),
        ("GET", f"{_CG}/countries", ("next",)),
        ("GET", f"{_CG}/organisation-types", ("next",)),
        ("GET", f"{_CG}/categories", ("next",)),
        ("GET", f"{_CG}/csps", ("countries", "all", "next")),
        ("GET", f"{_CG}/network-apis", ("countries", "all", "next")),
        ("GET", f"{_CG}/purposes", ("network-apis", "next")),
        ("GET", f"{_CG}/vetting-levels", ("next",)),
        ("GET", f"{_CG}/terms-and-conditions", ("next",)),
    ]
}


def refusal(path: str, name: str) -> web.Response:
    """The family's 400 for an undocumented query parameter."""
    error = ParamError(name, "is not a query parameter of this operation")
    family = family_of(path)
    if family == "registry":
        return registry_error(400, "The request failed validation", invalid=[error])
    if path.startswith(f"{VBC_PREFIX}/provisioning"):
        return validation_error([error])
    if family == "legacy":
        return error_response(family, path, 400, f"INVALID PARAMETER {name}")
    if path.startswith(f"{VBC_PREFIX}/telephony"):  # ValidationErrorMessage: code a string
        return json_response(
            {"code": "400", "message": f"Invalid request parameters: {error}"}, 400
        )
    return error_response(family, path, 400, f"Invalid request parameters: {error}")


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


# Seed 003's Authentication section: any service may log in with URL parameters, except Live
# Status ("this web service will not perform authentication as part of the request").
LEGACY_LOGIN = frozenset(("htmlLogin", "htmlPassword"))


def undocumented(request: web.Request, extra: frozenset[str] = frozenset()) -> web.Response | None:
    """The 400 for the first query parameter the operation does not take, or None."""
    info = request.match_info
    if not request.query or info.http_exception is not None:
        return None
    resource = info.route.resource
    template = resource.canonical if resource is not None else request.path
    method = "GET" if request.method == "HEAD" else request.method
    allowed = DOCUMENTED.get((method, template), frozenset()) | extra
    for name in request.query:
        if name not in allowed:
            return refusal(request.path, name)
    return None


@web.middleware
async def query_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every family but legacy, whose services check after finding the session (_legacy)."""
    if family_of(request.path) != "legacy" or request.path == "/appserver/rest/user/null":
        refused = undocumented(request)
        if refused is not None:
            return refused
    return await handler(request)
