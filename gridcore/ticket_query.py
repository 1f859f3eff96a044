"""Which tickets a staff member asks for: the console's list and the ledgers (台账) share one filter.

A query always carries its scope — the tickets the viewer may see at all — and the filters narrow it.
`matches` is the rule in plain Python; storage's `TicketRepository.search` runs the same rule in SQL
(tests compare the two), so a list, a page count and an export agree on which tickets they mean.

Dates are the community's local calendar days, both ends included ("1 Dec – 7 Dec" is the week).
"Overdue" is the weekly summary's rule (gridcore.metrics): not resolved, not withdrawn, feedback
deadline passed. "Unrated": resolved or closed and no satisfaction answer yet (未评价). "Reopened":
reopened at least once (a reopen event in the ledger). Words match case-insensitively.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from gridcore.ticket import Action, Ticket, TicketEvent, TicketStatus, Urgency

PAGE_SIZE = 50


class Sort(StrEnum):
    NEWEST = "newest"  # filed, newest first (the default)
    OLDEST = "oldest"
    DUE = "due"  # feedback deadline, nearest first
    NUMBER = "number"
    STATUS = "status"


@dataclass(frozen=True)
class Scope:
    """The tickets a viewer may see: whole communities, and in others only some grids (a grid worker or
    leader sees their grids). Built from the roster by the caller (gridcore.authorization's rules)."""

    communities: frozenset[str] = frozenset()
    grids: frozenset[tuple[str, str]] = frozenset()  # (community code, grid code)

    def covers(self, ticket: Ticket) -> bool:
        return ticket.community_code in self.communities or (
            ticket.grid_code is not None and (ticket.community_code, ticket.grid_code) in self.grids)

    @property
    def empty(self) -> bool:
        return not self.communities and not self.grids


@dataclass(frozen=True)
class TicketQuery:
    scope: Scope
    statuses: frozenset[TicketStatus] = frozenset()  # empty: any
    community: str | None = None
    grid: str | None = None
    buildings: frozenset[str] | None = None  # an estate's buildings, or one building; None: any
    category: str | None = None
    categories: frozenset[str] | None = None  # any of these (the dispute ledger's); None: any
    handler: int | None = None  # Telegram user id of the assignee
    urgency: Urgency | None = None  # 等级: 一般 / 紧急 / 重大; None: any
    filed_from: date | None = None
    filed_to: date | None = None
    overdue: bool = False
    unrated: bool = False
    reopened: bool = False
    words: str = ""  # a ticket number (or its tail) or words of the description / place detail
    sort: Sort = Sort.NEWEST
    timezone: str = "Asia/Shanghai"  # the communities' calendar for filed_from / filed_to
    extra: tuple[tuple[str, str], ...] = field(default=(), compare=False)  # the form as typed, for links

    def filed_bounds(self) -> tuple[datetime | None, datetime | None]:
        """[start, end) in UTC of the filed-date filter."""
        tz = ZoneInfo(self.timezone)
        start = (datetime.combine(self.filed_from, time(), tz).astimezone(UTC)
                 if self.filed_from is not None else None)
        end = (datetime.combine(self.filed_to + timedelta(days=1), time(), tz).astimezone(UTC)
               if self.filed_to is not None else None)
        return start, end

    def word_terms(self) -> list[str]:
        return [term for term in self.words.split() if term][:5]

    def matches(self, ticket: Ticket, now: datetime, events: Iterable[TicketEvent] = ()) -> bool:
        """The rule itself; `events` (the ticket's ledger) is read only for `reopened`."""
        if not self.scope.covers(ticket):
            return False
        if self.statuses and ticket.status not in self.statuses:
            return False
        if self.community is not None and ticket.community_code != self.community:
            return False
        if self.grid is not None and ticket.grid_code != self.grid:
            return False
        if self.buildings is not None and ticket.location.building_code not in self.buildings:
            return False
        if self.category is not None and ticket.category_code != self.category:
            return False
        if self.categories is not None and ticket.category_code not in self.categories:
            return False
        if self.handler is not None and ticket.assignee != self.handler:
            return False
        if self.urgency is not None and ticket.urgency is not self.urgency:
            return False
        start, end = self.filed_bounds()
        if start is not None and ticket.created_at < start:
            return False
        if end is not None and ticket.created_at >= end:
            return False
        if self.overdue and not is_overdue(ticket, now):
            return False
        if self.unrated and not is_unrated(ticket):
            return False
        if self.reopened and not any(event.action is Action.REOPEN for event in events):
            return False
        return all(matches_words(ticket, term) for term in self.word_terms())


def is_overdue(ticket: Ticket, now: datetime) -> bool:
    return (ticket.resolved_at is None and ticket.status is not TicketStatus.WITHDRAWN
            and ticket.feedback_due_at < now)


def is_unrated(ticket: Ticket) -> bool:
    return ticket.status in (TicketStatus.RESOLVED, TicketStatus.CLOSED) and (
        ticket.rating is None or ticket.rating.satisfaction is None)


def matches_words(ticket: Ticket, term: str) -> bool:
    """A term is in the number, the description or the place detail (case aside)."""
    term = term.lower()
    return (term in ticket.number.lower() or term in ticket.description.lower()
            or term in ticket.location.detail.lower())


@dataclass(frozen=True)
class TicketPage:
    tickets: list[Ticket]
    total: int  # all the query matches, not only this page
