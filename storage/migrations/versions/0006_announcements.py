"""scheduled announcements: the community's public group and its announcements (JSON)

Which occurrence was already sent is recorded in processed_updates under a derived negative id
(handlers.announcements.occurrence_id), in the same transaction as its outbox rows.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("communities") as batch:
        batch.add_column(sa.Column("public_chat_id", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("announcements", JSON, nullable=False, server_default=sa.text("'[]'")))


def downgrade() -> None:
    with op.batch_alter_table("communities") as batch:
        batch.drop_column("announcements")
        batch.drop_column("public_chat_id")
