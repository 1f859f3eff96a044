"""The weekly summary's numbers (周研判 / 三率). Pure: the caller loads the tickets (see
TicketRepository.for_summary) and passes them in.

A week is an ISO week in the community's time zone: Monday 00:00 up to (not including) the next
Monday 00:00. A summary is "as of" a moment: the week's end, or, for the week in progress, the moment it
is made (`now`): nothing after it is counted, and its days are only those that have begun.
Definitions (also in README, "Weekly summary"; "the end" is the summary's as-of moment):

- new: filed in the week (created_at in the week);
- resolved: resolved in the week (the last resolve, resolved_at, in the week);
- still open: filed before the end of the week, not withdrawn, and not resolved by then (a resolved
  ticket waiting for its rating counts as done: feedback reached the resident);
- overdue: still open and feedback_due_at before the end of the week;
- rated: tickets whose rating was completed in the week (a RATE event in the ledger in the week; the
  ledger is used, not ticket.rating, because an unhappy rating reopens the ticket and clears it);
  a ticket rated twice in one week counts once, with its last rating;
- reopened by a rating: tickets whose first or last rating of the week was 未解决/不满意 (which
  reopens the ticket), listed with the first rating and the final one (a later one in the week), so an
  unhappy answer shows even when a second rating replaced it;
- 响应率 = contacted ÷ rated; 解决率 = 已解决 ÷ rated (部分解决 and 未解决 count as not solved);
  满意率 = (满意 + 0.9 × 基本满意) ÷ rated; 按时反馈率 = resolved on or before feedback_due_at ÷ resolved;
  a rate over nothing is shown as "—".
- hotspots: buildings and categories with at least 2 tickets filed in the week.
- by estate (小区), when the caller says which estate each building is in: the same figures per estate;
  tickets of a building outside any estate, or of no building, under NO_ESTATE.

Known approximation: only the tickets' present fields are kept besides the ledger's ratings, so for a
past week a ticket resolved then and reopened later counts as still open, and a withdrawn ticket never
counts as open.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate
from typing import NamedTuple
from zoneinfo import ZoneInfo

from gridcore.ticket import Rating, Satisfaction, Solved, Ticket, TicketStatus
from gridcore.weeks import Week

BASIC_WEIGHT = 0.9  # 基本满意 counts 0.9 of 满意
HOTSPOT_MIN = 2
NO_GRID = ""  # tickets without a grid are grouped under this code
NO_ESTATE = ""  # tickets of a building outside any estate, or of no building, are grouped under this code


class TicketFacts(NamedTuple):
    """The fields of a ticket the summary reads (a week has ~13,000 tickets at a million: full Ticket
    objects with their reporters, photos and followers cost most of a summary's time and memory)."""

    id: int | None
    number: str
    community_code: str
    category_code: str
    building_code: str | None
    grid_code: str | None
    status: TicketStatus
    created_at: datetime
    feedback_due_at: datetime
    resolved_at: datetime | None
    accepted_at: datetime | None = None  # the last 签收 (the console's time-to-accept; not the summary's)

    @classmethod
    def of(cls, ticket: Ticket) -> TicketFacts:
        return cls(ticket.id, ticket.number, ticket.community_code, ticket.category_code,
                   ticket.location.building_code, ticket.grid_code, ticket.status, ticket.created_at,
                   ticket.feedback_due_at, ticket.resolved_at, ticket.accepted_at)


class WeekTicket(NamedTuple):
    """A ticket as the summary sees it: with the last rating completed in the week, if any (from the
    ledger), and the first one when there were several."""

    ticket: TicketFacts
    rating: Rating | None = None
    rated_at: datetime | None = None
    first_rating: Rating | None = None  # None: the week's only rating is `rating`
    first_rated_at: datetime | None = None

    @classmethod
    def of(cls, ticket: Ticket, rating: Rating | None = None, rated_at: datetime | None = None,
           first_rating: Rating | None = None, first_rated_at: datetime | None = None) -> WeekTicket:
        return cls(TicketFacts.of(ticket), rating, rated_at, first_rating, first_rated_at)


@dataclass(frozen=True)
class Rate:
    numerator: float
    denominator: int

    @property
    def value(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None

    @property
    def percent(self) -> str:
        """"92.5%", or "—" over nothing."""
        value = self.value
        return "—" if value is None else f"{value * 100:.1f}%"

    def __str__(self) -> str:
        return self.percent


@dataclass(frozen=True)
class Figures:
    new: int = 0
    resolved: int = 0
    still_open: int = 0
    overdue: int = 0
    rated: int = 0
    contacted: int = 0
    solved: int = 0
    satisfied: int = 0
    basic: int = 0
    resolved_on_time: int = 0

    @property
    def response_rate(self) -> Rate:  # 响应率
        return Rate(self.contacted, self.rated)

    @property
    def resolution_rate(self) -> Rate:  # 解决率
        return Rate(self.solved, self.rated)

    @property
    def satisfaction_rate(self) -> Rate:  # 满意率
        return Rate(round(self.satisfied + BASIC_WEIGHT * self.basic, 4), self.rated)

    @property
    def on_time_rate(self) -> Rate:  # 按时反馈率
        return Rate(self.resolved_on_time, self.resolved)

    @property
    def empty(self) -> bool:
        return not (self.new or self.resolved or self.still_open or self.rated)


_FIGURES = tuple(f.name for f in fields(Figures))


@dataclass(frozen=True)
class Hotspot:
    kind: str  # "building" or "category"
    code: str
    count: int


@dataclass(frozen=True)
class OverdueItem:
    number: str
    grid_code: str
    category_code: str
    building_code: str | None
    feedback_due_at: datetime
    days_over: int  # whole days past the deadline at the summary's as-of moment


@dataclass(frozen=True)
class ReopenedItem:
    """A ticket a 未解决/不满意 rating sent back to its handler this week."""

    number: str
    grid_code: str
    category_code: str
    building_code: str | None
    status: TicketStatus
    first: Rating
    final: Rating | None  # a later rating in the week; None: not rated again (yet)


@dataclass(frozen=True)
class DayCount:
    day: date
    new: int
    resolved: int
    still_open: int  # at the end of that day (today: at the summary's as-of moment)


@dataclass(frozen=True)
class WeekSummary:
    community_code: str
    week: Week
    grid_code: str | None  # None: the whole community
    total: Figures
    by_grid: dict[str, Figures] = field(default_factory=dict)
    by_category: dict[str, Figures] = field(default_factory=dict)
    by_estate: dict[str, Figures] = field(default_factory=dict)  # empty: no estates given
    hotspots: list[Hotspot] = field(default_factory=list)
    overdue: list[OverdueItem] = field(default_factory=list)
    per_day: list[DayCount] = field(default_factory=list)  # the days begun by `as_of`
    reopened: list[ReopenedItem] = field(default_factory=list)
    as_of: datetime | None = None  # None: the week's end

    @property
    def in_progress(self) -> bool:
        """Made before the week ended: its figures run up to `as_of`."""
        return self.as_of is not None and self.as_of < self.week.end

    @property
    def quiet(self) -> bool:
        """Nothing went on: no ticket filed, resolved, open or rated (one line says so)."""
        return self.total.empty and not self.reopened and not self.overdue


def open_at(ticket: Ticket | TicketFacts, moment: datetime) -> bool:
    """Filed before `moment`, not withdrawn, not resolved by then."""
    return (ticket.created_at < moment and ticket.status is not TicketStatus.WITHDRAWN
            and (ticket.resolved_at is None or ticket.resolved_at >= moment))


def as_of(week: Week, now: datetime | None) -> datetime:
    """The moment a summary of `week` made at `now` counts up to, in UTC: the week's end, or `now` when
    the week is in progress (not before its start)."""
    start, end = week.utc_bounds
    return end if now is None else max(start, min(end, now.astimezone(UTC)))


def figures(items: Iterable[WeekTicket], week: Week, now: datetime | None = None) -> Figures:
    new = resolved = still_open = overdue = rated = contacted = solved = satisfied = basic = on_time = 0
    start, end = week.utc_bounds[0], as_of(week, now)  # once: each is computed from the calendar
    withdrawn = TicketStatus.WITHDRAWN
    for item in items:
        ticket = item.ticket
        created_at, resolved_at = ticket.created_at, ticket.resolved_at
        new += start <= created_at < end
        if resolved_at is not None and start <= resolved_at < end:
            resolved += 1
            on_time += resolved_at <= ticket.feedback_due_at
        if created_at < end and ticket.status is not withdrawn and (resolved_at is None
                                                                    or resolved_at >= end):
            still_open += 1
            overdue += ticket.feedback_due_at < end
        rating = item.rating
        if rating is not None and item.rated_at is not None and start <= item.rated_at < end:
            rated += 1
            contacted += rating.contacted is True
            solved += rating.solved is Solved.SOLVED
            satisfied += rating.satisfaction is Satisfaction.SATISFIED
            basic += rating.satisfaction is Satisfaction.BASIC
    return Figures(new, resolved, still_open, overdue, rated, contacted, solved, satisfied, basic, on_time)


def _sum(parts: Iterable[Figures]) -> Figures:
    """Figures are counts: a group's are the sums of its parts'."""
    totals = [0] * len(_FIGURES)
    for part in parts:
        for k, name in enumerate(_FIGURES):
            totals[k] += getattr(part, name)
    return Figures(*totals)


def _grouped(cells: dict[tuple[str, str], Figures], side: int) -> dict[str, Figures]:
    """By grid (side 0) or by category (side 1), the empty ones left out, from (grid, category) cells."""
    groups: dict[str, list[Figures]] = {}
    for key, part in cells.items():
        groups.setdefault(key[side], []).append(part)
    result = {code: _sum(parts) for code, parts in sorted(groups.items())}
    return {code: f for code, f in result.items() if not f.empty}


def _per_day(chosen: list[WeekTicket], week: Week, cutoff: datetime) -> list[DayCount]:
    """New, resolved and still open at each day's end (or at `cutoff`, the as-of moment, if sooner), for
    the days begun before `cutoff`, in one pass: a ticket is open at the ends of the days from the one it
    was filed in up to (not including) the one it was resolved in."""
    days = [day for day in week.days if week.midnight(day).astimezone(UTC) < cutoff]
    n = len(days)
    ends = [min(cutoff, week.midnight(day + timedelta(days=1)).astimezone(UTC)) for day in days]
    start = week.utc_bounds[0]
    new, resolved, opened = [0] * n, [0] * n, [0] * (n + 1)  # opened: +1 / -1 marks, summed up below
    for item in chosen:
        ticket = item.ticket
        filed_on = bisect_right(ends, ticket.created_at)  # the first day whose end is after the filing
        if ticket.created_at >= start and filed_on < n:
            new[filed_on] += 1
        resolved_on = n if ticket.resolved_at is None else bisect_right(ends, ticket.resolved_at)
        if ticket.resolved_at is not None and ticket.resolved_at >= start and resolved_on < n:
            resolved[resolved_on] += 1
        if ticket.status is not TicketStatus.WITHDRAWN and filed_on < resolved_on:
            opened[filed_on] += 1
            opened[resolved_on] -= 1
    return [DayCount(day, new[k], resolved[k], still_open) for k, (day, still_open)
            in enumerate(zip(days, accumulate(opened[:n]), strict=True))]


def _reopened(chosen: list[WeekTicket], week: Week, cutoff: datetime) -> list[ReopenedItem]:
    """The tickets a 未解决/不满意 rating of the week reopened, with the first and the final rating."""
    start = week.utc_bounds[0]
    found = []
    for item in chosen:
        if item.rating is None or item.rated_at is None or not start <= item.rated_at < cutoff:
            continue
        again = item.first_rating is not None and item.first_rated_at is not None \
            and start <= item.first_rated_at < item.rated_at
        first, final = (item.first_rating, item.rating) if again else (item.rating, None)
        assert first is not None
        if first.unhappy or (final is not None and final.unhappy):
            t = item.ticket
            found.append(ReopenedItem(t.number, t.grid_code or NO_GRID, t.category_code, t.building_code,
                                      t.status, first, final))
    return sorted(found, key=lambda r: r.number)


def summarize(community_code: str, week: Week, items: Iterable[WeekTicket],
              grid_code: str | None = None, now: datetime | None = None,
              estate_of: Mapping[str, str] | None = None) -> WeekSummary:
    """The week's numbers for the community, or for one grid (only that grid's tickets), as of `now`
    (None or a moment after the week: its end); by estate too when `estate_of` (building code → estate
    code) is given."""
    return summarize_each(community_code, week, items, [grid_code], now, estate_of)[0]


def summarize_each(community_code: str, week: Week, items: Iterable[WeekTicket],
                   grid_codes: Iterable[str | None], now: datetime | None = None,
                   estate_of: Mapping[str, str] | None = None) -> list[WeekSummary]:
    """summarize() for each of `grid_codes` (None: the whole community), counting each ticket once: the
    figures of each (grid, category) cell, and of each (grid, estate) cell when `estate_of` is given, are
    computed once and added up for each summary."""
    chosen = [i for i in items if i.ticket.community_code == community_code]
    by_grid: dict[str, list[WeekTicket]] = {}
    for item in chosen:
        by_grid.setdefault(item.ticket.grid_code or NO_GRID, []).append(item)
    cells: dict[tuple[str, str], Figures] = {}
    for grid, members in by_grid.items():
        by_category: dict[str, list[WeekTicket]] = {}
        for item in members:
            by_category.setdefault(item.ticket.category_code, []).append(item)
        for category, in_cell in by_category.items():
            cells[(grid, category)] = figures(in_cell, week, now)
    estate_cells = _estate_cells(by_grid, estate_of, week, now) if estate_of else {}
    cutoff = as_of(week, now)
    return [_summary(community_code, week, code, chosen if code is None else by_grid.get(code, []),
                     _of_grid(cells, code), cutoff, _of_grid(estate_cells, code))
            for code in grid_codes]


def _of_grid(cells: dict[tuple[str, str], Figures], grid_code: str | None) -> dict[tuple[str, str], Figures]:
    """The (grid, x) cells of one grid; all of them for the whole community (None)."""
    return cells if grid_code is None else {k: f for k, f in cells.items() if k[0] == grid_code}


def _estate_cells(by_grid: dict[str, list[WeekTicket]], estate_of: Mapping[str, str], week: Week,
                  now: datetime | None) -> dict[tuple[str, str], Figures]:
    """The figures of each (grid, estate) cell; a ticket outside any estate is in NO_ESTATE's."""
    cells = {}
    for grid, members in by_grid.items():
        by_estate: dict[str, list[WeekTicket]] = {}
        for item in members:
            by_estate.setdefault(estate_of.get(item.ticket.building_code or "", NO_ESTATE), []).append(item)
        for estate, in_cell in by_estate.items():
            cells[(grid, estate)] = figures(in_cell, week, now)
    return cells


def _summary(community_code: str, week: Week, grid_code: str | None, chosen: list[WeekTicket],
             cells: dict[tuple[str, str], Figures], end: datetime,
             estate_cells: dict[tuple[str, str], Figures]) -> WeekSummary:
    start = week.utc_bounds[0]
    filed = [i.ticket for i in chosen if start <= i.ticket.created_at < end]
    hotspots = [Hotspot("building", code, n) for code, n in
                Counter(t.building_code for t in filed if t.building_code).items()
                if n >= HOTSPOT_MIN]
    hotspots += [Hotspot("category", code, n) for code, n in Counter(t.category_code for t in filed).items()
                 if n >= HOTSPOT_MIN]
    hotspots.sort(key=lambda h: (-h.count, h.kind, h.code))
    overdue = sorted(
        (OverdueItem(t.number, t.grid_code or NO_GRID, t.category_code, t.building_code,
                     t.feedback_due_at, (end - t.feedback_due_at).days)
         for t in (i.ticket for i in chosen) if open_at(t, end) and t.feedback_due_at < end),
        key=lambda o: o.number,
    )
    return WeekSummary(
        community_code=community_code, week=week, grid_code=grid_code, total=_sum(cells.values()),
        by_grid=_grouped(cells, 0), by_category=_grouped(cells, 1), by_estate=_grouped(estate_cells, 1),
        hotspots=hotspots, overdue=overdue, per_day=_per_day(chosen, week, end),
        reopened=_reopened(chosen, week, end), as_of=end.astimezone(ZoneInfo(week.timezone)),
    )
