"""Contact data at rest: none of it is stored in plaintext in any table, whichever way it came in; and a key
rotation re-encrypts it all so the old key can go."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr
from sqlalchemy import text

from backend.crypto import DataCipher, new_key
from backend.db import Database
from backend.db.migrate import upgrade_to_head
from backend.db.models import Client, Role, User
from backend.domain.clients import ClientService
from backend.domain.clients.schemas import ClientIn
from backend.settings import TelegramSettings
from tests.fakes.telegram import FakeTelegram, text_update
from tests.helpers import fresh_database
from tests.socket.conftest import StartBackend
from tests.socket.test_telegram_bot import SECRET, new_chat, post, until
from tests.socket.test_web_widget import widget

TABLES = ("clients", "leads", "bot_conversations", "bot_updates", "sessions", "interactions", "outbox", "audit_log")


async def everything_stored(db: Database) -> str:
    async with db.sessions() as session:
        dumps = [
            (await session.execute(text(f"SELECT coalesce(string_agg(t::text, ' '), '') FROM {t} t"))).scalar()
            for t in TABLES
        ]
    return " ".join(str(d) for d in dumps)


async def test_no_contact_data_is_stored_in_plaintext(start_backend: StartBackend, telegram: FakeTelegram) -> None:
    bot = TelegramSettings(bot_token=SecretStr(telegram.token), webhook_secret=SecretStr(SECRET), api_base=telegram.url)
    planted = {
        "+48 501 234 567": "client file",
        "ewa.nowak@example.com": "client file",
        "+48 602 111 222": "web widget",
        "+48 603 333 444": "telegram",
    }
    async with start_backend(telegram=bot) as backend, backend.cockpit() as cockpit:
        async with backend.http() as http:
            for contact in ("+48 501 234 567", "ewa.nowak@example.com"):
                assert (await http.post("/clients/", json={"name": "Ewa", "contact_info": contact})).status_code == 201
            found = (await http.get("/clients/", params={"q": "+48501234567"})).json()
            assert [c["contact_info"] for c in found] == ["+48 501 234 567"]
        async with widget(backend) as chat:
            await chat.next("reply")
            await chat.send({"type": "contact", "id": "c1", "name": "Ola", "phone": "+48 602 111 222", "consent": True})
            await chat.next("reply")
        chat_id = new_chat()
        shared = text_update(chat_id, chat_id, "x")
        del shared["message"]["text"]
        shared["message"]["contact"] = {"phone_number": "+48 603 333 444", "first_name": "Jan", "user_id": chat_id}
        await post(backend, shared)
        await until(lambda: any(p["chat_id"] == chat_id for p in telegram.sent()))
        for _ in range(2):  # both leads reach the inbox; taking one makes a client file from it
            lead = await cockpit.next("lead")
        await cockpit.send({"v": 1, "type": "claim_lead", "lead_id": lead["lead"]["id"]})
        session = await cockpit.next("session")
        assert session["client"]["contact_info"] in ("+48 602 111 222", "+48 603 333 444")
        stored = await everything_stored(backend.db)
    for contact, came_from in planted.items():
        digits = contact.replace(" ", "")
        assert contact not in stored and digits not in stored, f"{came_from}: {contact} stored in plaintext"


@pytest.fixture
async def own_db(pg_server_url: str) -> AsyncIterator[tuple[str, Database]]:
    async with fresh_database(pg_server_url) as url:  # rotation touches every row: not the shared database
        await upgrade_to_head(url)
        db = Database(url)
        yield url, db
        await db.close()


async def test_rotating_the_data_key_re_encrypts_everything(own_db: tuple[str, Database]) -> None:
    url, db = own_db
    k1, k2, secret = new_key(), new_key(), "auth-secret-" + "x" * 40
    old = ClientService(db, DataCipher([("k1", k1)], secret))
    async with db.transaction() as session:
        owner = User(username="owner", password_hash="x", role=Role.SALESPERSON, active=True, language="pl")
        session.add(owner)
        await session.flush()
        session.add(Client(name="Legacy", contact_info="+48 700 000 001", owner_id=owner.id, archived=False))
    created = await old.create(ClientIn(name="Anna", contact_info="anna@example.com"), owner.id)

    env = {
        **os.environ,
        "SUFLER_DATABASE_URL": url,
        "SUFLER_DATA_KEYS": f"k2:{k2},k1:{k1}",
        "SUFLER_AUTH_SECRET_KEY": secret,
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "backend.cli",
        "rotate-data-key",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    assert "2 client files" in out.decode()

    only_new = ClientService(db, DataCipher([("k2", k2)], secret))  # the old key can go now
    async with db.sessions() as session:
        rows = (await session.execute(text("SELECT contact_info FROM clients ORDER BY id"))).scalars().all()
    assert all(r.startswith("enc:k2:") for r in rows)
    admin = User(id=0, username="a", password_hash="x", role=Role.ADMIN, active=True, language="pl")
    assert (await only_new.get(created.id, admin)).contact_info == "anna@example.com"
    assert [c.name for c in await only_new.search(admin, q="+48 700-000-001")] == ["Legacy"]  # now findable too
    assert json.dumps(rows).count("+48") == 0
