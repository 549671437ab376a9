"""The Litestar application factory. Nothing happens at import time; the lifespan opens and closes resources."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.datastructures import State
from litestar.enums import ScopeType
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.plugins.prometheus import PrometheusConfig

from backend.domain.accounts import AuthController, AuthMiddleware, UserController
from backend.domain.accounts.auth import PUBLIC_PATHS
from backend.domain.audit import audit_log
from backend.domain.bots.channels.meta import meta_verification, meta_webhook
from backend.domain.bots.channels.telegram import telegram_webhook
from backend.domain.bots.channels.web import web_socket, widget_demo, widget_script
from backend.domain.clients import ClientController, SessionController
from backend.domain.copilot.copilot import Copilot
from backend.domain.health import health
from backend.domain.health.metrics import metrics_endpoint
from backend.domain.integrations.controllers import WebhookController, inbound_lead
from backend.domain.pack.controllers import knowledge_module
from backend.domain.review.controllers import ReviewController
from backend.domain.review.editing import PackEditController
from backend.domain.sessions.socket import cockpit_socket
from backend.errors import exception_handlers
from backend.http_headers import SWAGGER, add_security_headers, viewer_files
from backend.inputs import check_request
from backend.lifespan import running_services
from backend.logs import RequestIdMiddleware, add_request_id_header, configure_logging
from backend.services import dependencies
from backend.settings import Settings
from backend.tracing import configure_tracing

__all__ = ("create_app",)

# Requests by route template (`/clients/{client_id:int}`, never an id), method and status; sockets are counted by
# Sufler's own gauges (a socket's "duration" is its whole life). Unmatched paths (404 scans) add no series.
HTTP_METRICS = PrometheusConfig(
    app_name="sufler",
    prefix="sufler_http",
    group_path=True,
    exclude_unhandled_paths=True,
    exclude=["^/metrics$"],
    scopes={ScopeType.HTTP},
)


def create_app(settings: Settings, *, database_url: str | None = None, copilot: Copilot | None = None) -> Litestar:
    """Build the app. ``database_url`` overrides the settings (the embedded server's URL is known only at run);
    ``copilot``: an already built co-pilot (tests share one engine; the app then does not close it)."""
    url = database_url or settings.database.url
    if url is None:
        raise ValueError("create_app needs a database URL: set SUFLER_DATABASE_URL or use `sufler up`")
    configure_logging(settings.log)
    configure_tracing(settings.tracing.endpoint)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with running_services(settings, url, copilot) as services:
            app.state.services = services
            yield

    return Litestar(
        route_handlers=[
            health,
            metrics_endpoint,
            AuthController,
            UserController,
            audit_log,
            ReviewController,
            ClientController,
            SessionController,
            knowledge_module,
            PackEditController,
            cockpit_socket,
            telegram_webhook,
            meta_verification,
            meta_webhook,
            WebhookController,
            inbound_lead,
            web_socket,
            widget_script,
            widget_demo,
            viewer_files,
        ],
        lifespan=[lifespan],
        state=State({"settings": settings}),
        dependencies=dependencies,
        middleware=[
            RequestIdMiddleware,
            HTTP_METRICS.middleware,
            DefineMiddleware(AuthMiddleware, exclude=PUBLIC_PATHS),
        ],
        exception_handlers=exception_handlers,  # type: ignore[arg-type]
        before_request=check_request,
        before_send=[add_request_id_header, add_security_headers],
        openapi_config=OpenAPIConfig(title="Sufler", version="0.1.0", path="/schema", render_plugins=[SWAGGER]),
        logging_config=None,
    )
