"""Authentication of every HTTP request and socket, except the few public paths."""

from __future__ import annotations

from typing import Any, TypeAlias

from litestar.connection import ASGIConnection
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from backend.db.models import User
from backend.errors import NotAuthenticated

# Public: health checks, logging in, API docs, and (later) the bot webhooks that carry their own secrets.
# Sockets under /ws/ authenticate in their handler, so that a refused socket is closed with code 1008.
PUBLIC_PATHS = ["^/health$", "^/auth/login$", "^/schema", "^/bots/", "^/ws/"]

CurrentUser: TypeAlias = User


def token_from(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """The bearer token from the Authorization header, else from the session cookie."""
    header = connection.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    cookie_name: str = connection.app.state.settings.auth.cookie_name
    return connection.cookies.get(cookie_name) or None


class AuthMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        token = token_from(connection)
        if token is None:
            raise NotAuthenticated()
        user = await connection.app.state.accounts.authenticate(token)
        return AuthenticationResult(user=user, auth=token)
