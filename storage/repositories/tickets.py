"""TicketRepository: tickets, their followers, the daily numbers and the append-only ledger."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Table, and_, bindparam, func, insert, or_, select, union, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from gridcore.deadlines import ReminderPolicy
from gridcore.metrics import TicketFacts, WeekTicket
from gridcore.ports import TicketCard
from gridcore.ticket import (
    OPEN_STATUSES,
    Action,
    Rating,
    Ticket,
    TicketEvent,
    TicketStatus,
    format_ticket_number,
)
from gridcore.ticket_query import TicketPage, TicketQuery
from storage.models import (
    CommunityRow,
    TicketCardRow,
    TicketEventRow,
    TicketFollowerRow,
    TicketRow,
    TicketSequenceRow,
)
from storage.repositories import ticket_search
from storage.repositories._sql import Clock, dialect_insert, utc_now
from storage.repositories.roster_rows import policy_from_json
from storage.repositories.ticket_rows import (
    FACT_COLUMNS,
    event_from_row,
    facts_from_rows,
    mutable_values,
    rating_from_json,
    ticket_from_row,
)

tickets: Table = TicketRow.__table__  # type: ignore[assignment]
events: Table = TicketEventRow.__table__  # type: ignore[assignment]
followers: Table = TicketFollowerRow.__table__  # type: ignore[assignment]
sequences: Table = TicketSequenceRow.__table__  # type: ignore[assignment]
cards: Table = TicketCardRow.__table__  # type: ignore[assignment]

_OPEN = sorted(status.value for status in OPEN_STATUSES)
_RATING_KEYS = ("contacted", "solved", "satisfaction", "reason")  # what rating_from_json reads
_CHUNK = 5000  # ids per IN (...) list

# The statements of a filing and of a worker's press are built once and executed with parameters.
_insert_ticket = insert(tickets).returning(tickets.c.id)
_update_ticket = update(tickets).where(tickets.c.id == bindparam("ticket_id"))  # SET: the parameters
_insert_followers = insert(followers)
_insert_events = insert(events)
_insert_card = insert(cards)
_followers_of = select(followers.c.user_id).where(followers.c.ticket_id == bindparam("ticket_id"))
_followers_of_tickets = (select(followers.c.ticket_id, followers.c.user_id)
                         .where(followers.c.ticket_id.in_(bindparam("ids", expanding=True)))
                         .order_by(followers.c.ticket_id, followers.c.position))
_last_seq = (select(func.coalesce(func.max(events.c.seq), 0))
             .where(events.c.ticket_id == bindparam("ticket_id")))
_reminders_of = select(CommunityRow.reminders).where(CommunityRow.code == bindparam("code"))
_cards_of = (select(cards.c.chat_id, cards.c.outbox_id, cards.c.kind)
             .where(cards.c.ticket_id == bindparam("ticket_id")).order_by(cards.c.id))
_duplicate_of = (
    tickets.c.community_code == bindparam("community"),
    tickets.c.category_code == bindparam("category"),
    tickets.c.building_code == bindparam("building"),
    tickets.c.created_at >= bindparam("since", type_=tickets.c.created_at.type),
    tickets.c.status.in_(_OPEN),
)
_open_duplicate = (
    select(tickets).where(*_duplicate_of).order_by(tickets.c.created_at.desc(), tickets.c.id.desc()).limit(1)
)
# The same, in one unit: a ticket of that unit, or one that names no unit.
_open_duplicate_in_unit = (
    select(tickets)
    .where(*_duplicate_of, or_(tickets.c.unit == bindparam("unit"), tickets.c.unit.is_(None)))
    .order_by(tickets.c.created_at.desc(), tickets.c.id.desc())
    .limit(1)
)
_open_counts = (select(tickets.c.assignee, func.count())
                .where(tickets.c.community_code == bindparam("community"), tickets.c.status.in_(_OPEN),
                       tickets.c.assignee.is_not(None))
                .group_by(tickets.c.assignee))


@cache
def _next_sequence(dialect_name: str) -> Any:
    """Take the day's next sequence number: the counter row is created at 1 or incremented, and locked
    until the transaction ends (on SQLite the whole database is, BEGIN IMMEDIATE)."""
    stmt = dialect_insert(dialect_name, sequences).values(
        community_code=bindparam("community"), day=bindparam("day", type_=sequences.c.day.type), last=1)
    return stmt.on_conflict_do_update(
        index_elements=[sequences.c.community_code, sequences.c.day],
        set_={"last": sequences.c.last + 1},
    ).returning(sequences.c.last)


@cache
def _ticket_where(dialect_name: str, column: str) -> Any:
    """The ticket whose `column` is the parameter "key", loaded to be changed: its row is locked until the
    transaction ends, so two changes (a worker's press, a delivery failure) are made one after the other
    and neither is lost. SQLite needs no row lock: its write transactions already run one at a time
    (BEGIN IMMEDIATE)."""
    stmt = select(tickets).where(tickets.c[column] == bindparam("key"))
    return stmt.with_for_update(of=tickets) if dialect_name == "postgresql" else stmt


class SqlTicketRepository:
    def __init__(self, session: AsyncSession, dialect_name: str, clock: Clock = utc_now) -> None:
        self._session = session
        self._dialect = dialect_name
        self._clock = clock
        self._policies: dict[str, ReminderPolicy] = {}

    async def next_number(self, community_code: str, day: date) -> str:
        """The day's next ticket number. The counter row stays locked by this transaction until it ends:
        a concurrent filing of the same community and day waits for the commit (then takes the next
        number) or the rollback (then takes this one): numbers are consecutive, without gaps."""
        last = await self._session.scalar(_next_sequence(self._dialect),
                                          {"community": community_code, "day": day})
        return format_ticket_number(community_code, day, int(last))

    async def add(self, ticket: Ticket) -> None:
        if ticket.id is not None:
            raise ValueError(f"ticket {ticket.number} is already stored (id {ticket.id}); use save()")
        values = {
            **mutable_values(ticket, await self._policy(ticket.community_code)),
            "number": ticket.number,
            "community_code": ticket.community_code,
            "created_at": ticket.created_at,
            "updated_at": self._clock(),
        }
        result = await self._session.execute(_insert_ticket, values)
        ticket.id = int(result.scalar_one())
        await self._add_followers(ticket.id, ticket.followers, already=())
        await self._append_events(ticket, first_seq=1)

    async def save(self, ticket: Ticket) -> None:
        ticket_id = ticket.id
        if ticket_id is None:
            ticket_id = await self._session.scalar(
                select(tickets.c.id).where(tickets.c.number == ticket.number)
            )
            if ticket_id is None:
                raise LookupError(f"ticket {ticket.number} is not stored; use add()")
            ticket.id = ticket_id
        result = await self._session.execute(_update_ticket, {
            **mutable_values(ticket, await self._policy(ticket.community_code)),
            "updated_at": self._clock(), "ticket_id": ticket_id,
        })
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise LookupError(f"ticket {ticket.number} (id {ticket_id}) is not stored")
        stored = await self._session.scalars(_followers_of, {"ticket_id": ticket_id})
        await self._add_followers(ticket_id, ticket.followers, already=tuple(stored))
        if ticket.new_events:
            last = await self._session.scalar(_last_seq, {"ticket_id": ticket_id})
            await self._append_events(ticket, first_seq=int(last or 0) + 1)

    async def _add_followers(self, ticket_id: int, user_ids: Sequence[int], already: Sequence[int]) -> None:
        known = set(already)
        rows = []
        for position, user_id in enumerate(user_ids):
            if user_id not in known:
                known.add(user_id)
                rows.append({"ticket_id": ticket_id, "user_id": user_id, "position": position})
        if rows:
            await self._session.execute(_insert_followers, rows)

    async def _append_events(self, ticket: Ticket, first_seq: int) -> None:
        if not ticket.new_events:
            return
        rows = [
            {
                "ticket_id": ticket.id,
                "seq": first_seq + offset,
                "at": event.at,
                "actor": event.actor,
                "action": event.action.value,
                "from_status": event.from_status.value if event.from_status is not None else None,
                "to_status": event.to_status.value,
                "details": dict(event.details),
            }
            for offset, event in enumerate(ticket.new_events)
        ]
        # The unique (ticket_id, seq) constraint makes a concurrent save of the same ticket fail
        # instead of interleaving two histories.
        await self._session.execute(_insert_events, rows)
        ticket.new_events.clear()

    async def _load(self, rows: Sequence[Row[Any]]) -> list[Ticket]:
        if not rows:
            return []
        ids = [row.id for row in rows]
        by_ticket: dict[int, list[int]] = defaultdict(list)
        # In chunks: a summary loads thousands of tickets, and drivers cap bound parameters (~32k).
        for first in range(0, len(ids), _CHUNK):
            result = await self._session.execute(_followers_of_tickets, {"ids": ids[first:first + _CHUNK]})
            for ticket_id, user_id in result:
                by_ticket[ticket_id].append(user_id)
        return [ticket_from_row(row, by_ticket[row.id]) for row in rows]

    async def _policy(self, community_code: str) -> ReminderPolicy:
        """The community's reminder policy (read once per unit of work)."""
        if community_code not in self._policies:
            data = await self._session.scalar(_reminders_of, {"code": community_code})
            self._policies[community_code] = policy_from_json(data)
        return self._policies[community_code]

    async def get(self, number: str) -> Ticket | None:
        result = await self._session.execute(_ticket_where(self._dialect, "number"), {"key": number})
        loaded = await self._load(result.all())
        return loaded[0] if loaded else None

    async def get_by_id(self, ticket_id: int) -> Ticket | None:
        result = await self._session.execute(_ticket_where(self._dialect, "id"), {"key": ticket_id})
        loaded = await self._load(result.all())
        return loaded[0] if loaded else None

    async def for_resident(self, user_id: int, limit: int = 20) -> Sequence[Ticket]:
        """The newest tickets the resident reported or follows. Each side reads only its newest `limit`
        from its own index (reporter_user_id, created_at / followers.user_id); an OR of the two made
        PostgreSQL scan every ticket."""
        newest = (tickets.c.created_at.desc(), tickets.c.id.desc())
        reported = (select(tickets.c.id).where(tickets.c.reporter_user_id == user_id)
                    .order_by(*newest).limit(limit).subquery())
        followed = (select(tickets.c.id).join(followers, followers.c.ticket_id == tickets.c.id)
                    .where(followers.c.user_id == user_id).order_by(*newest).limit(limit).subquery())
        mine = union(select(reported.c.id), select(followed.c.id)).subquery()
        result = await self._session.execute(
            select(tickets).join(mine, mine.c.id == tickets.c.id).order_by(*newest).limit(limit)
        )
        return await self._load(result.all())

    async def find_open_duplicate(
        self, community_code: str, category_code: str, building_code: str, since: datetime,
        unit: str | None = None,
    ) -> Ticket | None:
        params: dict[str, Any] = {
            "community": community_code, "category": category_code, "building": building_code, "since": since,
        }
        if unit is not None:
            params["unit"] = unit
        statement = _open_duplicate if unit is None else _open_duplicate_in_unit
        result = await self._session.execute(statement, params)
        loaded = await self._load(result.all())
        return loaded[0] if loaded else None

    async def ledger(self, number: str) -> Sequence[TicketEvent]:
        result = await self._session.execute(
            select(events)
            .join(tickets, tickets.c.id == events.c.ticket_id)
            .where(tickets.c.number == number)
            .order_by(events.c.seq)
        )
        return [event_from_row(row) for row in result]

    async def ledgers(self, ticket_ids: Sequence[int]) -> dict[int, list[TicketEvent]]:
        """One query per _CHUNK tickets (drivers cap bound parameters), not one per ticket."""
        found: dict[int, list[TicketEvent]] = {}
        ids = sorted(set(ticket_ids))
        for first in range(0, len(ids), _CHUNK):
            result = await self._session.execute(
                select(events).where(events.c.ticket_id.in_(ids[first:first + _CHUNK]))
                .order_by(events.c.ticket_id, events.c.seq))
            for row in result:
                found.setdefault(row.ticket_id, []).append(event_from_row(row))
        return found

    async def open_counts(self, community_code: str) -> dict[int, int]:
        """Open tickets per assignee (Telegram user id): routing gives new work to the least busy."""
        result = await self._session.execute(_open_counts, {"community": community_code})
        return {int(assignee): int(count) for assignee, count in result}

    async def assigned_to(self, user_id: int, limit: int = 50) -> Sequence[Ticket]:
        """A staff member's open tickets, nearest feedback deadline first."""
        result = await self._session.execute(
            select(tickets)
            .where(tickets.c.assignee == user_id, tickets.c.status.in_(_OPEN))
            .order_by(tickets.c.feedback_due_at, tickets.c.id)
            .limit(limit)
        )
        return await self._load(result.all())

    async def open_in(self, community_code: str, grid_code: str | None = None,
                      limit: int = 100) -> Sequence[Ticket]:
        """Open tickets of the community (or of one grid), nearest feedback deadline first."""
        conditions = [tickets.c.community_code == community_code, tickets.c.status.in_(_OPEN)]
        if grid_code is not None:
            conditions.append(tickets.c.grid_code == grid_code)
        result = await self._session.execute(
            select(tickets).where(*conditions).order_by(tickets.c.feedback_due_at, tickets.c.id).limit(limit)
        )
        return await self._load(result.all())

    async def unrated_since(self, resolved_before: datetime, limit: int = 100,
                            community_code: str | None = None) -> Sequence[Ticket]:
        """Resolved tickets still waiting for their rating, resolved before the given moment."""
        stmt = (select(tickets)
                .where(tickets.c.status == TicketStatus.RESOLVED.value,
                       tickets.c.resolved_at < resolved_before)
                .order_by(tickets.c.resolved_at, tickets.c.id).limit(limit))
        if community_code is not None:
            stmt = stmt.where(tickets.c.community_code == community_code)
        return await self._load((await self._session.execute(stmt)).all())

    async def search(self, query: TicketQuery, now: datetime, *, limit: int | None = 50,
                     offset: int = 0) -> TicketPage:
        where = ticket_search.conditions(query, now)
        total = await self._session.scalar(select(func.count()).select_from(tickets).where(*where))
        stmt = select(tickets).where(*where).order_by(*ticket_search.order(query.sort)).offset(offset)
        result = await self._session.execute(stmt if limit is None else stmt.limit(limit))
        return TicketPage(await self._load(result.all()), int(total or 0))

    async def add_card(self, ticket_id: int, card: TicketCard) -> None:
        await self._session.execute(_insert_card, {"ticket_id": ticket_id, "chat_id": card.chat_id,
                                              "outbox_id": card.outbox_id, "kind": card.kind})

    async def cards(self, ticket_id: int) -> list[TicketCard]:
        result = await self._session.execute(_cards_of, {"ticket_id": ticket_id})
        return [TicketCard(chat_id, outbox_id, kind) for chat_id, outbox_id, kind in result]

    async def due_for_reminders(self, now: datetime, limit: int = 100,
                                community_code: str | None = None) -> Sequence[Ticket]:
        """Tickets whose next reminder or 督办 stage is due, oldest first, locked for this transaction
        (on PostgreSQL, rows another sweeper holds are skipped)."""
        stmt = (select(tickets).where(tickets.c.next_reminder_at <= now, tickets.c.status.in_(_OPEN))
                .order_by(tickets.c.next_reminder_at, tickets.c.id).limit(limit))
        if community_code is not None:
            stmt = stmt.where(tickets.c.community_code == community_code)
        if self._dialect == "postgresql":
            stmt = stmt.with_for_update(of=tickets, skip_locked=True)
        return await self._load((await self._session.execute(stmt)).all())

    async def communities_due(self, now: datetime) -> list[str]:
        """Both halves read an index range of the few tickets in question (next_reminder_at; status and
        resolved_at), never a community's history."""
        reminders = select(tickets.c.community_code).where(
            tickets.c.next_reminder_at <= now, tickets.c.status.in_(_OPEN)).distinct()
        due = set((await self._session.scalars(reminders)).all())
        oldest = (select(tickets.c.community_code, func.min(tickets.c.resolved_at))
                  .where(tickets.c.status == TicketStatus.RESOLVED.value)
                  .group_by(tickets.c.community_code))
        resolved = dict((await self._session.execute(oldest)).all())
        if resolved:
            days = select(CommunityRow.code, CommunityRow.rating_days).where(CommunityRow.code.in_(resolved))
            for code, rating_days in (await self._session.execute(days)).all():
                if resolved[code] < now - timedelta(days=rating_days):
                    due.add(code)
        return sorted(due)

    async def for_summary(self, community_code: str, start: datetime, end: datetime) -> list[WeekTicket]:
        """What a summary of [start, end) needs: tickets filed or resolved in it, open at its end, or
        rated in it (a RATE event in the ledger), each with the last rating completed in it. Older
        history is not loaded: the ids come from a UNION of indexed ranges (one per condition, so each
        uses its own index instead of one scan of the community's tickets)."""
        in_community = tickets.c.community_code == community_code
        counted = and_(in_community, tickets.c.created_at < end,
                       tickets.c.status != TicketStatus.WITHDRAWN.value)
        rated_in_week = and_(events.c.action == Action.RATE.value, events.c.at >= start, events.c.at < end)
        created, resolved = tickets.c.created_at, tickets.c.resolved_at
        # The week's ratings first (the last one of each ticket wins): their tickets are also the week's,
        # and reading the ledger once spares the UNION a second pass over the week's events. Only this
        # community's: on a database of many communities the week's ratings are mostly other ones'.
        found = await self._session.execute(
            select(events.c.ticket_id, events.c.at, events.c.details)
            .join(tickets, tickets.c.id == events.c.ticket_id)
            .where(rated_in_week, in_community).order_by(events.c.at, events.c.seq)
        )
        known: dict[tuple[Any, ...], Rating | None] = {}  # a few answers repeat thousands of times
        ratings: dict[int, tuple[datetime, Rating | None]] = {}
        firsts: dict[int, tuple[datetime, Rating | None]] = {}  # the week's first, when rated again
        for ticket_id, at, details in found:
            key = tuple(details.get(name) for name in _RATING_KEYS)
            if key not in known:
                known[key] = rating_from_json(dict(details))
            if ticket_id in ratings:
                firsts.setdefault(ticket_id, ratings[ticket_id])
            ratings[ticket_id] = (at, known[key])
        in_week = union(
            select(tickets.c.id).where(in_community, created >= start, created < end),
            select(tickets.c.id).where(in_community, resolved >= start, resolved < end),
            # open at the end of the week: not resolved by then (not yet, or only later)
            select(tickets.c.id).where(counted, tickets.c.resolved_at.is_(None)),
            select(tickets.c.id).where(counted, tickets.c.resolved_at >= end),
        )
        # The ids first, then the rows by primary key in chunks: a join of the UNION with tickets lets
        # PostgreSQL guess a hash join over a scan of every ticket.
        # Only the columns the summary reads, as small tuples (TicketFacts), not Tickets with followers.
        ids = sorted(set((await self._session.scalars(in_week)).all()).union(ratings))
        loaded: list[TicketFacts] = []
        for first in range(0, len(ids), _CHUNK):
            result = await self._session.execute(
                select(*FACT_COLUMNS).where(tickets.c.id.in_(ids[first:first + _CHUNK]), in_community))
            loaded.extend(facts_from_rows(result))
        del ids
        loaded.sort(key=lambda t: (t.created_at, t.id))
        return [WeekTicket(t, ratings[t.id][1], ratings[t.id][0], *reversed(firsts.get(t.id, (None, None))))
                if t.id in ratings else WeekTicket(t) for t in loaded]
