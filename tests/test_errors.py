"""Every error body shape the services use becomes the typed error with the server's message."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import Any

import attrs
import pytest
from aiohttp import web

from vonage_async import BearerToken, RetryPolicy, SessionLogin, Vonage, _http, errors
from vonage_async._http import error_for, error_message, retry_after

Loopback = Any  # conftest.Loopback
Start = Callable[..., Awaitable[Loopback]]
ONCE = RetryPolicy(attempts=1)

INVALID_PARAMETERS = [
    {"name": "email", "reason": "must be a valid email address"},
    {"name": "extension_number", "reason": "already in use"},
]

SHAPES = [
    pytest.param(
        404,
        "application/json",
        {"msg": "Extension 1234 not found", "status": 404},
        errors.NotFoundError,
        "Extension 1234 not found",
        None,
        id="provisioning-msg-status",
    ),
    pytest.param(
        400,
        "application/json",
        {
            "status": 400,
            "title": "Invalid request",
            "instance": "/t/vbc.prod/provisioning/accounts/1/users",
            "invalid_parameters": INVALID_PARAMETERS,
        },
        errors.InvalidRequestError,
        "Invalid request: email (must be a valid email address), extension_number (already in use)",
        None,
        id="provisioning-invalid-parameters",
    ),
    pytest.param(
        422,
        "application/json",
        {"code": "INVALID_TO", "message": "The 'to' number is not dialable"},
        errors.InvalidRequestError,
        "The 'to' number is not dialable",
        "INVALID_TO",
        id="telephony-code-message",
    ),
    pytest.param(
        409,
        "text/plain",
        {"code": 409, "message": "Call is already being transferred"},
        errors.ConflictError,
        "Call is already being transferred",
        "409",
        id="telephony-code-message-as-text-plain",
    ),
    pytest.param(
        403,
        "application/json",
        {
            "fault": {
                "code": 900910,
                "message": "The access token does not allow you to access the requested resource",
                "description": "Access failure for API: /t/vbc.prod/telephony/v3",
            }
        },
        errors.PermissionDeniedError,
        "The access token does not allow you to access the requested resource: "
        "Access failure for API: /t/vbc.prod/telephony/v3",
        "900910",
        id="gateway-fault",
    ),
    pytest.param(
        422,
        "application/problem+json",
        {
            "type": "https://developer.vonage.com/api-errors#invalid-param",
            "title": "Invalid parameters",
            "detail": "The value of the parameter 'name' is invalid",
            "instance": "bf0ca0bf-927b-3b52-e161-4f5a9a4b4a5a",
        },
        errors.InvalidRequestError,
        "The value of the parameter 'name' is invalid",
        "https://developer.vonage.com/api-errors#invalid-param",
        id="registry-title-detail",
    ),
    pytest.param(
        401,
        "application/json",
        {"error": "invalid_token", "error_description": "The access token expired"},
        errors.AuthenticationError,
        "The access token expired",
        "invalid_token",
        id="oauth-error",
    ),
    pytest.param(
        502,
        "text/html",
        "<html><body><h1>502 Bad Gateway</h1></body></html>",
        errors.ServerError,
        "Bad Gateway",
        None,
        id="html-gateway-page",
    ),
    pytest.param(
        500,
        "text/plain",
        "",
        errors.ServerError,
        "Internal Server Error",
        None,
        id="empty-body",
    ),
]


@pytest.mark.parametrize(("status", "content_type", "body", "error", "message", "code"), SHAPES)
@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_error_bodies_become_typed_errors(
    loopback: Start,
    service: Any,
    method: str,
    status: int,
    content_type: str,
    body: Any,
    error: type[errors.HTTPError],
    message: str,
    code: str | None,
) -> None:
    text = body if isinstance(body, str) else json.dumps(body)

    async def handler(request: web.Request) -> web.Response:
        return web.Response(status=status, text=text, content_type=content_type)

    server = await loopback(handler)
    vbc = server.make_url("/t/vbc.prod")
    async with Vonage(vbc_auth=BearerToken("tok"), vbc_url=str(vbc), retry=ONCE) as client:
        svc = service(client, "vbc", "telephony/v3")
        url = svc.url("accounts", "1", "calls")
        with pytest.raises(errors.HTTPError) as caught:
            await svc.request(method, url, params={"order": "desc"})

    raised = caught.value
    assert type(raised) is error
    assert raised.status == status
    assert raised.method == method
    assert raised.url == f"{vbc}/telephony/v3/accounts/1/calls?order=desc"
    assert raised.message == message
    assert raised.code == code
    assert raised.body == text
    assert str(raised) == f"{status} {message} ({method} {raised.url})"
    if error is errors.InvalidRequestError:
        expected = INVALID_PARAMETERS if "invalid_parameters" in body else []
        assert raised.invalid_parameters == expected


class LegacyHost:
    """Log in with headers; the services answer with the documented plain-text reasons."""

    def __init__(self) -> None:
        self.logins = 0
        self.app = web.Application()
        self.app.router.add_get("/appserver/rest/user/null", self.login)
        self.app.router.add_get("/presence/rest/clicktocall/{number}", self.click_to_call)
        self.app.router.add_get("/presence/rest/directory", self.never_logged_in)

    async def login(self, request: web.Request) -> web.Response:
        self.logins += 1
        response = web.Response(text="OK")
        response.set_cookie("JSESSIONID", f"s{self.logins}")
        return response

    async def click_to_call(self, request: web.Request) -> web.Response:
        number = request.match_info["number"]
        if not number.isdigit():
            return web.Response(status=400, text="BAD USER PHONE")
        return web.Response(status=404, text="USER HAS NO EXTENSIONS")

    async def never_logged_in(self, request: web.Request) -> web.Response:
        return web.Response(status=403, text="USER NOT LOGGED IN")


@pytest.mark.parametrize(
    ("path", "error", "status", "message", "logins"),
    [
        (("clicktocall", "12ab"), errors.InvalidRequestError, 400, "BAD USER PHONE", 1),
        (("clicktocall", "6788079084"), errors.NotFoundError, 404, "USER HAS NO EXTENSIONS", 1),
        # A session refused even right after a fresh login: one re-login, then the error.
        (("directory",), errors.PermissionDeniedError, 403, "USER NOT LOGGED IN", 2),
    ],
)
async def test_legacy_plain_text_reasons(
    loopback: Start,
    service: Any,
    path: tuple[str, ...],
    error: type[errors.HTTPError],
    status: int,
    message: str,
    logins: int,
) -> None:
    host = LegacyHost()
    server = await loopback(host.app)
    client = Vonage(legacy_auth=SessionLogin("jane", "pw"), legacy_url=str(server.url))
    async with client:
        svc = service(client, "legacy")
        url = svc.url("presence", "rest", *path)
        with pytest.raises(error) as caught:
            await svc.request("GET", url)

    assert caught.value.status == status
    assert caught.value.message == message
    assert caught.value.method == "GET"
    assert caught.value.url == str(url)
    assert host.logins == logins


@attrs.frozen
class Call:
    call_id: str = ""
    duration: int = 0


@pytest.mark.parametrize(
    ("body", "content_type"),
    [("<html>maintenance</html>", "text/html"), ('{"call_id": "c1", "duration": "long"}', None)],
)
async def test_a_success_answer_that_cannot_be_read_raises_decode_error(
    loopback: Start, service: Any, body: str, content_type: str | None
) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(text=body, content_type=content_type or "application/json")

    server = await loopback(handler)
    async with Vonage(vbc_auth=BearerToken("tok"), vbc_url=str(server.url)) as client:
        svc = service(client)
        with pytest.raises(errors.DecodeError):
            await svc.call("GET", svc.url("calls", "c1"), Call)


async def test_a_good_answer_decodes_into_the_model(loopback: Start, service: Any) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.json_response({"call": {"call_id": "c1", "duration": "42", "new": 1}})

    server = await loopback(handler)
    async with Vonage(vbc_auth=BearerToken("tok"), vbc_url=str(server.url)) as client:
        svc = service(client)
        call = await svc.call("GET", svc.url("calls", "c1"), Call, unwrap="call")

    assert call == Call("c1", 42)


def test_every_error_is_a_vonage_error() -> None:
    for name in errors.__all__:
        assert issubclass(getattr(errors, name), errors.VonageError)
    assert issubclass(errors.ValidationError, ValueError)


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, errors.InvalidRequestError),
        (401, errors.AuthenticationError),
        (403, errors.PermissionDeniedError),
        (404, errors.NotFoundError),
        (409, errors.ConflictError),
        (418, errors.HTTPError),
        (422, errors.InvalidRequestError),
        (429, errors.RateLimitedError),
        (500, errors.ServerError),
        (503, errors.ServerError),
    ],
)
def test_statuses_map_to_error_types(status: int, error: type[errors.HTTPError]) -> None:
    raised = error_for(status, "GET", "https://h/x", b"", {})  # type: ignore[arg-type]
    assert type(raised) is error


NOW = datetime(2024, 1, 24, 9, 36, 50, tzinfo=timezone.utc).timestamp()


@pytest.mark.parametrize(
    ("headers", "body", "seconds"),
    [
        ({"Retry-After": "7"}, b"", 7.0),
        ({"Retry-After": "Wed, 24 Jan 2024 09:37:00 GMT"}, b"", 10.0),
        ({"Retry-After": "Wed, 24 Jan 2024 09:00:00 GMT"}, b"", 0.0),  # in the past
        ({}, b'{"fault": {"code": 900802, "nextAccessTime": 1706089020000}}', 10.0),
        ({}, b'{"fault": {"code": 900802, "nextAccessTime": "1706089020"}}', 10.0),
        ({}, b'{"fault": {"nextAccessTime": "2024-Jan-24 09:37:00+0000 UTC"}}', 10.0),
        ({}, b'{"fault": {"nextAccessTime": "2024-01-24T09:37:00Z"}}', 10.0),
        ({}, b'{"nextAccessTime": 1706089020000}', 10.0),
        ({"Retry-After": "soon"}, b"", None),
        ({}, b'{"fault": {"code": 900802}}', None),
        ({}, b"not json", None),
    ],
)
def test_retry_hints(headers: dict[str, str], body: bytes, seconds: float | None) -> None:
    assert retry_after(headers, body, now=NOW) == seconds


def test_a_fault_message_keeps_its_code_and_details() -> None:
    body = b'{"fault": {"code": 900802, "message": "Message throttled out", "description": "x"}}'
    message, code, details = error_message(body)
    assert (message, code) == ("Message throttled out: x", "900802")
    assert details["description"] == "x"


def test_urls_in_errors_hide_secrets() -> None:
    raised = error_for(
        404,
        "GET",
        "https://user:pw@h.example/x?password=p1&htmlPassword=p2&access_token=t&page=2",  # type: ignore[arg-type]
        b"",
        {},
    )
    assert raised.url == (
        "https://h.example/x?password=***&htmlPassword=***&access_token=***&page=2"
    )
    assert "p1" not in str(raised) and "pw" not in str(raised)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"a": 1}', {"a": 1}),
        (b"  \n[1, 2]\n ", [1, 2]),
        ('{"name": "Zoë"}'.encode(), {"name": "Zoë"}),
        (b'\xef\xbb\xbf{"bom": true}', {"bom": True}),  # UTF-8 with a byte order mark
        ('{"wide": 1}'.encode("utf-16"), {"wide": 1}),
        (b'{"a": 1} trailing', None),
        (b"", None),
        (b"<html>busy</html>", None),
    ],
)
def test_json_bodies_in_any_encoding_json_allows(body: bytes, expected: object) -> None:
    assert _http.decode_json(body) == expected


@pytest.mark.parametrize("body", [b"\xc2\xa0{}", b"1\x1c", b"\xe2\x80\x83[1]"])
def test_only_json_whitespace_is_allowed_around_a_body(body: bytes) -> None:
    assert _http.decode_json(body) is None  # as json.loads: NBSP and friends are not JSON
