"""Every public method refuses hostile ids, extensions, numbers, emails, country codes and DTMF
strings with ``ValidationError`` before anything is sent.

The methods are found by walking the client's API objects, and every parameter of every public
method must be classified below: a new method or parameter fails
``test_every_public_parameter_is_classified`` until it is, so none is silently skipped.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings, strategies as st

from tests.conftest import Loopback
from tests.test_network_registry import CREATE_BUSINESS_PROFILE
from vonage_async import BasicAuth, BearerToken, RetryPolicy, SessionLogin, Vonage, errors
from vonage_async._watch import Watch
from vonage_async.telephony import Endpoint

# -- what each parameter is -----------------------------------------------------------------------

ID, DIGIT_ID, EXTENSION, EXTENSIONS, NUMBER, NUMBER_PART, DIAL = (
    "id",
    "digit id",
    "extension",
    "extensions",
    "phone number",
    "part of a number",
    "click-to-call number",
)
EMAIL, COUNTRIES, DTMF, ENDPOINT, IDS = "email", "countries", "dtmf", "endpoint", "ids"

# Parameters driven with hostile values, by name; (method, name) entries override.
KINDS: dict[str | tuple[str, str], str] = {
    "account_id": ID,
    "call_id": ID,
    "leg_id": ID,
    "to_leg_id": ID,
    "device_id": ID,
    "external_id": ID,
    "id": ID,
    "csp_id": ID,
    "business_profile_id": ID,
    "event_id": ID,
    "webhook_id": ID,
    "location_id": DIGIT_ID,
    "user_id": DIGIT_ID,
    "presence_call_id": DIGIT_ID,
    "extension": EXTENSION,
    "extension_number": EXTENSION,
    "number": EXTENSION,
    "extensions": EXTENSIONS,
    "phone_number": NUMBER,
    "email": EMAIL,
    "countries": COUNTRIES,
    "network_apis": IDS,
    "digits": DTMF,
    "dtmf": DTMF,
    "from_": ENDPOINT,
    "to": ENDPOINT,
    ("legacy.click_to_call", "number"): DIAL,
    ("legacy.call_history", "from_"): NUMBER_PART,
    ("legacy.call_history", "to"): NUMBER_PART,
    ("legacy.call_history_all", "from_"): NUMBER_PART,
    ("legacy.call_history_all", "to"): NUMBER_PART,
}
# Parameters that are none of the kinds above (their own checks are tested elsewhere).
OTHER = {
    "page_size", "order", "start_time", "end_time", "concurrency", "max_items", "interval",
    "backoff", "max_queue", "type", "state", "stream", "stream_url", "recording", "service",
    "status", "shared", "limit", "all", "request", "fields", "path", "poll_timeout",
    "max_conflicts", "login_name", "first_name", "last_name", "start", "end", "result",
    "caller_id", "custom_tag", "min_duration", "max_duration", "is_recorded", "plmn_id",
    "cursor",  # opaque to us; its own property test is in test_network_registry.py
    "lifecycle",
    # the Integration Platform's (its own tests: test_integration.py, test_webhooks.py)
    "receiver", "url", "metadata_policy", "check_interval", "renew_before", "margin", "since",
    "delete_on_exit", "from_date", "to_date", "direction", "states", "offset", "size", "types",
    "sort", "signing_key", "events",
}  # fmt: skip

# A valid value of each kind: the hostile values are made from it.
GOOD = {
    ID: "c0ffee-42",
    DIGIT_ID: "41827374113596580",
    EXTENSION: "301",
    EXTENSIONS: "301",
    NUMBER: "14155550100",
    NUMBER_PART: "1555",
    DIAL: "16788079084",
    EMAIL: "user@example.com",
    COUNTRIES: "GB",
    IDS: "sim-swap",
    DTMF: "*123#",
    ENDPOINT: "301",
}
# Values for required parameters that are not being driven.
REQUIRED: dict[str, Any] = {
    "stream_url": "https://example.com/hold.mp3",
    "service": "ccr",
    "to": {"type": "extension", "destination": "302"},
    "from_": {"type": "extension", "destination": "301"},
}

# An update needs something to change.
BODY = {"telephony.calls.update": {"state": "active"}, "telephony.legs.update": {"state": "held"}}

ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def hostile_values(kind: str) -> list[Any]:
    """The fixed hostile values of the issue for one kind."""
    good = GOOD[kind]
    values = [
        good + "\n",
        good[:1] + "\r\n" + good[1:],
        good + "\r",
        good + "/..",
        good + "%2F",
        "%2F" + good,
        good.translate(ARABIC_INDIC) if any(c.isdigit() for c in good) else good + "٣",
        good + "\u0663",  # ARABIC-INDIC DIGIT THREE
        (good[:1] or "1") * 10_000,
        "",
    ]
    if kind == EMAIL:
        values += ["user@example.com/..", "user@example.com\n", "a" * 10_000 + "@example.com"]
    if kind != DIAL:  # seed 003 lets the server strip formatting from a click-to-call number
        values += [" " + good, good + " ", "\t" + good]
    return values


# -- finding the methods --------------------------------------------------------------------------


@attrs.frozen
class Target:
    """One parameter of one public method."""

    method: str  # "telephony.legs.get"
    parameter: str
    kind: str

    def __str__(self) -> str:
        return f"{self.method}({self.parameter})"


ROOTS = ("telephony", "provisioning", "network_registry", "legacy", "integration")


def public_methods(client: Vonage) -> Iterator[tuple[str, Callable[..., Any]]]:
    """Every public method of every API object reachable from the client."""
    seen: set[int] = set()

    def walk(name: str, obj: Any) -> Iterator[tuple[str, Callable[..., Any]]]:
        if id(obj) in seen:
            return
        seen.add(id(obj))
        for attr in sorted(dir(type(obj))):
            if not attr.startswith("_") and inspect.isfunction(getattr(type(obj), attr)):
                yield f"{name}.{attr}", getattr(obj, attr)
        for attr, value in sorted(vars(obj).items()):
            if not attr.startswith("_") and type(value).__module__.startswith("vonage_async."):
                yield from walk(f"{name}.{attr}", value)

    for root in ROOTS:
        yield from walk(root, getattr(client, root))


def kind_of(method: str, parameter: str) -> str | None:
    return KINDS.get((method, parameter), KINDS.get(parameter))


def targets(client: Vonage) -> list[Target]:
    found = []
    for method, fn in public_methods(client):
        for parameter in inspect.signature(fn).parameters:
            kind = kind_of(method, parameter)
            if kind is not None:
                found.append(Target(method, parameter, kind))
    # Emails and countries inside a Network Registry body.
    for method in ("network_registry.business_profiles.create",):
        for field in ("privacy_policy_manager_email", "dpo_email"):
            found.append(Target(method, field, EMAIL))
        found.append(Target(method, "countries", COUNTRIES))
    found.append(
        Target("network_registry.business_profiles.put_change_request", "dpo_email", EMAIL)
    )
    # The Endpoint constructors every call-control method accepts.
    for factory, kind in (("extension", EXTENSION), ("pstn", NUMBER), ("device", ID), ("leg", ID)):
        found.append(Target(f"Endpoint.{factory}", "value", kind))
    return found


def _offline_client(url: str = "http://127.0.0.1:9") -> Vonage:
    return Vonage(
        vbc_auth=BearerToken("t0k3n"),
        network_registry_auth=BasicAuth("key", "secret"),
        legacy_auth=SessionLogin("user", "pass"),
        vbc_url=url,
        network_registry_url=url,
        legacy_url=url,
        retry=RetryPolicy(attempts=1),
        timeout=2.0,
    )


async def test_every_public_parameter_is_classified() -> None:
    async with _offline_client() as client:
        unknown = [
            f"{method}({parameter})"
            for method, fn in public_methods(client)
            for parameter in inspect.signature(fn).parameters
            if kind_of(method, parameter) is None and parameter not in OTHER
        ]
        found = targets(client)

    assert unknown == [], "classify these parameters in KINDS or OTHER"
    assert len({t.method for t in found}) > 50  # the walk found the API, not nothing
    assert {t.kind for t in found} == set(GOOD)


# -- driving them ---------------------------------------------------------------------------------


def _resolve(client: Vonage, method: str) -> Callable[..., Any]:
    if method.startswith("Endpoint."):
        return getattr(Endpoint, method.removeprefix("Endpoint."))  # type: ignore[no-any-return]
    obj: Any = client
    for part in method.split("."):
        obj = getattr(obj, part)
    return obj  # type: ignore[no-any-return]


def _wrap(target: Target, value: Any) -> Any:
    """The hostile value as the parameter takes it."""
    if target.kind == ENDPOINT:
        kind = {"to": "pstn", "from_": "device"}.get(target.parameter, "extension")
        return {"type": kind, "destination": value}
    if target.kind in (COUNTRIES, IDS) and target.method.startswith("network_registry.b"):
        return [value]
    return value


def _arguments(target: Target, fn: Callable[..., Any], value: Any, tmp: Path) -> dict[str, Any]:
    """Valid values for every required parameter, the hostile value for the driven one."""
    if target.method.startswith("Endpoint."):
        return {next(iter(inspect.signature(fn).parameters)): value}
    kwargs: dict[str, Any] = {}
    if target.method.endswith("business_profiles.create"):
        kwargs.update(CREATE_BUSINESS_PROFILE)
    kwargs.update(BODY.get(target.method, {}))
    for name, param in inspect.signature(fn).parameters.items():
        if param.kind is param.VAR_KEYWORD or param.default is not param.empty:
            continue
        kind = kind_of(target.method, name)
        if name == "path":
            kwargs[name] = tmp / "recording.mp3"
        elif name in REQUIRED:
            kwargs[name] = REQUIRED[name]
        else:
            assert kind is not None, f"no valid value for {name} of {target.method}"
            kwargs[name] = GOOD[kind]
    kwargs[target.parameter] = _wrap(target, value)
    return kwargs


async def _call(fn: Callable[..., Any], kwargs: dict[str, Any], *, watch: bool = True) -> Any:
    """Call, and if the call did not refuse, start whatever it returned."""
    result = fn(**kwargs)
    if inspect.isawaitable(result):
        return await result
    if isinstance(result, Watch):
        if not watch:  # accepted; a watch keeps retrying a server that refuses everything
            await result.aclose()
            return None
        async with result:
            return await anext(aiter(result))
    if hasattr(result, "__aiter__"):
        iterator = aiter(result)
        try:
            return await anext(iterator)
        finally:
            if hasattr(iterator, "aclose"):
                await iterator.aclose()
    return result


@pytest.fixture
async def rig(loopback: Any) -> AsyncIterator[tuple[Vonage, Loopback]]:
    """A client whose every family points at a server that counts what reaches it."""

    async def refuse(request: web.Request) -> web.Response:
        return web.json_response({"error": "nothing should have been sent"}, status=400)

    server = await loopback(refuse)
    async with _offline_client(str(server.url)) as client:
        yield client, server


_FACTORY_NAMES = {
    "extension": "extension",
    "pstn": "number",
    "device": "device_id",
    "leg": "leg_id",
}


def _named(target: Target) -> str:
    """The parameter a refusal names."""
    if target.method.startswith("Endpoint."):
        return _FACTORY_NAMES[target.method.removeprefix("Endpoint.")]
    return target.parameter


async def _expect_refused(
    client: Vonage, server: Loopback, target: Target, value: Any, tmp: Path
) -> None:
    fn = _resolve(client, target.method)
    kwargs = _arguments(target, fn, value, tmp)
    try:
        await _call(fn, kwargs)
    except errors.ValidationError as exc:
        assert exc.parameter.split("[")[0] == _named(target), (
            f"{target} refused {value!r:.40} naming {exc.parameter!r}"
        )
    except Exception as exc:
        pytest.fail(f"{target} raised {type(exc).__name__} for {value!r:.60}: {exc!s:.200}")
    else:
        pytest.fail(f"{target} accepted {value!r:.60}")
    assert server.requests == [], f"{target} sent a request for {value!r:.60}"


async def test_the_valid_values_pass_so_the_refusals_mean_something(
    rig: tuple[Vonage, Loopback], tmp_path: Path
) -> None:
    client, server = rig
    for target in targets(client):
        fn = _resolve(client, target.method)
        kwargs = _arguments(target, fn, GOOD[target.kind], tmp_path)
        with contextlib.suppress(errors.HTTPError, errors.AuthenticationError):
            await _call(fn, kwargs, watch=False)
    assert server.requests  # they reached the server, whose 400 is not the point


async def test_every_method_refuses_each_hostile_value(
    rig: tuple[Vonage, Loopback], tmp_path: Path
) -> None:
    client, server = rig
    for target in targets(client):
        for value in hostile_values(target.kind):
            await _expect_refused(client, server, target, value, tmp_path)


@st.composite
def hostile(draw: st.DrawFn, kind: str) -> str:
    """A valid value of ``kind`` spoiled in one of the issue's ways, at a drawn position."""
    good = GOOD[kind]
    at = draw(st.integers(0, len(good)))
    spoil = draw(
        st.sampled_from(["control", "slash", "percent", "unicode digit", "long", "space"])
        if kind != DIAL
        else st.sampled_from(["control", "slash", "percent", "unicode digit", "long"])
    )
    if spoil == "control":
        bad = draw(st.sampled_from(["\n", "\r", "\r\n", "\x00", "\x7f", "\u2028"]))
        return good[:at] + bad + good[at:]
    if spoil == "slash":
        return good[:at] + draw(st.sampled_from(["/..", "/", "\\", "/../"])) + good[at:]
    if spoil == "percent":
        return good[:at] + draw(st.sampled_from(["%2F", "%2f", "%2e%2e", "%00"])) + good[at:]
    if spoil == "unicode digit":
        digit = draw(st.characters(categories=["Nd"]).filter(lambda c: not c.isascii()))
        return good[:at] + digit + good[at:]
    if spoil == "long":
        return good + draw(st.sampled_from(["1", "a", "#"])) * draw(st.integers(10_000, 12_000))
    return draw(st.sampled_from([" ", "\t", "\u00a0"])) + good if at % 2 else good + " "


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_hostile_values_are_refused_before_anything_is_sent(
    rig: tuple[Vonage, Loopback], tmp_path: Path, data: st.DataObject
) -> None:
    client, server = rig
    target = data.draw(st.sampled_from(targets(client)), label="target")
    value = data.draw(hostile(target.kind), label="value")

    await _expect_refused(client, server, target, value, tmp_path)
