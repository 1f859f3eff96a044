"""The tables of the in-memory unit of work (tests/fake_uow.py): immutable rows in dicts and lists.

A unit of work copies the dicts and lists when it begins (a snapshot: no row is ever changed in place,
a write puts a new one) and its commit() makes its copy the committed state.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime
from typing import Any, Protocol

from gridcore.community import Community
from gridcore.conversation import Conversation, Resident
from gridcore.messages import OutgoingMessage
from gridcore.ports import ConsoleSession, Invite, TicketCard, TriageCorrection
from gridcore.ticket import Ticket, TicketEvent

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def utc(value: datetime | None) -> datetime | None:
    """As a timestamp column stores it: aware UTC; a naive datetime is refused."""
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value!r}: storage only takes timezone-aware datetimes")
    return value.astimezone(UTC)


def through_json(value: Any) -> Any:
    """What a JSON column gives back (tuples become lists, keys strings; anything else is refused)."""
    return json.loads(json.dumps(value))


@dataclass(frozen=True)
class OutboxRow:
    id: int
    chat_id: int
    message: OutgoingMessage
    created_at: datetime


@dataclass(frozen=True)
class StoredTicket:
    ticket: Ticket  # its new_events empty, datetimes in UTC; never changed in place
    next_reminder_at: datetime | None
    followers: tuple[tuple[int, int], ...]  # (position, user id), as the followers table


@dataclass(frozen=True)
class StoredEvent:
    seq: int
    event: TicketEvent  # details as JSON gives them back


@dataclass(frozen=True)
class StoredInvite:
    invite: Invite
    used_at: datetime | None = None
    used_by: int | None = None


@dataclass(frozen=True)
class StoredLogin:
    user_id: int
    expires_at: datetime
    used_at: datetime | None = None


@dataclass(frozen=True)
class StoredSession:
    session: ConsoleSession
    ended_at: datetime | None = None


@dataclass
class Tables:
    """Every table: dicts and lists of immutable rows, so a shallow copy is a snapshot."""

    communities: dict[str, Community] = field(default_factory=dict)
    bindings: dict[tuple[str, str], int] = field(default_factory=dict)  # (community, person key) -> user
    invites: dict[str, StoredInvite] = field(default_factory=dict)
    tickets: dict[int, StoredTicket] = field(default_factory=dict)
    ticket_ids: dict[str, int] = field(default_factory=dict)  # number -> id
    events: dict[int, tuple[StoredEvent, ...]] = field(default_factory=dict)
    sequences: dict[tuple[str, date], int] = field(default_factory=dict)
    cards: dict[int, tuple[TicketCard, ...]] = field(default_factory=dict)
    conversations: dict[int, tuple[Conversation, str]] = field(default_factory=dict)  # with data+prompts JSON
    residents: dict[int, Resident] = field(default_factory=dict)
    outbox: list[OutboxRow] = field(default_factory=list)
    updates: dict[int, datetime] = field(default_factory=dict)
    console_logins: dict[str, StoredLogin] = field(default_factory=dict)  # token hash -> login
    console_sessions: dict[str, StoredSession] = field(default_factory=dict)  # session hash -> session
    corrections: list[TriageCorrection] = field(default_factory=list)  # in the order added
    last_ticket_id: int = 0
    last_outbox_id: int = 0

    def copy(self) -> Tables:
        copied = {}
        for f in fields(self):
            value = getattr(self, f.name)
            copied[f.name] = value.copy() if isinstance(value, dict | list) else value
        return Tables(**copied)


class Owner(Protocol):
    """The unit of work a repository belongs to: its running transaction's tables, and its clock."""

    async def tables(self) -> Tables: ...

    @property
    def clock(self) -> Clock: ...


class Repository:
    def __init__(self, uow: Owner) -> None:
        self._uow = uow

    async def _tables(self) -> Tables:
        return await self._uow.tables()
