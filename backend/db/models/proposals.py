from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from backend.db._base import Base, IdMixin


class KnowledgeProposal(IdMixin, Base):
    """A lead's decision on a top-rated suggestion proposed as new knowledge (undecided ones are computed from
    the ratings, not stored)."""

    __tablename__ = "knowledge_proposals"
    __table_args__ = (CheckConstraint("status IN ('approved', 'rejected')", name="status"),)

    suggestion_id: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16))
    proposal: Mapped[dict[str, Any]] = mapped_column(JSONB)  # what was proposed, and the draft entry if approved
    decided_by: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
