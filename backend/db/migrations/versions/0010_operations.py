"""Operations: leads.claimed_at (time to claim) and llm_calls (one row per LLM call), for the review's
Operations tab

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("leads", sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))
    # Leads claimed before this column: their last change is the best time known (a claim is the first change).
    op.execute("UPDATE leads SET claimed_at = updated_at WHERE status <> 'new' AND assigned_user_id IS NOT NULL")
    op.create_index("ix_leads_claimed_at", "leads", ["claimed_at"])
    op.create_table(
        "llm_calls",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("first_token_seconds", sa.Float(), nullable=True),
        sa.Column("prompt_tokens", sa.Integer(), nullable=True),
        sa.Column("completion_tokens", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_llm_calls")),
    )
    op.create_index("ix_llm_calls_at", "llm_calls", ["at"])


def downgrade() -> None:
    op.drop_index("ix_llm_calls_at", table_name="llm_calls")
    op.drop_table("llm_calls")
    op.drop_index("ix_leads_claimed_at", table_name="leads")
    op.drop_column("leads", "claimed_at")
