"""Flaws of the official OpenAPI files, each shown by a quoted line of the file (print the list
with ``python -m tests.contract.flaws``).

Schemathesis checks the emulator's answers against the files with these patched, and nothing
else: every other answer must be one the file allows. A test checks that each quoted line is
still where it is said to be, so the list cannot drift from the files.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

NUMBER_OR_STRING: dict[str, Any] = {"anyOf": [{"type": "string"}, {"type": "integer"}]}
NOT_FOUND: dict[str, Any] = {
    "description": "404 response",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NotFoundMessage"}}},
}

BAD_REQUEST: dict[str, Any] = {
    "description": "400 response",
    "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/ValidationErrorMessage"}}
    },
}


@dataclass(frozen=True)
class Flaw:
    spec: str
    line: int  # 1-based line of the file that shows the flaw
    quote: str  # that line, stripped
    why: str
    patches: tuple[tuple[str, Any], ...]  # JSON pointer -> replacement


_CALLS_GET = "/paths/~1cc~1accounts~1{account_id}~1calls/get/parameters"
_DEVICES_GET = "/paths/~1registration~1accounts~1{account_id}~1devices/get/parameters"


def _query(base: str, page_size: int, order: int, start_time: int) -> tuple[tuple[str, Any], ...]:
    return (
        (f"{base}/{page_size}/schema", {"type": "integer", "minimum": 1, "default": 100}),
        (f"{base}/{order}/schema", {"type": "string", "enum": ["asc", "desc"]}),
        (f"{base}/{start_time}/schema", {"type": "integer"}),
    )


def _props(schema: str, *names: str) -> tuple[tuple[str, Any], ...]:
    return tuple((f"/components/schemas/{schema}/properties/{n}", NUMBER_OR_STRING) for n in names)


def _any_of(schema: Any) -> Any:
    """``schema`` with every oneOf an anyOf."""
    if isinstance(schema, list):
        return [_any_of(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    return {("anyOf" if k == "oneOf" else k): _any_of(v) for k, v in schema.items()}


_PAGING = ("current_page", "pages", "page_size", "next_page")
_LEGS = "/paths/~1cc~1accounts~1{account_id}~1calls~1{call_id}~1legs"

FLAWS: tuple[Flaw, ...] = (
    Flaw(
        "telephony.yml",
        920,
        "type: string",  # CallsPaginated.current_page
        "paging numbers typed `type: string`; seed 002's example shows numbers "
        '("current_page": 0, "page_size": 1, "pages": 1, "next_page": 1)',
        _props("CallsPaginated", *_PAGING) + _props("AccountsRegPaginated", *_PAGING),
    ),
    Flaw(
        "telephony.yml",
        800,
        "format: date-time",  # Call.end_time, with `example: 1595959736` below
        "call and leg times typed `string, format: date-time` with `example: 1595959736`; "
        'seed 002 shows epoch numbers ("start_time": 1595959736)',
        _props("Call", "start_time", "end_time") + _props("CallLeg", "start_time", "end_time"),
    ),
    Flaw(
        "telephony.yml",
        1067,
        "type: string",  # RegistrationInfo.last_request
        "device times typed `type: string`; seed 002's example shows numbers "
        '("last_request": 1595937421)',
        _props("RegistrationInfo", "last_request", "last_success")
        + _props("RegistrationTime", "last_success")
        + _props("ProvisionedTime", "last_success", "last_request"),
    ),
    Flaw(
        "telephony.yml",
        33,
        "Either ascending or descending order.<br/>Must be one of `asc` or `desc`.",  # order
        "list parameters typed `type: string` where the prose wants a number (page_size, "
        "start_time: 'Should be of type `epoch`') or one of asc/desc (order: enum only in the "
        "prose), and the two lists document no 400 for a value outside that",
        _query(_CALLS_GET, 1, 2, 3)
        + _query(_DEVICES_GET, 0, 1, 2)
        + (
            (_CALLS_GET.replace("parameters", "responses/400"), BAD_REQUEST),
            (_DEVICES_GET.replace("parameters", "responses/400"), BAD_REQUEST),
        ),
    ),
    Flaw(
        "telephony.yml",
        420,
        "oneOf:",  # the leg PUT body
        "the leg PUT body is a oneOf of branches that mark nothing required, so every body "
        '(`{"state": "active"}` is Unhold, Blind XFER, ATT XFER and Active at once) matches '
        "several: no body is valid (SOURCES.md says so too); read as anyOf",
        ((f"{_LEGS}~1{{leg_id}}/put/requestBody/content/application~1json/schema", _any_of),),
    ),
    Flaw(
        "telephony.yml",
        329,
        '"401":',  # getCallLegs' last documented answer (200, 401)
        "the legs list and leg GET document only 200 and 401, yet a call or leg that does not "
        "exist has no legs to list (the other call operations document 404 NotFoundMessage)",
        (
            (f"{_LEGS}/get/responses/404", NOT_FOUND),
            (f"{_LEGS}~1{{leg_id}}/get/responses/404", NOT_FOUND),
        ),
    ),
)


_ONE_OR_MANY = {
    "anyOf": [
        {"$ref": "#/components/schemas/EndUserRoute"},
        {"type": "array", "items": {"$ref": "#/components/schemas/EndUserRoute"}},
    ]
}
FLAWS += tuple(
    Flaw(
        spec,
        line,
        '$ref: "#/components/schemas/EndUserRoute"',
        "the extension list's `_embedded.data` is one EndUserRoute, though the answer is a page "
        "(page_size, total_items) of any number of extensions: an array, [] when none match",
        (("/components/schemas/EndUserRouteEmbeddedObject/properties/data", _ONE_OR_MANY),),
    )
    for spec, line in (("provisioning.yml", 621), ("vbc-extension.yml", 259))
)

_UNAUTHORISED = {"description": "401 response (no or bad bearer token)"}

FLAWS += tuple(
    Flaw(
        spec,
        line,
        "- bearerAuth: []",
        "operations require a bearer token (security: bearerAuth) but document no 401 answer",
        (("*401", _UNAUTHORISED),),
    )
    for spec, line in (
        ("provisioning.yml", 33),
        ("vbc-account.yml", 33),
        ("vbc-extension.yml", 79),
        ("vbc-user.yml", 79),
    )
)


def by_spec(spec: str) -> list[Flaw]:
    return [flaw for flaw in FLAWS if flaw.spec == spec]


def patch(document: dict[str, Any], spec: str) -> dict[str, Any]:
    """``document`` with ``spec``'s flaws patched (in place; answered for convenience)."""
    for flaw in by_spec(spec):
        for pointer, value in flaw.patches:
            if pointer == "*401":  # every operation without a 401 gets one
                for item in document["paths"].values():
                    for op in item.values():
                        if isinstance(op, dict) and "responses" in op:
                            op["responses"].setdefault("401", value)
                continue
            *parents, last = [
                p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]
            ]
            node: Any = document
            for part in parents:
                node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
            node[last] = value(node[last]) if callable(value) else value
    return document


if __name__ == "__main__":  # python -m tests.contract.flaws: the list, one line each
    for flaw in FLAWS:
        print(f"{flaw.spec}:{flaw.line}: `{flaw.quote}`: {flaw.why}")
