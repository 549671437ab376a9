"""A customer's message, once acknowledged, is answered — across a crash, a refusing Bot API and a rate limit —
and a reply that can never be delivered is shown to the salesperson instead of vanishing."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr
from sqlalchemy import func, insert, select

from backend.db import Database
from backend.db.migrate import upgrade_to_head
from backend.db.models import BotUpdate, OutboxMessage
from backend.domain.bots.dialog import say
from backend.domain.bots.service import REPLY
from backend.settings import TelegramSettings
from tests.fakes.telegram import FakeTelegram, text_update
from tests.helpers import fresh_database
from tests.socket.conftest import Backend, StartBackend
from tests.socket.test_leads import claimed_telegram_lead
from tests.socket.test_telegram_bot import SECRET, bot_backend, new_chat, post, replies_to, until

__all__ = ("bot_backend",)  # the fixture, shared with the Telegram tests


async def test_a_reply_the_bot_api_refuses_is_retried_until_it_is_delivered(
    bot_backend: Backend, telegram: FakeTelegram
) -> None:
    telegram.refuse(500, times=2)
    chat = new_chat()
    await post(bot_backend, text_update(chat, chat, "/start"))
    await until(lambda: len(replies_to(telegram, chat)) == 1, within=15)
    assert len(telegram.refused) == 2  # tried three times, delivered once
    mine = select(OutboxMessage).where(
        OutboxMessage.topic == REPLY, OutboxMessage.payload["conversation"].astext == str(chat)
    )
    for _ in range(100):  # delivered_at is committed just after the send
        async with bot_backend.db.sessions() as db:
            row = await db.scalar(mine)
        if row is not None and row.delivered_at is not None:
            break
        await asyncio.sleep(0.05)
    assert row is not None and row.delivered_at is not None and row.attempts == 2


async def test_telegrams_retry_after_is_honoured(bot_backend: Backend, telegram: FakeTelegram) -> None:
    telegram.refuse(429, retry_after=2)
    chat = new_chat()
    await post(bot_backend, text_update(chat, chat, "/start"))
    await until(lambda: len(replies_to(telegram, chat)) == 1, within=15)
    refused_at = telegram.refused[0][0]
    assert time.monotonic() - refused_at >= 2.0


async def test_replies_of_one_chat_keep_their_order_while_one_waits_for_a_retry(
    bot_backend: Backend, telegram: FakeTelegram
) -> None:
    chat = new_chat()
    telegram.refuse(500)
    await post(bot_backend, text_update(chat, chat, "/start"))
    await post(bot_backend, text_update(chat + 1_000_000_000, chat, "/help"))
    await until(lambda: len(replies_to(telegram, chat)) == 2, within=15)
    assert replies_to(telegram, chat) == [say("greeting", "pl"), say("help", "pl")]


def _bot(telegram: FakeTelegram) -> TelegramSettings:
    return TelegramSettings(
        bot_token=SecretStr(telegram.token), webhook_secret=SecretStr(SECRET), api_base=telegram.url
    )


@pytest.fixture
async def own_db(pg_server_url: str) -> AsyncIterator[str]:
    """A database of its own: what other tests left unhandled must not be this restart's backlog."""
    async with fresh_database(pg_server_url) as url:
        await upgrade_to_head(url)
        yield url


async def test_what_a_crash_leaves_is_answered_after_the_restart(
    start_backend: StartBackend, telegram: FakeTelegram, own_db: str
) -> None:
    """The database is all a `kill -9` leaves: acknowledged updates never handled, and a reply committed but never
    sent. Both are finished by the next start — each chat answered once."""
    chats = [new_chat() for _ in range(10)]
    settings = _bot(telegram)
    reply = {"channel": "telegram", "conversation": str(chats[9]), "sender": "bot", "text": "Dzień dobry!"}
    crashed = Database(own_db)  # what the process had committed when it was killed:
    async with crashed.transaction() as db:
        for chat in chats[:9]:
            update = text_update(chat, chat, "/start")
            await db.execute(insert(BotUpdate).values(channel="telegram", event_id=str(chat), payload=update))
        await db.execute(
            insert(OutboxMessage).values(topic=REPLY, payload={**reply, "buttons": [], "ask_contact": False})
        )
        handled = text_update(chats[9], chats[9], "/start")
        await db.execute(
            insert(BotUpdate).values(
                channel="telegram", event_id=str(chats[9]), payload=handled, processed_at=func.now()
            )
        )
    await crashed.close()
    before = len(telegram.sent())
    async with start_backend(telegram=settings, database_url=own_db):
        await until(lambda: all(len(replies_to(telegram, chat)) == 1 for chat in chats), within=20)
        await asyncio.sleep(0.5)
    assert all(len(replies_to(telegram, chat)) == 1 for chat in chats)  # once each, not twice
    assert len(telegram.sent()) - before == 10


async def test_a_reply_that_can_never_be_delivered_is_shown_to_the_salesperson(
    start_backend: StartBackend, telegram: FakeTelegram
) -> None:
    settings = _bot(telegram)
    async with start_backend(telegram=settings) as backend, backend.cockpit() as cockpit:
        await claimed_telegram_lead(backend, cockpit)
        telegram.refuse(403)  # the customer blocked the bot: no retry can help
        await cockpit.send({"v": 1, "type": "customer_reply", "text": "Dzień dobry, tu Anna."})
        undelivered = await cockpit.next("customer_channel", action="undelivered", wait=10)
        assert undelivered["text"] == "Dzień dobry, tu Anna." and undelivered["speaker"] == "salesperson"
