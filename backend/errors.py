"""One exception tree for the whole backend, mapped to JSON errors in one place.

    SuflerError                    500 internal_error
    ├── ConfigurationError         500 configuration_error   settings.SettingsError, crypto.DataKeyError
    ├── NotAuthenticated           401 not_authenticated
    ├── PermissionDenied           403 permission_denied
    │   └── PasswordChangeRequired 403 password_change_required
    ├── NotFound                   404 not_found
    ├── Conflict                   409 conflict
    ├── InvalidInput               422 invalid_input         pack.PackError (and RuleError), replay.ReplayError,
    │   │                                                    bots.channels.web.FrameError
    │   └── ProtocolError          400 (its own code)        a cockpit socket message that is not valid
    ├── UnsupportedMediaType       415 unsupported_media_type
    ├── RateLimited                429 rate_limited
    └── ServiceUnavailable         503 service_unavailable   backup.BackupError
        ├── DatabaseUnavailable    503 database_unavailable  only when the database cannot be reached
        ├── Busy                   503 busy                  every database connection taken (pool wait over)
        ├── LLMError               503 llm_unavailable       adapters.llm (callers fall back to degraded mode)
        └── ChannelError           503 channel_unavailable   a bot channel could not deliver (TelegramError)

Every error body is ``{"error": {"code": ..., "message": ..., "request_id": ...}}`` (plus ``details`` when
there are field errors). Socket handlers reuse :func:`describe` so both speak the same codes.
"""

from __future__ import annotations

import traceback
import uuid
from typing import Any

import asyncpg
import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from sqlalchemy.exc import DataError, DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

__all__ = (
    "Busy",
    "ChannelError",
    "ConfigurationError",
    "Conflict",
    "DatabaseUnavailable",
    "InvalidInput",
    "LLMError",
    "NotAuthenticated",
    "NotFound",
    "OutsideWindow",
    "PasswordChangeRequired",
    "PermissionDenied",
    "ProtocolError",
    "RateLimited",
    "ServiceUnavailable",
    "SuflerError",
    "UnsupportedMediaType",
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


class PasswordChangeRequired(PermissionDenied):
    code = "password_change_required"
    default_message = "Your password was reset by an admin; set a new one first (POST /auth/password)."


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


class UnsupportedMediaType(SuflerError):
    status_code = 415
    code = "unsupported_media_type"
    default_message = "The request body is not in a format this endpoint accepts."


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


class Busy(ServiceUnavailable):
    """Overload: no database connection came free within the pool's short wait. Said at once, instead of an
    internal error after half a minute; the request did nothing and may be sent again."""

    code = "busy"
    default_message = "The server is busy; nothing was stored. Try again in a moment."


class LLMError(ServiceUnavailable):
    """The LLM could not give a usable answer; callers fall back to degraded mode."""

    code = "llm_unavailable"
    default_message = "The language model is not available right now."


class ChannelError(ServiceUnavailable):
    """A bot channel could not deliver (the Bot API refused, no widget connected...).

    ``permanent``: trying again cannot help (the customer blocked the bot, the chat does not exist);
    ``retry_after``: seconds the channel asked us to wait before the next try.
    """

    code = "channel_unavailable"
    default_message = "The message could not be delivered to the customer's channel."

    def __init__(self, message: str | None = None, *, permanent: bool = False, retry_after: float | None = None):
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after


class OutsideWindow(ChannelError):
    """More than 24 hours since the customer last wrote: this channel takes only an approved template now."""

    status_code = 409
    code = "outside_window"
    default_message = (
        "The customer last wrote more than 24 hours ago: this channel only allows an approved template now. "
        "Reply by phone or e-mail."
    )

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message, permanent=True)


class ConfigurationError(SuflerError):
    code = "configuration_error"
    default_message = "The configuration cannot be used."


class ProtocolError(InvalidInput):
    """A socket message that is not valid; ``code`` says how (malformed_json, unknown_type, ...)."""

    status_code = 400

    def __init__(
        self, code: str, message: str, details: list[str] | None = None, client_message_id: str | None = None
    ) -> None:
        super().__init__(message, details=details or [])
        self.code = code
        self.client_message_id = client_message_id  # when the message got far enough to name it


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
        invalid = InvalidInput(exc.detail, details=exc.extra)
        invalid.status_code = 400
        invalid.code = "bad_request"
        return invalid
    if isinstance(exc, HTTPException):
        error = SuflerError(exc.detail)
        error.status_code = exc.status_code
        error.code = _HTTP_CODES.get(exc.status_code, "http_error")
        return error
    if isinstance(exc, PoolTimeout):
        return Busy()
    if isinstance(exc, DataError):
        return InvalidInput("The text or number cannot be stored (a NUL character, or a number too large).")
    if _database_unreachable(exc):
        return DatabaseUnavailable()
    return SuflerError()


def _database_unreachable(exc: BaseException) -> bool:
    """Only a lost or refused database connection is "database_unavailable"; a bad statement or value is not."""
    if isinstance(exc, DBAPIError):
        return (
            exc.connection_invalidated
            or isinstance(exc, OperationalError | InterfaceError)
            or (_database_unreachable(exc.orig) if isinstance(exc.orig, BaseException) else False)
        )
    if isinstance(exc, _ASYNCPG_CONNECTION_ERRORS):
        return True
    if isinstance(exc, ConnectionError | OSError | TimeoutError):
        # Raised by the database driver while connecting or talking to the server, not by anything else.
        frames = traceback.extract_tb(exc.__traceback__)
        return any("sqlalchemy" in f.filename or "asyncpg" in f.filename for f in frames)
    return False


# What asyncpg raises when the server is gone, refuses, or drops the connection.
_ASYNCPG_CONNECTION_ERRORS = (
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.InterfaceError,
)


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
