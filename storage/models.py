"""The tables. Rows stay inside storage/: repositories turn them into gridcore objects.

Every timestamp is timezone-aware UTC (`UtcDateTime`): aware datetimes are converted to UTC before
they are written, and SQLite's naive values come back with tzinfo=UTC. A naive datetime is refused.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# JSON on SQLite, JSONB on PostgreSQL.
Json = JSON().with_variant(JSONB(), "postgresql")
# 64-bit surrogate keys; SQLite needs INTEGER for an autoincrementing rowid alias.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: storage only takes timezone-aware datetimes")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012
        datetime: UtcDateTime(),
        date: Date(),
        int: BigInteger(),
        str: String(),
        dict[str, Any]: Json,
        list[Any]: Json,
        list[str]: Json,
        list[int]: Json,
    }


# --- roster ------------------------------------------------------------------------------------
# Buildings, grids and categories that leave the roster are deactivated (active=False), never
# deleted: tickets and the ledger keep naming them. Staff rows carry no references and are deleted.


class CommunityRow(Base):
    __tablename__ = "communities"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    staff_chat_id: Mapped[int | None]
    timezone: Mapped[str] = mapped_column(String(64))
    rating_days: Mapped[int] = mapped_column(Integer, server_default="7")
    public_chat_id: Mapped[int | None]  # the residents' public group (进度公示)
    # Scheduled posts as the roster lists them (see storage.repositories.roster for the shape).
    announcements: Mapped[list[Any]] = mapped_column(server_default=text("'[]'"))
    # The reminder policy in hours ({accept, urgent_accept, urgent_feedback, major_accept, major_feedback,
    # before: [...], staff_after, street_after}); None: defaults.
    reminders: Mapped[dict[str, Any] | None]
    street: Mapped[str | None] = mapped_column(String(200))  # the street office (街道) by name
    street_chat_id: Mapped[int | None]  # the street office's staff group
    office_hours: Mapped[str | None] = mapped_column(String(64))  # "08:30-12:00,14:00-17:30"; None: none
    # Bumped in the transaction of every change of what RosterRepository.get returns (this row, its
    # grids, estates, buildings, categories, staff, invite bindings): a cached roster of the same
    # version is still right (storage.roster_cache).
    roster_version: Mapped[int] = mapped_column(Integer, server_default="0")
    # Community-wide 常用回复 {"progress": [...], "resolve": [...]}; None: the roster lists none.
    replies: Mapped[dict[str, Any] | None]


class EstateRow(Base):
    """A 小区 of a community; deactivated, never deleted, when it leaves the roster (like buildings)."""

    __tablename__ = "estates"

    community_code: Mapped[str] = mapped_column(
        String(32), ForeignKey("communities.code", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    aliases: Mapped[list[str]]
    grid_code: Mapped[str | None] = mapped_column(String(32))
    position: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean)


class GridRow(Base):
    __tablename__ = "grids"

    community_code: Mapped[str] = mapped_column(
        String(32), ForeignKey("communities.code", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    group_chat_id: Mapped[int | None]
    position: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean)


class BuildingRow(Base):
    __tablename__ = "buildings"

    community_code: Mapped[str] = mapped_column(
        String(32), ForeignKey("communities.code", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    grid_code: Mapped[str] = mapped_column(String(32))
    aliases: Mapped[list[str]]
    units: Mapped[list[str]]
    position: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean)
    estate_code: Mapped[str | None] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16), server_default="楼栋")


class StaffRow(Base):
    __tablename__ = "staff"
    __table_args__ = (
        UniqueConstraint("community_code", "position"),
        Index(None, "telegram_user_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    community_code: Mapped[str] = mapped_column(
        String(32), ForeignKey("communities.code", ondelete="CASCADE")
    )
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    grid_code: Mapped[str | None] = mapped_column(String(32))
    telegram_user_id: Mapped[int | None]
    username: Mapped[str | None] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(32))
    building_code: Mapped[str | None] = mapped_column(String(32))  # a building leader's building
    title: Mapped[str] = mapped_column(String(64), server_default="")
    away: Mapped[bool] = mapped_column(Boolean, server_default=false())


class CategoryRow(Base):
    __tablename__ = "categories"

    community_code: Mapped[str] = mapped_column(
        String(32), ForeignKey("communities.code", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    keywords: Mapped[list[str]]
    feedback_deadline_seconds: Mapped[int] = mapped_column(Integer)
    emergency: Mapped[bool] = mapped_column(Boolean)
    mode: Mapped[str] = mapped_column(String(16))
    emergency_numbers: Mapped[list[str]]
    co_handler: Mapped[str | None] = mapped_column(String(200))  # who shares the work in 共办 mode
    dispute: Mapped[bool] = mapped_column(Boolean, server_default=false())  # a 矛盾纠纷 category
    replies: Mapped[dict[str, Any] | None]  # the category's own 常用回复, shaped like communities.replies
    feedback_workdays: Mapped[int | None] = mapped_column(Integer)  # "N个工作日内反馈"; None: on the clock
    priority: Mapped[str] = mapped_column(String(16), server_default="normal")  # 分级响应: a Urgency value
    topic: Mapped[str | None] = mapped_column(String(32))  # the triage model's topic; None: by its name
    position: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean)


# --- tickets and their ledger ------------------------------------------------------------------


class TicketRow(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        Index(None, "reporter_user_id", "created_at"),
        Index(None, "community_code", "category_code", "building_code", "created_at"),
        Index(None, "community_code", "created_at"),
        Index(None, "community_code", "resolved_at"),
        Index(None, "status", "feedback_due_at"),
        Index(None, "assignee", "status"),
        Index(None, "status", "resolved_at"),
        Index(None, "filed_by_user_id"),
        Index(None, "next_reminder_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    community_code: Mapped[str] = mapped_column(String(32), ForeignKey("communities.code"))
    category_code: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text)
    building_code: Mapped[str | None] = mapped_column(String(32))
    unit: Mapped[str | None] = mapped_column(String(64))
    location_detail: Mapped[str] = mapped_column(Text)
    photos: Mapped[list[str]]
    reporter_user_id: Mapped[int]
    reporter_chat_id: Mapped[int]
    reporter_display_name: Mapped[str] = mapped_column(String(200))
    reporter_phone: Mapped[str | None] = mapped_column(String(32))
    reporter_anonymous: Mapped[bool] = mapped_column(Boolean)
    urgency: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    grid_code: Mapped[str | None] = mapped_column(String(32))
    assignee: Mapped[int | None]  # Telegram user id of the staff member handling it
    created_at: Mapped[datetime]
    feedback_due_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    filed_by_user_id: Mapped[int | None]
    accepted_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    rating: Mapped[dict[str, Any] | None]
    accept_due_at: Mapped[datetime | None]
    reminders: Mapped[list[str]] = mapped_column(server_default=text("'[]'"))
    next_reminder_at: Mapped[datetime | None]
    voice: Mapped[str | None] = mapped_column(String(256))  # a voice note's file id (the description)


class TicketCardRow(Base):
    """A message about a ticket that is kept up to date (a worker's card, a copy): edited in place."""

    __tablename__ = "ticket_cards"
    __table_args__ = (Index(None, "ticket_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(BigId, ForeignKey("tickets.id"))
    chat_id: Mapped[int]
    outbox_id: Mapped[int]
    kind: Mapped[str] = mapped_column(String(16))  # "handler" (with buttons) or "copy"


class TicketEventRow(Base):
    """Append-only: the repository inserts these and never updates or deletes them."""

    __tablename__ = "ticket_events"
    __table_args__ = (UniqueConstraint("ticket_id", "seq"), Index(None, "at"), Index(None, "action", "at"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(BigId, ForeignKey("tickets.id"))
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(16))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    details: Mapped[dict[str, Any]]


class TicketFollowerRow(Base):
    __tablename__ = "ticket_followers"
    __table_args__ = (Index(None, "user_id"),)

    ticket_id: Mapped[int] = mapped_column(BigId, ForeignKey("tickets.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    position: Mapped[int] = mapped_column(Integer)


class TicketSequenceRow(Base):
    """The last daily sequence number handed out per community and filing day."""

    __tablename__ = "ticket_sequences"

    community_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


# --- chats --------------------------------------------------------------------------------------


class ConversationRow(Base):
    __tablename__ = "conversations"
    __table_args__ = (Index(None, "updated_at"),)

    chat_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    user_id: Mapped[int]
    dialog: Mapped[str | None] = mapped_column(String(64))
    step: Mapped[str | None] = mapped_column(String(64))
    turn: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict[str, Any]]
    prompts: Mapped[list[int]] = mapped_column(server_default=text("'[]'"))
    updated_at: Mapped[datetime]


class ResidentRow(Base):
    __tablename__ = "residents"

    user_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    chat_id: Mapped[int]
    display_name: Mapped[str] = mapped_column(String(200))
    username: Mapped[str | None] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(32))
    home_building_code: Mapped[str | None] = mapped_column(String(32))
    community_code: Mapped[str | None] = mapped_column(String(32))
    home_unit: Mapped[str | None] = mapped_column(String(64))
    home_room: Mapped[str | None] = mapped_column(String(64))
    home_offered: Mapped[bool] = mapped_column(Boolean, server_default=false())


class ProcessedUpdateRow(Base):
    __tablename__ = "processed_updates"
    __table_args__ = (Index(None, "at"),)

    update_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    at: Mapped[datetime]


class OutboxRow(Base):
    """One message to deliver. `claimed_until` is the sender's lease (and a retry's back-off)."""

    __tablename__ = "outbox"
    __table_args__ = (Index(None, "status", "id"), Index(None, "chat_id", "status", "id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    chat_id: Mapped[int]
    payload: Mapped[dict[str, Any]]
    ticket_number: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))  # pending / sent / failed
    attempts: Mapped[int] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_message_ids: Mapped[list[int] | None]
    sent_at: Mapped[datetime | None]
    claimed_until: Mapped[datetime | None]


OUTBOX_PENDING = "pending"
OUTBOX_SENT = "sent"
OUTBOX_FAILED = "failed"


# --- staff onboarding ---------------------------------------------------------------------------


class StaffInviteRow(Base):
    """A one-time code (deep link) that binds a Telegram account to a roster entry."""

    __tablename__ = "staff_invites"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    community_code: Mapped[str] = mapped_column(String(32))
    person_key: Mapped[str] = mapped_column(String(300))  # role|grid|name of the roster entry
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by: Mapped[int | None]


class StaffBindingRow(Base):
    """A roster entry without a Telegram user id, bound to an account by an invite (survives reloads)."""

    __tablename__ = "staff_bindings"

    community_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    person_key: Mapped[str] = mapped_column(String(300), primary_key=True)
    telegram_user_id: Mapped[int]
    bound_at: Mapped[datetime]


# --- the staff console ------------------------------------------------------------------------------


class ConsoleLoginRow(Base):
    """A one-time login link of the web console (gridcore.console): only its token's sha256 is kept."""

    __tablename__ = "console_logins"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    telegram_user_id: Mapped[int]
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class ConsoleSessionRow(Base):
    """A logged-in console session, under its id's sha256 (the id itself lives in the browser's cookie)."""

    __tablename__ = "console_sessions"

    session_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    telegram_user_id: Mapped[int] = mapped_column(index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


# --- triage ------------------------------------------------------------------------------------------


class TriageCorrectionRow(Base):
    """A corrected category (gridcore.ports.TriageCorrection); the text is the resident's words and never
    leaves the database except to train the community's triage."""

    __tablename__ = "triage_corrections"
    __table_args__ = (Index(None, "community_code", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    community_code: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    suggested: Mapped[str] = mapped_column(String(32))
    chosen: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]
