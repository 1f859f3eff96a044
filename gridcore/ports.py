"""What the use cases need from persistence. storage/ implements these; tests may fake them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol, Self

from gridcore.community import Community
from gridcore.conversation import Conversation, Resident
from gridcore.directory import CommunityDirectory
from gridcore.messages import OutgoingMessage
from gridcore.metrics import WeekTicket
from gridcore.ticket import Ticket, TicketEvent
from gridcore.ticket_query import TicketPage, TicketQuery


@dataclass(frozen=True)
class TicketCard:
    """A message about a ticket kept up to date by editing it: the handler's card, or a copy."""

    chat_id: int
    outbox_id: int
    kind: str  # "handler" (with the worker's buttons) or "copy"


@dataclass(frozen=True)
class Invite:
    """A one-time deep link that binds a Telegram account to a roster entry (see gridcore.staff)."""

    code: str
    community_code: str
    person_key: str
    created_at: datetime
    expires_at: datetime


class RosterRepository(Protocol):
    async def upsert(self, community: Community) -> None:
        """Insert or update the community and everything in it; the same roster twice changes nothing."""

    async def get(self, code: str) -> Community | None: ...

    async def list_codes(self) -> list[str]: ...

    async def directory(self) -> CommunityDirectory:
        """Every community's entry (gridcore.directory), as of the last roster load and staff binding:
        enough to pick the community of an update without reading every roster."""


class TicketRepository(Protocol):
    async def next_number(self, community_code: str, day: date) -> str:
        """The number of a ticket the community files on `day` (community time), from its daily counter
        (gridcore.ticket.format_ticket_number; 1 for the day's first). Take it before the ticket and
        anything showing its number are written, so they carry it from the start. The counter stays
        locked by this unit of work until it ends: another filing of that community and day waits for
        the commit (and takes the next number) or the rollback (and takes this one again), so the
        numbers of committed tickets are consecutive, without gaps."""

    async def add(self, ticket: Ticket) -> None:
        """Store a new ticket and its new events; sets ticket.id."""

    async def save(self, ticket: Ticket) -> None:
        """Store changed fields and append ticket.new_events to the ledger (never rewrite older ones)."""

    async def get(self, number: str) -> Ticket | None: ...

    async def for_resident(self, user_id: int, limit: int = 20) -> Sequence[Ticket]:
        """Tickets the resident filed or follows, newest first."""

    async def find_open_duplicate(
        self, community_code: str, category_code: str, building_code: str, since: datetime,
        unit: str | None = None,
    ) -> Ticket | None:
        """The newest open ticket of that category and building filed at or after `since`; with a unit,
        only one of that unit or one that names no unit."""

    async def ledger(self, number: str) -> Sequence[TicketEvent]:
        """All events of the ticket, oldest first."""

    async def ledgers(self, ticket_ids: Sequence[int]) -> dict[int, list[TicketEvent]]:
        """The events of many tickets at once (an export reads thousands), by ticket id, each ticket's
        oldest first; an unknown id is left out."""

    async def get_by_id(self, ticket_id: int) -> Ticket | None: ...

    async def open_counts(self, community_code: str) -> dict[int, int]:
        """Open tickets per assignee (Telegram user id)."""

    async def assigned_to(self, user_id: int, limit: int = 50) -> Sequence[Ticket]:
        """A staff member's open tickets, nearest feedback deadline first."""

    async def open_in(self, community_code: str, grid_code: str | None = None,
                      limit: int = 100) -> Sequence[Ticket]:
        """Open tickets of the community or of one grid, nearest feedback deadline first."""

    async def unrated_since(self, resolved_before: datetime, limit: int = 100,
                            community_code: str | None = None) -> Sequence[Ticket]:
        """Resolved tickets without a rating, resolved before the given moment (of one community)."""

    async def due_for_reminders(self, now: datetime, limit: int = 100,
                                community_code: str | None = None) -> Sequence[Ticket]:
        """Tickets whose next reminder or 督办 stage is due (of one community), locked for the transaction."""

    async def communities_due(self, now: datetime) -> list[str]:
        """The communities with work for a sweep now: a reminder or 督办 stage due, or a resolved ticket
        unrated past the community's rating_days. A city's sweep visits only these."""

    async def add_card(self, ticket_id: int, card: TicketCard) -> None: ...

    async def cards(self, ticket_id: int) -> list[TicketCard]: ...

    async def for_summary(self, community_code: str, start: datetime, end: datetime) -> list[WeekTicket]:
        """Tickets filed or resolved in [start, end), open at its end, or rated in it, each with the
        last rating completed in it (gridcore.metrics; only the fields the summary reads, TicketFacts)."""

    async def search(self, query: TicketQuery, now: datetime, *, limit: int | None = 50,
                     offset: int = 0) -> TicketPage:
        """The tickets `query` matches (TicketQuery.matches is the rule), in its order: one page of them
        (limit None: all) and how many match in all."""


