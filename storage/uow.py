"""SqlUnitOfWork: one AsyncSession, one transaction (gridcore.ports.UnitOfWork).

    make_uow = uow_factory(engine)
    async with make_uow() as uow:
        if not await uow.updates.record(update_id):
            return
        ...
        await uow.commit()
    # leaving without commit() rolls everything back
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Self

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from gridcore.errors import RepeatedUpdate
from gridcore.ticket import Ticket
from storage.outbox_store import Handoff
from storage.repositories import (
    SqlConversationRepository,
    SqlOutbox,
    SqlResidentRepository,
    SqlRosterRepository,
    SqlStaffRepository,
    SqlTicketRepository,
    SqlUpdateLog,
)
from storage.repositories._sql import Clock, SessionConnection, utc_now
from storage.repositories.chats import begin_update
from storage.repositories.closing import ClosingWrites
from storage.repositories.numbering import take_number
from storage.roster_cache import RosterCache, RosterView, cache_for


class SqlUnitOfWork:
    roster: SqlRosterRepository
    tickets: SqlTicketRepository
    conversations: SqlConversationRepository
    residents: SqlResidentRepository
    outbox: SqlOutbox
    updates: SqlUpdateLog
    staff: SqlStaffRepository

    def __init__(
        self, session_factory: async_sessionmaker[AsyncSession], dialect_name: str, clock: Clock = utc_now,
        roster_cache: RosterCache | None = None, handoff: Handoff | None = None,
    ) -> None:
        self._session_factory = session_factory
        self._dialect = dialect_name
        self._clock = clock
        self._roster_cache = roster_cache
        self._handoff = handoff
        self._roster_view: RosterView | None = None
        self._session: AsyncSession | None = None
        self._closing: ClosingWrites | None = None

    @property
    def session(self) -> AsyncSession:
        """The open session, for storage-level code and tests; use cases go through the repositories."""
        if self._session is None:
            raise RuntimeError("the unit of work is not open; use `async with`")
        return self._session

    async def __aenter__(self) -> Self:
        if self._session is not None:
            raise RuntimeError("a SqlUnitOfWork is not reentrant; make a new one")
        session = self._session_factory()
        self._session = session
        # PostgreSQL holds an update's last writes back to send them with its record in one statement.
        closing = self._closing = ClosingWrites() if self._dialect == "postgresql" else None
        db = self._db = SessionConnection(session, closing)
        clock = self._clock
        view = self._roster_view = RosterView(self._roster_cache) if self._roster_cache is not None else None
        self.roster = SqlRosterRepository(session, view)
        self.tickets = SqlTicketRepository(db, self._dialect, clock)
        self.conversations = SqlConversationRepository(db, self._dialect, clock)
        self.residents = SqlResidentRepository(db, self._dialect)
        self.outbox = SqlOutbox(db, self._dialect, clock, self._handoff)
        self.updates = SqlUpdateLog(db, self._dialect, clock)
        self.staff = SqlStaffRepository(db, self._dialect, view)
        return self

    async def __aexit__(self, *exc: object) -> None:
        session = self.session
        self._session = None
        try:
            await session.rollback()  # a no-op after commit(); discards anything uncommitted
        finally:
            await session.close()

    async def begin_update(self, update_id: int, chat_id: int, user_id: int) -> bool:
        recorded = await begin_update(self._db, self._dialect, self._clock, update_id, chat_id, user_id,
                                      self.conversations, self.residents)
        return await self.updates.record(update_id) if recorded is None else recorded

    async def number_ticket(self, ticket: Ticket, day: date) -> str:
        stand_in = ticket.number
        number = await take_number(self._db, self._dialect, ticket, day, self.outbox.showing(stand_in),
                                   self.tickets.next_sequence)
        self.outbox.replaced(stand_in, number)
        ticket.number = number
        return number

    async def commit(self) -> None:
        session = self.session
        if self._closing is not None and not await self._db.close_update():
            await session.rollback()
            raise RepeatedUpdate("the update was recorded meanwhile; nothing of this unit of work was kept")
        await session.commit()
        if self._roster_view is not None:
            self._roster_view.committed()
        self.outbox.committed()

    async def rollback(self) -> None:
        if self._closing is not None:
            self._closing.discard()
        await self.session.rollback()


def uow_factory(engine: AsyncEngine, *, clock: Clock = utc_now,
                handoff: Handoff | None = None) -> Callable[[], SqlUnitOfWork]:
    """A callable making a fresh unit of work per update. `clock` stamps technical columns
    (outbox.created_at, processed_updates.at, tickets.updated_at, unset conversation.updated_at).
    The roster is read through the engine's cache (storage.roster_cache). With a `handoff`, queued
    messages go straight to this process's sender (storage.outbox_store.Handoff)."""
    sessions = async_sessionmaker(engine, expire_on_commit=False, autoflush=True)
    dialect_name = engine.dialect.name
    roster_cache = cache_for(engine)

    def make() -> SqlUnitOfWork:
        return SqlUnitOfWork(sessions, dialect_name, clock, roster_cache, handoff)

    return make
