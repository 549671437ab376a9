from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    false,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from backend.db._base import Base, IdMixin, TimestampsMixin
from backend.db.sealed import SealedJSON


class BotUpdate(Base):
    """Every update a channel delivered, stored before it is acknowledged; processed_at is set once handled.

    The primary key makes a redelivered update a no-op; unprocessed rows are picked up again after a crash."""

    __tablename__ = "bot_updates"
    __table_args__ = (
        Index("ix_bot_updates_unprocessed", "received_at", postgresql_where=text("processed_at IS NULL")),
    )

    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    # Telegram's update_id, or the web widget's "<conversation>:<message id>"
    event_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class BotConversation(IdMixin, TimestampsMixin, Base):
    """One customer's chat with a bot: what was said, what was collected, and whether a human has taken over."""

    __tablename__ = "bot_conversations"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    channel: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(128))
    # What was said; contacts typed into a line are sealed (backend/db/sealed.py).
    transcript: Mapped[list[Any]] = mapped_column(SealedJSON(("text",)), server_default=text("'[]'::jsonb"))
    collected: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    human_active: Mapped[bool] = mapped_column(Boolean, server_default=false())
    lead_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("leads.id", ondelete="SET NULL"))


class OutboxMessage(IdMixin, Base):
    """Something to deliver at least once (a new lead for the cockpits), written in the same transaction as the
    change it announces; delivered_at is set after delivery, so a crash in between re-delivers."""

    __tablename__ = "outbox"

    topic: Mapped[str] = mapped_column(String(32), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    # Retries (bot replies): how many tries failed, when the next one is due, and when it was given up.
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    failed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(String(500))
