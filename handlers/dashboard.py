"""The staff console's dashboard (看板): this week and the 12 before it, for the viewer's scope.

Channel-neutral: reads through the unit of work only, returns plain data the console's page
(templates/web/_dashboard.html) and charts (handlers/dashboard_chart.py) show.

The figures are the weekly summary's, never a second definition: each week is loaded with
`uow.tickets.for_summary` and counted by `gridcore.metrics.summarize_each`, as handlers.summary does; the
week in progress counts up to `now`. Periods:
- "this week": the ISO week containing `now` in the community's time zone (up to `now`);
- "the 12 weeks": the 12 complete weeks before it (per grid / per category totals, the medians);
- hotspots: tickets filed in all 13 weeks shown (the 12 weeks and this week up to now).
Several communities are added up week by week (Figures are counts); a grid-scoped viewer's figures are
the sums of their grids' summaries. Open / overdue are snapshots: only this week's are meaningful, a
12-week total of them is not shown.

The attention list carries ticket numbers, places, categories, status and lateness, and the description
as a group would see it (handlers.cards.for_group: gridcore.redact, every name known for the resident
masked) — never a resident's name or phone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from statistics import median

from gridcore.community import Community
from gridcore.metrics import NO_GRID, Figures, TicketFacts, Week, WeekSummary, summarize_each
from gridcore.ports import UnitOfWork
from gridcore.ticket import TicketStatus
from handlers import cards

WEEKS_BEFORE = 12
HOTSPOT_LIMIT = 10
HOTSPOT_MIN = 2  # as the weekly summary: one ticket is not a hotspot
ATTENTION_LIMIT = 50  # the most late first; `attention_total` says how many there are in all
DESCRIPTION_LIMIT = 80  # characters of the (redacted) description in the attention list


class Attention:
    """Why a ticket is on the attention list (the template names them)."""

    OVERDUE = "overdue"  # open past its feedback deadline
    REOPENED = "reopened"  # open again after a 未解决/不满意 rating
    UNHAPPY = "unhappy"  # a 未解决/不满意 rating this week or last


@dataclass(frozen=True)
class WeekFigures:
    week: Week
    figures: Figures
    in_progress: bool  # this week: counted up to the dashboard's `as_of`


@dataclass(frozen=True)
class Breakdown:
    """One grid's or category's figures: this week and the 12 weeks before it added up."""

    key: str  # "<community>/<grid or category code>"
    community: str
    name: str  # the grid's or category's own name; "" for tickets outside any grid (未分网格)
    this_week: Figures
    twelve_weeks: Figures


@dataclass(frozen=True)
class HotspotCell:
    community: str
    place: str  # the building as the bot names it, with its estate ("雅悦花园5栋")
    category: str
    count: int


@dataclass(frozen=True)
class AttentionItem:
    number: str
    community: str
    grid: str  # the grid's own name; "" outside any grid (未分网格)
    place: str  # "" when the ticket has no building
    category: str
    status: TicketStatus
    reasons: tuple[str, ...]  # Attention.* values
    hours_late: int | None  # whole hours past the feedback deadline; None: not overdue
    description: str  # redacted and shortened


@dataclass(frozen=True)
class Dashboard:
    scope_names: tuple[str, ...]  # "翠湖社区" or "翠湖社区 一网格", one per community / grid seen
    community_names: tuple[str, ...]  # the communities seen (several: the page says whose each row is)
    as_of: datetime  # `now` in the first community's time zone
    weeks: tuple[WeekFigures, ...]  # 13, oldest first; the last is this week
    by_grid: tuple[Breakdown, ...]
    by_category: tuple[Breakdown, ...]
    median_accept_hours: float | None  # filing → 签收, over tickets accepted in the 12 weeks
    accepted_count: int
    median_resolve_hours: float | None  # filing → 办结, over tickets resolved in the 12 weeks
    resolved_count: int
    hotspots: tuple[HotspotCell, ...]
    attention: tuple[AttentionItem, ...]
    attention_total: int

    @property
    def this_week(self) -> WeekFigures:
        return self.weeks[-1]

    @property
    def twelve_weeks(self) -> tuple[Week, Week]:
        """The first and last of the 12 complete weeks."""
        return self.weeks[0].week, self.weeks[-2].week


def add(parts: Iterable[Figures]) -> Figures:
    """Figures are counts: a group's are the sums of its parts'."""
    names = [f.name for f in fields(Figures)]
    totals = dict.fromkeys(names, 0)
    for part in parts:
        for name in names:
            totals[name] += getattr(part, name)
    return Figures(**totals)


def _hours(delta: timedelta) -> float:
    return round(delta.total_seconds() / 3600, 1)


@dataclass
class _Scoped:
    """What one community contributes, while it is being loaded."""

    community: Community
    grid_codes: list[str | None]
    summaries: list[list[WeekSummary]]  # per week, per grid code
    facts: dict[int | str, TicketFacts]  # every ticket seen in the 13 weeks, in scope


def _in_scope(facts: TicketFacts, grid_codes: list[str | None]) -> bool:
    return None in grid_codes or (facts.grid_code or NO_GRID) in grid_codes


async def _load(uow: UnitOfWork, community: Community, grid_codes: list[str | None],
                now: datetime) -> _Scoped:
    this_week = Week.containing(now, community.timezone)
    scoped = _Scoped(community, grid_codes, [], {})
    for back in range(WEEKS_BEFORE, -1, -1):
        week = this_week.shift(-back)
        items = await uow.tickets.for_summary(community.code, week.start, week.end)
        scoped.summaries.append(summarize_each(community.code, week, items, grid_codes, now))
        for item in items:
            if _in_scope(item.ticket, grid_codes):
                facts = item.ticket
                scoped.facts[facts.id if facts.id is not None else facts.number] = facts
    return scoped


def _grid_name(community: Community, code: str) -> str:
    """The grid's name; "" for NO_GRID (the page names it), the code for a grid the roster dropped."""
    grid = community.grid(code)
    return grid.name if grid is not None else ("" if code == NO_GRID else code)


