"""Nothing secret reaches a span, a hook argument, a watch's stats or a log line.

One client uses every family through a proxy that wants a password, with OpenTelemetry
instrumentation, hooks on every event and DEBUG logging, while the emulator expires tokens and
sessions, rate-limits and breaks the Live Status stream. Every secret that went over the wire
(as the proxy saw it: passwords, client and API secrets, access and refresh tokens, session
cookies, the proxy's password) is then searched for in everything the SDK showed.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import attrs
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from vonage_async import (
    Backoff,
    OAuth2,
    PollEvent,
    PollFailed,
    RequestEvent,
    Resynced,
    RetryPolicy,
    WatchStats,
    errors,
    otel,
)
from vonage_async._watch_stats import LIFECYCLE_TYPES
from vonage_async.auth import TokenSet
from vonage_async.emulator import Emulator

from .forward_proxy import ForwardProxy

PROXY_PASSWORD = "proxy-pw-5150"


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    async with Emulator(hold=0.3, ring_seconds=0.2, talk_seconds=0.4) as emu:
        yield emu


def wire_secrets(proxy: ForwardProxy, tokens: list[TokenSet], emulator: Emulator) -> set[str]:
    c = emulator.credentials
    secrets = {
        c.client_secret,
        c.password,
        c.api_secret,
        c.legacy_password,
        base64.b64encode(f"{c.api_key}:{c.api_secret}".encode()).decode(),
        PROXY_PASSWORD,
    }
    for token in tokens:
        secrets.add(token.access_token)
        if token.refresh_token:
            secrets.add(token.refresh_token)
    for forwarded in proxy.seen:
        for name in ("Authorization", "Proxy-Authorization"):
            for value in forwarded.headers.getall(name, ()):
                secrets.add(value.split(" ", 1)[-1])
        for cookie in forwarded.headers.getall("Cookie", ()):
            for pair in cookie.split(";"):
                secrets.add(pair.split("=", 1)[-1].strip())
    return {s for s in secrets if len(s) >= 6}


def shown(value: Any) -> str:
    if attrs.has(type(value)):
        return repr(value) + repr(attrs.asdict(value, recurse=True))
    return repr(value)


async def test_no_secret_in_spans_hook_events_stats_or_logs(
    emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    events: list[RequestEvent | PollEvent] = []
    stats: list[WatchStats] = []
    told: list[Any] = []
    raised: list[BaseException] = []
    tokens: list[TokenSet] = []
    c = emulator.credentials
    retry = RetryPolicy(attempts=4, backoff=Backoff(initial=0.01, maximum=0.05))

    async with ForwardProxy(credentials=("proxy-user", PROXY_PASSWORD)) as proxy:
        client = emulator.client(
            vbc_auth=OAuth2(
                c.client_id,
                c.client_secret,
                c.username,
                c.password,
                token_url=emulator.token_url,
                on_tokens=tokens.append,
            ),
            proxy=proxy.url_with_credentials(),
            retry=retry,
            on_request=[events.append],
            on_response=[events.append],
            on_retry=[events.append],
        )
        client.hooks.on_poll_start.append(events.append)
        client.hooks.on_poll_end.append(events.append)
        async with client:
            otel.instrument(client, tracer_provider=provider)
            await client.provisioning.accounts.get("self")
            [e async for e in client.network_registry.catalogue.countries(max_items=2)]
            await client.legacy.directory()
            emulator.faults.expire_tokens(refresh=True)  # refresh refused: password grant
            await client.provisioning.accounts.get("self")
            emulator.faults.expire_sessions()
            await client.legacy.directory()
            emulator.faults.rate_limit(1, retry_after=0.01)
            await client.legacy.directory()
            try:
                await client.provisioning.accounts.get("404404")
            except errors.VonageError as exc:
                raised.append(exc)

            watch = client.legacy.live_status.watch(
                backoff=Backoff(initial=0.01, maximum=0.05), lifecycle=True, max_queue=1
            )
            emulator.place_call("14155550123", "301")
            async for event in watch:
                told.append(event)
                stats.append(watch.stats())
                if len(told) == 1:
                    emulator.faults.expire_sessions()
                    emulator.faults.truncate_dashui(1)
                if any(isinstance(e, Resynced) for e in told):
                    break
            await watch.aclose()

    secrets = wire_secrets(proxy, tokens, emulator)
    assert len(tokens) >= 2 and len(secrets) >= 10
    assert any("JSESSIONID" in h for f in proxy.seen for h in f.headers.getall("Cookie", ()))

    surfaces: dict[str, list[str]] = {
        "span": [span.to_json() for span in exporter.get_finished_spans()],
        "hook event": [shown(event) for event in events],
        "log line": [
            logging.Formatter("%(name)s %(levelname)s %(message)s").format(record)
            for record in caplog.records
        ],
        "error": [str(exc) + repr(exc) for exc in raised],
        "watch stats": [shown(s) for s in stats],
        "lifecycle event": [shown(e) for e in told if isinstance(e, LIFECYCLE_TYPES)],
    }
    assert all(surfaces.values()), {k: len(v) for k, v in surfaces.items()}
    assert any(s.last_error for s in stats) and any(s.relogins for s in stats)
    assert any(isinstance(e, PollFailed) for e in told)
    assert any(isinstance(e, PollEvent) and e.error for e in events)
    for surface, texts in surfaces.items():
        for text in texts:
            for secret in secrets:
                assert secret not in text, f"a secret ({secret[:3]}…) in a {surface}: {text}"
    assert json.loads(surfaces["span"][0])  # the spans really were read whole
