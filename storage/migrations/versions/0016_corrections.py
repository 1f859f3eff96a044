"""triage_corrections: categories corrected by a worker or by a resident, per community, for training

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "triage_corrections",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("community_code", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("suggested", sa.String(length=32), nullable=False),
        sa.Column("chosen", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_triage_corrections")),
    )
    op.create_index(op.f("ix_triage_corrections_community_code_at"), "triage_corrections",
                    ["community_code", "at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_triage_corrections_community_code_at"), table_name="triage_corrections")
    op.drop_table("triage_corrections")
