"""The community as the roster declares it: grids, buildings, people with roles, categories."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from enum import StrEnum

from gridcore.deadlines import ReminderPolicy
from gridcore.ticket import Urgency
from gridcore.workdays import add_workdays


class Role(StrEnum):
    RESIDENT = "resident"
    BUILDING_LEADER = "building_leader"
    GRID_WORKER = "grid_worker"
    GRID_LEADER = "grid_leader"
    COMMUNITY_STAFF = "community_staff"
    # 街道: staff of the street office over several communities; sees every community of its street and
    # gets a 督办 after the community staff.
    STREET_STAFF = "street_staff"
    # The contact of a partner unit (物业公司, 供电所...): gets a copy of 共办 tickets of its categories.
    PARTNER = "partner"


class HandlingMode(StrEnum):
    """三事分流: who handles a category."""

    SELF = "自办"  # the grid alone
    JOINT = "共办"  # the grid with a co-handler (property company, ...)
    COORDINATED = "联办"  # coordinated by community staff


# A reply template is one tap for a grid worker; its length and count keep a question within one message.
MAX_REPLY_CHARS = 200
MAX_REPLIES_PER_KIND = 8


@dataclass(frozen=True, slots=True)
class Replies:
    """常用回复: standard texts a grid worker picks instead of typing (a progress note, a resolution note)."""

    progress: tuple[str, ...] = ()
    resolve: tuple[str, ...] = ()

    def of(self, kind: str) -> tuple[str, ...]:
        """The texts of one kind, "progress" or "resolve"."""
        return self.progress if kind == "progress" else self.resolve


@dataclass(frozen=True, slots=True)
class Category:
    code: str
    name: str
    keywords: tuple[str, ...] = ()
    feedback_deadline: timedelta = timedelta(days=3)
    emergency: bool = False
    mode: HandlingMode = HandlingMode.SELF
    # What an emergency category tells the resident to call at once, e.g. "119".
    emergency_numbers: tuple[str, ...] = ()
    # Who shares the work in 共办 mode, e.g. "物业公司".
    co_handler: str | None = None
    # A 矛盾纠纷 category: its tickets go into the dispute ledger (gridcore.ledger.is_dispute).
    dispute: bool = False
    # The category's own 常用回复; a kind left empty falls back to the community's (Community.replies_for).
    replies: Replies = field(default_factory=Replies)
    # "N个工作日内反馈": the feedback promise counts working days (gridcore.workdays.add_workdays) and
    # feedback_deadline is not used for it; None: the promise is feedback_deadline on the clock.
    feedback_workdays: int | None = None
    # 分级响应: the level its tickets are filed at (roster `priority`; an emergency one is at least 紧急).
    priority: Urgency = Urgency.NORMAL
    # The triage model's topic this category stands for (gridcore.triage); None: its name, if a topic.
    topic: str | None = None

    @property
    def level(self) -> Urgency:
        """The level a ticket of this category is filed at: its priority, at least 紧急 for an emergency."""
        return Urgency.URGENT if self.emergency and not self.priority.raised else self.priority

    def feedback_due(self, at: datetime, timezone: str) -> datetime:
        """When feedback on a ticket of this category filed (or reopened) `at` falls due."""
        if self.feedback_workdays is not None:
            return add_workdays(at, self.feedback_workdays, timezone)
        return at + self.feedback_deadline


class PlaceKind(StrEnum):
    """What a roster "building" is: residents report problems at each of these."""

    BUILDING = "楼栋"
    GARAGE = "车库"
    SHOP = "商铺"
    PUBLIC = "公共区域"


@dataclass(frozen=True, slots=True)
class Estate:
    """A named housing estate (小区) inside the community. Its buildings name it by code; building names
    need only be unique within one estate (two estates may each have a 5栋)."""

    code: str
    name: str
    aliases: tuple[str, ...] = ()  # what residents type: 雅悦 for 雅悦花园
    # Every building of the estate is in this grid unless the building names its own (resolved when
    # the roster is read: Building.grid_code is always set).
    grid_code: str | None = None

    def all_names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass(frozen=True, slots=True)
class Building:
    code: str
    name: str
    grid_code: str
    aliases: tuple[str, ...] = ()
    units: tuple[str, ...] = ()
    estate_code: str | None = None  # the 小区 it belongs to; None in a community without estates
    kind: PlaceKind = PlaceKind.BUILDING

    def all_names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass(frozen=True, slots=True)
class Grid:
    code: str
    name: str
    group_chat_id: int | None = None


@dataclass(frozen=True, slots=True)
class Person:
    """A member of staff or a volunteer named in the roster."""

    name: str
    role: Role
    grid_code: str | None = None
    telegram_user_id: int | None = None
    username: str | None = None
    phone: str | None = None
    # A building leader's building (楼栋长 of building "3"); None for everybody else.
    building_code: str | None = None
    # How residents address them, e.g. "书记", "主任"; empty if nothing special.
    title: str = ""
    # Marked away (leave, sick): routing skips them.
    away: bool = False

    def is_(self, role: Role, grid_code: str | None = None) -> bool:
        return self.role is role and (grid_code is None or self.grid_code == grid_code)


class AnnouncementKind(StrEnum):
    """Scheduled posts the roster may turn on (see examples/roster.yaml)."""

    COUNCIL_DAY = "居民议事日"  # monthly residents' council day, to groups
    FOURS = "逢四说事"  # the 4th, 14th, 24th: "talk it over" days, to groups
    DAILY_PATROL = "日排查"  # each grid worker privately: today's checklist and their open tickets
    WEEKLY_REVIEW = "周研判"  # each grid leader privately: the grid's open and overdue tickets
    PROGRESS_BOARD = "进度公示"  # monthly, resolved tickets by category and building, no personal data


class AnnouncementTarget(StrEnum):
    GRIDS = "grids"  # each grid's group chat (grids without one are skipped)
    PUBLIC = "public"  # the community's public group (public_chat_id)
    STAFF = "staff"  # the community staff group


@dataclass(frozen=True, slots=True)
class Announcement:
    """One scheduled post. At `at` (community local time) on each listed day of the month, or each
    listed weekday (1 = Monday ... 7 = Sunday), or every day when neither is listed."""

    kind: AnnouncementKind
    at: time
    days: tuple[int, ...] = ()
    weekdays: tuple[int, ...] = ()
    targets: tuple[AnnouncementTarget, ...] = ()  # group kinds only; private kinds go to people
    enabled: bool = True
    note: str = ""  # an extra line, e.g. where the council meets
    checklist: tuple[str, ...] = ()  # 日排查 only: what to look at on today's round


@dataclass(frozen=True, slots=True)
class Community:
    code: str
    name: str
    staff_chat_id: int | None = None
    timezone: str = "Asia/Shanghai"
    grids: tuple[Grid, ...] = ()
    buildings: tuple[Building, ...] = ()
    staff: tuple[Person, ...] = ()
    categories: tuple[Category, ...] = field(default_factory=tuple)
    # A resolved ticket the resident has not rated within this many days closes as 未评价.
    rating_days: int = 7
    # The residents' public group (进度公示 and public announcements go there); None if there is none.
    public_chat_id: int | None = None
    # Scheduled posts; none unless the roster lists them.
    announcements: tuple[Announcement, ...] = ()
    # When reminders and 督办 fall due (gridcore.deadlines); the roster's community keys set it.
    reminders: ReminderPolicy = field(default_factory=ReminderPolicy)
    # 小区 between the community and its buildings; empty for a community of plain numbered buildings.
    estates: tuple[Estate, ...] = ()
    # The street office (街道) the community belongs to, by name; communities with the same street share
    # its street staff and its street-level summary. None: the community stands alone.
    street: str | None = None
    # The street office's staff group (the street-level weekly summary goes there); None if there is none.
    street_chat_id: int | None = None
    # Community-wide 常用回复 for categories that list none of a kind.
    replies: Replies = field(default_factory=Replies)

    def replies_for(self, category_code: str | None, kind: str) -> tuple[str, ...]:
        """The reply templates ("progress" or "resolve") a worker is offered for a ticket of this category."""
        category = self.category(category_code) if category_code else None
        own = category.replies.of(kind) if category is not None else ()
        return own or self.replies.of(kind)

    def building(self, code: str) -> Building | None:
        return next((b for b in self.buildings if b.code == code), None)

    def estate(self, code: str | None) -> Estate | None:
        return next((e for e in self.estates if e.code == code), None) if code else None

    def place_name(self, building: Building | None, unit: str | None = None) -> str:
        """How a place reads on a card: "雅悦花园3栋2单元" (the estate first when the building has one)."""
        if building is None:
            return ""
        estate = self.estate(building.estate_code)
        name = f"{estate.name}{building.name}" if estate is not None else building.name
        return f"{name}{unit}单元" if unit else name

    def category(self, code: str) -> Category | None:
        return next((c for c in self.categories if c.code == code), None)

    def grid(self, code: str) -> Grid | None:
        return next((g for g in self.grids if g.code == code), None)

    def roles_of(self, user_id: int) -> tuple[Person, ...]:
        """Every roster entry bound to this Telegram account (one person may hold several roles)."""
        return tuple(p for p in self.staff if p.telegram_user_id == user_id)

    def people(self, role: Role, grid_code: str | None = None) -> tuple[Person, ...]:
        """Roster entries of a role (in a grid), in roster order."""
        return tuple(p for p in self.staff if p.is_(role, grid_code))
