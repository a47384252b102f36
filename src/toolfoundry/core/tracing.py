"""Optional OpenTelemetry tracing: off unless TOOLFOUNDRY_OTEL_ENDPOINT is set.

Spans are made through the OpenTelemetry API (installed with fastmcp). Without a configured
provider the API is a no-op, so the cost of an unset endpoint is a few function calls per span.
The SDK and the OTLP exporter (the `otel` extra) are imported only when tracing is switched on.
fastmcp uses the same global provider: its client injects W3C trace context into MCP `_meta`,
so calls to upstream MCP servers made inside one of our spans carry the trace onwards.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

from opentelemetry import trace
from opentelemetry.trace import Span, Status, StatusCode

if TYPE_CHECKING:
    from fastapi import FastAPI
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

    from toolfoundry.core.settings import Settings

log = logging.getLogger(__name__)

# A proxy: it resolves to whichever provider is set globally, before or after this import.
tracer = trace.get_tracer("toolfoundry")

_provider: TracerProvider | None = None


def configure_tracing(
    settings: Settings,
    *,
    exporter: SpanExporter | None = None,
    provider: TracerProvider | None = None,
) -> TracerProvider | None:
    """Install a global TracerProvider exporting to the settings' endpoint; None when off.

    `provider` or `exporter` (tests) switch tracing on without an endpoint. The global provider
    can be set once per process, so a second call returns the first provider.
    """
    global _provider
    if _provider is not None:
        return _provider
    if provider is None and exporter is None and not settings.otel_endpoint:
        return None
    if provider is None:
        from opentelemetry.sdk.resources import SERVICE_NAME, Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        if exporter is None:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            endpoint = f"{str(settings.otel_endpoint).rstrip('/')}/v1/traces"
            exporter = OTLPSpanExporter(endpoint=endpoint)
        provider = TracerProvider(
            resource=Resource.create({SERVICE_NAME: settings.otel_service_name})
        )
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    _provider = provider
    log.info("OpenTelemetry tracing on (service %s)", settings.otel_service_name)
    return provider


def tracing_enabled() -> bool:
    return _provider is not None


def instrument_app(app: FastAPI) -> None:
    """A SERVER span per HTTP request (incoming `traceparent` honoured), when tracing is on."""
    if _provider is None:
        return
    # Stable HTTP semantic conventions (http.request.method, http.response.status_code, url.path)
    # rather than the legacy names; an operator's own OTEL_SEMCONV_STABILITY_OPT_IN wins.
    os.environ.setdefault("OTEL_SEMCONV_STABILITY_OPT_IN", "http")
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    # Health probes and metrics scrapes would drown the traces.
    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=_provider, excluded_urls="/health,/ready,/metrics"
    )


def mark_error(span: Span, error_type: str, message: str | None = None) -> None:
    """Flag a span as failed the way OTel semantic conventions expect (`error.type`)."""
    span.set_attribute("error.type", error_type)
    span.set_status(Status(StatusCode.ERROR, message))
