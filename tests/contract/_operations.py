"""Every SDK operation the official OpenAPI files define, as a call a user would make.

``CASES`` maps each to the file operation it must hit. ``flaw`` names a defect of the file
itself: there the test checks what the file still allows (method, path, query, auth).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from vonage_async import AsyncPager, BearerToken, RetryPolicy, Vonage
from vonage_async.provisioning import Account, Extension, Location, User
from vonage_async.telephony import Call, CallUpdate, Device, Endpoint, Leg, LegUpdate

from ._prism import Exchange, Mock

# The files type these ids as numbers (the seeds show strings such as "abc11111111111").
EXTERNAL_ID = "1234567"
OLD_ACCOUNT = "123456"  # the 2021 files type account_id as a number, so "self" is refused
CALL, LEG, DEVICE = "c2c5d3f2-8d8b-4f57-9b1e-7c6b2a1f0e11", "leg-1", "00-11-22-33-44-55"

LEG_FLAW = (
    "the file's leg PUT body is a oneOf whose branches overlap, so Prism rejects every body "
    "(422 on the body only); method, path and auth are checked"
)


async def pages(pager: AsyncPager[Any], limit: int) -> list[Any]:
    """Up to ``limit`` pages of a listing, each page's items decoded."""
    found = []
    walk = pager.pages()
    try:
        async for page in walk:
            found.append(page)
            if len(found) >= limit:
                break
    finally:
        await walk.aclose()
    return found


async def listing(pager: AsyncPager[Any], model: type, dynamic: bool) -> None:
    # Only the first page: Prism answers every page with the same example (page 1), and its
    # generated answers invent page numbers, so a second page could not be told apart.
    (page,) = await pages(pager, 1)
    assert all(isinstance(item, model) for item in page.items), page.items


@dataclass(frozen=True)
class Case:
    spec: str
    operation: str  # "METHOD /template" in the file
    call: Callable[[Vonage, bool], Awaitable[None]]
    flaw: str | None = None

    @property
    def name(self) -> str:
        return f"{self.spec}: {self.operation}"


async def _is(awaitable: Awaitable[Any], model: type) -> None:
    value = await awaitable
    assert isinstance(value, model), value


def _prov(spec: str, account: str) -> list[Case]:
    base = "/api/accounts/{account_id}"
    cases = {
        "provisioning.yml": [
            Case(
                spec,
                f"GET {base}",
                lambda c, d: _is(c.provisioning.accounts.get(account), Account),
            ),
            Case(
                spec,
                f"GET {base}/locations",
                lambda c, d: listing(c.provisioning.locations.list(account), Location, d),
            ),
            Case(
                spec,
                f"GET {base}/locations/{{location_id}}",
                lambda c, d: _is(c.provisioning.locations.get(account, 145214), Location),
            ),
            Case(
                spec,
                f"GET {base}/extensions/{{external_id}}",
                lambda c, d: _is(c.provisioning.extensions.get(account, EXTERNAL_ID), Extension),
            ),
            Case(
                spec,
                f"GET {base}/users",
                lambda c, d: listing(
                    c.provisioning.users.list(
                        account,
                        page_size=10,
                        first_name="John",
                        last_name="Smith",
                        login_name="jsmith",
                        email="john.smith@example.com",
                    ),
                    User,
                    d,
                ),
            ),
            Case(
                spec,
                f"GET {base}/users/{{user_id}}",
                lambda c, d: _is(c.provisioning.users.get(account, 2111111), User),
            ),
        ],
        "vbc-extension.yml": [
            Case(
                spec,
                f"GET {base}/extensions/{{extension_number}}",
                lambda c, d: _is(
                    c.provisioning.extensions.get_by_number(account, "789"), Extension
                ),
            ),
        ],
    }[spec]
    cases.append(
        Case(
            spec,
            f"GET {base}/extensions",
            lambda c, d: listing(
                c.provisioning.extensions.list(
                    account,
                    page_size=10,
                    location_id=145214,
                    phone_number="14155550100",
                    login_name="jsmith",
                    email="john.smith@example.com",
                ),
                Extension,
                d,
            ),
        )
    )
    return cases


