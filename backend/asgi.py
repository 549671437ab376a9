"""The Litestar application factory. Nothing happens at import time; the lifespan opens and closes resources."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.datastructures import State
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin

from backend.db import Database
from backend.domain.accounts import AccountService, AuthController, AuthMiddleware
from backend.domain.accounts.auth import PUBLIC_PATHS
from backend.domain.bots.dialog import Dialog
from backend.domain.bots.leads import LeadFeed
from backend.domain.bots.telegram import TelegramBot, telegram_webhook
from backend.domain.clients import ClientController, ClientService, SessionController
from backend.domain.copilot.build import build_engine
from backend.domain.copilot.controllers import knowledge_module
from backend.domain.copilot.copilot import Copilot
from backend.domain.copilot.live import SessionHub, encode
from backend.domain.copilot.session_store import SessionStore
from backend.domain.copilot.socket import cockpit_socket
from backend.domain.health import health
from backend.errors import exception_handlers
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
        app.state.clients = ClientService(db)
        built = None if copilot else await asyncio.to_thread(build_engine, settings)
        app.state.hub = SessionHub(copilot or built.copilot, SessionStore(db), app.state.clients)  # type: ignore[union-attr]
        hub = app.state.hub
        app.state.leads = LeadFeed(db, lambda kind, payload: hub.broadcast(encode(kind, payload)))
        app.state.leads.start()
        app.state.telegram = TelegramBot.from_settings(db, Dialog(hub.copilot), settings.telegram)
        if app.state.telegram is not None:
            app.state.telegram.on_lead = app.state.leads.poke
            await app.state.telegram.resume_unprocessed()
        probe = asyncio.create_task(app.state.hub.copilot.llm.probe())  # the LLM's state, without delaying start-up
        try:
            yield
        finally:
            probe.cancel()
            await app.state.hub.close()
            if app.state.telegram is not None:
                await app.state.telegram.close()
            await app.state.leads.close()
            if built is not None:
                await built.aclose()
            await db.close()

    return Litestar(
        route_handlers=[
            health,
            AuthController,
            ClientController,
            SessionController,
            knowledge_module,
            cockpit_socket,
            telegram_webhook,
        ],
        lifespan=[lifespan],
        state=State({"settings": settings}),
        middleware=[RequestIdMiddleware, DefineMiddleware(AuthMiddleware, exclude=PUBLIC_PATHS)],
        exception_handlers=exception_handlers,  # type: ignore[arg-type]
        before_send=[add_request_id_header],
        openapi_config=OpenAPIConfig(
            title="Sufler", version="0.1.0", path="/schema", render_plugins=[SwaggerRenderPlugin()]
        ),
        logging_config=None,
    )