def _breakdowns(loaded: list[_Scoped], side: str) -> tuple[Breakdown, ...]:
    """Per grid (side "grid") or per category ("category"), in roster order, only those with figures."""
    rows = []
    for scoped in loaded:
        community = scoped.community

        def of_week(k: int, code: str, scoped: _Scoped = scoped) -> Figures:
            groups = [s.by_grid if side == "grid" else s.by_category for s in scoped.summaries[k]]
            return add(g[code] for g in groups if code in g)

        seen = {code for week in scoped.summaries for s in week
                for code in (s.by_grid if side == "grid" else s.by_category)}
        roster = ([g.code for g in community.grids] if side == "grid"
                  else [c.code for c in community.categories])
        for code in [c for c in roster if c in seen] + sorted(seen - set(roster)):
            if side == "grid":
                name = _grid_name(community, code)
            else:
                category = community.category(code)
                name = category.name if category is not None else code
            this_week = of_week(WEEKS_BEFORE, code)
            twelve_weeks = add(of_week(k, code) for k in range(WEEKS_BEFORE))
            rows.append(Breakdown(f"{community.code}/{code}", community.name, name, this_week, twelve_weeks))
    return tuple(rows)


def _medians(loaded: list[_Scoped]) -> tuple[float | None, int, float | None, int]:
    accept, resolve = [], []
    for scoped in loaded:
        first = scoped.summaries[0][0].week.utc_bounds[0]
        end = scoped.summaries[WEEKS_BEFORE][0].week.utc_bounds[0]  # this week's start
        for t in scoped.facts.values():
            if t.accepted_at is not None and first <= t.accepted_at < end:
                accept.append(_hours(t.accepted_at - t.created_at))
            if t.resolved_at is not None and first <= t.resolved_at < end:
                resolve.append(_hours(t.resolved_at - t.created_at))
    return (round(median(accept), 1) if accept else None, len(accept),
            round(median(resolve), 1) if resolve else None, len(resolve))


def _hotspots(loaded: list[_Scoped], now: datetime) -> tuple[HotspotCell, ...]:
    counts: Counter[tuple[str, str, str]] = Counter()
    for scoped in loaded:
        first = scoped.summaries[0][0].week.utc_bounds[0]
        for t in scoped.facts.values():
            if t.building_code and first <= t.created_at < now:
                counts[(scoped.community.code, t.building_code, t.category_code)] += 1
    by_code = {s.community.code: s.community for s in loaded}
    cells = []
    for (code, building_code, category_code), count in counts.items():
        if count < HOTSPOT_MIN:
            continue
        community = by_code[code]
        place = community.place_name(community.building(building_code)) or building_code
        category = community.category(category_code)
        cells.append(HotspotCell(community.name, place,
                                 category.name if category is not None else category_code, count))
    cells.sort(key=lambda c: (-c.count, c.community, c.place, c.category))
    return tuple(cells[:HOTSPOT_LIMIT])


