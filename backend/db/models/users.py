from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Boolean, Enum, String, false, true
from sqlalchemy.orm import Mapped, mapped_column

from backend.db._base import Base, IdMixin, TimestampsMixin


class Role(StrEnum):
    SALESPERSON = "salesperson"
    LEAD = "lead"
    ADMIN = "admin"


def enum_column(enum: type[StrEnum], name: str) -> Enum:
    """A VARCHAR with a CHECK constraint: adding a value later is a plain migration, not an ALTER TYPE."""
    return Enum(
        enum,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda e: [m.value for m in e],
    )


class User(IdMixin, TimestampsMixin, Base):
    __tablename__ = "users"

    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"))
    active: Mapped[bool] = mapped_column(Boolean, server_default=true())
    # The cockpit's language for this user ("pl" or "en"), remembered across devices.
    language: Mapped[str] = mapped_column(String(2), server_default="pl")
    # Set by an admin's password reset: until the user sets their own, their login can do nothing else.
    must_change_password: Mapped[bool] = mapped_column(Boolean, server_default=false())
