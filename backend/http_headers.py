"""Security headers on every response, and a content security policy on HTML: the backend's own (strict) and the
cockpit's (Reflex's compiled app, wrapped with :func:`with_security_headers`)."""

from __future__ import annotations

from typing import Any

from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.static_files import create_static_files_router
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from swagger_ui_bundle import swagger_ui_path

__all__ = ("SWAGGER", "add_security_headers", "viewer_files", "with_security_headers")

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
# The API docs page's viewer (Swagger UI) is served from here, out of the swagger-ui-bundle wheel: no script from
# another site, and nothing on the page changes with a CDN. Its start-up script is inline; nothing else is allowed.
VIEWER = f"{DOCS}/viewer"
SWAGGER = SwaggerRenderPlugin(
    js_url=f"{VIEWER}/swagger-ui-bundle.js",
    css_url=f"{VIEWER}/swagger-ui.css",
    standalone_preset_js_url=f"{VIEWER}/swagger-ui-standalone-preset.js",
    favicon=f"<link rel='icon' type='image/png' href='{VIEWER}/favicon-32x32.png'>",
)
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; object-src 'none'; form-action 'self'"
)
viewer_files = create_static_files_router(path=VIEWER, directories=[swagger_ui_path], include_in_schema=False)


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
