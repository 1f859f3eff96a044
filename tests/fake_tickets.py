"""TicketRepository of the in-memory unit of work (tests/fake_uow.py), answering as
storage/repositories/tickets.py does: the same orders, limits, ledger and summary rows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from fake_tables import Repository, StoredEvent, StoredTicket, Tables, through_json, utc

from gridcore.deadlines import ReminderPolicy, next_reminder_at
from gridcore.metrics import TicketFacts, WeekTicket
from gridcore.ports import TicketCard
from gridcore.ticket import (
    Action,
    Rating,
    Satisfaction,
    Solved,
    Ticket,
    TicketEvent,
    TicketStatus,
    format_ticket_number,
)
from gridcore.ticket_query import Sort, TicketPage, TicketQuery


def ticket_of(stored: StoredTicket) -> Ticket:
    """A copy to hand out: every field but new_events is immutable."""
    followers = tuple(user_id for _, user_id in sorted(stored.followers, key=lambda f: f[0]))
    return replace(stored.ticket, followers=followers, new_events=[])


def _rating_of(details: dict[str, Any]) -> Rating:
    return Rating(contacted=details.get("contacted"),
                  solved=Solved(details["solved"]) if details.get("solved") else None,
                  satisfaction=Satisfaction(details["satisfaction"]) if details.get("satisfaction") else None,
                  reason=details.get("reason"))


def _newest_first(t: Ticket) -> tuple[datetime, int]:  # sorted in reverse
    return (t.created_at, t.id or 0)


def _nearest_deadline_first(t: Ticket) -> tuple[datetime, int]:
    return (t.feedback_due_at, t.id or 0)


class FakeTicketRepository(Repository):
    async def next_number(self, community_code: str, day: date) -> str:
        sequences = (await self._tables()).sequences
        last = sequences[community_code, day] = sequences.get((community_code, day), 0) + 1
        return format_ticket_number(community_code, day, last)

    async def add(self, ticket: Ticket) -> None:
        if ticket.id is not None:
            raise ValueError(f"ticket {ticket.number} is already stored (id {ticket.id}); use save()")
        tables = await self._tables()
        if ticket.community_code not in tables.communities:
            raise ValueError(f"community {ticket.community_code!r} is not stored")  # a foreign key
        if ticket.number in tables.ticket_ids:
            raise ValueError(f"ticket number {ticket.number} is taken")  # unique
        ticket_id = tables.last_ticket_id + 1
        _store(tables, ticket, ticket_id)
        tables.last_ticket_id = ticket_id
        tables.ticket_ids[ticket.number] = ticket.id = ticket_id

    async def save(self, ticket: Ticket) -> None:
        tables = await self._tables()
        if ticket.id is None:
            ticket_id = tables.ticket_ids.get(ticket.number)
            if ticket_id is None:
                raise LookupError(f"ticket {ticket.number} is not stored; use add()")
            ticket.id = ticket_id
        stored = tables.tickets.get(ticket.id)
        if stored is None:
            raise LookupError(f"ticket {ticket.number} (id {ticket.id}) is not stored")
        _store(tables, ticket, ticket.id, first=stored.ticket)

    async def _where(self, keep: Callable[[Ticket], bool], order: Callable[[Ticket], Any],
                     limit: int | None = None, newest: bool = False) -> list[Ticket]:
        found = (t for t in map(ticket_of, (await self._tables()).tickets.values()) if keep(t))
        return sorted(found, key=order, reverse=newest)[:limit]

    async def get(self, number: str) -> Ticket | None:
        ticket_id = (await self._tables()).ticket_ids.get(number)
        return await self.get_by_id(ticket_id) if ticket_id is not None else None

    async def get_by_id(self, ticket_id: int) -> Ticket | None:
        stored = (await self._tables()).tickets.get(ticket_id)
        return ticket_of(stored) if stored is not None else None

    async def for_resident(self, user_id: int, limit: int = 20) -> list[Ticket]:
        return await self._where(lambda t: t.reporter.user_id == user_id or user_id in t.followers,
                                 _newest_first, limit, newest=True)

    async def find_open_duplicate(self, community_code: str, category_code: str, building_code: str,
                                  since: datetime, unit: str | None = None) -> Ticket | None:
        def same(t: Ticket) -> bool:  # SQL's `building_code = NULL` matches nothing
            return (t.community_code == community_code and t.category_code == category_code
                    and t.location.building_code is not None and t.location.building_code == building_code
                    and t.created_at >= since and t.is_open
                    and (unit is None or t.location.unit is None or t.location.unit == unit))
        found = await self._where(same, _newest_first, 1, newest=True)
        return found[0] if found else None

    async def ledger(self, number: str) -> list[TicketEvent]:
        tables = await self._tables()
        ticket_id = tables.ticket_ids.get(number)
        events = tables.events.get(ticket_id, ()) if ticket_id is not None else ()
        return [replace(e.event, details=through_json(e.event.details)) for e in events]

    async def open_counts(self, community_code: str) -> dict[int, int]:
        counts: dict[int, int] = {}
        for stored in (await self._tables()).tickets.values():
            t = stored.ticket
            if t.community_code == community_code and t.is_open and t.assignee is not None:
                counts[t.assignee] = counts.get(t.assignee, 0) + 1
        return counts

    async def assigned_to(self, user_id: int, limit: int = 50) -> list[Ticket]:
        return await self._where(lambda t: t.assignee == user_id and t.is_open,
                                 _nearest_deadline_first, limit)

    async def open_in(self, community_code: str, grid_code: str | None = None,
                      limit: int = 100) -> list[Ticket]:
        return await self._where(lambda t: t.community_code == community_code and t.is_open
                                 and (grid_code is None or t.grid_code == grid_code),
                                 _nearest_deadline_first, limit)

    async def unrated_since(self, resolved_before: datetime, limit: int = 100,
                            community_code: str | None = None) -> list[Ticket]:
        return await self._where(
            lambda t: t.status is TicketStatus.RESOLVED and t.resolved_at is not None
            and t.resolved_at < resolved_before and community_code in (None, t.community_code),
            lambda t: (t.resolved_at, t.id), limit)

    async def due_for_reminders(self, now: datetime, limit: int = 100,
                                community_code: str | None = None) -> list[Ticket]:
        """Open tickets whose next reminder or 督办 stage is due, the earliest first."""
        due = sorted((s for s in (await self._tables()).tickets.values()
                      if s.next_reminder_at is not None and s.next_reminder_at <= now and s.ticket.is_open
                      and community_code in (None, s.ticket.community_code)),
                     key=lambda s: (s.next_reminder_at, s.ticket.id))
        return [ticket_of(s) for s in due[:limit]]

    async def communities_due(self, now: datetime) -> list[str]:
        tables = await self._tables()
        due = set()
        for stored in tables.tickets.values():
            ticket, community = stored.ticket, tables.communities.get(stored.ticket.community_code)
            reminder_due = (stored.next_reminder_at is not None and stored.next_reminder_at <= now
                            and ticket.is_open)
            unrated_due = (ticket.status is TicketStatus.RESOLVED and ticket.resolved_at is not None
                           and community is not None
                           and ticket.resolved_at < now - timedelta(days=community.rating_days))
            if reminder_due or unrated_due:
                due.add(ticket.community_code)
        return sorted(due)

    async def search(self, query: TicketQuery, now: datetime, *, limit: int | None = 50,
                     offset: int = 0) -> TicketPage:
        tables = await self._tables()

        def keep(t: Ticket) -> bool:
            events = [e.event for e in tables.events.get(t.id or 0, ())] if query.reopened else ()
            return query.matches(t, now, events)

        found = [t for t in map(ticket_of, tables.tickets.values()) if keep(t)]
        newest = sorted(found, key=lambda t: (t.created_at, t.id or 0), reverse=True)
        ordered = {
            Sort.NEWEST: newest,
            Sort.OLDEST: newest[::-1],
            Sort.DUE: sorted(found, key=lambda t: (t.feedback_due_at, t.id or 0)),
            Sort.NUMBER: sorted(found, key=lambda t: t.number),
            Sort.STATUS: sorted(newest, key=lambda t: t.status.value),  # stable: newest first within
        }[query.sort]
        end = None if limit is None else offset + limit
        return TicketPage(ordered[offset:end], len(found))

    async def add_card(self, ticket_id: int, card: TicketCard) -> None:
        tables = await self._tables()
        if ticket_id not in tables.tickets:
            raise ValueError(f"ticket id {ticket_id} is not stored")  # a foreign key
        tables.cards[ticket_id] = (*tables.cards.get(ticket_id, ()), card)

    async def cards(self, ticket_id: int) -> list[TicketCard]:
        return list((await self._tables()).cards.get(ticket_id, ()))

    async def for_summary(self, community_code: str, start: datetime, end: datetime) -> list[WeekTicket]:
        """Tickets filed or resolved in [start, end), open at its end, or rated in it, each with the
        week's last completed rating (and its first, when rated again); by filing time."""
        tables = await self._tables()
        rated = sorted(((ticket_id, e) for ticket_id, events in tables.events.items() for e in events
                        if e.event.action is Action.RATE and start <= e.event.at < end),
                       key=lambda found: (found[1].event.at, found[1].seq))
        ratings: dict[int, tuple[datetime, Rating]] = {}
        firsts: dict[int, tuple[datetime, Rating]] = {}
        for ticket_id, e in rated:
            if ticket_id in ratings:
                firsts.setdefault(ticket_id, ratings[ticket_id])
            ratings[ticket_id] = (e.event.at, _rating_of(dict(e.event.details)))

        def in_week(t: Ticket) -> bool:
            resolved = t.resolved_at
            return t.community_code == community_code and (
                start <= t.created_at < end or (resolved is not None and start <= resolved < end)
                or (t.created_at < end and t.status is not TicketStatus.WITHDRAWN
                    and (resolved is None or resolved >= end))
                or t.id in ratings)

        week = await self._where(in_week, lambda t: (t.created_at, t.id))
        return [_week_ticket(TicketFacts.of(t), ratings.get(t.id or 0), firsts.get(t.id or 0)) for t in week]


