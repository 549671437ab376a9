"""clients.contact_hash: a keyed hash of the (now encrypted) contact info, for exact lookups

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Rows written before are plaintext: `sufler rotate-data-key` encrypts them and fills the hash.
    op.add_column("clients", sa.Column("contact_hash", sa.String(length=64), nullable=True))
    op.create_index(op.f("ix_clients_contact_hash"), "clients", ["contact_hash"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_clients_contact_hash"), table_name="clients")
    op.drop_column("clients", "contact_hash")
