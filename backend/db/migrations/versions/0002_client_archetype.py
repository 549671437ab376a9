"""clients.archetype: the leading archetype of the latest session, for search

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("clients", sa.Column("archetype", sa.String(length=64), nullable=True))
    op.create_index(op.f("ix_clients_archetype"), "clients", ["archetype"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_clients_archetype"), table_name="clients")
    op.drop_column("clients", "archetype")
