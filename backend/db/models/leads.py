from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from backend.db._base import Base, IdMixin, TimestampsMixin
from backend.db.models.users import enum_column
from backend.db.sealed import SealedJSON


class LeadStatus(StrEnum):
    NEW = "new"
    CLAIMED = "claimed"
    CLOSED = "closed"


class Lead(IdMixin, TimestampsMixin, Base):
    """A customer handed over by a bot (Telegram, web widget) into the cockpit's inbox."""

    __tablename__ = "leads"
    __table_args__ = (
        # One lead per bot conversation: a repeated hand-over finds the lead it already made.
        UniqueConstraint("channel", "external_conversation_id"),
        Index("ix_leads_status_created", "status", "created_at"),
    )

    channel: Mapped[str] = mapped_column(String(32))
    external_conversation_id: Mapped[str] = mapped_column(String(128))
    transcript: Mapped[list[Any]] = mapped_column(SealedJSON(("text",)), server_default=text("'[]'::jsonb"))
    # Name, contact (with consent), qualification answers, key facts, the engine's first archetype guess.
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    status: Mapped[LeadStatus] = mapped_column(
        enum_column(LeadStatus, "lead_status"), server_default=LeadStatus.NEW.value
    )
    assigned_user_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    client_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("clients.id", ondelete="SET NULL"))
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
