"""The migrations build the schema the models describe, on every PostgreSQL version we run on."""

from __future__ import annotations

import asyncpg
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import create_async_engine

import backend.db.models  # noqa: F401
from backend.db import Base, asyncpg_dsn
from backend.db.migrate import run_alembic, upgrade_to_head
from tests.helpers import fresh_database

EXPECTED_TABLES = {"users", "auth_tokens", "clients", "sessions", "interactions", "feedback", "leads", "audit_log"}
EXPECTED_TABLES |= {"bot_updates", "bot_conversations", "outbox", "knowledge_proposals", "llm_calls"}
EXPECTED_TABLES |= {"webhook_endpoints", "webhook_deliveries"}


async def tables(url: str) -> set[str]:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    finally:
        await conn.close()
    return {r["tablename"] for r in rows} - {"alembic_version"}


async def schema_differences(url: str) -> list[object]:
    def compare(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(compare)
    finally:
        await engine.dispose()


async def test_upgrade_builds_every_table_and_matches_the_models(pg_server_url: str) -> None:
    async with fresh_database(pg_server_url) as url:
        await upgrade_to_head(url)
        assert await tables(url) == EXPECTED_TABLES
        assert await schema_differences(url) == []


async def test_downgrade_to_base_and_upgrade_again(pg_server_url: str) -> None:
    async with fresh_database(pg_server_url) as url:
        await upgrade_to_head(url)
        await run_alembic(url, "downgrade", "base")
        assert await tables(url) == set()
        await upgrade_to_head(url)
        assert await tables(url) == EXPECTED_TABLES
        assert await schema_differences(url) == []


async def test_upgrade_is_idempotent(pg_server_url: str) -> None:
    async with fresh_database(pg_server_url) as url:
        await upgrade_to_head(url)
        await upgrade_to_head(url)
        assert await tables(url) == EXPECTED_TABLES


async def test_schema_enforces_its_rules(migrated_db_url: str) -> None:
    """Constraints a user would notice: one vote value set, one username, idempotent observations."""
    conn = await asyncpg.connect(asyncpg_dsn(migrated_db_url))
    try:
        uid = await conn.fetchval(
            "INSERT INTO users (username, password_hash, role) VALUES ('schema-check', 'x', 'lead') RETURNING id"
        )
        for bad in (
            "INSERT INTO users (username, password_hash, role) VALUES ('schema-check', 'x', 'lead')",
            "INSERT INTO users (username, password_hash, role) VALUES ('other', 'x', 'boss')",
        ):
            try:
                await conn.execute(bad)
            except asyncpg.IntegrityConstraintViolationError:
                pass
            else:
                raise AssertionError(f"accepted: {bad}")
        cid = await conn.fetchval("INSERT INTO clients (name, owner_id) VALUES ('Kowalski', $1) RETURNING id", uid)
        sid = await conn.fetchval("INSERT INTO sessions (client_id, user_id) VALUES ($1, $2) RETURNING id", cid, uid)
        assert await conn.fetchval("SELECT key_facts::text FROM sessions WHERE id = $1", sid) == "[]"
        insert = (
            "INSERT INTO interactions (session_id, kind, user_input, client_message_id) "
            "VALUES ($1, 'observation', 'asks about range', 'm-1')"
        )
        await conn.execute(insert, sid)
        try:
            await conn.execute(insert, sid)
        except asyncpg.UniqueViolationError:
            pass
        else:
            raise AssertionError("a repeated client_message_id was stored twice")
        iid = await conn.fetchval("SELECT id FROM interactions WHERE session_id = $1", sid)
        try:
            await conn.execute(
                "INSERT INTO feedback (interaction_id, suggestion_id, rating, user_id) VALUES ($1, 'a', 5, $2)",
                iid,
                uid,
            )
        except asyncpg.CheckViolationError:
            pass
        else:
            raise AssertionError("a rating of 5 was accepted")
    finally:
        await conn.close()