def _telephony() -> list[Case]:
    spec = "telephony.yml"
    calls = "/cc/accounts/{account_id}/calls"
    leg = calls + "/{call_id}/legs/{leg_id}"
    devices = "/registration/accounts/{account_id}/devices"

    def tel(c: Vonage) -> Any:
        return c.telephony

    async def create(c: Vonage, d: bool) -> None:
        call_id = await tel(c).calls.create(
            "self", from_=Endpoint.extension("101"), to=Endpoint.pstn("14155550100")
        )
        assert isinstance(call_id, str) and call_id

    return [
        Case(
            spec,
            f"GET {calls}",
            lambda c, d: listing(
                tel(c).calls.list(
                    "self",
                    extension="101",
                    page_size=10,
                    order="asc",
                    start_time=1700000000,
                    end_time=1700003600,
                ),
                Call,
                d,
            ),
        ),
        Case(spec, f"POST {calls}", create),
        Case(
            spec, f"GET {calls}/{{call_id}}", lambda c, d: _is(tel(c).calls.get("self", CALL), Call)
        ),
        Case(
            spec,
            f"PUT {calls}/{{call_id}}",
            lambda c, d: _is(
                tel(c).calls.update("self", CALL, state="active", to=Endpoint.device("VH16370927")),
                CallUpdate,
            ),
        ),
        Case(
            spec,
            f"DELETE {calls}/{{call_id}}",
            lambda c, d: _is(tel(c).calls.delete("self", CALL), CallUpdate),
        ),
        Case(
            spec,
            f"GET {calls}/{{call_id}}/legs",
            lambda c, d: listing(tel(c).legs.list("self", CALL), Leg, d),
        ),
        Case(spec, f"GET {leg}", lambda c, d: _is(tel(c).legs.get("self", CALL, LEG), Leg)),
        Case(
            spec,
            f"PUT {leg}",
            lambda c, d: _is(tel(c).legs.hold("self", CALL, LEG), LegUpdate),
            flaw=LEG_FLAW,
        ),
        Case(spec, f"DELETE {leg}", lambda c, d: tel(c).legs.delete("self", CALL, LEG)),
        Case(
            spec,
            f"GET {devices}",
            lambda c, d: listing(
                tel(c).devices.list("self", page_size=10, order="desc"), Device, d
            ),
        ),
        Case(
            spec,
            f"GET {devices}/{{device_id}}",
            lambda c, d: _is(tel(c).devices.get("self", DEVICE), Device),
        ),
    ]


def _integration() -> list[Case]:
    from vonage_async.integration import (
        Account as VisAccount,
        Call as VisCall,
        Event,
        User as VisUser,
        Webhook,
    )

    spec = "integration-platform.yml"
    call = "/self/calls/{id}"
    hook = "/self/webhooks/{id}"

    def vis(c: Vonage) -> Any:
        return c.integration

    async def count(awaitable: Awaitable[int]) -> None:
        assert isinstance(await awaitable, int)

    async def deleted(awaitable: Awaitable[None]) -> None:
        assert await awaitable is None

    async def hooks(c: Vonage, d: bool) -> None:
        assert all(isinstance(h, Webhook) for h in await vis(c).webhooks.list())

    return [
        Case(spec, "GET /self", lambda c, d: _is(vis(c).me(), VisUser)),
        Case(spec, "GET /self/account", lambda c, d: _is(vis(c).account(), VisAccount)),
        Case(
            spec, "POST /self/calls", lambda c, d: _is(vis(c).calls.place("14155550100"), VisCall)
        ),
        Case(
            spec,
            "GET /self/calls",
            lambda c, d: listing(
                vis(c).calls.list(direction="INBOUND", order="ASC", size=10), VisCall, d
            ),
        ),
        Case(
            spec,
            "GET /self/calls/count",
            lambda c, d: count(
                vis(c).calls.count(
                    from_date=1700000000, to_date=1700003600, direction="OUTBOUND", states="ACTIVE"
                )
            ),
        ),
        Case(spec, f"GET {call}", lambda c, d: _is(vis(c).calls.get(9001), VisCall)),
        Case(spec, f"DELETE {call}", lambda c, d: _is(vis(c).calls.end(9001), VisCall)),
        Case(spec, f"PUT {call}/answer", lambda c, d: _is(vis(c).calls.answer(9001), VisCall)),
        Case(spec, f"PUT {call}/hold", lambda c, d: _is(vis(c).calls.hold(9001), VisCall)),
        Case(spec, f"DELETE {call}/hold", lambda c, d: _is(vis(c).calls.unhold(9001), VisCall)),
        Case(
            spec,
            f"PUT {call}/vmtransfer",
            lambda c, d: _is(vis(c).calls.to_voicemail(9001), VisCall),
        ),
        Case(
            spec,
            f"POST {call}/transfer",
            lambda c, d: _is(vis(c).calls.transfer(9001, "14155550111"), VisCall),
        ),
        Case(
            spec,
            "GET /self/events",
            lambda c, d: listing(
                vis(c).events.list(
                    types="CALL",
                    from_date=1700000000,
                    to_date=1700003600,
                    direction="INBOUND",
                    states="ANSWERED",
                    size=10,
                    order="DESC",
                    sort="startTime",
                ),
                Event,
                d,
            ),
        ),
        Case(
            spec,
            "GET /self/events/count",
            lambda c, d: count(vis(c).events.count(from_date=1700000000, states="RINGING")),
        ),
        Case(spec, "GET /self/events/{id}", lambda c, d: _is(vis(c).events.get(77), Event)),
        Case(
            spec,
            "POST /self/webhooks",
            lambda c, d: _is(
                vis(c).webhooks.create("https://www.example.com", signing_key="k"), Webhook
            ),
        ),
        Case(spec, "GET /self/webhooks", hooks),
        Case(spec, f"GET {hook}", lambda c, d: _is(vis(c).webhooks.get("184094"), Webhook)),
        Case(spec, f"DELETE {hook}", lambda c, d: deleted(vis(c).webhooks.delete("184094"))),
        Case(spec, f"PUT {hook}/renew", lambda c, d: _is(vis(c).webhooks.renew("184094"), Webhook)),
    ]


