"""The ticket list's GET form, read into a gridcore.ticket_query.TicketQuery, and the choices it offers.

Every field is optional; a value the viewer was not offered (a forged community, grid, date) is
ignored rather than refused: the query's scope still holds only what the viewer may see. Grids, estates
and buildings are "<community code>:<code>" (codes are unique only within a community).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from gridcore.community import Community, Role
from gridcore.ticket import TicketStatus, Urgency
from gridcore.ticket_query import PAGE_SIZE, Scope, Sort, TicketQuery

OPEN = "open"  # the status choice "未办结": every status before resolved
OPEN_STATUSES = frozenset({TicketStatus.SUBMITTED, TicketStatus.ASSIGNED, TicketStatus.ACCEPTED,
                           TicketStatus.REOPENED, TicketStatus.ESCALATED, TicketStatus.TRANSFERRED})
FLAGS = ("overdue", "unrated", "reopened")
HANDLER_ROLES = (Role.GRID_WORKER, Role.GRID_LEADER, Role.COMMUNITY_STAFF)
MAX_WORDS = 60


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class Choices:
    """What the form's selects offer this viewer."""

    communities: list[Choice]
    grids: list[Choice]
    estates: list[Choice]
    buildings: list[Choice]
    categories: list[Choice]
    handlers: list[Choice]


def sees_grid(scope: Scope, code: str, grid_code: str | None) -> bool:
    return code in scope.communities or (grid_code is not None and (code, grid_code) in scope.grids)


def choices(communities: Mapping[str, Community], scope: Scope) -> Choices:
    several = len(communities) > 1

    def named(community: Community, name: str) -> str:
        return f"{community.name} · {name}" if several else name

    grids, estates, buildings, categories, handlers = [], [], [], {}, {}
    for code, c in communities.items():
        grids += [Choice(f"{code}:{g.code}", named(c, g.name)) for g in c.grids
                  if sees_grid(scope, code, g.code)]
        seen = [b for b in c.buildings if sees_grid(scope, code, b.grid_code)]
        estate_codes = {b.estate_code for b in seen if b.estate_code}
        estates += [Choice(f"{code}:{e.code}", named(c, e.name)) for e in c.estates if e.code in estate_codes]
        buildings += [Choice(f"{code}:{b.code}", named(c, c.place_name(b))) for b in seen]
        for category in c.categories:
            categories.setdefault(category.code, Choice(category.code, category.name))
        for p in c.staff:
            user_id = p.telegram_user_id
            if p.role in HANDLER_ROLES and user_id is not None and sees_grid(scope, code, p.grid_code):
                handlers.setdefault(user_id, Choice(str(user_id), named(c, p.name)))
    return Choices([Choice(code, c.name) for code, c in communities.items()], grids, estates, buildings,
                   list(categories.values()), list(handlers.values()))


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip()) if text.strip() else None
    except ValueError:
        return None


def _pair(text: str, communities: Mapping[str, Community]) -> tuple[Community, str] | None:
    code, _, item = text.partition(":")
    community = communities.get(code)
    return (community, item) if community is not None and item else None


@dataclass(frozen=True)
class ListRequest:
    query: TicketQuery
    page: int  # 1-based
    form: dict[str, str]  # the fields as understood, to fill the form again and build page links

    @property
    def offset(self) -> int:
        return (self.page - 1) * PAGE_SIZE

    def link(self, page: int) -> str:
        return "?" + urlencode({**{k: v for k, v in self.form.items() if v}, "page": str(page)})


def read_form(params: Mapping[str, str], communities: Mapping[str, Community], scope: Scope,
              timezone: str) -> ListRequest:
    form: dict[str, str] = {}
    fields: dict[str, object] = {}

    def keep(name: str, value: str, **set_: object) -> None:
        form[name] = value
        fields.update(set_)

    status = params.get("status", "")
    if status == OPEN:
        keep("status", status, statuses=OPEN_STATUSES)
    elif status in {s.value for s in TicketStatus}:
        keep("status", status, statuses=frozenset({TicketStatus(status)}))
    community = params.get("community", "")
    if community in communities:
        keep("community", community, community=community)
    if (grid := _pair(params.get("grid", ""), communities)) and grid[0].grid(grid[1]):
        keep("grid", params["grid"], community=grid[0].code, grid=grid[1])
    buildings: frozenset[str] | None = None
    if (estate := _pair(params.get("estate", ""), communities)) and estate[0].estate(estate[1]):
        buildings = frozenset(b.code for b in estate[0].buildings if b.estate_code == estate[1])
        keep("estate", params["estate"], community=estate[0].code)
    if (building := _pair(params.get("building", ""), communities)) and building[0].building(building[1]):
        one = frozenset({building[1]})
        buildings = one if buildings is None else buildings & one
        keep("building", params["building"], community=building[0].code)
    if buildings is not None:
        fields["buildings"] = buildings
    category = params.get("category", "")
    if any(c.category(category) for c in communities.values()):
        keep("category", category, category=category)
    level = params.get("level", "")
    if level in {u.value for u in Urgency}:
        keep("level", level, urgency=Urgency(level))
    handler = params.get("handler", "")
    if handler.isdigit() and len(handler) < 20:
        keep("handler", handler, handler=int(handler))
    for name, key in (("from", "filed_from"), ("to", "filed_to")):
        if (day := _day(params.get(name, ""))) is not None:
            keep(name, day.isoformat(), **{key: day})
    for flag in FLAGS:
        if params.get(flag):
            keep(flag, "1", **{flag: True})
    words = " ".join(params.get("q", "").split())[:MAX_WORDS]
    if words:
        keep("q", words, words=words)
    sort = params.get("sort", "")
    if sort in {s.value for s in Sort}:
        keep("sort", sort, sort=Sort(sort))
    page = params.get("page", "1")
    number = int(page) if page.isdigit() and len(page) < 7 else 1
    query = TicketQuery(scope=scope, timezone=timezone, **fields)  # type: ignore[arg-type]
    return ListRequest(query, max(1, number), form)