class ConversationRepository(Protocol):
    async def get(self, chat_id: int) -> Conversation | None: ...

    async def save(self, conversation: Conversation) -> None: ...


class ResidentRepository(Protocol):
    async def get(self, user_id: int) -> Resident | None: ...

    async def save(self, resident: Resident) -> None: ...


class Outbox(Protocol):
    async def add(self, message: OutgoingMessage) -> int:
        """Queue a message; returns its outbox id (to edit or clear that message later)."""


class UpdateLog(Protocol):
    async def record(self, update_id: int) -> bool:
        """Record an incoming update id; False when it was seen before (the update is a repeat)."""


class StaffRepository(Protocol):
    async def add_invite(self, invite: Invite) -> None: ...

    async def take_invite(self, code: str, user_id: int, at: datetime) -> Invite | None:
        """Use a one-time code: the invite, or None when it is unknown, used or expired."""

    async def bind(self, community_code: str, person_key: str, user_id: int, at: datetime) -> None:
        """Bind a roster entry to a Telegram account; RosterRepository.get() then shows the id."""


@dataclass(frozen=True)
class ConsoleSession:
    """A staff member logged in to the web console (gridcore.console); stored under its id's hash."""

    user_id: int
    csrf_token: str  # put in every form of the session's pages, checked on every POST
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime  # the absolute end (gridcore.console.SESSION_MAX after the login)


class ConsoleRepository(Protocol):
    async def add_login(self, token_hash: str, user_id: int, created_at: datetime,
                        expires_at: datetime) -> None:
        """Store a one-time login link's token hash for the account."""

    async def take_login(self, token_hash: str, at: datetime) -> int | None:
        """Use a login link: the account's Telegram id, or None when it is unknown, used or expired.
        Once only, also when two requests race for it (one statement marks it used)."""

    async def add_session(self, session_hash: str, session: ConsoleSession) -> None: ...

    async def get_session(self, session_hash: str, at: datetime) -> ConsoleSession | None:
        """The live session (not ended, used within gridcore.console.SESSION_IDLE, before its
        expires_at), its last_seen_at moved to `at`; else None."""

    async def end_session(self, session_hash: str, at: datetime) -> None:
        """Log out: the session is over (an unknown or ended one: nothing happens)."""


@dataclass(frozen=True)
class TriageCorrection:
    """A category someone corrected: what the resident wrote, what was suggested, what was chosen. The
    text is the resident's own words: it stays in the database, for training the community's triage."""

    community_code: str
    text: str
    suggested: str  # category codes
    chosen: str
    source: str  # CORRECTED_BY_WORKER or CORRECTED_BY_RESIDENT
    at: datetime


CORRECTED_BY_WORKER, CORRECTED_BY_RESIDENT = "worker", "resident"


class CorrectionRepository(Protocol):
    async def add(self, correction: TriageCorrection) -> None: ...

    async def for_community(self, community_code: str, limit: int) -> list[TriageCorrection]:
        """The community's corrections, newest first (ties: the later added first), at most `limit`."""


class UnitOfWork(Protocol):
    """One transaction. Leaving the context without commit() rolls everything back.

    An incoming update gets one unit of work: begin_update() first, then the handler's reads and writes
    (the messages it sends are outbox rows), then commit(). A crash anywhere keeps all of it or none."""

    roster: RosterRepository
    tickets: TicketRepository
    conversations: ConversationRepository
    residents: ResidentRepository
    outbox: Outbox
    updates: UpdateLog
    staff: StaffRepository
    console: ConsoleRepository
    corrections: CorrectionRepository

    async def __aenter__(self) -> Self: ...

    async def __aexit__(self, *exc: object) -> None: ...

    async def begin_update(self, update_id: int, chat_id: int, user_id: int) -> bool:
        """Start handling an incoming update, first thing in the unit of work: record its id (False: a
        repeat, and the caller does nothing else) and make sure no other update of the chat is being
        applied at the same time, in this process or another one sharing the database: a second unit
        of work beginning an update of the same chat waits until this one ends. So a chat's updates are
        applied one at a time, and the same update handled twice at once (a redelivered webhook) is
        applied once: the second handling waits, then finds it recorded."""

    async def commit(self) -> None:
        """Keep everything this unit of work wrote."""
