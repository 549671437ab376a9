from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from backend.db._base import Base, IdMixin, TimestampsMixin


class Client(IdMixin, TimestampsMixin, Base):
    __tablename__ = "clients"
    __table_args__ = (
        # The cockpit lists a salesperson's active clients, newest first.
        Index("ix_clients_owner_archived_updated", "owner_id", "archived", "updated_at"),
    )

    name: Mapped[str] = mapped_column(String(200), index=True)
    contact_info: Mapped[str | None] = mapped_column(Text)  # encrypted (backend/crypto.py)
    contact_hash: Mapped[str | None] = mapped_column(String(64), index=True)  # keyed hash, for exact lookups
    owner_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="RESTRICT"))
    archived: Mapped[bool] = mapped_column(Boolean, server_default=false())
    # The leading archetype of the client's latest session (slug), for search and the client list.
    archetype: Mapped[str | None] = mapped_column(String(64), index=True)
