from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.db._base import Base, IdMixin


class LLMCall(IdMixin, Base):
    """One LLM call as the chain saw it (kind, model, outcome, times, tokens): never the prompt or the answer.

    Written in batches by backend/domain/copilot/call_log.py; read by the review's Operations tab."""

    __tablename__ = "llm_calls"

    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # assessment, moves, advisor, strategy, memory, bot...
    model: Mapped[str] = mapped_column(String(200))  # "none" when no model answered
    outcome: Mapped[str] = mapped_column(String(16))  # ok, fallback, invalid, unavailable, cancelled
    seconds: Mapped[float] = mapped_column(Float)
    first_token_seconds: Mapped[float | None] = mapped_column(Float)
    prompt_tokens: Mapped[int | None] = mapped_column(Integer)
    completion_tokens: Mapped[int | None] = mapped_column(Integer)
