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
from opentelemetry.trace import NoOpTracer, Tracer
from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ("configure_tracing", "disable_tracing", "flush_tracing", "instrument_database", "trace_id_hex", "tracer")

# Sufler's own provider, not the API's global one: a test can switch tracing off again (the global can be set once).
_provider: TracerProvider | None = None
_tracer: Tracer = NoOpTracer()


def tracer() -> Tracer:
    """The tracer spans are started with: a no-op one until tracing is configured."""
    return _tracer


def configure_tracing(endpoint: str | None, exporter: SpanExporter | None = None) -> bool:
    """Export spans to ``endpoint`` (OTLP over HTTP), or to ``exporter`` (tests); once per process (a second call
    keeps the first configuration). Returns whether tracing is on."""
    global _provider, _tracer
    if _provider is not None:
        return True
    if exporter is None:
        endpoint = endpoint or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        if not endpoint:
            return False
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        traces = endpoint if endpoint.endswith("/v1/traces") else endpoint.rstrip("/") + "/v1/traces"
        exporter = OTLPSpanExporter(endpoint=traces)
    _provider = TracerProvider(resource=Resource.create({"service.name": "sufler"}))
    _provider.add_span_processor(BatchSpanProcessor(exporter))
    _tracer = _provider.get_tracer("sufler")
    return True


def disable_tracing() -> None:
    """Flush, stop and forget the provider (tests: tracing on for one test only)."""
    global _provider, _tracer
    if _provider is not None:
        _provider.shutdown()
    _provider, _tracer = None, NoOpTracer()


def flush_tracing() -> None:
    if _provider is not None:
        _provider.force_flush()


def instrument_database(engine: AsyncEngine) -> None:
    """Database statements as child spans (only when tracing is on: the instrumentation costs even as a no-op)."""
    if _provider is None:
        return
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    # ``_instrument``, not ``instrument``: the public one instruments once per process, and every Database has its
    # own engines (two per process, more in tests).
    SQLAlchemyInstrumentor()._instrument(engine=engine.sync_engine, enable_commenter=False, tracer_provider=_provider)  # type: ignore[no-untyped-call]


def trace_id_hex() -> str | None:
    """The current span's trace id (32 hex digits), when a recording span is current."""
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None
