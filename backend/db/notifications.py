"""PostgreSQL NOTIFY/LISTEN: the way every backend process hears what another one announces (new leads, ended
logins). :func:`notify` sends in the transaction whose commit it announces (PostgreSQL delivers it at commit);
:func:`listen` hears one channel for as long as its task runs."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db._engine import asyncpg_dsn

__all__ = ("listen", "notify")

RETRY_SECONDS = 2.0


async def notify(session: AsyncSession, channel: str, message: str) -> None:
    await session.execute(text("SELECT pg_notify(:channel, :message)"), {"channel": channel, "message": message})


async def listen(url: str, channel: str, on_message: Callable[[str], None]) -> None:
    """Call ``on_message`` with each notification's payload; listen again after the connection drops (what was
    sent meanwhile is not heard: callers that must not miss anything also poll the database)."""
    dsn = asyncpg_dsn(url)
    while True:
        try:
            conn = await asyncpg.connect(dsn)
        except (OSError, asyncpg.PostgresError):
            await asyncio.sleep(RETRY_SECONDS)
            continue
        lost = asyncio.Event()
        conn.add_termination_listener(lambda _conn, lost=lost: lost.set())

        def heard(_conn: Any, _pid: int, _channel: str, payload: str) -> None:
            on_message(payload)

        try:
            await conn.add_listener(channel, heard)
            await lost.wait()  # until the database connection drops; then listen again
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            await asyncio.sleep(RETRY_SECONDS)
        finally:
            with contextlib.suppress(Exception):
                await conn.close()
