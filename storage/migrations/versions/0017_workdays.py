"""Working-day deadlines: categories.feedback_workdays ("N个工作日内反馈") and communities.office_hours (the
acceptance window counts office time). Both nullable: existing rows keep their clock deadlines.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("categories") as batch:
        batch.add_column(sa.Column("feedback_workdays", sa.Integer(), nullable=True))
    with op.batch_alter_table("communities") as batch:
        batch.add_column(sa.Column("office_hours", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("communities") as batch:
        batch.drop_column("office_hours")
    with op.batch_alter_table("categories") as batch:
        batch.drop_column("feedback_workdays")
