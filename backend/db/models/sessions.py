from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, func, text
from sqlalchemy.orm import Mapped, mapped_column

from backend.db._base import Base, IdMixin
from backend.db.sealed import SealedJSON, SealedText


class ClientSession(IdMixin, Base):
    """One conversation with a client (named so as not to clash with SQLAlchemy's Session)."""

    __tablename__ = "sessions"
    __table_args__ = (Index("ix_sessions_client_started", "client_id", "started_at"),)

    client_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("clients.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Contacts in them sealed (backend/db/sealed.py).
    summary: Mapped[str] = mapped_column(SealedText, server_default="")
    key_facts: Mapped[list[Any]] = mapped_column(SealedJSON(), server_default=text("'[]'::jsonb"))
