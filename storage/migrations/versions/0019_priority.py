"""分级响应: categories.priority (一般 / 紧急 / 重大 as normal / urgent / major). Existing emergency categories
become urgent, the rest normal, as they were filed before. The community's per-level clocks live in
communities.reminders (JSON), and tickets.urgency already holds a level's value.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("categories") as batch:
        batch.add_column(sa.Column("priority", sa.String(16), nullable=False, server_default="normal"))
    categories = sa.table("categories", sa.column("priority", sa.String), sa.column("emergency", sa.Boolean))
    op.execute(categories.update().where(categories.c.emergency == sa.true()).values(priority="urgent"))


def downgrade() -> None:
    with op.batch_alter_table("categories") as batch:
        batch.drop_column("priority")
