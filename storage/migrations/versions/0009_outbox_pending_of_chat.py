"""outbox: find a chat's pending rows without walking its whole history

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The claim ("no older pending row of the chat") asks for a chat's pending rows. On (chat_id, id) it
    # walked every row the chat ever had (a worker's chat holds thousands), for each pending row on every
    # claim. (chat_id, status, id) answers with one index seek.
    op.create_index(op.f("ix_outbox_chat_id_status_id"), "outbox", ["chat_id", "status", "id"])
    op.drop_index(op.f("ix_outbox_chat_id_id"), table_name="outbox")


def downgrade() -> None:
    op.create_index(op.f("ix_outbox_chat_id_id"), "outbox", ["chat_id", "id"])
    op.drop_index(op.f("ix_outbox_chat_id_status_id"), table_name="outbox")
