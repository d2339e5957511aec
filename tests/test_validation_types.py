"""Wrong input types are a ``ValidationError`` before anything is sent, never a ``TypeError`` or
``OverflowError`` from deep inside, nor a silently reshaped value (``b"301"`` is not 51, 48, 49)."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from aiohttp import web

from tests.conftest import Loopback
from vonage_async import BearerToken, RetryPolicy, SessionLogin, Vonage, errors

WEST = timezone(timedelta(hours=-5))
EAST = timezone(timedelta(hours=5))


@pytest.fixture
async def rig(loopback: Any) -> AsyncIterator[tuple[Vonage, Loopback]]:
    async def refuse(request: web.Request) -> web.Response:
        return web.json_response({"error": "nothing should have been sent"}, status=400)

    server = await loopback(refuse)
    async with Vonage(
        vbc_auth=BearerToken("t0k3n"),
        legacy_auth=SessionLogin("user", "pass"),
        vbc_url=str(server.url),
        legacy_url=str(server.url),
        retry=RetryPolicy(attempts=1),
    ) as client:
        yield client, server


Call = Callable[[Vonage], Any]

CASES: list[tuple[str, Call, str]] = [
    ("result=False", lambda c: c.legacy.call_history("301", result=False), "result"),
    ("result=7", lambda c: c.legacy.call_history("301", result=7), "result"),
    ("result=[None]", lambda c: c.legacy.call_history("301", result=[None]), "result"),
    ("result=b'answered'", lambda c: c.legacy.call_history("301", result=b"answered"), "result"),
    (
        "start near datetime.max, west of UTC",
        lambda c: c.legacy.call_history("301", start=datetime.max.replace(tzinfo=WEST)),
        "start",
    ),
    (
        "end near datetime.min, east of UTC",
        lambda c: c.legacy.call_history("301", end=datetime.min.replace(tzinfo=EAST)),
        "end",
    ),
    (
        "call_history_all start near datetime.max",
        lambda c: c.legacy.call_history_all("301", start=datetime.max.replace(tzinfo=WEST)),
        "start",
    ),
    ("extension=301.0", lambda c: c.legacy.call_history(301.0), "extension"),
    ("watch(b'301')", lambda c: c.legacy.live_status.watch(b"301"), "extensions"),
    ("watch(bytearray)", lambda c: c.legacy.live_status.watch(bytearray(b"301")), "extensions"),
    ("watch(0.0)", lambda c: c.legacy.live_status.watch(0.0), "extensions"),
    ("watch(True)", lambda c: c.legacy.live_status.watch(True), "extensions"),
    ("watch([301.0])", lambda c: c.legacy.live_status.watch([301.0]), "extensions"),
    ("watch({'301': 1})", lambda c: c.legacy.live_status.watch({"301": 1}), "extensions"),
    ("snapshot(b'301')", lambda c: c.legacy.live_status.snapshot(b"301"), "extensions"),
    (
        "telephony start_time=inf",
        lambda c: c.telephony.calls.list(start_time=math.inf),
        "start_time",
    ),
    (
        "telephony end_time near datetime.min, east of UTC",
        lambda c: c.telephony.calls.list(end_time=datetime.min.replace(tzinfo=EAST)),
        "end_time",
    ),
    ("poll_timeout='45'", lambda c: c.legacy.live_status.watch(poll_timeout="45"), "poll_timeout"),
    ("interval=nan", lambda c: c.telephony.calls.watch(interval=math.nan), "interval"),
    ("interval=inf", lambda c: c.telephony.calls.watch(interval=math.inf), "interval"),
    ("page_size=10**5000", lambda c: c.telephony.calls.list(page_size=10**5000), "page_size"),
    (
        "telephony extension=10**5000",
        lambda c: c.telephony.calls.list(extension=10**5000),
        "extension",
    ),
]


@pytest.mark.parametrize(("call", "parameter"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
async def test_a_wrong_type_is_refused_before_sending(
    rig: tuple[Vonage, Loopback], call: Call, parameter: str
) -> None:
    client, server = rig
    with pytest.raises(errors.ValidationError) as caught:
        result = call(client)
        if hasattr(result, "__await__"):
            await result

    assert caught.value.parameter == parameter
    assert server.requests == []


@pytest.mark.parametrize(
    ("username", "password", "parameter"),
    [
        (7, "pw", "username"),
        (b"alice", "pw", "username"),
        ("alice", 7, "password"),
        ("", "pw", "username"),
    ],
)
def test_session_login_refuses_a_non_string_at_construction(
    username: Any, password: Any, parameter: str
) -> None:
    with pytest.raises(errors.ValidationError) as caught:
        SessionLogin(username, password)

    assert caught.value.parameter == parameter
    assert "pw" not in str(caught.value)  # the password is never quoted
