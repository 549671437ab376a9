"""Structured logs (JSON lines on stderr) with a request id bound to everything logged during a request.

Every line, ours and the libraries' (uvicorn, asyncpg... through the standard ``logging`` module), passes the
:class:`~backend.redaction.Redactor` last, after tracebacks are rendered to text, so no personal data is written.
"""

from __future__ import annotations

import logging
import sys
import time
import uuid
from typing import Any, TextIO

import structlog
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from opentelemetry import trace
from opentelemetry.trace import SpanKind

from backend.redaction import Redactor
from backend.settings import LogSettings
from backend.tracing import trace_id_hex, tracer

REQUEST_ID_HEADER = "x-request-id"
_HANDLER_NAME = "sufler"  # marks our handler on the root logger, so configuring again replaces it


def configure_logging(settings: LogSettings, stream: TextIO | None = None) -> Redactor:
    """Configure structlog and the standard library's root logger to write redacted lines to ``stream``
    (stderr by default); returns the redactor, to which client names can be added (``remember``)."""
    stream = stream or sys.stderr
    redactor = Redactor()
    renderer: Any = (
        structlog.processors.JSONRenderer() if settings.format == "json" else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.format_exc_info,
            redactor,  # after the traceback is text, before the timestamp (which looks like nothing personal)
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(settings.level)),
        logger_factory=structlog.PrintLoggerFactory(stream),
        cache_logger_on_first_use=False,
    )
    # Libraries log through the standard library; without a handler their warnings and tracebacks (uvicorn's
    # "Exception in ASGI application") would reach stderr unredacted. WARNING and up, as before: their INFO
    # lines (e.g. httpx's request URLs) are noise, and some carry secrets.
    handler = logging.StreamHandler(stream)
    handler.name = _HANDLER_NAME
    handler.setLevel(max(logging.WARNING, logging.getLevelName(settings.level)))
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[
                structlog.contextvars.merge_contextvars,
                structlog.processors.add_log_level,
                structlog.stdlib.add_logger_name,
            ],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                redactor,
                structlog.processors.TimeStamper(fmt="iso", utc=True),
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.name == _HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    return redactor


class RequestIdMiddleware:
    """Bind a request id (the caller's ``X-Request-ID`` or a new one) and log one access line per request.

    Errors raised in middleware (e.g. 401 from authentication) are answered by Litestar's outermost exception
    handler, outside this middleware; so the id stays bound after we return (each request runs in its own task,
    so it cannot leak), and :func:`add_request_id_header` is a ``before_send`` hook, which sees every response.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.log = structlog.get_logger("backend.access")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        if scope["type"] == ScopeType.HTTP:  # a socket's messages get spans of their own (sessions/socket.py)
            name = f"{scope.get('method', '')} {scope.get('path_template', '')}"  # the route: never the ids in the path
            # Exceptions as status only: their messages may quote what was sent.
            with tracer().start_as_current_span(
                name, kind=SpanKind.SERVER, record_exception=False, set_status_on_exception=True
            ) as span:
                span.set_attribute("http.route", scope.get("path_template", ""))
                await self._handle(scope, receive, send)
                return
        await self._handle(scope, receive, send)

    async def _handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        incoming = dict(scope["headers"]).get(REQUEST_ID_HEADER.encode(), b"").decode("latin-1")
        # The caller's id, else (tracing on) the trace id, so a log line leads to its trace; the trace id is bound
        # as well when the caller chose the request id.
        trace_id = trace_id_hex()
        request_id = incoming[:64] if incoming.isprintable() and incoming else (trace_id or uuid.uuid4().hex)
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        if trace_id and trace_id != request_id:
            structlog.contextvars.bind_contextvars(trace_id=trace_id)
        started = time.perf_counter()
        status = 0

        async def send_recording_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_recording_status)
        except Exception as exc:
            from backend.errors import describe

            status = describe(exc).status_code
            raise
        finally:
            trace.get_current_span().set_attribute("http.response.status_code", status)
            self.log.info(
                "request",
                method=scope.get("method", "WS"),
                path=scope["path"],  # never the query string: it carries search terms (/clients/?q=<a name>)
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
            )


async def add_request_id_header(message: Message, scope: Scope) -> None:
    if message["type"] == "http.response.start":
        request_id = structlog.contextvars.get_contextvars().get("request_id")
        if request_id:
            MutableScopeHeaders.from_message(message)[REQUEST_ID_HEADER] = request_id
