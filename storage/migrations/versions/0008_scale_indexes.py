"""indexes for a million tickets: the summary's resolved-in-week and open-at-week-end ranges, its ratings

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # for_summary: "resolved in the week", "open at its end" (resolved_at IS NULL / >= end) per community
    op.create_index("ix_tickets_community_code_resolved_at", "tickets", ["community_code", "resolved_at"])
    # for_summary: the ratings completed in the week (RATE events), without reading every event of it
    op.create_index("ix_ticket_events_action_at", "ticket_events", ["action", "at"])


def downgrade() -> None:
    op.drop_index("ix_ticket_events_action_at", table_name="ticket_events")
    op.drop_index("ix_tickets_community_code_resolved_at", table_name="tickets")
