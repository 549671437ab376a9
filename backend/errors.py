"""One exception tree for the whole backend, mapped to JSON errors in one place.

    SuflerError                    500 internal_error
    ├── NotAuthenticated           401 not_authenticated
    ├── PermissionDenied           403 permission_denied
    ├── NotFound                   404 not_found
    ├── Conflict                   409 conflict
    ├── InvalidInput               422 invalid_input
    ├── RateLimited                429 rate_limited
    └── ServiceUnavailable         503 service_unavailable
        └── DatabaseUnavailable    503 database_unavailable

Every error body is ``{"error": {"code": ..., "message": ..., "request_id": ...}}`` (plus ``details`` when
there are field errors). Socket handlers reuse :func:`describe` so both speak the same codes.
"""

from __future__ import annotations

import uuid
from typing import Any

import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from sqlalchemy.exc import DBAPIError, OperationalError

__all__ = (
    "Conflict",
    "DatabaseUnavailable",
    "InvalidInput",
    "NotAuthenticated",
    "NotFound",
    "PermissionDenied",
    "RateLimited",
    "ServiceUnavailable",
    "SuflerError",
    "describe",
    "exception_handlers",
)

log = structlog.get_logger(__name__)


class SuflerError(Exception):
    status_code = 500
    code = "internal_error"
    default_message = "Something went wrong on our side."

    def __init__(self, message: str | None = None, *, details: Any = None) -> None:
        self.message = message or self.default_message
        self.details = details
        super().__init__(self.message)


class NotAuthenticated(SuflerError):
    status_code = 401
    code = "not_authenticated"
    default_message = "Please log in."


class PermissionDenied(SuflerError):
    status_code = 403
    code = "permission_denied"
    default_message = "You are not allowed to do this."


class NotFound(SuflerError):
    status_code = 404
    code = "not_found"
    default_message = "Not found."


class Conflict(SuflerError):
    status_code = 409
    code = "conflict"
    default_message = "This conflicts with existing data."


class InvalidInput(SuflerError):
    status_code = 422
    code = "invalid_input"
    default_message = "The request is not valid."


class RateLimited(SuflerError):
    status_code = 429
    code = "rate_limited"
    default_message = "Too many attempts; wait a few minutes and try again."


class ServiceUnavailable(SuflerError):
    status_code = 503
    code = "service_unavailable"
    default_message = "A service we depend on is not available; try again shortly."


class DatabaseUnavailable(ServiceUnavailable):
    code = "database_unavailable"
    default_message = "The database is not reachable; nothing was lost, try again shortly."


_HTTP_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    429: "rate_limited",
}


def describe(exc: BaseException) -> SuflerError:
    """Translate any exception into a :class:`SuflerError` (framework, database and unknown errors included)."""
    if isinstance(exc, SuflerError):
        return exc
    if isinstance(exc, ValidationException):
        error = InvalidInput(exc.detail, details=exc.extra)
        error.status_code = 400
        error.code = "bad_request"
        return error
    if isinstance(exc, HTTPException):
        error = SuflerError(exc.detail)
        error.status_code = exc.status_code
        error.code = _HTTP_CODES.get(exc.status_code, "http_error")
        return error
    if isinstance(exc, OperationalError | DBAPIError | ConnectionError | OSError | TimeoutError):
        return DatabaseUnavailable()
    return SuflerError()


def _handle(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    error = describe(exc)
    request_id = structlog.contextvars.get_contextvars().get("request_id")
    if request_id is None:
        # Routing errors (404, 405) are answered before any middleware has bound an id.
        request_id = uuid.uuid4().hex
        structlog.contextvars.bind_contextvars(request_id=request_id)
    if error.status_code >= 500:
        log.error("request_failed", code=error.code, exc_info=exc)
    body: dict[str, Any] = {"code": error.code, "message": error.message, "request_id": request_id}
    if error.details:
        body["details"] = error.details
    return Response({"error": body}, status_code=error.status_code)


exception_handlers = {Exception: _handle}
