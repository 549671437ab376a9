"""The Litestar application factory. Nothing happens at import time; the lifespan opens and closes resources."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar
from litestar.datastructures import State
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin

from backend.db import Database
from backend.domain.accounts import AccountService, AuthController, AuthMiddleware, UserController
from backend.domain.accounts.auth import PUBLIC_PATHS
from backend.domain.accounts.open_sockets import OpenSockets
from backend.domain.accounts.throttle import LoginThrottle
from backend.domain.audit import audit_log
from backend.domain.bots.channels.telegram import TelegramChannel, telegram_webhook
from backend.domain.bots.channels.web import WebChannel, web_socket, widget_demo, widget_script
from backend.domain.bots.dialog import Dialog
from backend.domain.bots.service import BotService, Channel
from backend.domain.clients import ClientController, ClientService, SessionController
from backend.domain.copilot.build import build_engine
from backend.domain.copilot.copilot import Copilot
from backend.domain.health import health
from backend.domain.leads.feed import LeadFeed
from backend.domain.pack.controllers import knowledge_module
from backend.domain.review.controllers import ReviewController
from backend.domain.review.editing import PackEditController
from backend.domain.sessions.live import SessionHub, encode
from backend.domain.sessions.socket import cockpit_socket
from backend.domain.sessions.store import SessionStore
from backend.errors import exception_handlers
from backend.http_headers import add_security_headers
from backend.logs import RequestIdMiddleware, add_request_id_header, configure_logging
from backend.settings import Settings

__all__ = ("create_app",)


def create_app(settings: Settings, *, database_url: str | None = None, copilot: Copilot | None = None) -> Litestar:
    """Build the app. ``database_url`` overrides the settings (the embedded server's URL is known only at run);
    ``copilot``: an already built co-pilot (tests share one engine; the app then does not close it)."""
    url = database_url or settings.database.url
    if url is None:
        raise ValueError("create_app needs a database URL: set SUFLER_DATABASE_URL or use `sufler up`")
    configure_logging(settings.log)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        db = Database(url, pool_size=settings.database.pool_size, connect_timeout=settings.database.connect_timeout)
        app.state.db = db
        app.state.accounts = AccountService.from_settings(db, settings)
        app.state.login_throttle = LoginThrottle()
        app.state.open_sockets = OpenSockets()
        app.state.clients = ClientService(db, settings.data_cipher())
        built = None if copilot else await asyncio.to_thread(build_engine, settings)
        app.state.hub = SessionHub(copilot or built.copilot, SessionStore(db), app.state.clients)  # type: ignore[union-attr]
        hub = app.state.hub

        def feed_event(kind: str, payload: dict[str, Any]) -> None:
            if kind == "chat":  # a line of a customer's chat: only to that client's sessions
                hub.customer_chat(payload["client_id"], payload["speaker"], payload["text"])
            else:  # leads: to every cockpit
                hub.broadcast(encode(kind, payload))

        app.state.leads = LeadFeed(db, feed_event, app.state.clients)
        app.state.leads.start()
        channels: list[Channel | None] = [
            TelegramChannel.from_settings(settings.telegram),
            WebChannel() if settings.widget.enabled else None,
        ]
        found = [c for c in channels if c is not None]
        app.state.bots = BotService(db, Dialog(hub.copilot), found, app.state.clients.cipher)
        app.state.bots.on_lead = app.state.leads.poke
        app.state.bots.on_chat = app.state.leads.relay_chat
        await app.state.bots.resume_unprocessed()
        probe = asyncio.create_task(app.state.hub.copilot.llm.probe())  # the LLM's state, without delaying start-up
        try:
            yield
        finally:
            probe.cancel()
            await app.state.hub.close()
            await app.state.bots.close()
            await app.state.leads.close()
            if built is not None:
                await built.aclose()
            await db.close()

    return Litestar(
        route_handlers=[
            health,
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
            web_socket,
            widget_script,
            widget_demo,
        ],
        lifespan=[lifespan],
        state=State({"settings": settings}),
        middleware=[RequestIdMiddleware, DefineMiddleware(AuthMiddleware, exclude=PUBLIC_PATHS)],
        exception_handlers=exception_handlers,  # type: ignore[arg-type]
        before_send=[add_request_id_header, add_security_headers],
        openapi_config=OpenAPIConfig(
            title="Sufler", version="0.1.0", path="/schema", render_plugins=[SwaggerRenderPlugin()]
        ),
        logging_config=None,
    )
