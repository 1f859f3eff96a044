"""The console's roster page (名册): who handles what, from the roster as the bot holds it.

Grids with their leaders and workers (bound to Telegram or not, away or not, open tickets each),
estates with their buildings and the grid that handles each, categories with their 三事分流 mode and
feedback deadline, community staff, partners and the street office's staff. Staff see staff: the
roster's names and phones are shown; residents are not in the roster and never appear here.
Channel-neutral and pure over the Community: the caller passes `open_counts`
(uow.tickets.open_counts: Telegram user id → open tickets).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from gridcore.community import Building, Community, HandlingMode, Person, PlaceKind, Role


@dataclass(frozen=True)
class StaffEntry:
    name: str
    role: Role
    title: str  # 书记, 主任, a partner's unit; "" when none
    phone: str | None
    username: str | None
    bound: bool  # a Telegram account is bound (telegram_user_id known): the bot can reach them
    away: bool  # on leave: routing skips them
    open_tickets: int | None  # None: not bound, so nothing can be assigned to them


@dataclass(frozen=True)
class BuildingEntry:
    code: str
    name: str  # as the bot names it, with its estate ("雅悦花园5栋")
    own_name: str  # its own ("5栋"): under its estate's heading
    kind: PlaceKind
    units: tuple[str, ...]
    grid_code: str
    grid_name: str
    building_leaders: tuple[StaffEntry, ...]


@dataclass(frozen=True)
class EstateEntry:
    code: str | None  # None: the buildings outside any estate
    name: str | None  # None: see above (the template says 其他楼栋)
    aliases: tuple[str, ...]
    buildings: tuple[BuildingEntry, ...]


@dataclass(frozen=True)
class PlaceGroup:
    """A grid's buildings of one estate, by their own names ("1栋", "8号车库"); estate None: outside any."""

    estate: str | None
    buildings: tuple[str, ...]


@dataclass(frozen=True)
class GridEntry:
    code: str
    name: str
    has_group: bool  # the grid has a Telegram group (its weekly summary and announcements go there)
    leaders: tuple[StaffEntry, ...]
    workers: tuple[StaffEntry, ...]
    building_leaders: tuple[StaffEntry, ...]
    places: tuple[PlaceGroup, ...]  # the buildings it handles, estate by estate in roster order
    open_tickets: int  # held by its leaders and workers
    reachable: bool  # someone bound and not away can take a new ticket

    @property
    def needs_attention(self) -> bool:
        return not self.reachable


@dataclass(frozen=True)
class CategoryEntry:
    code: str
    name: str
    mode: HandlingMode
    co_handler: str | None
    deadline_hours: int  # feedback deadline; the template shows days when it is whole days
    feedback_workdays: int | None  # "N个工作日" instead of deadline_hours
    emergency: bool
    emergency_numbers: tuple[str, ...]
    partners: tuple[StaffEntry, ...]  # contacts whose title or name is the co-handler
    level: str = "normal"  # 分级响应: the Urgency value its tickets are filed at (Category.level)


@dataclass(frozen=True)
class RosterView:
    community_code: str
    community_name: str
    street: str | None
    grids: tuple[GridEntry, ...]
    estates: tuple[EstateEntry, ...]  # roster order; buildings outside any estate last (code None)
    categories: tuple[CategoryEntry, ...]
    community_staff: tuple[StaffEntry, ...]
    partners: tuple[StaffEntry, ...]
    street_staff: tuple[StaffEntry, ...]
    unbound: int  # roster entries with no Telegram account bound yet
    accept_hours: float  # the 签收 window (gridcore.deadlines.ReminderPolicy)
    urgent_accept_hours: float
    major_accept_hours: float
    office_hours: str | None  # "08:30-17:30": the 签收 window counts office time on working days

    @property
    def has_estates(self) -> bool:
        return any(e.code is not None for e in self.estates)


def _entry(person: Person, open_counts: Mapping[int, int]) -> StaffEntry:
    uid = person.telegram_user_id
    return StaffEntry(person.name, person.role, person.title, person.phone, person.username,
                      bound=uid is not None, away=person.away,
                      open_tickets=None if uid is None else open_counts.get(uid, 0))


def _building(community: Community, building: Building, open_counts: Mapping[int, int]) -> BuildingEntry:
    grid = community.grid(building.grid_code)
    leaders = tuple(_entry(p, open_counts) for p in community.people(Role.BUILDING_LEADER)
                    if p.building_code == building.code)
    return BuildingEntry(building.code, community.place_name(building), building.name, building.kind,
                         building.units,
                         building.grid_code, grid.name if grid is not None else building.grid_code, leaders)


def _places(community: Community, grid_code: str) -> tuple[PlaceGroup, ...]:
    groups: dict[str | None, list[str]] = {}
    for building in community.buildings:
        if building.grid_code == grid_code:
            estate = community.estate(building.estate_code)
            groups.setdefault(estate.name if estate is not None else None, []).append(building.name)
    return tuple(PlaceGroup(estate, tuple(names)) for estate, names in groups.items())


def roster_view(community: Community, open_counts: Mapping[int, int]) -> RosterView:
    """The roster page's data for `community`; `open_counts`: open tickets per Telegram user id."""
    grids = []
    for grid in community.grids:
        leaders = tuple(_entry(p, open_counts) for p in community.people(Role.GRID_LEADER, grid.code))
        workers = tuple(_entry(p, open_counts) for p in community.people(Role.GRID_WORKER, grid.code))
        handlers = (*leaders, *workers)
        grids.append(GridEntry(
            grid.code, grid.name, grid.group_chat_id is not None, leaders, workers,
            tuple(_entry(p, open_counts) for p in community.people(Role.BUILDING_LEADER, grid.code)),
            _places(community, grid.code),
            sum(h.open_tickets or 0 for h in handlers),
            any(h.bound and not h.away for h in handlers)))
    estates = [EstateEntry(e.code, e.name, e.aliases,
                           tuple(_building(community, b, open_counts) for b in community.buildings
                                 if b.estate_code == e.code))
               for e in community.estates]
    known = {e.code for e in community.estates}
    loose = tuple(_building(community, b, open_counts) for b in community.buildings
                  if b.estate_code not in known)
    if loose:
        estates.append(EstateEntry(None, None, (), loose))
    partners = tuple(_entry(p, open_counts) for p in community.people(Role.PARTNER))
    policy = community.reminders
    categories = tuple(
        CategoryEntry(c.code, c.name, c.mode, c.co_handler, round(c.feedback_deadline.total_seconds() / 3600),
                      c.feedback_workdays, c.emergency, c.emergency_numbers,
                      tuple(p for p in partners if c.co_handler and c.co_handler in (p.title, p.name)),
                      c.level.value)
        for c in community.categories)
    return RosterView(
        community.code, community.name, community.street, tuple(grids), tuple(estates), categories,
        tuple(_entry(p, open_counts) for p in community.people(Role.COMMUNITY_STAFF)), partners,
        tuple(_entry(p, open_counts) for p in community.people(Role.STREET_STAFF)),
        sum(1 for p in community.staff if p.telegram_user_id is None),
        policy.accept_within.total_seconds() / 3600, policy.accept_within_urgent.total_seconds() / 3600,
        policy.accept_within_major.total_seconds() / 3600,
        policy.office_hours.text() if policy.office_hours is not None else None)
