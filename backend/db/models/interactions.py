from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from backend.db._base import Base, IdMixin
from backend.db.sealed import SealedJSON, SealedText


class Interaction(IdMixin, Base):
    """One turn of a session: an observation, an advisor question, a regenerate request..."""

    __tablename__ = "interactions"
    __table_args__ = (
        # A resent message (same client_message_id) must not be processed twice.
        UniqueConstraint("session_id", "client_message_id"),
        Index("ix_interactions_session_created", "session_id", "created_at"),
    )

    session_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("sessions.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    kind: Mapped[str] = mapped_column(String(32))
    user_input: Mapped[str] = mapped_column(SealedText)  # contacts typed into it sealed (backend/db/sealed.py)
    ai_response: Mapped[dict[str, Any] | None] = mapped_column(SealedJSON())  # an LLM may echo a contact
    client_message_id: Mapped[str | None] = mapped_column(String(64))
