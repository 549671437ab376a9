"""Authentication of every HTTP request and socket, except the few public paths."""

from __future__ import annotations

import hmac
from typing import Any

from litestar.connection import ASGIConnection
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from backend.errors import NotAuthenticated, PasswordChangeRequired, PermissionDenied
from backend.services import services_of

# Public: health checks, logging in, API docs, and the bot endpoints (the Telegram webhook carries its own secret).
# Sockets under /ws/ authenticate in their handler, so that a refused socket is closed with code 1008.
# /metrics checks its own token (backend/domain/health/metrics.py).
# /integrations/leads checks its own API key (a CRM or a web form has no login)
PUBLIC_PATHS = ["^/health$", "^/metrics$", "^/auth/login$", "^/schema", "^/bots/", "^/ws/", "^/integrations/leads$"]


def token_from(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """The bearer token from the Authorization header, else from the session cookie."""
    header = connection.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    cookie_name = services_of(connection.app.state).settings.auth.cookie_name
    return connection.cookies.get(cookie_name) or None


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# After an admin's reset, a login can only see who it is, set its own password, or log out.
WHILE_PASSWORD_MUST_CHANGE = frozenset({"/auth/me", "/auth/password", "/auth/logout"})
CSRF_COOKIE, CSRF_HEADER = "sufler_csrf", "x-csrf-token"


class AuthMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        token = token_from(connection)
        if token is None:
            raise NotAuthenticated()
        user = await services_of(connection.app.state).accounts.authenticate(token)
        if _by_cookie(connection) and connection.scope.get("method") not in SAFE_METHODS:
            refuse_foreign_origin(connection)
            _check_csrf(connection)
        if user.must_change_password and connection.scope["path"] not in WHILE_PASSWORD_MUST_CHANGE:
            raise PasswordChangeRequired()
        return AuthenticationResult(user=user, auth=token)


def foreign_origin(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    """A page of another site is behind this request: its Origin (``null`` included) is not one we trust.

    Browsers send Origin on every WebSocket handshake and cross-site write; other programs send none and carry
    no browser cookie, so a missing Origin is not a foreign page.
    """
    origin = connection.headers.get("origin")
    return origin is not None and origin not in services_of(connection.app.state).settings.trusted_origins()


def refuse_foreign_origin(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    if foreign_origin(connection):
        raise PermissionDenied("This page's site may not act with your Sufler login (SUFLER_COCKPIT_ORIGINS).")


def _by_cookie(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    return not connection.headers.get("authorization", "").lower().startswith("bearer ")


def _check_csrf(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    """A write made with the session cookie must echo the CSRF cookie in X-CSRF-Token (double submit)."""
    expected = connection.cookies.get(CSRF_COOKIE, "")
    given = connection.headers.get(CSRF_HEADER, "")
    if not expected or not hmac.compare_digest(expected.encode(), given.encode()):
        raise PermissionDenied("Missing or wrong X-CSRF-Token (needed for writes made with the session cookie).")