async def _attention(uow: UnitOfWork, loaded: list[_Scoped],
                     now: datetime) -> tuple[list[AttentionItem], int]:
    wanted: dict[str, tuple[Community, set[str], int | None]] = {}

    def mark(community: Community, number: str, reason: str, hours_late: int | None = None) -> None:
        _, reasons, _ = wanted.setdefault(number, (community, set(), None))
        reasons.add(reason)
        if hours_late is not None:
            wanted[number] = (community, reasons, hours_late)

    for scoped in loaded:
        this_week, last_week = scoped.summaries[WEEKS_BEFORE], scoped.summaries[WEEKS_BEFORE - 1]
        for summary in this_week:
            for item in summary.overdue:
                late = int(((summary.as_of or now) - item.feedback_due_at).total_seconds() // 3600)
                mark(scoped.community, item.number, Attention.OVERDUE, late)
        for summary in (*last_week, *this_week):
            for reopened in summary.reopened:
                mark(scoped.community, reopened.number, Attention.UNHAPPY)
        for t in scoped.facts.values():
            if t.status is TicketStatus.REOPENED:
                mark(scoped.community, t.number, Attention.REOPENED)
    order = sorted(wanted, key=lambda n: (wanted[n][2] is None, -(wanted[n][2] or 0), n))
    items = []
    for number in order[:ATTENTION_LIMIT]:
        community, reasons, late = wanted[number]
        ticket = await uow.tickets.get(number)
        if ticket is None:
            continue
        category = community.category(ticket.category_code)
        # As a group sees it: every phone, ID, address masked, and every name known for the resident.
        description = cards.for_group(ticket.description, *await cards.names_known(uow, ticket))
        if len(description) > DESCRIPTION_LIMIT:
            description = description[:DESCRIPTION_LIMIT] + "…"
        items.append(AttentionItem(
            number=number, community=community.name,
            grid=_grid_name(community, ticket.grid_code or NO_GRID),
            place=cards.place_text(community, ticket.location),
            category=category.name if category is not None else ticket.category_code,
            status=ticket.status, reasons=tuple(r for r in (Attention.OVERDUE, Attention.REOPENED,
                                                             Attention.UNHAPPY) if r in reasons),
            hours_late=late, description=description))
    return items, len(wanted)


def _scope_names(loaded: list[_Scoped]) -> tuple[str, ...]:
    names = []
    for scoped in loaded:
        if None in scoped.grid_codes:
            names.append(scoped.community.name)
        else:
            names += [f"{scoped.community.name} {_grid_name(scoped.community, code or NO_GRID)}"
                      for code in scoped.grid_codes]
    return tuple(names)


async def dashboard(uow: UnitOfWork, communities: Sequence[Community], now: datetime,
                    grids: frozenset[tuple[str, str]] | None = None) -> Dashboard:
    """The dashboard of `communities` as of `now`: each whole (grids None), or only the (community code,
    grid code) pairs in `grids` (a grid worker or leader; a community with no pair there is left out).
    `communities` must not be empty."""
    if not communities:
        raise ValueError("a dashboard needs at least one community")
    now = now.astimezone(UTC)
    loaded = []
    for community in communities:
        codes: list[str | None] = ([None] if grids is None
                                   else sorted(g for c, g in grids if c == community.code))
        if codes:
            loaded.append(await _load(uow, community, codes, now))
    timezone = communities[0].timezone
    anchor = Week.containing(now, timezone)
    weeks = tuple(
        WeekFigures(anchor.shift(k - WEEKS_BEFORE),
                    add(s.total for scoped in loaded for s in scoped.summaries[k]),
                    k == WEEKS_BEFORE)
        for k in range(WEEKS_BEFORE + 1))
    accept, accepted, resolve, resolved = _medians(loaded)
    attention, total = await _attention(uow, loaded, now)
    as_of = now.astimezone(anchor.start.tzinfo)
    return Dashboard(
        scope_names=_scope_names(loaded), community_names=tuple(s.community.name for s in loaded),
        as_of=as_of, weeks=weeks,
        by_grid=_breakdowns(loaded, "grid"), by_category=_breakdowns(loaded, "category"),
        median_accept_hours=accept, accepted_count=accepted, median_resolve_hours=resolve,
        resolved_count=resolved, hotspots=_hotspots(loaded, now), attention=tuple(attention),
        attention_total=total)
