"""roster details: a building leader's building, staff titles, the co-handler of a 共办 category

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
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
    with op.batch_alter_table("staff") as batch:
        batch.add_column(sa.Column("building_code", sa.String(32), nullable=True))
        batch.add_column(sa.Column("title", sa.String(64), nullable=False, server_default=""))
    with op.batch_alter_table("categories") as batch:
        batch.add_column(sa.Column("co_handler", sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("categories") as batch:
        batch.drop_column("co_handler")
    with op.batch_alter_table("staff") as batch:
        batch.drop_column("title")
        batch.drop_column("building_code")
