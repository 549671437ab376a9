from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.db._base import Base, CreatedMixin, IdMixin


class Feedback(IdMixin, CreatedMixin, Base):
    """A thumbs up (+1) or down (-1) on one suggestion; rating again replaces the earlier vote."""

    __tablename__ = "feedback"
    __table_args__ = (
        CheckConstraint("rating IN (-1, 1)", name="rating_is_plus_or_minus_one"),
        UniqueConstraint("interaction_id", "suggestion_id", "user_id"),
    )

    interaction_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("interactions.id", ondelete="CASCADE"))
    suggestion_id: Mapped[str] = mapped_column(String(64))
    rating: Mapped[int] = mapped_column(SmallInteger)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"), index=True)
