from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from backend.db._base import Base, CreatedMixin, IdMixin


class AuthToken(IdMixin, CreatedMixin, Base):
    """A login session. Only a keyed hash of the token is stored, so a database dump opens no session."""

    __tablename__ = "auth_tokens"

    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
