"""Security headers on every response, and a content security policy on HTML: the backend's own (strict) and the
cockpit's (Reflex's compiled app, wrapped with :func:`with_security_headers`)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ("add_security_headers", "with_security_headers")

ALWAYS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}
BACKEND_CSP = (
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
# The cockpit's pages are Reflex's build (inline hydration scripts, its own socket): no script policy that could
# break it, but no framing (clickjacking), no plugins and no foreign <base> or form targets.
COCKPIT_CSP = "frame-ancestors 'none'; base-uri 'none'; object-src 'none'; form-action 'self'"
DOCS = "/schema"
# The API docs page loads its viewer (Swagger UI) from the site the plugin names and starts it with an inline
# script: that site and inline code are allowed there, nothing else; no framing either.
SWAGGER = SwaggerRenderPlugin()
_VIEWER = "{0.scheme}://{0.netloc}".format(urlsplit(SWAGGER.js_url))
DOCS_CSP = (
    f"default-src 'self'; script-src 'self' 'unsafe-inline' {_VIEWER}; style-src 'self' 'unsafe-inline' {_VIEWER}; "
    f"img-src 'self' data: {_VIEWER}; frame-ancestors 'none'; base-uri 'none'; object-src 'none'; form-action 'self'"
)


async def add_security_headers(message: Message, scope: Scope, csp: str = BACKEND_CSP) -> None:
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)
    for name, value in ALWAYS.items():
        headers[name] = value
    if headers.get("content-type", "").startswith("text/html"):
        headers["X-Frame-Options"] = "DENY"
        headers["Content-Security-Policy"] = DOCS_CSP if scope["path"].startswith(DOCS) else csp
    if "cache-control" not in headers and (scope.get("user") is not None or scope["path"].startswith("/auth/")):
        # Answers for a logged-in user (and the login's token) stay out of every cache, shared or the browser's.
        headers["Cache-Control"] = "no-store"


def with_security_headers(app: ASGIApp) -> ASGIApp:
    """An ASGI app answering as ``app`` does, with the security headers (the cockpit's policy) added."""

    async def secured(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return

        async def send_secured(message: Any) -> None:
            await add_security_headers(message, scope, COCKPIT_CSP)
            await send(message)

        await app(scope, receive, send_secured)

    return secured
