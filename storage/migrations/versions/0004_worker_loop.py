"""the worker's side of the loop: who handles a ticket, its rating, cards, invites and bindings

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22

tickets.assignee becomes the Telegram user id (BigInteger) of the staff member handling it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("communities") as batch:
        batch.add_column(sa.Column("rating_days", sa.Integer(), nullable=False, server_default="7"))
    with op.batch_alter_table("staff") as batch:
        batch.add_column(sa.Column("away", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("tickets") as batch:
        batch.alter_column("assignee", existing_type=sa.String(200), type_=sa.BigInteger(),
                           existing_nullable=True, postgresql_using="assignee::bigint")
        batch.add_column(sa.Column("filed_by_user_id", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("accepted_at", TS, nullable=True))
        batch.add_column(sa.Column("resolved_at", TS, nullable=True))
        batch.add_column(sa.Column("rating", JSON, nullable=True))
        batch.create_index(batch.f("ix_tickets_status_resolved_at"), ["status", "resolved_at"])
        batch.create_index(batch.f("ix_tickets_filed_by_user_id"), ["filed_by_user_id"])
    op.create_table(
        "ticket_cards",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("ticket_id", BIG_ID, nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("outbox_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_ticket_cards_ticket_id_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_cards")),
    )
    op.create_index(op.f("ix_ticket_cards_ticket_id"), "ticket_cards", ["ticket_id"])
    op.create_table(
        "staff_invites",
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("community_code", sa.String(32), nullable=False),
        sa.Column("person_key", sa.String(300), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("used_at", TS, nullable=True),
        sa.Column("used_by", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_staff_invites")),
    )
    op.create_table(
        "staff_bindings",
        sa.Column("community_code", sa.String(32), nullable=False),
        sa.Column("person_key", sa.String(300), nullable=False),
        sa.Column("telegram_user_id", sa.BigInteger(), nullable=False),
        sa.Column("bound_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("community_code", "person_key", name=op.f("pk_staff_bindings")),
    )


def downgrade() -> None:
    op.drop_table("staff_bindings")
    op.drop_table("staff_invites")
    op.drop_index(op.f("ix_ticket_cards_ticket_id"), table_name="ticket_cards")
    op.drop_table("ticket_cards")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_index(batch.f("ix_tickets_filed_by_user_id"))
        batch.drop_index(batch.f("ix_tickets_status_resolved_at"))
        batch.drop_column("rating")
        batch.drop_column("resolved_at")
        batch.drop_column("accepted_at")
        batch.drop_column("filed_by_user_id")
        batch.alter_column("assignee", existing_type=sa.BigInteger(), type_=sa.String(200),
                           existing_nullable=True, postgresql_using="assignee::varchar")
    with op.batch_alter_table("staff") as batch:
        batch.drop_column("away")
    with op.batch_alter_table("communities") as batch:
        batch.drop_column("rating_days")
