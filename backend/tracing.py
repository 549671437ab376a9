"""OpenTelemetry traces, off unless configured: ``OTEL_EXPORTER_OTLP_ENDPOINT`` (the standard variable; the
exporter reads the rest of ``OTEL_*`` itself) or ``SUFLER_TRACING_ENDPOINT``. Unconfigured, every span below is
the API's no-op span: nothing is recorded or sent.

Spans: one per HTTP request (``GET /clients/{client_id}``: the route, never the path with its ids) and per socket
message (``cockpit observation``), with children for the fast path, each LLM call (model, tokens, first token),
the database statements (SQLAlchemy's instrumentation: the statement with placeholders, never the values) and
the vector-store searches. Attributes carry names, kinds, counts and durations only — never what people typed,
a name or a contact (tests/socket/test_tracing.py checks). With tracing on, the ``request_id`` in the logs is the
trace id, so a log line leads to its trace.
"""

from __future__ import annotations

import os

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ("configure_tracing", "instrument_database", "trace_id_hex", "tracer")

tracer = trace.get_tracer("sufler")  # a proxy: it records once a provider is configured, until then no-ops

_configured = False


def configure_tracing(endpoint: str | None, exporter: SpanExporter | None = None) -> bool:
    """Install a tracer provider exporting to ``endpoint`` (OTLP over HTTP), or to ``exporter`` (tests); once per
    process. Returns whether tracing is on."""
    global _configured
    if _configured:
        return True
    if exporter is None:
        endpoint = endpoint or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        if not endpoint:
            return False
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        traces = endpoint if endpoint.endswith("/v1/traces") else endpoint.rstrip("/") + "/v1/traces"
        exporter = OTLPSpanExporter(endpoint=traces)
    provider = TracerProvider(resource=Resource.create({"service.name": "sufler"}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    _configured = True
    return True


def instrument_database(engine: AsyncEngine) -> None:
    """Database statements as child spans (only when tracing is on: the instrumentation costs even as a no-op)."""
    if not _configured:
        return
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    # ``_instrument``, not ``instrument``: the public one instruments once per process, and every Database has its
    # own engines (two per process, more in tests).
    SQLAlchemyInstrumentor()._instrument(engine=engine.sync_engine, enable_commenter=False)  # type: ignore[no-untyped-call]


def trace_id_hex() -> str | None:
    """The current span's trace id (32 hex digits), when a recording span is current."""
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None
