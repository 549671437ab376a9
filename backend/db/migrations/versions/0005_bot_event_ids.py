"""bot_updates keyed by a text event id, so the web widget's message ids fit beside Telegram's update ids

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.alter_column(
        "bot_updates",
        "update_id",
        new_column_name="event_id",
        type_=sa.String(length=200),
        existing_nullable=False,
        postgresql_using="update_id::text",
    )
    op.create_index(
        op.f("ix_bot_updates_unprocessed"),
        "bot_updates",
        ["received_at"],
        postgresql_where=sa.text("processed_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_bot_updates_unprocessed"), table_name="bot_updates")
    op.execute("DELETE FROM bot_updates WHERE event_id !~ '^[0-9]+$'")  # web events have no integer id
    op.alter_column(
        "bot_updates",
        "event_id",
        new_column_name="update_id",
        type_=sa.BigInteger(),
        existing_nullable=False,
        postgresql_using="event_id::bigint",
    )
