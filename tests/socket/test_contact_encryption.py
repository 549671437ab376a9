"""Contact data at rest: none of it is stored in plaintext in any table, whichever way it came in; and a key
rotation re-encrypts it all so the old key can go."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr
from sqlalchemy import select, text

from backend.crypto import DataCipher, new_key
from backend.db import Database, sealed
from backend.db.migrate import upgrade_to_head
from backend.db.models import Client, ClientSession, Interaction, Role, User
from backend.domain.clients import ClientService
from backend.domain.clients.schemas import ClientIn
from backend.settings import TelegramSettings
from tests.fakes.telegram import FakeTelegram, text_update
from tests.helpers import fresh_database
from tests.integration.test_cli import run
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
        # Typed as free text: into a widget chat, a Telegram chat and an observation (and its key facts).
        "605 444 555": "widget text",
        "ola.k@example.org": "widget text",
        "606 777 888": "telegram text",
        "607 999 000": "observation",
        "jan.k@example.net": "observation",
    }
    async with start_backend(telegram=bot) as backend, backend.cockpit() as cockpit:
        async with backend.http() as http:
            for contact in ("+48 501 234 567", "ewa.nowak@example.com"):
                assert (await http.post("/clients/", json={"name": "Ewa", "contact_info": contact})).status_code == 201
            found = (await http.get("/clients/", params={"q": "+48501234567"})).json()
            assert [c["contact_info"] for c in found] == ["+48 501 234 567"]
        async with widget(backend) as chat:
            await chat.next("reply")
            await chat.say("Mój numer to 605 444 555, mail ola.k@example.org")
            await chat.next("reply")
            await chat.send({"type": "contact", "id": "c1", "name": "Ola", "phone": "+48 602 111 222", "consent": True})
            await chat.next("reply")
        chat_id = new_chat()
        shared = text_update(chat_id, chat_id, "x")
        del shared["message"]["text"]
        shared["message"]["contact"] = {"phone_number": "+48 603 333 444", "first_name": "Jan", "user_id": chat_id}
        await post(backend, text_update(new_chat(), chat_id, "Zadzwońcie: 606 777 888"))  # its own update id
        await post(backend, shared)
        await until(lambda: sum(p["chat_id"] == chat_id for p in telegram.sent()) >= 2)
        for _ in range(2):  # both leads reach the inbox; taking one makes a client file from it
            lead = await cockpit.next("lead")
        await cockpit.send({"v": 1, "type": "claim_lead", "lead_id": lead["lead"]["id"]})
        session = await cockpit.next("session")
        assert session["client"]["contact_info"] in ("+48 602 111 222", "+48 603 333 444")
        note = "Klient prosi o telefon 607 999 000 albo mail jan.k@example.net"
        await cockpit.observe(note)
        await cockpit.next("moves")
        await cockpit.send({"v": 1, "type": "open_session", "session_id": session["session_id"]})
        again = await cockpit.next("session")
        stored = await everything_stored(backend.db)
    # Read back as typed: sealed at rest only.
    assert again["history"][-1]["text"] == note
    assert any("607 999 000" in fact for fact in again["key_facts"]), again["key_facts"]
    assert any("605 444 555" in line["text"] for line in session["customer_chat"]["lines"]) or any(
        "606 777 888" in line["text"] for line in session["customer_chat"]["lines"]
    )
    for contact, came_from in planted.items():
        digits = contact.replace(" ", "")
        at = max(stored.find(contact), stored.find(digits))
        assert at < 0, f"{came_from}: {contact} stored in plaintext: …{stored[max(0, at - 300) : at + 100]}…"


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
    # Contacts typed into observations: one from before sealing (plaintext), one sealed under k1.
    was = sealed._cipher
    sealed.use_cipher(DataCipher([("k1", k1)], secret))
    try:
        async with db.transaction() as session:
            visit = ClientSession(client_id=created.id, user_id=owner.id)
            session.add(visit)
            await session.flush()
            session.add(Interaction(session_id=visit.id, kind="observation", user_input="Zadzwoń: 600 700 800"))
        async with db.transaction() as session:
            await session.execute(
                text("INSERT INTO interactions (session_id, kind, user_input) VALUES (:s, 'observation', :t)"),
                {"s": visit.id, "t": "Stary wpis, mail ewa@example.com"},
            )

        env = {
            **os.environ,
            "SUFLER_DATABASE_URL": url,
            "SUFLER_DATA_KEYS": f"k2:{k2},k1:{k1}",
            "SUFLER_AUTH_SECRET_KEY": secret,
        }
        code, out, err = await run(["rotate-data-key"], env)
        assert code == 0, err
        assert "2 client files" in out

        only_new = ClientService(db, DataCipher([("k2", k2)], secret))  # the old key can go now
        async with db.sessions() as session:
            rows = (await session.execute(text("SELECT contact_info FROM clients ORDER BY id"))).scalars().all()
        assert all(r.startswith("enc:k2:") for r in rows)
        admin = User(id=0, username="a", password_hash="x", role=Role.ADMIN, active=True, language="pl")
        assert (await only_new.get(created.id, admin)).contact_info == "anna@example.com"
        assert [c.name for c in await only_new.search(admin, q="+48 700-000-001")] == ["Legacy"]  # now findable too
        assert json.dumps(rows).count("+48") == 0
        async with db.sessions() as session:
            raw = (await session.execute(text("SELECT user_input FROM interactions ORDER BY id"))).scalars().all()
        assert all("\u27e6enc:k2:" in r for r in raw) and not any("600 700 800" in r or "ewa@" in r for r in raw), raw
        sealed.use_cipher(DataCipher([("k2", k2)], secret))  # the old key gone: still read as typed
        async with db.sessions() as session:
            typed = (await session.scalars(select(Interaction.user_input).order_by(Interaction.id))).all()
        assert typed == ["Zadzwoń: 600 700 800", "Stary wpis, mail ewa@example.com"]
        assert "2 texts with contacts" in out
    finally:
        sealed.use_cipher(was)  # type: ignore[arg-type]  # the other tests' apps use the test keys
