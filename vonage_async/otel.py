"""OpenTelemetry spans for a client: ``pip install "vonage-async[otel]"``.

```python
from vonage_async import otel

otel.instrument(client)  # after this, every HTTP exchange of the client is a span
```

Each exchange (API calls, token requests, logins, every retry) becomes a ``CLIENT`` span named
after its method, with the attributes of OpenTelemetry's HTTP client semantic conventions:
``http.request.method``, ``url.full`` (credentials and secret query values masked),
``server.address``, ``server.port``, ``http.response.status_code``, ``error.type`` and
``http.request.resend_count``, plus ``vonage.family``. No header and no body is recorded, so no
token, password or cookie can reach a span. A span's parent is whatever span is current where
the request was awaited.

Each read of a watch's poll loop is an ``INTERNAL`` span (``"Live Status poll"``) with
``vonage.watch``, ``vonage.poll.full``, ``vonage.poll.outcome`` and ``vonage.poll.events``; the
read's own requests (a login included) are its children.
"""

from __future__ import annotations

from typing import Any

from opentelemetry import context as otel_context, trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from yarl import URL

from ._client import Vonage
from ._hooks import PollEvent, RequestEvent
from ._version import __version__

__all__ = ["Instrumentation", "instrument"]


class Instrumentation:
    """The hooks ``instrument`` added to one client; ``uninstrument()`` takes them away."""

    def __init__(self, client: Vonage, tracer: trace.Tracer) -> None:
        self._client = client
        self._tracer = tracer
        self._spans: dict[int, trace.Span] = {}
        self._polls: dict[int, trace.Span] = {}
        self._active = True

    def on_request(self, event: RequestEvent) -> None:
        if not self._active:
            return
        url = URL(event.url)
        attributes: dict[str, Any] = {
            "http.request.method": event.method,
            "url.full": event.url,  # already redacted by the transport
            "server.address": url.host or "",
            "server.port": url.port or 0,
        }
        if event.family is not None:
            attributes["vonage.family"] = event.family
        if event.attempt > 1:
            attributes["http.request.resend_count"] = event.attempt - 1
        self._spans[event.id] = self._tracer.start_span(
            event.method, kind=SpanKind.CLIENT, attributes=attributes
        )

    def on_response(self, event: RequestEvent) -> None:
        span = self._spans.pop(event.id, None)
        if span is None:  # instrumented while the request was in flight
            return
        if event.status is not None:
            span.set_attribute("http.response.status_code", event.status)
        error = event.error or (str(event.status) if (event.status or 0) >= 400 else None)
        if error is not None:
            span.set_attribute("error.type", error)
            span.set_status(Status(StatusCode.ERROR))
        span.end()
        if not self._active and not self._spans:
            self._remove(self.on_response)

    def on_poll_start(self, event: PollEvent) -> None:
        if not self._active:
            return
        span = self._tracer.start_span(
            f"{event.watch} poll",
            kind=SpanKind.INTERNAL,
            attributes={"vonage.watch": event.watch, "vonage.poll.full": event.full},
        )
        self._polls[event.id] = span
        # Called in the context the read's task is created from: its requests nest here.
        otel_context.attach(trace.set_span_in_context(span))

    def on_poll_end(self, event: PollEvent) -> None:
        span = self._polls.pop(event.id, None)
        if span is None:
            return
        span.set_attribute("vonage.poll.outcome", event.outcome or "")
        span.set_attribute("vonage.poll.events", event.events)
        if event.error is not None:
            span.set_attribute("error.type", event.error)
            span.set_status(Status(StatusCode.ERROR))
        span.end()
        if not self._active and not self._polls:
            self._remove(self.on_poll_end)

    def uninstrument(self) -> None:
        """Stop making spans for the client; spans already open end as their requests do."""
        self._active = False
        self._remove(self.on_request)
        self._remove(self.on_poll_start)
        if not self._spans:
            self._remove(self.on_response)
        if not self._polls:
            self._remove(self.on_poll_end)

    def _remove(self, hook: Any) -> None:
        hooks = self._client.hooks
        for hook_list in (
            hooks.on_request,
            hooks.on_response,
            hooks.on_poll_start,
            hooks.on_poll_end,
        ):
            if hook in hook_list:
                hook_list.remove(hook)


def instrument(
    client: Vonage, *, tracer_provider: trace.TracerProvider | None = None
) -> Instrumentation:
    """Make a span of every HTTP exchange ``client`` makes, with the global tracer provider
    unless ``tracer_provider`` is given."""
    tracer = trace.get_tracer("vonage_async", __version__, tracer_provider=tracer_provider)
    instrumentation = Instrumentation(client, tracer)
    client.hooks.on_request.append(instrumentation.on_request)
    client.hooks.on_response.append(instrumentation.on_response)
    client.hooks.on_poll_start.append(instrumentation.on_poll_start)
    client.hooks.on_poll_end.append(instrumentation.on_poll_end)
    return instrumentation
