"""initial schema: roster, tickets and ledger, chats, update log, outbox

Revision ID: 0001
Revises:
Create Date: 2026-11-22

Written by hand (not create_all): later revisions must keep working on top of exactly this.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the column types as they were at this revision.
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def _community_fk(table: str, cascade: bool = True) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["community_code"], ["communities.code"],
        name=op.f(f"fk_{table}_community_code_communities"),
        ondelete="CASCADE" if cascade else None,
    )


def upgrade() -> None:
    # --- roster ---
    op.create_table(
        "communities",
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("staff_chat_id", sa.BigInteger(), nullable=True),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_communities")),
    )
    op.create_table(
        "grids",
        sa.Column("community_code", sa.String(32), nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("group_chat_id", sa.BigInteger(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        _community_fk("grids"),
        sa.PrimaryKeyConstraint("community_code", "code", name=op.f("pk_grids")),
    )
    op.create_table(
        "buildings",
        sa.Column("community_code", sa.String(32), nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("grid_code", sa.String(32), nullable=False),
        sa.Column("aliases", JSON, nullable=False),
        sa.Column("units", JSON, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        _community_fk("buildings"),
        sa.PrimaryKeyConstraint("community_code", "code", name=op.f("pk_buildings")),
    )
    op.create_table(
        "staff",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("community_code", sa.String(32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("grid_code", sa.String(32), nullable=True),
        sa.Column("telegram_user_id", sa.BigInteger(), nullable=True),
        sa.Column("username", sa.String(64), nullable=True),
        sa.Column("phone", sa.String(32), nullable=True),
        _community_fk("staff"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff")),
        sa.UniqueConstraint("community_code", "position", name=op.f("uq_staff_community_code_position")),
    )
    op.create_index(op.f("ix_staff_telegram_user_id"), "staff", ["telegram_user_id"])
    op.create_table(
        "categories",
        sa.Column("community_code", sa.String(32), nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("keywords", JSON, nullable=False),
        sa.Column("feedback_deadline_seconds", sa.Integer(), nullable=False),
        sa.Column("emergency", sa.Boolean(), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("emergency_numbers", JSON, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        _community_fk("categories"),
        sa.PrimaryKeyConstraint("community_code", "code", name=op.f("pk_categories")),
    )

    # --- tickets and the ledger ---
    op.create_table(
        "tickets",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("number", sa.String(64), nullable=False),
        sa.Column("community_code", sa.String(32), nullable=False),
        sa.Column("category_code", sa.String(32), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("building_code", sa.String(32), nullable=True),
        sa.Column("unit", sa.String(64), nullable=True),
        sa.Column("location_detail", sa.Text(), nullable=False),
        sa.Column("photos", JSON, nullable=False),
        sa.Column("reporter_user_id", sa.BigInteger(), nullable=False),
        sa.Column("reporter_chat_id", sa.BigInteger(), nullable=False),
        sa.Column("reporter_display_name", sa.String(200), nullable=False),
        sa.Column("reporter_phone", sa.String(32), nullable=True),
        sa.Column("reporter_anonymous", sa.Boolean(), nullable=False),
        sa.Column("urgency", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("grid_code", sa.String(32), nullable=True),
        sa.Column("assignee", sa.String(200), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("feedback_due_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        _community_fk("tickets", cascade=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tickets")),
        sa.UniqueConstraint("number", name=op.f("uq_tickets_number")),
    )
    op.create_index(op.f("ix_tickets_reporter_user_id_created_at"), "tickets", ["reporter_user_id", "created_at"])
    op.create_index(
        op.f("ix_tickets_community_code_category_code_building_code_created_at"),
        "tickets", ["community_code", "category_code", "building_code", "created_at"],
    )
    op.create_index(op.f("ix_tickets_community_code_created_at"), "tickets", ["community_code", "created_at"])
    op.create_index(op.f("ix_tickets_status_feedback_due_at"), "tickets", ["status", "feedback_due_at"])
    op.create_index(op.f("ix_tickets_assignee_status"), "tickets", ["assignee", "status"])
    op.create_table(
        "ticket_events",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("ticket_id", BIG_ID, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("from_status", sa.String(16), nullable=True),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("details", JSON, nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_ticket_events_ticket_id_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_events")),
        sa.UniqueConstraint("ticket_id", "seq", name=op.f("uq_ticket_events_ticket_id_seq")),
    )
    op.create_index(op.f("ix_ticket_events_at"), "ticket_events", ["at"])
    op.create_table(
        "ticket_followers",
        sa.Column("ticket_id", BIG_ID, nullable=False),
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_ticket_followers_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("ticket_id", "user_id", name=op.f("pk_ticket_followers")),
    )
    op.create_index(op.f("ix_ticket_followers_user_id"), "ticket_followers", ["user_id"])
    op.create_table(
        "ticket_sequences",
        sa.Column("community_code", sa.String(32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("community_code", "day", name=op.f("pk_ticket_sequences")),
    )

    # --- chats ---
    op.create_table(
        "conversations",
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("dialog", sa.String(64), nullable=True),
        sa.Column("step", sa.String(64), nullable=True),
        sa.Column("turn", sa.Integer(), nullable=False),
        sa.Column("data", JSON, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("chat_id", name=op.f("pk_conversations")),
    )
    op.create_index(op.f("ix_conversations_updated_at"), "conversations", ["updated_at"])
    op.create_table(
        "residents",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("username", sa.String(64), nullable=True),
        sa.Column("phone", sa.String(32), nullable=True),
        sa.Column("home_building_code", sa.String(32), nullable=True),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_residents")),
    )

    # --- one transaction per update: the update log and the outbox ---
    op.create_table(
        "processed_updates",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.PrimaryKeyConstraint("update_id", name=op.f("pk_processed_updates")),
    )
    op.create_index(op.f("ix_processed_updates_at"), "processed_updates", ["at"])
    op.create_table(
        "outbox",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("ticket_number", sa.String(64), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_message_ids", JSON, nullable=True),
        sa.Column("sent_at", TS, nullable=True),
        sa.Column("claimed_until", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    op.create_index(op.f("ix_outbox_status_id"), "outbox", ["status", "id"])
    op.create_index(op.f("ix_outbox_chat_id_id"), "outbox", ["chat_id", "id"])


def downgrade() -> None:
    # Dropping a table drops its indexes.
    for table in (
        "outbox", "processed_updates", "residents", "conversations",
        "ticket_sequences", "ticket_followers", "ticket_events", "tickets",
        "categories", "staff", "buildings", "grids", "communities",
    ):
        op.drop_table(table)
