from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, false, text, true
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from backend.db._base import Base, CreatedMixin, IdMixin, TimestampsMixin


class WebhookEndpoint(IdMixin, TimestampsMixin, Base):
    """A receiver of lead and client-file events (a CRM): where, which events, and whether personal data may be
    in the bodies. Made by an admin in the app, or from the SUFLER_CRM_WEBHOOK_* settings (``from_settings``)."""

    __tablename__ = "webhook_endpoints"

    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(Text)  # the whsec_ signing secret, encrypted with the data keys
    events: Mapped[list[str]] = mapped_column(JSONB, server_default=text("'[\"*\"]'::jsonb"))
    personal_data: Mapped[bool] = mapped_column(Boolean, server_default=false())
    active: Mapped[bool] = mapped_column(Boolean, server_default=true())
    from_settings: Mapped[bool] = mapped_column(Boolean, server_default=false())


class WebhookDelivery(IdMixin, CreatedMixin, Base):
    """One event for one endpoint: written in the transaction of the change it announces (at least once), sent in
    order per endpoint, retried with backoff; ``event_id`` is the ``webhook-id`` the receiver deduplicates by, the
    same on every retry and replay."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_pending", "endpoint_id", "id", postgresql_where=text("delivered_at IS NULL")),
    )

    endpoint_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[str] = mapped_column(String(64), index=True)
    event_type: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)  # the JSON sent, encrypted (it may hold personal data)
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    failed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_status: Mapped[int | None] = mapped_column(Integer)  # the receiver's HTTP status; None: not reached
    last_error: Mapped[str | None] = mapped_column(String(500))
    log: Mapped[list[Any]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))  # every attempt
