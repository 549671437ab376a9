"""Run alembic migrations from code (``sufler migrate``, start-up, tests) on an async engine."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import create_async_engine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # Escape % for configparser interpolation (URL-encoded passwords).
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def run_alembic(url: str, action: str, revision: str) -> None:
    """``action`` is ``upgrade`` or ``downgrade``; runs on one connection of our own async engine."""
    config = alembic_config(url)
    operation = {"upgrade": command.upgrade, "downgrade": command.downgrade}[action]

    def run(connection: Connection) -> None:
        config.attributes["connection"] = connection
        operation(config, revision)

    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(run)
    finally:
        await engine.dispose()


async def upgrade_to_head(url: str) -> None:
    await run_alembic(url, "upgrade", "head")
