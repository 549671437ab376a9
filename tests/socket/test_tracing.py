"""Traces: one observation over the cockpit socket gives the message's span with the fast path, the vector search,
the database statements and the LLM calls (fake model server) under it — and no attribute of any span carries
what was typed, a name or a contact. The request id of an HTTP request is its trace id."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from backend.tracing import configure_tracing, disable_tracing, flush_tracing
from tests.socket.conftest import StartBackend

OBSERVATION = "Klient Zbigniew Brzęczyszczykiewicz, tel. 600 123 456, pyta o leasing na firmę"
# The English one is embedded and searched in Qdrant (a Polish note is not: the default model does not read it).
ENGLISH = "Zbigniew, phone 600 123 456, asks about leasing through his company"


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    configure_tracing(None, exporter=exporter)
    yield exporter
    disable_tracing()  # off again for the tests after this one


def finished(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    flush_tracing()
    return list(exporter.get_finished_spans())


async def test_an_observation_is_traced_without_personal_data(
    start_backend: StartBackend, spans: InMemorySpanExporter
) -> None:
    async with start_backend() as backend:
        async with backend.cockpit() as c:
            session = await c.open_new_client("Zbigniew Brzęczyszczykiewicz", "zbyszek@example.com")
            for note in (OBSERVATION, ENGLISH):
                cmid = await c.observe(note)
                ack = await c.next("ack", client_message_id=cmid)
                await c.next("moves", interaction_id=ack["interaction_id"])
        async with backend.http() as http:
            answer = await http.get(f"/clients/{session['client']['id']}")
    recorded = finished(spans)
    names = {span.name for span in recorded}
    assert {"cockpit observation", "fast_path", "qdrant search", "llm assessment", "llm moves"} <= names, names
    assert "GET /clients/{client_id:int}" in names or "GET /clients/{client_id}" in names, names
    message = next(s for s in recorded if s.name == "cockpit observation")
    fast = next(s for s in recorded if s.name == "fast_path")
    assert fast.context is not None and message.context is not None
    assert fast.parent is not None and fast.parent.span_id == message.context.span_id  # across the engine thread
    assert fast.context.trace_id == message.context.trace_id
    database = [s for s in recorded if (s.attributes or {}).get("db.system") == "postgresql"]
    assert database, "statements are spans"
    llm = next(s for s in recorded if s.name == "llm moves")
    assert llm.attributes is not None and llm.attributes["gen_ai.request.model"] == "gpt-oss:120b"
    assert llm.attributes["sufler.llm.outcome"] == "ok" and "sufler.llm.first_token_seconds" in llm.attributes

    http_span = next(s for s in recorded if s.name.startswith("GET /clients/"))
    assert http_span.context is not None
    assert answer.headers["x-request-id"] == format(http_span.context.trace_id, "032x")  # logs lead to the trace

    personal = ("Zbigniew", "Brzęczyszczykiewicz", "600 123 456", "zbyszek", "leasing")
    for span in recorded:
        for key, value in (span.attributes or {}).items():
            for secret in personal:
                assert secret not in str(value), (span.name, key, value)
