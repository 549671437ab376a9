"""What the app's lifespan opens and closes: every service of the backend, in dependency order."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from backend.db import Database
from backend.db.sealed import use_cipher
from backend.domain.accounts.open_sockets import OpenSockets
from backend.domain.accounts.services import AccountService
from backend.domain.accounts.throttle import LoginThrottle
from backend.domain.bots.answer_cache import answer_cache
from backend.domain.bots.channels.meta import meta_channels
from backend.domain.bots.channels.telegram import TelegramChannel
from backend.domain.bots.channels.web import WebChannel
from backend.domain.bots.dialog import Dialog
from backend.domain.bots.service import BotService, Channel
from backend.domain.clients import ClientService
from backend.domain.copilot.build import build_engine
from backend.domain.copilot.copilot import Copilot
from backend.domain.integrations.webhooks import Webhooks
from backend.domain.leads.feed import LeadFeed
from backend.domain.operations.call_log import CallLog
from backend.domain.protocol import cockpit as p
from backend.domain.sessions.live import SessionHub
from backend.domain.sessions.store import SessionStore
from backend.domain.sockets import RatesByKey
from backend.services import Services
from backend.settings import Settings

__all__ = ("running_services",)


@asynccontextmanager
async def running_services(settings: Settings, url: str, copilot: Copilot | None = None) -> AsyncIterator[Services]:
    """Open everything the backend needs, in dependency order, and close it in reverse. ``copilot``: an already
    built co-pilot (tests share one engine; it is then not closed here)."""
    db = Database(
        url,
        pool_size=settings.database.pool_size,
        connect_timeout=settings.database.connect_timeout,
        pool_timeout=settings.database.pool_timeout,
    )
    built = None if copilot else await asyncio.to_thread(build_engine, settings)
    copilot = copilot or built.copilot  # type: ignore[union-attr]
    cipher = settings.data_cipher()
    use_cipher(cipher)  # contacts typed into free text are sealed with the same keys
    webhooks = Webhooks(db, cipher)  # lead and client-file events for a CRM
    clients = ClientService(db, cipher, webhooks)
    hub = SessionHub(copilot, SessionStore(db), clients, idle_seconds=settings.sessions.idle_seconds, database_url=url)

    def broadcast(event: p.Event) -> None:
        hub.broadcast(p.encode(event))

    leads = LeadFeed(db, clients, broadcast=broadcast, customer_chat=hub.customer_chat)
    channels: list[Channel | None] = [
        TelegramChannel.from_settings(settings.telegram),
        WebChannel(settings.widget) if settings.widget.enabled else None,
        *meta_channels(settings),  # WhatsApp, Messenger, Instagram: those configured
    ]
    bots = BotService(
        db,
        Dialog(copilot, answer_cache(settings)),
        [c for c in channels if c is not None],
        clients.cipher,
        on_lead=leads.poke,
        on_chat=leads.relay_chat,
        webhooks=webhooks,
    )
    call_log = CallLog(db)
    copilot.llm.recorders.append(call_log.add)
    services = Services(
        settings=settings,
        db=db,
        accounts=AccountService.from_settings(db, settings),
        login_throttle=LoginThrottle(),
        open_sockets=OpenSockets(db),
        clients=clients,
        copilot=copilot,
        hub=hub,
        leads=leads,
        bots=bots,
        call_log=call_log,
        webhooks=webhooks,
        pack_edit_lock=asyncio.Lock(),
        user_rates=RatesByKey(2 * settings.sessions.message_burst, 2 * settings.sessions.messages_per_second),
        # a CRM's backlog at once, then a few a second per API key (the rest: 429, resend)
        inbound_lead_rates=RatesByKey(settings.crm.leads_burst, settings.crm.leads_per_second),
    )
    await webhooks.sync_settings(settings.crm)
    hub.start()
    leads.start()
    webhooks.start()
    await bots.start()
    call_log.start()
    services.open_sockets.start()
    probe = asyncio.create_task(copilot.llm.probe())  # the LLM's state, without delaying start-up
    try:
        yield services
    finally:
        probe.cancel()
        await hub.close()
        await bots.close()
        await leads.close()
        await webhooks.close()
        copilot.llm.recorders.remove(call_log.add)  # a shared co-pilot (tests) outlives this app
        await call_log.close()
        await services.open_sockets.close()
        if built is not None:
            await built.aclose()
        await db.close()
