"""An in-memory unit of work (gridcore.ports.UnitOfWork): the dialogs and use cases without a database.

    storage = FakeStorage()              # the committed state of every table
    async with storage() as uow:         # calling it makes a unit of work, as uow_factory(engine) does
        ...
        await uow.commit()
    storage.sent_messages(chat_id)       # what was queued for a chat, in order

It imports only gridcore (the tables are in fake_tables.py, the tickets in fake_tickets.py), and keeps
what callers can observe of storage/repositories (test_fake_uow.py makes the same calls on it and on
SQLite and PostgreSQL and compares the answers):
- Transactions run one at a time (as on SQLite: one writer). A unit of work begins one at its first
  read or write (as an AsyncSession does), taking the storage's lock and a copy of the tables (the dicts
  are copied, the rows in them are never changed in place); commit() makes the copy the committed state
  and ends the transaction (the next read begins another); leaving without commit() drops it.
- Repositories hand out copies: a use case changing a Ticket without save() changes nothing stored.
- Datetimes are stored as aware UTC (a naive one is refused); what SQL keeps in JSON columns
  (conversation data and prompts, ledger details) goes through JSON, so a dialog that stores something
  JSON cannot hold fails here as it would on a database.
- Orders and limits are the SQL's: tickets newest first (for_resident), nearest feedback deadline first
  (assigned_to, open_in), oldest due first (due_for_reminders, unrated_since); ties by id.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import datetime, time, timedelta
from typing import Any, Self

from fake_tables import (
    Clock,
    OutboxRow,
    Repository,
    StoredInvite,
    StoredLogin,
    StoredSession,
    Tables,
    utc,
    utc_now,
)
from fake_tickets import FakeTicketRepository, ticket_of

from gridcore.community import Community, Person
from gridcore.console import SESSION_IDLE
from gridcore.conversation import Conversation, Resident
from gridcore.directory import CommunityDirectory
from gridcore.messages import OutgoingMessage
from gridcore.ports import ConsoleSession, Invite, TriageCorrection
from gridcore.staff import person_key
from gridcore.ticket import Ticket


class FakeStorage:
    """The committed tables, and the lock a unit of work holds while it runs. Call it for a new unit
    of work (it is a uow factory)."""

    def __init__(self, clock: Clock = utc_now) -> None:
        self.clock = clock  # stamps what storage stamps itself: unset conversation.updated_at, update log
        self.committed = Tables()
        self.lock = asyncio.Lock()
        self.holder: asyncio.Task[Any] | None = None

    def __call__(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self)

    # What tests read of the committed state.
    def outbox_rows(self) -> list[OutboxRow]:
        return list(self.committed.outbox)

    def sent_messages(self, chat_id: int) -> list[OutgoingMessage]:
        """Every message queued (and committed) for the chat, oldest first."""
        return [row.message for row in self.committed.outbox if row.chat_id == chat_id]

    def residents(self) -> list[Resident]:
        return [replace(r) for r in self.committed.residents.values()]

    def tickets(self) -> list[Ticket]:
        return [ticket_of(stored) for stored in self.committed.tickets.values()]

    def bound_user_ids(self) -> set[int]:
        return set(self.committed.bindings.values())

    def communities(self) -> list[Community]:
        return [_with_bindings(c, self.committed) for c in self.committed.communities.values()]


class FakeUnitOfWork:
    def __init__(self, storage: FakeStorage) -> None:
        self._storage = storage
        self._open = False
        self._tables: Tables | None = None  # the running transaction's copy
        self.roster = FakeRosterRepository(self)
        self.tickets = FakeTicketRepository(self)
        self.conversations = FakeConversationRepository(self)
        self.residents = FakeResidentRepository(self)
        self.outbox = FakeOutbox(self)
        self.updates = FakeUpdateLog(self)
        self.staff = FakeStaffRepository(self)
        self.console = FakeConsoleRepository(self)
        self.corrections = FakeCorrectionRepository(self)

    @property
    def clock(self) -> Clock:
        return self._storage.clock

    async def tables(self) -> Tables:
        """The running transaction's tables. Like an AsyncSession, the unit of work begins a transaction
        at its first read or write (not when it is entered), and again at the first one after commit()."""
        if not self._open:
            raise RuntimeError("the unit of work is not open; use `async with`")
        if self._tables is None:
            storage = self._storage
            task = asyncio.current_task()
            if task is not None and storage.holder is task:
                # On SQLite (one connection) this would wait for the pool until it gave up.
                raise RuntimeError("a unit of work used inside another one's transaction in the same task "
                                   "waits for it forever")
            await storage.lock.acquire()
            storage.holder = task
            self._tables = storage.committed.copy()
        return self._tables

    def _end_transaction(self) -> None:
        if self._tables is not None:
            self._tables = None
            self._storage.holder = None
            self._storage.lock.release()

    async def __aenter__(self) -> Self:
        if self._open:
            raise RuntimeError("a FakeUnitOfWork is not reentrant; make a new one")
        self._open = True
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._open = False
        self._end_transaction()  # anything not committed is dropped

    async def begin_update(self, update_id: int, chat_id: int, user_id: int) -> bool:
        """Record the update (False for a repeat). The chat needs no lock of its own: transactions
        already run one at a time."""
        return await self.updates.record(update_id)

    async def commit(self) -> None:
        if not self._open:
            raise RuntimeError("the unit of work is not open; use `async with`")
        if self._tables is not None:
            self._storage.committed = self._tables
        self._end_transaction()

    async def rollback(self) -> None:
        if not self._open:
            raise RuntimeError("the unit of work is not open; use `async with`")
        self._end_transaction()


# --- roster and staff ----------------------------------------------------------------------------


def _as_stored(community: Community) -> Community:
    """What the roster tables keep: announcement times to the minute, deadlines in whole seconds."""
    for kind, items in (("grids", community.grids), ("buildings", community.buildings),
                        ("categories", community.categories)):
        codes = [item.code for item in items]
        for code in codes:
            if codes.count(code) > 1:
                raise ValueError(f"{kind}: code {code!r} appears twice in {community.code}")
    return replace(
        community,
        announcements=tuple(replace(a, at=time(a.at.hour, a.at.minute)) for a in community.announcements),
        categories=tuple(
            replace(c, feedback_deadline=timedelta(seconds=int(c.feedback_deadline.total_seconds())))
            for c in community.categories))


def _with_bindings(community: Community, tables: Tables) -> Community:
    """An entry without a Telegram id takes the one an invite bound to it (roster ids win)."""
    def bound(person: Person) -> Person:
        user_id = tables.bindings.get((community.code, person_key(person)))
        if person.telegram_user_id is None and user_id is not None:
            return replace(person, telegram_user_id=user_id)
        return person

    return replace(community, staff=tuple(bound(p) for p in community.staff))


class FakeRosterRepository(Repository):
    async def upsert(self, community: Community) -> None:
        (await self._tables()).communities[community.code] = _as_stored(community)

    async def get(self, code: str) -> Community | None:
        tables = await self._tables()
        community = tables.communities.get(code)
        return _with_bindings(community, tables) if community is not None else None

    async def list_codes(self) -> list[str]:
        return sorted((await self._tables()).communities)

    async def directory(self) -> CommunityDirectory:
        tables = await self._tables()
        return CommunityDirectory.of(_with_bindings(c, tables) for c in tables.communities.values())


class FakeStaffRepository(Repository):
    async def add_invite(self, invite: Invite) -> None:
        invites = (await self._tables()).invites
        if invite.code in invites:
            raise ValueError(f"invite {invite.code!r} exists")  # the primary key
        invites[invite.code] = StoredInvite(
            replace(invite, created_at=utc(invite.created_at), expires_at=utc(invite.expires_at)))

    async def take_invite(self, code: str, user_id: int, at: datetime) -> Invite | None:
        invites = (await self._tables()).invites
        at = utc(at)
        stored = invites.get(code)
        if stored is None or stored.used_at is not None or not stored.invite.expires_at > at:
            return None
        invites[code] = replace(stored, used_at=at, used_by=user_id)
        return stored.invite

    async def bind(self, community_code: str, person_key: str, user_id: int, at: datetime) -> None:
        utc(at)
        (await self._tables()).bindings[community_code, person_key] = user_id

    async def bound(self, community_code: str) -> dict[str, int]:
        bindings = (await self._tables()).bindings
        return {key: user_id for (code, key), user_id in bindings.items() if code == community_code}


class FakeConsoleRepository(Repository):
    async def add_login(self, token_hash: str, user_id: int, created_at: datetime,
                        expires_at: datetime) -> None:
        logins = (await self._tables()).console_logins
        if token_hash in logins:
            raise ValueError("login exists")  # the primary key
        utc(created_at)
        logins[token_hash] = StoredLogin(user_id, utc(expires_at))

    async def take_login(self, token_hash: str, at: datetime) -> int | None:
        logins = (await self._tables()).console_logins
        stored = logins.get(token_hash)
        if stored is None or stored.used_at is not None or not stored.expires_at > utc(at):
            return None
        logins[token_hash] = replace(stored, used_at=utc(at))
        return stored.user_id

    async def add_session(self, session_hash: str, session: ConsoleSession) -> None:
        stored = replace(session, created_at=utc(session.created_at), last_seen_at=utc(session.last_seen_at),
                         expires_at=utc(session.expires_at))
        (await self._tables()).console_sessions[session_hash] = StoredSession(stored)

    async def get_session(self, session_hash: str, at: datetime) -> ConsoleSession | None:
        sessions = (await self._tables()).console_sessions
        stored, at = sessions.get(session_hash), utc(at)
        if (stored is None or stored.ended_at is not None or not stored.session.expires_at > at
                or not stored.session.last_seen_at > at - SESSION_IDLE):
            return None
        session = replace(stored.session, last_seen_at=at)
        sessions[session_hash] = StoredSession(session)
        return session

    async def end_session(self, session_hash: str, at: datetime) -> None:
        sessions = (await self._tables()).console_sessions
        stored = sessions.get(session_hash)
        if stored is not None and stored.ended_at is None:
            sessions[session_hash] = replace(stored, ended_at=utc(at))


class FakeCorrectionRepository(Repository):
    async def add(self, correction: TriageCorrection) -> None:
        (await self._tables()).corrections.append(replace(correction, at=utc(correction.at)))

    async def for_community(self, community_code: str, limit: int) -> list[TriageCorrection]:
        added = enumerate((await self._tables()).corrections)
        mine = [(c.at, i, c) for i, c in added if c.community_code == community_code]
        return [c for _, _, c in sorted(mine, key=lambda t: (t[0], t[1]), reverse=True)][:limit]


# --- conversations, residents, outbox, update log ------------------------------------------------


class FakeConversationRepository(Repository):
    async def get(self, chat_id: int) -> Conversation | None:
        stored = (await self._tables()).conversations.get(chat_id)
        if stored is None:
            return None
        conversation, state = stored
        data, prompts = json.loads(state)
        return replace(conversation, data=data, prompts=prompts)

    async def save(self, conversation: Conversation) -> None:
        """Insert or replace; stamps updated_at with the clock when the dialog left it unset."""
        conversations = (await self._tables()).conversations
        if conversation.updated_at is None:
            conversation.updated_at = self._uow.clock()
        state = json.dumps([dict(conversation.data), list(conversation.prompts)])
        row = replace(conversation, data={}, prompts=[], updated_at=utc(conversation.updated_at))
        conversations[conversation.chat_id] = (row, state)


class FakeResidentRepository(Repository):
    async def get(self, user_id: int) -> Resident | None:
        resident = (await self._tables()).residents.get(user_id)
        return replace(resident) if resident is not None else None

    async def save(self, resident: Resident) -> None:
        (await self._tables()).residents[resident.user_id] = replace(resident)


class FakeOutbox(Repository):
    async def add(self, message: OutgoingMessage) -> int:
        tables = await self._tables()
        tables.last_outbox_id += 1
        tables.outbox.append(OutboxRow(tables.last_outbox_id, message.chat_id, message, self._uow.clock()))
        return tables.last_outbox_id


class FakeUpdateLog(Repository):
    async def record(self, update_id: int) -> bool:
        updates = (await self._tables()).updates
        if update_id in updates:
            return False
        updates[update_id] = self._uow.clock()
        return True
