"""SqlUnitOfWork: one AsyncSession, one transaction (gridcore.ports.UnitOfWork).

    make_uow = uow_factory(engine)
    async with make_uow() as uow:
        if not await uow.begin_update(update_id, chat_id, user_id):
            return                       # a repeat: nothing else happens
        ...                              # reads and writes through the repositories
        await uow.commit()
    # leaving without commit() rolls everything back
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Self

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.repositories import (
    SqlConsoleRepository,
    SqlConversationRepository,
    SqlCorrectionRepository,
    SqlOutbox,
    SqlResidentRepository,
    SqlRosterRepository,
    SqlStaffRepository,
    SqlTicketRepository,
    SqlUpdateLog,
)
from storage.repositories._sql import Clock, utc_now
from storage.roster_cache import RosterCache, RosterView, cache_for

# PostgreSQL advisory locks taken by gridbot use the two-int form, pg_advisory_xact_lock(class, key): its
# key space is apart from the one-bigint form's, and the first int names what is locked, so no two
# kinds of lock (nor another user of advisory locks with its own class id) can meet. CHAT_LOCK names a
# chat; the chat id (Telegram's, up to 52 bits, negative for groups) is folded into the second int. Two
# chats folded onto one key only wait for each other now and then; one chat always gets one key.
CHAT_LOCK = 0x63686174  # "chat"


def chat_lock_key(chat_id: int) -> int:
    """The chat id folded into a signed 32-bit int: its high half XOR its low half."""
    folded = ((chat_id >> 32) ^ chat_id) & 0xFFFFFFFF
    return folded - (1 << 32) if folded >= 1 << 31 else folded


class SqlUnitOfWork:
    roster: SqlRosterRepository
    tickets: SqlTicketRepository
    conversations: SqlConversationRepository
    residents: SqlResidentRepository
    outbox: SqlOutbox
    updates: SqlUpdateLog
    staff: SqlStaffRepository
    console: SqlConsoleRepository
    corrections: SqlCorrectionRepository

    def __init__(self, session_factory: async_sessionmaker[AsyncSession], dialect_name: str,
                 clock: Clock = utc_now, roster_cache: RosterCache | None = None,
                 notify_outbox: bool = True) -> None:
        self._session_factory = session_factory
        self._dialect = dialect_name
        self._clock = clock
        self._roster_cache = roster_cache
        self._notify_outbox = notify_outbox
        self._roster_view: RosterView | None = None
        self._session: AsyncSession | None = None

    @property
    def session(self) -> AsyncSession:
        """The open session, for storage-level code and tests; use cases go through the repositories."""
        if self._session is None:
            raise RuntimeError("the unit of work is not open; use `async with`")
        return self._session

    async def __aenter__(self) -> Self:
        if self._session is not None:
            raise RuntimeError("a SqlUnitOfWork is not reentrant; make a new one")
        session = self._session = self._session_factory()
        dialect, clock = self._dialect, self._clock
        view = self._roster_view = RosterView(self._roster_cache) if self._roster_cache is not None else None
        self.roster = SqlRosterRepository(session, view)
        self.tickets = SqlTicketRepository(session, dialect, clock)
        self.conversations = SqlConversationRepository(session, dialect, clock)
        self.residents = SqlResidentRepository(session, dialect)
        self.outbox = SqlOutbox(session, dialect, clock, notify=self._notify_outbox)
        self.updates = SqlUpdateLog(session, dialect, clock)
        self.staff = SqlStaffRepository(session, dialect, view)
        self.console = SqlConsoleRepository(session)
        self.corrections = SqlCorrectionRepository(session)
        return self

    async def __aexit__(self, *exc: object) -> None:
        session = self.session
        self._session = None
        try:
            await session.rollback()  # a no-op after commit(); discards anything uncommitted
        finally:
            await session.close()

    async def begin_update(self, update_id: int, chat_id: int, user_id: int) -> bool:
        """Lock the chat (PostgreSQL), then record the update; False for a repeat.

        The chat's lock is held until this transaction ends, so two updates of one chat are never applied
        at once, in this process or another one on the same database. SQLite needs none: the transaction
        holds the database's write lock from its first statement (BEGIN IMMEDIATE). The chat, not the
        sender (`user_id`), is what is serialised: a conversation belongs to a chat."""
        if self._dialect == "postgresql":
            return await self.updates.lock_chat_and_record(update_id, CHAT_LOCK, chat_lock_key(chat_id))
        return await self.updates.record(update_id)

    async def commit(self) -> None:
        await self.session.commit()
        if self._roster_view is not None:
            self._roster_view.committed()

    async def rollback(self) -> None:
        await self.session.rollback()


def uow_factory(engine: AsyncEngine, *, clock: Clock = utc_now,
                notify_outbox: bool = True) -> Callable[[], SqlUnitOfWork]:
    """A callable making a fresh unit of work per update. `clock` stamps technical columns
    (outbox.created_at, processed_updates.at, tickets.updated_at, unset conversation.updated_at).
    The roster is read through the engine's cache (storage.roster_cache). `notify_outbox` (PostgreSQL):
    a transaction that queues messages NOTIFYs the sending process, which may be another one; a
    deployment of one process, whose commits wake its own sender, turns it off."""
    sessions = async_sessionmaker(engine, expire_on_commit=False, autoflush=True)
    dialect_name = engine.dialect.name
    roster_cache = cache_for(engine)

    def make() -> SqlUnitOfWork:
        return SqlUnitOfWork(sessions, dialect_name, clock, roster_cache, notify_outbox)

    return make
