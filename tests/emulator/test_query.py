"""Property: every family refuses a query parameter its operation does not document (400, naming
it), and never refuses one it does."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings, strategies as st

from vonage_async.emulator import Emulator
from vonage_async.emulator._query import DOCUMENTED, LEGACY_LOGIN

PROV = "/t/vbc.prod/provisioning/api/accounts/{account_id}"
CALLS = "/t/vbc.prod/telephony/v3/cc/accounts/{account_id}/calls"
# One operation of each family: (concrete path, template in DOCUMENTED, extra allowed names).
OPERATIONS = [
    (PROV.format(account_id="self") + "/extensions", PROV + "/extensions", frozenset()),
    (CALLS.format(account_id="self"), CALLS, frozenset()),
    (
        "/v1/network-registry/business-profiles",
        "/v1/network-registry/business-profiles",
        frozenset(),
    ),
    ("/presence/rest/callhistory/301", "/presence/rest/callhistory/{number}", LEGACY_LOGIN),
    ("/presence/rest/directory", "/presence/rest/directory", LEGACY_LOGIN),
]


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, dict[str, str], dict[str, str], dict[str, str]]]:
    """An emulator on its own loop in a thread (hypothesis drives plain blocking requests)."""
    loop = asyncio.new_event_loop()
    emu = Emulator()
    started = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(emu.start())
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    started.wait(10)
    c = emu.credentials
    token = requests.post(
        emu.token_url,
        data={
            "grant_type": "password",
            "username": c.username,
            "password": c.password,
            "client_id": c.client_id,
            "client_secret": c.client_secret,
        },
        timeout=10,
    ).json()["access_token"]
    basic = base64.b64encode(f"{c.api_key}:{c.api_secret}".encode()).decode()
    try:
        yield (
            emu.url,
            {"Authorization": f"Bearer {token}"},
            {"Authorization": f"Basic {basic}"},
            {"login": c.legacy_username, "password": c.legacy_password},
        )
    finally:
        asyncio.run_coroutine_threadsafe(emu.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def _get(served: Any, path: str, params: dict[str, str]) -> requests.Response:
    url, bearer, basic, legacy = served
    headers = bearer if path.startswith("/t/") else basic if path.startswith("/v1/") else legacy
    return requests.get(url + path, params=params, headers=headers, timeout=10)


def _refused(response: requests.Response) -> list[str]:
    """The names the answer says are not query parameters of the operation."""
    if response.status_code != 400:
        return []
    try:
        body = response.json()
    except json.JSONDecodeError:
        text = response.text
        return [text.removeprefix("INVALID PARAMETER ")] if text.startswith("INVALID PAR") else []
    invalid = body.get("invalid_parameters") or []
    names = [p["name"] for p in invalid if "not a query parameter" in p["reason"]]
    message = str(body.get("message", ""))
    marker = ": is not a query parameter"
    if marker in message:
        names.append(message.split("Invalid request parameters: ", 1)[1].split(marker)[0])
    return names


NAMES = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=30)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(operation=st.sampled_from(OPERATIONS), name=NAMES, value=st.text(max_size=10))
def test_an_undocumented_query_parameter_is_refused_by_name(
    served: Any, operation: tuple[str, str, frozenset[str]], name: str, value: str
) -> None:
    path, template, extra = operation
    if name in DOCUMENTED.get(("GET", template), frozenset()) | extra:
        return
    response = _get(served, path, {name: value})
    assert response.status_code == 400
    assert _refused(response) == [name]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data(), operation=st.sampled_from(OPERATIONS[:4]))  # the directory takes none
def test_a_documented_query_parameter_is_never_refused_as_unknown(
    served: Any, data: st.DataObject, operation: tuple[str, str, frozenset[str]]
) -> None:
    path, template, _ = operation
    names = sorted(DOCUMENTED.get(("GET", template), frozenset()))
    chosen = data.draw(st.lists(st.sampled_from(names), unique=True, max_size=len(names)))
    params = {n: data.draw(st.text(max_size=8), label=n) for n in chosen}
    assert _refused(_get(served, path, params)) == []
