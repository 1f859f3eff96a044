"""三事分流 and "小事不出网格、大事不出社区": who gets a new ticket, and who gets a copy.

    ticket ─ building ─▶ grid? ── no ──────────────────────────────▶ community staff assign
                          │ yes
                          ├─ 联办 ────────────────────────────────▶ community staff assign
                          ├─ 自办 / 共办: the grid's worker on duty ─▶ card to the worker
                          │      (fewest open tickets; away or unbound ones skipped;
                          │       none: the grid leader; none either: community staff)
                          ├─ 共办: the partner named as co_handler gets a copy
                          ├─ 紧急 / 重大: the grid leader gets a copy at once, and the community
                          │      staff see it too; such a 联办 ticket goes to the worker on duty
                          │      first all the same (someone must go now; staff follow it)
                          └─ 重大: the street office is told at once as well (inform_street)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from gridcore.community import Category, Community, HandlingMode, Person, Role
from gridcore.ticket import Ticket, Urgency


class RouteReason(StrEnum):
    WORKER = "worker"  # the grid's worker on duty
    NO_WORKER = "no_worker"  # nobody on duty in the grid: its leader takes it
    COORDINATED = "coordinated"  # 联办: community staff assign
    NO_GRID = "no_grid"  # the place is in no grid (public area, unknown building)
    NOBODY = "nobody"  # the grid has nobody reachable: community staff assign


@dataclass(frozen=True)
class Routing:
    assignee: Person | None  # None: the community staff assign it
    reason: RouteReason
    copies: tuple[Person, ...] = ()  # informed, without the buttons
    inform_staff: bool = False  # assigned, and the community staff see it as well (紧急 / 重大)
    inform_street: bool = False  # 重大: the street office (街道) is told at once

    @property
    def to_staff(self) -> bool:
        return self.assignee is None


def reachable(person: Person) -> bool:
    """Bound to a Telegram account and not marked away."""
    return person.telegram_user_id is not None and not person.away


def worker_on_duty(community: Community, grid_code: str, open_counts: Mapping[int, int],
                   exclude: int | None = None) -> Person | None:
    """The grid's reachable worker with the fewest open tickets (roster order breaks ties)."""
    workers = [p for p in community.people(Role.GRID_WORKER, grid_code)
               if reachable(p) and p.telegram_user_id != exclude]
    if not workers:
        return None
    return min(workers, key=lambda p: open_counts.get(p.telegram_user_id or 0, 0))


def grid_leader(community: Community, grid_code: str | None) -> Person | None:
    if grid_code is None:
        return None
    return next((p for p in community.people(Role.GRID_LEADER, grid_code) if reachable(p)), None)


def partners_for(community: Community, category: Category) -> tuple[Person, ...]:
    """The partner contacts a 共办 category names as co_handler (by their title or name)."""
    if category.mode is not HandlingMode.JOINT or not category.co_handler:
        return ()
    return tuple(p for p in community.people(Role.PARTNER)
                 if reachable(p) and category.co_handler in (p.title, p.name))


def route(community: Community, ticket: Ticket, open_counts: Mapping[int, int]) -> Routing:
    """Decide who handles a newly filed ticket. `open_counts`: open tickets per staff user id."""
    category = community.category(ticket.category_code)
    grid = community.grid(ticket.grid_code) if ticket.grid_code else None
    leader = grid_leader(community, grid.code if grid else None)
    copies: list[Person] = []
    if category is not None:
        copies.extend(partners_for(community, category))
    urgent = ticket.urgency.raised
    street = ticket.urgency is Urgency.MAJOR
    if urgent and leader is not None:
        copies.append(leader)
    if grid is None:
        return Routing(None, RouteReason.NO_GRID, tuple(copies), inform_street=street)
    if category is not None and category.mode is HandlingMode.COORDINATED and not urgent:
        return Routing(None, RouteReason.COORDINATED, tuple(copies))
    worker = worker_on_duty(community, grid.code, open_counts)
    if worker is not None:
        return Routing(worker, RouteReason.WORKER, tuple(copies), inform_staff=urgent, inform_street=street)
    if leader is not None:
        return Routing(leader, RouteReason.NO_WORKER, tuple(c for c in copies if c != leader),
                       inform_staff=urgent, inform_street=street)
    return Routing(None, RouteReason.NOBODY, tuple(copies), inform_street=street)
