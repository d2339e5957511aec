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
"""

from __future__ import annotations

from typing import Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from yarl import URL

from ._client import Vonage
from ._hooks import RequestEvent
from ._version import __version__

__all__ = ["Instrumentation", "instrument"]


class Instrumentation:
    """The hooks ``instrument`` added to one client; ``uninstrument()`` takes them away."""

    def __init__(self, client: Vonage, tracer: trace.Tracer) -> None:
        self._client = client
        self._tracer = tracer
        self._spans: dict[int, trace.Span] = {}
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

    def uninstrument(self) -> None:
        """Stop making spans for the client; spans already open end as their requests do."""
        self._active = False
        self._remove(self.on_request)
        if not self._spans:
            self._remove(self.on_response)

    def _remove(self, hook: Any) -> None:
        for hooks in (self._client.hooks.on_request, self._client.hooks.on_response):
            if hook in hooks:
                hooks.remove(hook)


def instrument(
    client: Vonage, *, tracer_provider: trace.TracerProvider | None = None
) -> Instrumentation:
    """Make a span of every HTTP exchange ``client`` makes, with the global tracer provider
    unless ``tracer_provider`` is given."""
    tracer = trace.get_tracer("vonage_async", __version__, tracer_provider=tracer_provider)
    instrumentation = Instrumentation(client, tracer)
    client.hooks.on_request.append(instrumentation.on_request)
    client.hooks.on_response.append(instrumentation.on_response)
    return instrumentation