CASES: list[Case] = [
    *_prov("provisioning.yml", "self"),
    *_telephony(),
    *_prov("vbc-extension.yml", OLD_ACCOUNT),
    *_integration(),
]
SPECS = ("provisioning.yml", "telephony.yml", "vbc-extension.yml", "integration-platform.yml")


def _blames(answer: Any, where: str) -> bool:
    """Prism's error names only ``where`` ("body": the request body, "response": its own
    example) as invalid: the file's fault, with the rest of the request found valid."""
    problems = answer.get("validation") if isinstance(answer, dict) else None
    return bool(problems) and all(p.get("location", [""])[0] == where for p in problems)


def file_flaw(exchange: Exchange, case: Case) -> str | None:
    if exchange.status == 500 and _blames(exchange.answer, "response"):
        fields = sorted(
            {".".join(map(str, p["location"][2:])) for p in exchange.answer["validation"]}
        )
        return "the file's own example breaks its response schema: " + ", ".join(fields)
    if case.flaw and (  # 422 from Prism, or the file's own 400 example in dynamic mode
        (exchange.status == 422 and _blames(exchange.answer, "body")) or exchange.status == 400
    ):
        return case.flaw
    return None


async def verify(mock: Mock, case: Case) -> str | None:
    """Run ``case`` against ``mock``: None when it passed, else what went wrong."""
    start = len(mock.exchanges)
    error: Exception | None = None
    client = Vonage(
        vbc_auth=BearerToken("contract-token"),
        vbc_url=mock.vbc_url,
        retry=RetryPolicy(attempts=1),
    )
    async with client:
        try:
            await case.call(client, mock.dynamic)
        except Exception as exc:
            error = exc
    seen = mock.exchanges[start:]
    problems = []
    if not seen:
        problems.append("no request reached Prism")
    for exchange in seen:
        operation = mock.match(exchange)
        if operation is None or str(operation) != case.operation:
            problems.append(f"sent {exchange.method} {exchange.path}, not {case.operation}")
            continue
        unknown = sorted(set(exchange.query) - operation.query)
        if unknown:
            problems.append(f"query names the file does not define: {', '.join(unknown)}")
        if not (exchange.authorization or "").startswith("Bearer "):
            problems.append("sent without a bearer token")
    if error is not None:
        refused = [e for e in seen if e.status >= 400]
        flaws = [file_flaw(e, case) for e in refused]
        if not (refused and all(flaws)):
            detail = refused[-1].answer if refused else ""
            problems.append(f"{type(error).__name__}: {error} {detail}".strip())
        else:
            FLAWS[case.name] = sorted({f for f in flaws if f})
    return "; ".join(problems) or None


FLAWS: dict[str, list[str]] = {}  # case name -> the file flaws it met
