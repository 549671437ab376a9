"""Bots answer the same FAQ question again from a cache instead of another LLM call: "jaki jest zasięg zimą?"
asked by fifty customers in ten minutes is one model call.

What is cached is the LLM's answer that passed the grounding check, keyed by the question as a customer types it
(case, diacritics, punctuation and spacing folded), its language, the knowledge modules retrieved for it and the
pack's fingerprint — so a changed pack (a new price in a knowledge module: it applies at the restart) never gets
an answer written from the old one; entries also expire after a short window. In-process by default; with
``SUFLER_REDIS_URL`` every backend process shares one cache in Redis (which being away is only a miss).
"""

from __future__ import annotations

import hashlib
import re
import time
from collections import OrderedDict
from typing import Protocol

import structlog

from backend import metrics
from backend.domain.clients.services import fold
from backend.domain.pack.pack import DomainPack
from backend.settings import Settings

__all__ = ("AnswerCache", "MemoryAnswerCache", "RedisAnswerCache", "answer_cache", "answer_key", "pack_fingerprint")

log = structlog.get_logger(__name__)

_NOT_WORDS = re.compile(r"[^\w]+")


def pack_fingerprint(pack: DomainPack) -> str:
    """A digest of everything a bot answer is written from: the knowledge modules, as loaded."""
    digest = hashlib.sha256()
    for slug in sorted(pack.knowledge):
        digest.update(pack.knowledge[slug].model_dump_json().encode())
    return digest.hexdigest()[:16]


def answer_key(fingerprint: str, language: str, question: str, slugs: list[str]) -> str:
    words = " ".join(_NOT_WORDS.sub(" ", fold(question)).split())
    raw = "\n".join([fingerprint, language, words, *slugs])
    return "sufler:bot-answer:" + hashlib.sha256(raw.encode()).hexdigest()


class AnswerCache(Protocol):
    async def get(self, key: str) -> str | None: ...

    async def put(self, key: str, answer: str) -> None: ...

    async def close(self) -> None: ...


class MemoryAnswerCache:
    """This process's answers, the oldest dropped past ``max_entries``."""

    def __init__(self, seconds: float, max_entries: int = 2000) -> None:
        self.seconds = seconds
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[float, str]] = OrderedDict()

    async def get(self, key: str) -> str | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] < time.monotonic():
            self._entries.pop(key, None)
            metrics.BOT_ANSWER_CACHE.labels("miss").inc()
            return None
        metrics.BOT_ANSWER_CACHE.labels("hit").inc()
        return entry[1]

    async def put(self, key: str, answer: str) -> None:
        self._entries[key] = (time.monotonic() + self.seconds, answer)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    async def close(self) -> None:
        self._entries.clear()


class RedisAnswerCache:
    """Shared by every backend process; Redis expires the entries."""

    def __init__(self, url: str, seconds: float) -> None:
        from redis.asyncio import Redis  # only when configured

        self.seconds = seconds
        self._redis = Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)

    async def get(self, key: str) -> str | None:
        try:
            found = await self._redis.get(key)
        except Exception as exc:  # Redis away: answer as if it were not cached
            log.warning("bot_answer_cache_unavailable", reason=str(exc))
            metrics.BOT_ANSWER_CACHE.labels("unavailable").inc()
            return None
        metrics.BOT_ANSWER_CACHE.labels("miss" if found is None else "hit").inc()
        return None if found is None else bytes(found).decode()

    async def put(self, key: str, answer: str) -> None:
        try:
            await self._redis.set(key, answer.encode(), ex=max(1, round(self.seconds)))
        except Exception as exc:
            log.warning("bot_answer_cache_unavailable", reason=str(exc))

    async def close(self) -> None:
        await self._redis.aclose()


def answer_cache(settings: Settings) -> AnswerCache | None:
    """The cache the settings ask for: none, this process's, or Redis."""
    seconds = settings.bots.answer_cache_seconds
    if seconds <= 0:
        return None
    if settings.redis_url is not None:
        return RedisAnswerCache(settings.redis_url, seconds)
    return MemoryAnswerCache(seconds)
