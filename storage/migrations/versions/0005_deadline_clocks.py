"""deadline clocks: the acceptance deadline, the reminder stages done, and when the next one is due

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("accept_due_at", TS, nullable=True))
        batch.add_column(sa.Column("reminders", JSON, nullable=False, server_default=sa.text("'[]'")))
        batch.add_column(sa.Column("next_reminder_at", TS, nullable=True))
        batch.create_index(batch.f("ix_tickets_next_reminder_at"), ["next_reminder_at"])


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.drop_index(batch.f("ix_tickets_next_reminder_at"))
        batch.drop_column("next_reminder_at")
        batch.drop_column("reminders")
        batch.drop_column("accept_due_at")