def _store(tables: Tables, ticket: Ticket, ticket_id: int, first: Ticket | None = None) -> None:
    """Write the ticket's row (a first version keeps its number, community and filing time), its new
    followers and new events; clears ticket.new_events. The row's next_reminder_at comes from the
    community's policy, as the SQL repository keeps it for the reminder sweep."""
    community = tables.communities.get(ticket.community_code)
    policy = community.reminders if community is not None else ReminderPolicy()
    datetimes = {name: utc(getattr(ticket, name)) for name in (
        "created_at", "feedback_due_at", "accepted_at", "resolved_at", "accept_due_at")}
    row = replace(ticket, **datetimes, id=ticket_id, photos=tuple(ticket.photos),
                  reminders=tuple(ticket.reminders), followers=(), new_events=[])
    if first is not None:
        row = replace(row, number=first.number, community_code=first.community_code,
                      created_at=first.created_at)
    previous = tables.tickets.get(ticket_id)
    followers = list(previous.followers) if previous is not None else []
    known = {user_id for _, user_id in followers}
    for position, user_id in enumerate(ticket.followers):  # stored ones stay, new ones are added
        if user_id not in known:
            known.add(user_id)
            followers.append((position, user_id))
    events = tables.events.get(ticket_id, ())
    new = tuple(
        StoredEvent(len(events) + offset + 1, TicketEvent(
            utc(e.at), e.actor, Action(e.action), TicketStatus(e.from_status) if e.from_status else None,
            TicketStatus(e.to_status), through_json(dict(e.details))))
        for offset, e in enumerate(ticket.new_events))
    tables.tickets[ticket_id] = StoredTicket(row, next_reminder_at(row, policy), tuple(followers))
    tables.events[ticket_id] = events + new
    ticket.new_events.clear()


def _week_ticket(facts: TicketFacts, last: tuple[datetime, Rating] | None,
                 first: tuple[datetime, Rating] | None) -> WeekTicket:
    if last is None:
        return WeekTicket(facts)
    first_at, first_rating = first if first is not None else (None, None)
    return WeekTicket(facts, last[1], last[0], first_rating, first_at)

