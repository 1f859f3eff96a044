"""estates (小区) between a community and its buildings, the kind of a place, street offices,
residents' community and remembered home

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "estates",
        sa.Column("community_code", sa.String(32), nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("aliases", JSON, nullable=False),
        sa.Column("grid_code", sa.String(32), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["community_code"], ["communities.code"], ondelete="CASCADE",
                                name=op.f("fk_estates_community_code_communities")),
        sa.PrimaryKeyConstraint("community_code", "code", name=op.f("pk_estates")),
    )
    with op.batch_alter_table("communities") as batch:
        batch.add_column(sa.Column("street", sa.String(200), nullable=True))
        batch.add_column(sa.Column("street_chat_id", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("buildings") as batch:
        batch.add_column(sa.Column("estate_code", sa.String(32), nullable=True))
        batch.add_column(sa.Column("kind", sa.String(16), server_default="楼栋", nullable=False))
    with op.batch_alter_table("residents") as batch:
        batch.add_column(sa.Column("community_code", sa.String(32), nullable=True))
        batch.add_column(sa.Column("home_unit", sa.String(64), nullable=True))
        batch.add_column(sa.Column("home_room", sa.String(64), nullable=True))
        batch.add_column(sa.Column("home_offered", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("residents") as batch:
        batch.drop_column("home_offered")
        batch.drop_column("home_room")
        batch.drop_column("home_unit")
        batch.drop_column("community_code")
    with op.batch_alter_table("buildings") as batch:
        batch.drop_column("kind")
        batch.drop_column("estate_code")
    with op.batch_alter_table("communities") as batch:
        batch.drop_column("street_chat_id")
        batch.drop_column("street")
    op.drop_table("estates")
