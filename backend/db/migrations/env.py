"""Alembic environment: online migrations over a connection handed in by backend.db.migrate.

From a shell, ``alembic`` (with alembic.ini at the repository root) builds an async engine from
SUFLER_DATABASE_URL instead.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import create_async_engine

import backend.db.models  # noqa: F401  (registers every table)
from backend.db import Base

config = context.config
target_metadata = Base.metadata


def run_with(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


async def run_from_url(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(run_with)
    await engine.dispose()


connection = config.attributes.get("connection")
if connection is not None:
    run_with(connection)
else:
    from backend.settings import load_settings

    url = load_settings().database.url or config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("Set SUFLER_DATABASE_URL to run alembic from the shell (or use `sufler migrate`).")
    asyncio.run(run_from_url(url))
