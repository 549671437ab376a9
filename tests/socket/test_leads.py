"""Leads reach cockpits on any backend process (PostgreSQL NOTIFY), survive a crash before publishing, and
exactly one salesperson can claim each."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from pydantic import SecretStr
from sqlalchemy import select

from backend.db import Database
from backend.db.models import ClientSession, Lead, LeadStatus, OutboxMessage
from backend.settings import TelegramSettings
from tests.cockpit_client import Cockpit
from tests.fakes.telegram import FakeTelegram, text_update
from tests.socket.conftest import Backend, StartBackend
from tests.socket.test_telegram_bot import SECRET, new_chat, post, until


async def test_a_lead_from_one_process_appears_live_in_a_cockpit_on_another(
    start_backend: StartBackend, telegram: FakeTelegram
) -> None:
    bot = TelegramSettings(bot_token=SecretStr(telegram.token), webhook_secret=SecretStr(SECRET), api_base=telegram.url)
    async with start_backend(telegram=bot) as a, start_backend() as b, b.cockpit() as cockpit:
        chat = new_chat()
        started = asyncio.get_running_loop().time()
        await post(a, text_update(chat, chat, "Chcę rozmawiać z doradcą o leasingu"))  # process A's webhook
        lead = await cockpit.next("lead", wait=10)  # ...a cockpit connected to process B
        elapsed = asyncio.get_running_loop().time() - started
        assert lead["lead"]["channel"] == "telegram" and lead["lead"]["name"] == "Jan Kowalski"
        assert lead["lead"]["reason"] == "asked_for_human" and lead.get("seq") is None
        assert elapsed < 2.0
        async with b.cockpit() as later:  # a cockpit that connects afterwards finds it in its inbox
            hello = later.events[0]
            assert lead["lead"]["id"] in [item["id"] for item in hello["inbox"]]


async def test_a_lead_stored_before_a_crash_is_published_at_the_next_start(
    start_backend: StartBackend, migrated_db_url: str
) -> None:
    # As if a process died right after committing the lead and its outbox record, before publishing them.
    database = Database(migrated_db_url)
    async with database.transaction() as db:
        lead = Lead(channel="web", external_conversation_id=uuid.uuid4().hex, transcript=[], data={"name": "Ola"})
        db.add(lead)
        await db.flush()
        db.add(OutboxMessage(topic="lead", payload={"lead_id": lead.id, "channel": "web"}))
    await database.close()
    lead_id = lead.id
    async with start_backend() as restarted, restarted.cockpit() as cockpit:
        assert lead_id in [item["id"] for item in cockpit.events[0]["inbox"]]  # in the inbox at once
        async with asyncio.timeout(10):
            while True:  # and published (delivered_at set) by the restarted process
                async with restarted.db.sessions() as db:
                    row = await db.scalar(
                        select(OutboxMessage).where(OutboxMessage.payload["lead_id"].as_integer() == lead_id)
                    )
                if row is not None and row.delivered_at is not None:
                    break
                await asyncio.sleep(0.1)


async def test_two_salespeople_claim_at_once_and_exactly_one_wins(start_backend: StartBackend) -> None:
    async with start_backend() as backend:
        async with backend.db.transaction() as db:
            transcript = [{"from": "customer", "kind": "text", "text": "Pytam o zasięg zimą"}]
            data = {"name": "Ewa", "contact": "+48 600 000 001", "archetype": "technical-skeptic"}
            lead = Lead(channel="telegram", external_conversation_id=uuid.uuid4().hex, transcript=transcript, data=data)
            db.add(lead)
        async with backend.cockpit() as one, backend.cockpit() as two:
            claim = {"v": 1, "type": "claim_lead", "lead_id": lead.id}
            await asyncio.gather(one.send(claim), two.send(claim))
            await asyncio.sleep(1.0)
            await one.quiet(0.3)
            await two.quiet(0.3)
            sessions = one.of_type("session") + two.of_type("session")
            refused = [e for e in one.of_type("error") + two.of_type("error") if e["code"] == "conflict"]
            assert len(sessions) == 1 and len(refused) == 1
            claimed = [e for e in one.of_type("lead_claimed") if e["lead_id"] == lead.id]
            assert claimed  # every cockpit learns the lead is taken
        session = sessions[0]
        assert session["client"]["name"] == "Ewa" and session["client"]["archetype"] == "technical-skeptic"
        assert session["client"]["contact_info"] == "+48 600 000 001"  # into the (encrypted) client file
        assert "Kontakt: podany (w karcie klienta)" in session["key_facts"]  # the contact itself: not in prompts
        assert "Pytam o zasięg zimą" in session["summary"]
        async with backend.db.sessions() as db:
            row = await db.get(Lead, lead.id)
            seeded = await db.get(ClientSession, session["session_id"])
        assert row is not None and row.status is LeadStatus.CLAIMED and row.client_id == session["client"]["id"]
        assert seeded is not None


async def claimed_telegram_lead(backend: Backend, cockpit: Cockpit) -> tuple[int, dict[str, Any]]:
    """A Telegram customer asks for a salesperson and ``cockpit`` takes the lead: (chat id, its session)."""
    chat = new_chat()
    await post(backend, text_update(chat, chat, "Poproszę kontakt z doradcą"))
    lead = await cockpit.next("lead", wait=10)
    await cockpit.send({"v": 1, "type": "claim_lead", "lead_id": lead["lead"]["id"]})
    return chat, await cockpit.next("session")


async def test_a_salesperson_takes_a_telegram_lead_replies_and_hands_back(
    start_backend: StartBackend, telegram: FakeTelegram
) -> None:
    bot = TelegramSettings(bot_token=SecretStr(telegram.token), webhook_secret=SecretStr(SECRET), api_base=telegram.url)
    async with start_backend(telegram=bot) as backend, backend.cockpit() as cockpit:
        chat, session = await claimed_telegram_lead(backend, cockpit)
        chat_so_far = session["customer_chat"]
        assert chat_so_far["channel"] == "telegram" and chat_so_far["human_active"] is False
        assert chat_so_far["lines"][0] == {"speaker": "customer", "text": "Poproszę kontakt z doradcą"}
        assert chat_so_far["lines"][1]["speaker"] == "bot"
        # The customer's words already went through the co-pilot: archetype, indicators, knowledge, moves.
        (first,) = session["history"]
        assert first["text"] == "Klient w czacie z botem: Poproszę kontakt z doradcą"
        fast = session["latest"]["fast_result"]
        assert fast["archetypes"] and len(fast["indicators"]) == 5
        moves = await cockpit.next("moves", interaction_id=first["interaction_id"])
        assert len(moves["moves"]) == 4
        assert "Powód przekazania: prosi o rozmowę z doradcą" in session["key_facts"]
        await cockpit.send({"v": 1, "type": "customer_reply", "text": "Dzień dobry, tu Anna z salonu."})
        await cockpit.next("customer_channel", action="replied", speaker="salesperson")
        await until(
            lambda: "Dzień dobry, tu Anna z salonu." in [p["text"] for p in telegram.sent() if p["chat_id"] == chat]
        )

        before = len(telegram.sent())
        await post(backend, text_update(chat + 1_000_000_000, chat, "Super, a jaki jest zasięg?"))
        said = await cockpit.next("customer_channel", action="said")  # the salesperson reads the answer live
        assert said["speaker"] == "customer" and said["text"] == "Super, a jaki jest zasięg?"
        await asyncio.sleep(0.3)
        assert len(telegram.sent()) == before  # a human has taken over: the bot is silent
        async with backend.cockpit() as reloaded:  # a reload shows the chat as it is now
            await reloaded.send({"v": 1, "type": "open_session", "session_id": session["session_id"]})
            again = (await reloaded.next("session"))["customer_chat"]
            assert again["human_active"] is True and again["lines"][-1]["text"] == "Super, a jaki jest zasięg?"

        await cockpit.send({"v": 1, "type": "hand_back"})
        await cockpit.next("customer_channel", action="handed_back")
        await post(backend, text_update(chat + 2_000_000_000, chat, "A ładowanie w domu?"))
        await until(lambda: len(telegram.sent()) > before)  # the bot answers again


async def test_a_long_polish_chat_line_reaches_the_salesperson(
    start_backend: StartBackend, telegram: FakeTelegram
) -> None:
    bot = TelegramSettings(bot_token=SecretStr(telegram.token), webhook_secret=SecretStr(SECRET), api_base=telegram.url)
    async with start_backend(telegram=bot) as backend, backend.cockpit() as cockpit:
        chat, _ = await claimed_telegram_lead(backend, cockpit)
        await cockpit.send({"v": 1, "type": "customer_reply", "text": "Dzień dobry!"})
        await cockpit.next("customer_channel", action="replied")
        long_line = "Zażółć gęślą jaźń. " * 210  # 3,990 characters, ~5,500 bytes of UTF-8, ~12,000 as JSON escapes
        await post(backend, text_update(chat + 1_000_000_000, chat, long_line))
        said = await cockpit.next("customer_channel", action="said", wait=10)
    assert said["speaker"] == "customer" and said["text"] == long_line.strip()
