"""常用回复: communities.replies and categories.replies, the roster's standard progress and resolution texts
({"progress": [...], "resolve": [...]}, JSON); NULL where the roster lists none.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    for table in ("communities", "categories"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("replies", JSON, nullable=True))


def downgrade() -> None:
    for table in ("categories", "communities"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("replies")
