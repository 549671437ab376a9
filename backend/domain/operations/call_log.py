"""The LLM call log: every call the chain finished (kind, model, outcome, times, tokens — never text) written to
``llm_calls`` in batches, for the review's Operations tab.

A call is kept in memory first and written by a background task every ``FLUSH_SECONDS`` (or at close): an LLM call
must never wait on the database. While the database is away the calls wait, at most ``MAX_WAITING`` of them (the
oldest are dropped first, counted in the log): these are statistics, not what a salesperson typed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from datetime import UTC, datetime

import structlog
from sqlalchemy import insert

from backend.adapters.llm import CallRecord
from backend.db import Database
from backend.db.models import LLMCall

__all__ = ("CallLog",)

log = structlog.get_logger(__name__)

FLUSH_SECONDS = 2.0
MAX_WAITING = 10_000


class CallLog:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._waiting: deque[CallRecord] = deque(maxlen=MAX_WAITING)
        self._dropped = 0
        self._task: asyncio.Task[None] | None = None

    def add(self, record: CallRecord) -> None:
        if len(self._waiting) == MAX_WAITING:
            self._dropped += 1
        self._waiting.append(record)

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(Exception):
            await self.flush()

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            try:
                await self.flush()
            except Exception:  # the database may be restarting; the calls wait for the next round
                log.warning("llm_call_log_failed", waiting=len(self._waiting), exc_info=True)

    async def flush(self) -> int:
        """Write what is waiting; on failure it stays waiting."""
        batch, self._waiting = self._waiting, deque(maxlen=MAX_WAITING)
        if not batch:
            return 0
        rows = [
            {
                "at": datetime.fromtimestamp(r.at, UTC),
                "kind": r.kind,
                "model": r.model[:200],
                "outcome": r.outcome,
                "seconds": r.seconds,
                "first_token_seconds": r.first_token_seconds,
                "prompt_tokens": r.prompt_tokens,
                "completion_tokens": r.completion_tokens,
            }
            for r in batch
        ]
        try:
            async with self.db.transaction() as session:
                await session.execute(insert(LLMCall), rows)
        except BaseException:
            self._waiting = deque([*batch, *self._waiting], maxlen=MAX_WAITING)  # the oldest go first if full
            raise
        if self._dropped:
            log.warning("llm_call_log_dropped", calls=self._dropped)
            self._dropped = 0
        return len(batch)
