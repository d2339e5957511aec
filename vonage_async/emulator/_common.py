"""What every API family of the emulator shares: its context, response and error shapes."""

from __future__ import annotations

import asyncio
import json
import uuid
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Literal

import attrs
from aiohttp import web

if TYPE_CHECKING:
    from ._auth import Sessions, Tokens
    from ._faults import Faults
    from ._state import State

Family = Literal["vbc", "legacy", "registry"]

VBC_PREFIX = "/t/vbc.prod"
REGISTRY_PREFIX = "/v1/network-registry"


@attrs.define
class Context:
    """Everything a handler may touch; one per running emulator."""

    state: State
    tokens: Tokens
    sessions: Sessions
    faults: Faults
    hold: float
    closing: asyncio.Event = attrs.Factory(asyncio.Event)
    # dashui requests under way per user (across sessions), and the most seen at once
    polls: dict[int, int] = attrs.Factory(dict)
    max_concurrent_polls: int = 0


CONTEXT: web.AppKey[Context] = web.AppKey("context", Context)


def ctx(request: web.Request) -> Context:
    return request.app[CONTEXT]


def family_of(path: str) -> Family | None:
    """Which API family a path belongs to (the token endpoint counts as VBC)."""
    if path.startswith(VBC_PREFIX) or path in ("/token", "/authorize"):
        return "vbc"
    if path.startswith(REGISTRY_PREFIX):
        return "registry"
    if path.startswith(("/presence/", "/appserver/")):
        return "legacy"
    return None


def json_response(data: Any, status: int = 200, **headers: str) -> web.Response:
    return web.Response(
        status=status,
        body=json.dumps(data).encode(),
        content_type="application/json",
        headers=headers or None,
    )


def text_response(text: str, status: int = 200, **headers: str) -> web.Response:
    return web.Response(
        status=status, text=text, content_type="text/plain", headers=headers or None
    )


class ParamError(Exception):
    """A query or body parameter the API refuses."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name}: {reason}")
        self.name = name
        self.reason = reason


def int_param(
    query: Any, name: str, default: int, *, minimum: int = 1, maximum: int | None = None
) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(str(raw))
    except ValueError:
        raise ParamError(name, "must be an integer") from None
    if value < minimum or (maximum is not None and value > maximum):
        bound = f" and at most {maximum}" if maximum is not None else ""
        raise ParamError(name, f"must be at least {minimum}{bound}")
    return value


def error_response(family: Family | None, path: str, status: int, message: str) -> web.Response:
    """An error in the body shape the family (and, for VBC, the service) answers with."""
    if family == "legacy":
        return text_response(message, status)
    if family == "registry":
        return registry_error(status, message)
    if path.startswith(f"{VBC_PREFIX}/telephony"):
        return json_response({"code": status, "message": message}, status)
    return json_response({"msg": message, "status": status}, status)


def validation_error(errors: list[ParamError], status: int = 400) -> web.Response:
    """Provisioning's ``{status, title, instance, invalid_parameters}``."""
    return json_response(
        {
            "status": status,
            "title": "Invalid parameters given" if status == 400 else "Unprocessable entity",
            "instance": str(uuid.uuid4()),
            "invalid_parameters": [{"name": e.name, "reason": e.reason} for e in errors],
        },
        status,
    )


def registry_error(
    status: int, detail: str, *, invalid: list[ParamError] | None = None
) -> web.Response:
    """The registry's ``{type, title, detail, instance}`` error."""
    title = HTTPStatus(status).phrase
    body: dict[str, Any] = {
        "type": f"https://developer.vonage.com/api-errors#{title.lower().replace(' ', '-')}",
        "title": title,
        "detail": detail,
        "instance": str(uuid.uuid4()),
    }
    if invalid:
        body["invalid_parameters"] = [{"name": e.name, "reason": e.reason} for e in invalid]
    return json_response(body, status)


async def json_body(request: web.Request) -> dict[str, Any]:
    """The request's JSON object; ParamError when it is not one."""
    try:
        data = await request.json()
    except ValueError:
        raise ParamError("body", "must be a JSON object") from None
    if not isinstance(data, dict):
        raise ParamError("body", "must be a JSON object")
    return data
