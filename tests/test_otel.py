"""OpenTelemetry spans, read back from the OpenTelemetry SDK's in-memory exporter."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from yarl import URL

from vonage_async import errors, otel
from vonage_async.emulator import Emulator


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    yield exporter
    exporter.clear()


@pytest.fixture
def provider(exporter: InMemorySpanExporter) -> TracerProvider:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    async with Emulator(hold=0.3, ring_seconds=0.2, talk_seconds=0.5) as emu:
        yield emu


def by_path(spans: tuple[ReadableSpan, ...]) -> dict[str, ReadableSpan]:
    return {URL(str((s.attributes or {})["url.full"])).path: s for s in spans}


async def test_each_exchange_is_a_client_span_with_http_attributes(
    emulator: Emulator, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    async with emulator.client() as client:
        otel.instrument(client, tracer_provider=provider)
        await client.provisioning.accounts.get("self")
        with pytest.raises(errors.PermissionDeniedError):
            await client.provisioning.accounts.get("404404")
    spans = exporter.get_finished_spans()
    assert len(spans) == 3  # the token request, then the two calls
    paths = by_path(spans)
    token = paths["/token"]
    assert token.name == "POST" and token.kind is SpanKind.CLIENT
    assert "vonage.family" not in (token.attributes or {})
    ok = paths["/t/vbc.prod/provisioning/api/accounts/self"]
    port = URL(emulator.url).port
    assert dict(ok.attributes or {}) == {
        "http.request.method": "GET",
        "url.full": f"{emulator.vbc_url}/provisioning/api/accounts/self",
        "server.address": "127.0.0.1",
        "server.port": port,
        "http.response.status_code": 200,
        "vonage.family": "vbc",
    }
    assert ok.status.status_code is StatusCode.UNSET
    denied = paths["/t/vbc.prod/provisioning/api/accounts/404404"]
    assert (denied.attributes or {})["http.response.status_code"] == 403
    assert (denied.attributes or {})["error.type"] == "403"
    assert denied.status.status_code is StatusCode.ERROR


async def test_retries_count_resends_and_failures_name_the_error(
    emulator: Emulator, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    from vonage_async import Backoff, RetryPolicy

    retry = RetryPolicy(attempts=3, backoff=Backoff(initial=0.01, maximum=0.02))
    async with emulator.client(retry=retry, timeout=2.0) as client:
        await client.legacy.directory()  # log in first: the spans below are the calls'
        otel.instrument(client, tracer_provider=provider)
        emulator.faults.rate_limit(1, retry_after=0.01, family="legacy")
        await client.legacy.directory()
    first, second = exporter.get_finished_spans()
    assert (first.attributes or {})["http.response.status_code"] == 429
    assert "http.request.resend_count" not in (first.attributes or {})
    assert (second.attributes or {})["http.request.resend_count"] == 1
    assert (second.attributes or {})["http.response.status_code"] == 200

    exporter.clear()
    await emulator.stop()
    async with emulator.client(retry=RetryPolicy(attempts=1)) as client:
        otel.instrument(client, tracer_provider=provider)
        with pytest.raises(errors.TransportError):
            await client.legacy.directory()
    (failed,) = exporter.get_finished_spans()
    assert (failed.attributes or {})["error.type"] == "TransportError"
    assert "http.response.status_code" not in (failed.attributes or {})
    assert failed.status.status_code is StatusCode.ERROR


async def test_spans_nest_under_the_callers_span_and_uninstrument_stops_them(
    emulator: Emulator, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    tracer = provider.get_tracer("bot")
    async with emulator.client() as client:
        instrumentation = otel.instrument(client, tracer_provider=provider)
        with tracer.start_as_current_span("handle command") as parent:
            await client.legacy.directory()
        instrumentation.uninstrument()
        await client.legacy.directory()
        assert not client.hooks
    spans = [s for s in exporter.get_finished_spans() if s.name != "handle command"]
    assert len(spans) == 2  # the login and the first call; none after uninstrument
    for span in spans:
        assert span.parent is not None
        assert span.parent.span_id == parent.get_span_context().span_id
