"""`sufler backup` and `sufler restore` round trip: data written, backed up, restored into a fresh database, equal."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from backend.asgi import create_app
from backend.backup import ToolNotFound, find_tool
from backend.crypto import new_key
from backend.data_keys import MissingDataKeys
from backend.db import Database, asyncpg_dsn
from backend.db.migrate import upgrade_to_head
from backend.db.models import Role
from backend.domain.accounts import AccountService
from backend.domain.copilot.build import BuiltEngine
from backend.domain.protocol import cockpit as p
from backend.domain.sessions.store import SessionStore
from backend.runtime import check_data_keys
from backend.settings import DataSettings, Settings
from tests.conftest import TEST_DATA_KEYS
from tests.helpers import fresh_database, serving
from tests.integration.test_cli import env_for, run

OTHER_KEYS = "k1:" + new_key()  # the same key id, another key: what a fresh machine generates for itself


async def write_data(url: str, settings: Settings, built: BuiltEngine) -> str:
    """A little of everything a working team leaves behind, written by the real app (client files over HTTP)."""
    db = Database(url)
    try:
        accounts = AccountService.from_settings(db, settings)
        anna = await accounts.create_user("anna.nowak", "a long password", Role.SALESPERSON)
        await accounts.create_user("szef", "another long password", Role.LEAD)
        token = (await accounts.login("anna.nowak", "a long password")).token
        store = SessionStore(db)
        app = create_app(settings, database_url=url, copilot=built.copilot)
        async with serving(app) as base, httpx.AsyncClient(base_url=base, timeout=10) as http:
            http.headers["Authorization"] = f"Bearer {token}"
            for name, contact in [("Zażółć Gęślą", "+48 600 100 200"), ("Jan Kowalski", None), ("ACME sp. z o.o.", "")]:
                created = await http.post("/clients/", json={"name": name, "contact_info": contact})
                assert created.status_code == 201, created.text
                client_id = created.json()["id"]
                session_id = await store.start(client_id, anna.id)
                recorded = await store.record(session_id, "observation", f"{name} pyta o cenę 😀", f"cm-{client_id}")
                iid = recorded.interaction_id
                asked = [
                    p.Move(id=f"{iid}:0:{kind}", kind=kind, text="Zapytaj o budżet", why="Cena", source="llm")
                    for kind in ("question", "argument", "objection_response", "action")
                ]
                moves = p.MovesResult(interaction_id=iid, batch=0, mode="llm", model="m", reason=None, moves=asked)
                await store.save_response(iid, p.StoredResponse(moves=moves))
                await store.save_memory(session_id, "Krótko: cena.", ["budżet 10 tys."])
                await store.feedback(session_id, f"{iid}:0:question", 1, anna.id)
                await store.end(session_id)
    finally:
        await db.close()
    return token


async def snapshot(url: str) -> dict[str, Any]:
    """Every table's rows, every sequence's position and every index, in a comparable form."""
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        tables = [r["tablename"] for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname='public'")]
        rows = {t: sorted(r[0] for r in await conn.fetch(f'SELECT t::text FROM public."{t}" t')) for t in tables}
        sequences = {
            r["sequencename"]: (r["last_value"], r["is_called"])
            for r in await conn.fetch(
                "SELECT sequencename, last_value, last_value IS NOT NULL AS is_called FROM pg_sequences "
                "WHERE schemaname = 'public'"
            )
        }
        indexes = sorted(r[0] for r in await conn.fetch("SELECT indexdef FROM pg_indexes WHERE schemaname='public'"))
        return {"rows": rows, "sequences": sequences, "indexes": indexes}
    finally:
        await conn.close()


async def test_backup_restores_into_a_fresh_database_identically(
    pg_server_url: str, settings: Settings, built: BuiltEngine, tmp_path: Path
) -> None:
    dump = tmp_path / "backups" / "sufler.dump"
    async with fresh_database(pg_server_url) as source:
        await upgrade_to_head(source)
        token = await write_data(source, settings, built)
        before = await snapshot(source)
        code, out, err = await run(["backup", str(dump)], env_for(SUFLER_DATABASE_URL=source))
        assert code == 0, err
        assert dump.stat().st_size > 0 and "Backed up" in out
        assert not list(dump.parent.glob("*.partial"))
        assert stat.S_IMODE(dump.stat().st_mode) == 0o600  # every client file is in it: its owner only

    async with fresh_database(pg_server_url) as target:
        # Without the keys its contacts were encrypted under, the restore says what is missing (and exits 1).
        code, _, err = await run(
            ["restore", str(dump)], env_for(SUFLER_DATABASE_URL=target, SUFLER_DATA_KEYS=OTHER_KEYS)
        )
        assert code == 1 and "does not authenticate" in err and "SUFLER_DATA_KEYS" in err, err
        code, _, err = await run(
            ["restore", "--force", str(dump)], env_for(SUFLER_DATABASE_URL=target, SUFLER_DATA_KEYS="k9:" + new_key())
        )
        assert code == 1 and "data key 'k1', which is not configured" in err, err
        env = env_for(SUFLER_DATABASE_URL=target, SUFLER_DATA_KEYS=TEST_DATA_KEYS)
        code, _, err = await run(["restore", "--force", str(dump)], env)
        assert code == 0, err
        after = await snapshot(target)
        assert after == before
        assert all(before["rows"][t] for t in ("users", "auth_tokens", "clients", "sessions", "interactions"))
        assert before["rows"]["feedback"] and before["sequences"]

        # A second restore would mix with (or overwrite) live data: refused unless asked for.
        code, _, err = await run(["restore", str(dump)], env)
        assert code == 1 and "not empty" in err and "--force" in err
        db = Database(target)
        try:
            # The sequences were restored too: new rows do not collide with restored ones.
            await AccountService.from_settings(db, settings).create_user("nowy", "a long password", Role.SALESPERSON)
        finally:
            await db.close()
        code, _, err = await run(["restore", "--force", str(dump)], env)
        assert code == 0, err
        assert await snapshot(target) == before
        # The backend refuses to serve with keys that cannot read what is stored, before any client list fails.
        wrong = settings.model_copy(update={"data": DataSettings(keys=OTHER_KEYS)})
        with pytest.raises(MissingDataKeys, match="SUFLER_DATA_KEYS"):
            await asyncio.to_thread(check_data_keys, wrong, target)
        await asyncio.to_thread(check_data_keys, settings, target)  # the right keys: nothing to say

        # The app on the restored database: the login still holds, the (encrypted) contact data reads back.
        app = create_app(settings, database_url=target, copilot=built.copilot)
        async with serving(app) as base, httpx.AsyncClient(base_url=base, timeout=10) as http:
            files = await http.get("/clients/", headers={"Authorization": f"Bearer {token}"})
        assert files.status_code == 200
        assert {c["name"]: c["contact_info"] for c in files.json()}["Zażółć Gęślą"] == "+48 600 100 200"


async def test_the_embedded_default_backs_up_and_restores_with_its_own_tools(tmp_path: Path) -> None:
    """No SUFLER_DATABASE_URL: the commands start the embedded server of the data dir, as `sufler up` does."""
    dump = tmp_path / "embedded.dump"
    code, _, err = await run(["migrate"], env_for(SUFLER_DATA_DIR=str(tmp_path / "a")))
    assert code == 0, err
    code, out, err = await run(["backup", str(dump)], env_for(SUFLER_DATA_DIR=str(tmp_path / "a")))
    assert code == 0, err
    assert "pg_dump 18" in out  # the embedded server is PostgreSQL 18, dumped with its own pg_dump
    code, _, err = await run(["restore", str(dump)], env_for(SUFLER_DATA_DIR=str(tmp_path / "b")))
    assert code == 0, err
    code, _, err = await run(["restore", str(dump)], env_for(SUFLER_DATA_DIR=str(tmp_path / "b")))
    assert code == 1 and "not empty" in err


async def test_restore_of_a_missing_file_says_so(tmp_path: Path) -> None:
    env = env_for(SUFLER_DATABASE_URL="postgresql+asyncpg://nobody@127.0.0.1:1/none")  # never reached
    code, _, err = await run(["restore", str(tmp_path / "nope.dump")], env)
    assert code == 1 and "no backup file" in err


def test_a_server_newer_than_every_installed_pg_dump_is_a_clear_error() -> None:
    with pytest.raises(ToolNotFound, match=r"pg_dump of PostgreSQL 99 or newer is needed.*found: .*pg_dump \(\d+\)"):
        find_tool("pg_dump", 99)
    assert find_tool("pg_restore", 15).major >= 15
