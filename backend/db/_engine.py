from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import Executable, Result, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from backend.tracing import instrument_database


def asyncpg_dsn(url: str) -> str:
    """The plain asyncpg DSN of a SQLAlchemy URL (for a raw connection, e.g. LISTEN)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class Database:
    """The engine and session factory of one process; opened and closed by the app's lifespan."""

    def __init__(
        self, url: str, *, pool_size: int = 10, connect_timeout: float = 5.0, pool_timeout: float = 10.0
    ) -> None:
        self.url = url
        # pre_ping: after a database restart, stale pooled connections are replaced instead of failing a request.
        self.engine: AsyncEngine = create_async_engine(
            url,
            pool_size=pool_size,
            pool_timeout=pool_timeout,  # then errors.Busy: shed load early (see DatabaseSettings.pool_timeout)
            pool_pre_ping=True,
            connect_args={"timeout": connect_timeout},
        )
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # For the cockpit's hot path: one statement, one round trip (no BEGIN/COMMIT, no ping), see `statement`.
        self._autocommit = create_async_engine(
            url,
            pool_size=pool_size,
            pool_timeout=pool_timeout,
            isolation_level="AUTOCOMMIT",
            connect_args={"timeout": connect_timeout},
        )
        for engine in (self.engine, self._autocommit):
            instrument_database(engine)  # statements as spans, when tracing is on

    async def statement(self, statement: Executable) -> Result[Any]:
        """Run one self-contained statement in its own implicit transaction: a single round trip.

        Without a pre-ping, a pooled connection may have died with a database restart; it is then replaced and
        the statement retried once. Only idempotent statements belong here (the retry may repeat one whose
        reply was lost)."""
        for attempt in (1, 2):
            try:
                async with self._autocommit.connect() as conn:
                    return await conn.execute(statement)
            except DBAPIError as exc:
                if attempt == 2 or not exc.connection_invalidated:
                    raise
        raise AssertionError("unreachable")

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session whose work is committed on success and rolled back on error."""
        async with self.sessions() as session, session.begin():
            yield session

    async def ping(self) -> None:
        """Raise unless the database answers ``SELECT 1`` within two seconds (health checks must not hang)."""
        async with asyncio.timeout(2.0), self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    def connections_in_use(self) -> int:
        """Connections checked out of both pools now (the metrics' pool gauge)."""
        pools: list[Any] = [self.engine.pool, self._autocommit.pool]  # QueuePool: checkedout() is not on Pool
        return sum(int(pool.checkedout()) for pool in pools)

    async def close(self) -> None:
        await self.engine.dispose()
        await self._autocommit.dispose()
