"""The configured log pipeline redacts what goes through it: our events, libraries' records, tracebacks."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from backend.logs import configure_logging
from backend.redaction import Redactor
from backend.settings import LogSettings

EMAIL = "jan.kowalski@example.com"
PHONE = "+48 600 100 200"
NAME = "Jan Kowalski"


@pytest.fixture
def captured() -> Iterator[tuple[io.StringIO, Redactor]]:
    out = io.StringIO()
    redactor = configure_logging(LogSettings(level="DEBUG"), stream=out)
    try:
        yield out, redactor
    finally:
        configure_logging(LogSettings())  # back to stderr for the rest of the session


def fail_with_personal_data() -> None:
    raise ValueError(f"no account for {EMAIL} ({PHONE})")


def test_events_values_and_tracebacks_are_redacted(captured: tuple[io.StringIO, Redactor]) -> None:
    out, redactor = captured
    redactor.remember(NAME)
    log = structlog.get_logger("test")
    log.info(f"lead from {EMAIL}", collected={"name": NAME, "contact": PHONE}, notes=[f"call {PHONE}"])
    try:
        fail_with_personal_data()
    except ValueError:
        log.exception("handover_failed", reason=f"{NAME} is unreachable")
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert lines[0]["event"] == "lead from [email]"
    assert lines[0]["collected"] == {"name": "[redacted]", "contact": "[redacted]"}
    assert lines[0]["notes"] == ["call [phone]"]
    assert lines[1]["reason"] == "[name] is unreachable"
    assert "ValueError: no account for [email] ([phone])" in lines[1]["exception"]
    for value in (EMAIL, PHONE, NAME, "Kowalski"):
        assert value not in out.getvalue()


def test_library_records_go_through_the_same_redaction(captured: tuple[io.StringIO, Redactor]) -> None:
    out, _ = captured
    library = logging.getLogger("uvicorn.error")
    library.info("not shown: libraries log from WARNING up")
    try:
        fail_with_personal_data()
    except ValueError:
        library.exception("Exception in ASGI application for %s", EMAIL)
    [line] = [json.loads(line) for line in out.getvalue().splitlines()]
    assert line["event"] == "Exception in ASGI application for [email]"
    assert line["logger"] == "uvicorn.error" and line["level"] == "error"
    assert "no account for [email] ([phone])" in line["exception"]


def test_database_errors_lose_the_values_they_quote(captured: tuple[io.StringIO, Redactor]) -> None:
    out, _ = captured
    message = (
        "(sqlalchemy.dialects.postgresql.asyncpg.IntegrityError) duplicate key\n"
        "DETAIL:  Key (name)=(Jan Kowalski) already exists.\n"
        "[SQL: INSERT INTO clients (name, contact_info) VALUES ($1::VARCHAR, $2::VARCHAR)]\n"
        "[parameters: ('Jan Kowalski', 'ul. Polna 1')]\n"
        "1 validation error for ClientIn\nname\n  Input should be a valid string [type=string_type, "
        "input_value=['Jan Kowalski'], input_type=list]"
    )
    structlog.get_logger("test").error("request_failed", reason=message)
    logged = json.loads(out.getvalue())["reason"]
    assert "Kowalski" not in logged and "Polna" not in logged
    assert "Key (name)=([redacted]) already exists" in logged
    assert "[parameters: [redacted]]" in logged and "input_value=[redacted], input_type=list" in logged


def test_console_format_is_redacted_too() -> None:
    out = io.StringIO()
    configure_logging(LogSettings(format="console"), stream=out)
    try:
        structlog.get_logger("test").warning("callback requested", phone=PHONE, note=f"mail {EMAIL}")
    finally:
        configure_logging(LogSettings())
    assert PHONE not in out.getvalue() and EMAIL not in out.getvalue()
    assert "[email]" in out.getvalue()
