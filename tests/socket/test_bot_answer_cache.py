"""The bots' FAQ cache: the same first question from many customers is one LLM call; a later question in a chat
(asked with the chat so far) is not reused; Redis shares answers between backend processes, and a changed pack
never gets an answer written from the old one."""

from __future__ import annotations

import asyncio
import random
import socket
import string
from collections.abc import Callable
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from backend.domain.bots.answer_cache import answer_key, pack_fingerprint
from backend.domain.pack.pack import load_pack
from backend.settings import BotSettings, TelegramSettings
from tests.fakes.model_server import FakeModelServer
from tests.fakes.telegram import FakeTelegram, text_update
from tests.socket.conftest import Backend, StartBackend
from tests.socket.test_telegram_bot import SECRET, new_chat, post, replies_to

QUESTION = "Jaki jest zasięg zimą?"
_updates = count(6_000_000_000)  # update ids of this file's own (chat ids come from test_telegram_bot's counter)
ROOT = Path(__file__).resolve().parents[2]


def bot_answers(fake: FakeModelServer) -> list[dict[str, Any]]:
    """The LLM calls that wrote a bot's answer to a customer."""
    return [r for r in fake.requests if "chatting with a customer" in str(r["messages"][0]["content"])]


async def until(condition: Callable[[], bool], within: float = 10.0) -> None:
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110 - polling what the fakes recorded
            await asyncio.sleep(0.02)


def bot(telegram: FakeTelegram) -> TelegramSettings:
    return TelegramSettings(
        bot_token=SecretStr(telegram.token), webhook_secret=SecretStr(SECRET), api_base=telegram.url
    )


async def ask(backend: Backend, telegram: FakeTelegram, text: str, chat: int | None = None) -> tuple[int, str]:
    chat = chat or new_chat()
    before = len(replies_to(telegram, chat))
    await post(backend, text_update(next(_updates), chat, text))
    await until(lambda: len(replies_to(telegram, chat)) > before)
    return chat, replies_to(telegram, chat)[before]


async def test_the_same_first_question_is_one_llm_call(start_backend: StartBackend, telegram: FakeTelegram) -> None:
    async with start_backend(telegram=bot(telegram)) as backend:
        _, first = await ask(backend, telegram, QUESTION)
        assert first.startswith("Advice about") and len(bot_answers(backend.fake)) == 1
        answers = [
            (await ask(backend, telegram, variant))[1]
            for variant in ("jaki jest ZASIEG zima", "Jaki jest zasięg zimą ?!")
        ]
        assert answers == [first, first]  # case, diacritics and punctuation folded: the same question
        assert len(bot_answers(backend.fake)) == 1
        chat, _ = await ask(backend, telegram, "Ile trwa ładowanie w domu?")
        assert len(bot_answers(backend.fake)) == 2  # another question: the model
        await until(lambda: len(replies_to(telegram, chat)) == 2)  # the answer and its qualifying question
        await ask(backend, telegram, QUESTION, chat)  # asked later in a chat: written with the chat so far
        await until(lambda: len(bot_answers(backend.fake)) == 3)


async def test_without_the_cache_every_question_asks_the_model(
    start_backend: StartBackend, telegram: FakeTelegram
) -> None:
    async with start_backend(telegram=bot(telegram), extra={"bots": BotSettings(answer_cache_seconds=0)}) as backend:
        for _ in range(2):
            await ask(backend, telegram, QUESTION)
        assert len(bot_answers(backend.fake)) == 2


def redis_reachable() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        return False
    return True


@pytest.mark.skipif(not redis_reachable(), reason="needs the Redis at 127.0.0.1:6379 (there on this machine and CI's)")
async def test_redis_shares_answers_and_a_changed_pack_asks_again(
    start_backend: StartBackend, telegram: FakeTelegram
) -> None:
    redis = {"redis_url": "redis://127.0.0.1:6379/15"}
    marker = "".join(random.choice(string.ascii_lowercase) for _ in range(12))  # digits would read as a claim
    question = f"{QUESTION} ({marker})"  # this run's own key in the shared Redis
    async with start_backend(telegram=bot(telegram), extra=redis) as one:
        _, first = await ask(one, telegram, question)
    async with start_backend(telegram=bot(telegram), extra=redis) as other:  # another process, the same Redis
        _, again = await ask(other, telegram, question)
        assert again == first and bot_answers(other.fake) == []

    # The pack changes (a knowledge module's fact is edited; it applies at the restart): other keys, so the
    # answers written from the old pack are never reused.
    pack = load_pack(ROOT)
    slug, module = next(iter(pack.knowledge.items()))
    fact = module.facts[0]
    edited = fact.model_copy(update={"text": fact.text.model_copy(update={"pl": fact.text.pl + " (nowa cena)"})})
    changed = pack.model_copy(
        update={"knowledge": {**pack.knowledge, slug: module.model_copy(update={"facts": [edited, *module.facts[1:]]})}}
    )
    old, new = pack_fingerprint(pack), pack_fingerprint(changed)
    assert old != new and answer_key(old, "pl", question, [slug]) != answer_key(new, "pl", question, [slug])
