"""The cockpit socket end to end: the real app on a real port, real PostgreSQL, a fake Ollama on the wire."""

from __future__ import annotations

import copy
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from litestar import Litestar

from backend.adapters.llm import LLM
from backend.asgi import create_app
from backend.db import Database
from backend.db.models import Role
from backend.domain.accounts import AccountService
from backend.domain.copilot.build import BuiltEngine
from backend.domain.copilot.copilot import Copilot
from backend.domain.engine.rules import RuleStore
from backend.services import Services, services_of
from backend.settings import (
    DatabaseSettings,
    LLMSettings,
    MetricsSettings,
    PackSettings,
    SessionSettings,
    Settings,
    TelegramSettings,
    WidgetSettings,
)
from tests.cockpit_client import Cockpit, cockpit
from tests.fakes.model_server import FakeModelServer, running
from tests.fakes.telegram import FakeTelegram
from tests.helpers import serving

PASSWORD = "correct horse battery"


@dataclass
class Backend:
    url: str
    token: str
    fake: FakeModelServer
    copilot: Copilot
    db: Database
    username: str
    app: Litestar

    @property
    def services(self) -> Services:
        return services_of(self.app.state)

    def cockpit(self, token: str | None = "") -> AbstractAsyncContextManager[Cockpit]:
        return cockpit(self.url, self.token if token == "" else token)

    def http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, headers={"Authorization": f"Bearer {self.token}"}, timeout=10)


StartBackend = Callable[..., AbstractAsyncContextManager[Backend]]


def llm_settings(url: str, **overrides: object) -> LLMSettings:
    values: dict[str, object] = {"host": url, "first_token_timeout": 1.0, "request_timeout": 10, "retry_after": 0.5}
    values.update(overrides)
    return LLMSettings(**values)  # type: ignore[arg-type]


@pytest.fixture
def start_backend(settings: Settings, built: BuiltEngine, migrated_db_url: str) -> StartBackend:
    @asynccontextmanager
    async def start(
        llm_host: str | None = None,
        database_url: str | None = None,
        port: int = 0,
        telegram: TelegramSettings | None = None,
        widget: WidgetSettings | None = None,
        sessions: SessionSettings | None = None,
        metrics: MetricsSettings | None = None,
        database: DatabaseSettings | None = None,
        username: str | None = None,
        pack_dir: Path | None = None,
        extra: dict[str, object] | None = None,
        **llm: object,
    ) -> AsyncIterator[Backend]:
        url = database_url or migrated_db_url
        async with running(FakeModelServer()) as fake:
            llm_config = llm_settings(fake.url if llm_host is None else llm_host, **llm)
            engine = built.engine
            if pack_dir is not None:  # a copy of the pack to edit: the shared engine, its rules watching the copy
                engine = copy.copy(built.engine)
                engine.rules = RuleStore(pack_dir / "scoring_rules", built.engine.pack)
            copilot = Copilot(engine, LLM(llm_config), built.copilot.prompts, llm_config.memory_token_budget)
            db = Database(url)
            accounts = AccountService.from_settings(db, settings)
            name = username or f"sp-{uuid.uuid4().hex[:8]}"
            if username is None:  # a new salesperson per backend, unless a restart of one that signs in again
                await accounts.create_user(name, PASSWORD, Role.SALESPERSON)
            token = (await accounts.login(name, PASSWORD)).token
            try:
                pack = PackSettings(dir=pack_dir) if pack_dir is not None else None
                sections: dict[str, object] = {
                    "telegram": telegram,
                    "widget": widget,
                    "pack": pack,
                    "sessions": sessions,
                    "metrics": metrics,
                    "database": database,
                }
                # extra: more settings sections by name ({"whatsapp": WhatsAppSettings(...), "crm": ...})
                sections.update(extra or {})
                app_settings = settings.model_copy(update={k: v for k, v in sections.items() if v is not None})
                app = create_app(app_settings, database_url=url, copilot=copilot)
                async with serving(app, port) as base:
                    yield Backend(base, token, fake, copilot, db, name, app)
            finally:
                await copilot.llm.close()
                await db.close()

    return start


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    """A fake Telegram Bot API on a real port."""
    fake = FakeTelegram()
    async with serving(fake) as url:
        fake.url = url
        yield fake


@pytest.fixture
async def backend(start_backend: StartBackend) -> AsyncIterator[Backend]:
    async with start_backend() as started:
        yield started
