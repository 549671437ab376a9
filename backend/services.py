"""The services of one running backend, built in one place (backend/lifespan.py) and handed to handlers with
Litestar's ``Provide``: a handler takes ``services: Services`` and uses what it needs, never a global bag."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, TypeAlias

from litestar.datastructures import State
from litestar.di import Dependency, Provide
from litestar.params import SkipValidationMarker

if TYPE_CHECKING:  # the types only: the modules that build these import this one
    import asyncio

    from backend.db import Database
    from backend.domain.accounts.open_sockets import OpenSockets
    from backend.domain.accounts.services import AccountService
    from backend.domain.accounts.throttle import LoginThrottle
    from backend.domain.bots.service import BotService
    from backend.domain.clients.services import ClientService
    from backend.domain.copilot.copilot import Copilot
    from backend.domain.integrations.webhooks import Webhooks
    from backend.domain.leads.feed import LeadFeed
    from backend.domain.operations.call_log import CallLog
    from backend.domain.pack.pack import DomainPack
    from backend.domain.sessions.live import SessionHub
    from backend.domain.sockets import RatesByKey
    from backend.settings import Settings

__all__ = ("Services", "ServicesDep", "dependencies", "services_of")


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    db: Database
    accounts: AccountService
    login_throttle: LoginThrottle
    open_sockets: OpenSockets
    clients: ClientService
    copilot: Copilot
    hub: SessionHub
    leads: LeadFeed
    bots: BotService
    call_log: CallLog  # every LLM call, written to the database for the Operations tab
    webhooks: Webhooks  # lead and client-file events to CRMs
    pack_edit_lock: asyncio.Lock  # one pack edit at a time in this process
    user_rates: RatesByKey  # costly cockpit messages per user, over all their sockets in this process
    inbound_lead_rates: RatesByKey  # leads created per API key (POST /integrations/leads) in this process

    @property
    def pack(self) -> DomainPack:
        return self.copilot.engine.pack


def services_of(state: State) -> Services:
    """The running services (for middleware, which cannot take dependencies)."""
    services: Services = state.services
    return services


dependencies = {"services": Provide(services_of, sync_to_thread=False)}


# How a handler asks for them: ``services: ServicesDep``. Not validated: it is our own object, not input.
ServicesDep: TypeAlias = Annotated[Services, Dependency(kind="named"), SkipValidationMarker()]
