from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta

import pytest

from backend.db import Database
from backend.db.models import Role, User
from backend.domain.accounts import AccountService
from backend.settings import Settings

PASSWORD = "correct horse battery"

MakeUser = Callable[..., Awaitable[User]]


@pytest.fixture(scope="session")
async def db(migrated_db_url: str) -> AsyncIterator[Database]:
    database = Database(migrated_db_url)
    yield database
    await database.close()


@pytest.fixture(scope="session")
def accounts(db: Database, settings: Settings) -> AccountService:
    return AccountService(db, secret_key=settings.secret_key(), session_ttl=timedelta(hours=1))


@pytest.fixture
def make_user(accounts: AccountService) -> MakeUser:
    async def make(role: Role = Role.SALESPERSON, password: str = PASSWORD) -> User:
        return await accounts.create_user(f"user-{uuid.uuid4().hex[:10]}", password, role)

    return make
