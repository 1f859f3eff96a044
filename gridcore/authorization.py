"""Who may do what to a ticket. Checked on the server for every action, whatever the button said.

Scope: a grid worker or leader acts within their own grid; community staff across the community;
nobody acts on another community's ticket (a street office's bot serves several). Street staff (街道)
appear in each community of their street (handlers.communities.with_street) and may view its tickets,
nothing more: they follow up through the community, not on the card.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from gridcore.community import Community, Person, Role
from gridcore.routing import grid_leader, worker_on_duty
from gridcore.ticket import Ticket


class Act(StrEnum):
    ACCEPT = "accept"  # 签收
    PROGRESS = "progress"  # 进展
    RESOLVE = "resolve"  # 办结
    TRANSFER = "transfer"  # 转派
    ESCALATE = "escalate"  # 上报社区
    REVEAL_CONTACT = "reveal"  # 联系居民
    ASSIGN = "assign"  # pick the handler (community staff; a grid leader within the grid)
    VIEW = "view"  # see the ticket with its timeline
    RECATEGORISE = "recategorise"  # 改类别: correct the category the resident or the bot picked
    SET_PRIORITY = "priority"  # 调整等级: 一般 / 紧急 / 重大, with a reason


def roles(community: Community, user_id: int) -> set[tuple[Role, str | None]]:
    return {(p.role, p.grid_code) for p in community.roles_of(user_id)}


def is_staff(community: Community, user_id: int) -> bool:
    return any(role is not Role.RESIDENT for role, _ in roles(community, user_id))


def may(community: Community, user_id: int, act: Act, ticket: Ticket) -> bool:
    """True when this Telegram user may do `act` to `ticket` now (state aside: the lifecycle decides that)."""
    if ticket.community_code != community.code:
        return False  # the roster that decides is the ticket's community's own
    held = roles(community, user_id)
    street_staff = any(role is Role.STREET_STAFF for role, _ in held)
    community_staff = any(role is Role.COMMUNITY_STAFF for role, _ in held)
    leads_grid = ticket.grid_code is not None and (Role.GRID_LEADER, ticket.grid_code) in held
    works_grid = ticket.grid_code is not None and (Role.GRID_WORKER, ticket.grid_code) in held
    handler = ticket.assignee is not None and ticket.assignee == user_id and bool(held)
    if act is Act.REVEAL_CONTACT:
        return handler  # the full phone number: the person handling it, nobody else
    if act in (Act.ACCEPT, Act.PROGRESS, Act.RESOLVE, Act.TRANSFER, Act.RECATEGORISE, Act.SET_PRIORITY):
        return handler or leads_grid or community_staff
    if act is Act.ESCALATE:
        return handler or leads_grid
    if act is Act.ASSIGN:
        return community_staff or leads_grid
    if act is Act.VIEW:
        resident = user_id == ticket.reporter.user_id or user_id in ticket.followers
        return resident or handler or works_grid or leads_grid or community_staff or street_staff
    return False


RECEIVING_ROLES = (Role.GRID_WORKER, Role.GRID_LEADER)  # volunteers and partners never handle a ticket


def grid_receiver(community: Community, grid_code: str, open_counts: Mapping[int, int]) -> Person | None:
    """Who takes a ticket handed to a grid: its worker on duty, else its leader (routing's rule)."""
    return worker_on_duty(community, grid_code, open_counts) or grid_leader(community, grid_code)


def may_receive(community: Community, presser_id: int, ticket: Ticket, person: Person, act: Act = Act.ASSIGN,
                open_counts: Mapping[int, int] | None = None) -> bool:
    """May `person` (a roster entry) become the handler when `presser_id` assigns or transfers `ticket`?

    Whatever a button said, only these receive it:
    * a reachable grid worker or grid leader of this community — never a building leader, a partner
      or anyone the roster does not list;
    * ASSIGN (community staff; a grid leader only for their grid's tickets, see may()): a worker or
      leader of the ticket's grid; a ticket in no grid, anyone of them in the community;
    * TRANSFER: another worker of the ticket's grid, or another grid — there only the person that
      grid's rule picks (its worker on duty by `open_counts`, else its leader), not one the presser chose.
    """
    if act not in (Act.ASSIGN, Act.TRANSFER) or not may(community, presser_id, act, ticket):
        return False
    if (person not in community.staff or person.role not in RECEIVING_ROLES
            or person.telegram_user_id is None or person.away):
        return False
    if act is Act.ASSIGN:
        return ticket.grid_code is None or person.grid_code == ticket.grid_code
    if person.telegram_user_id == ticket.assignee:
        return False  # a transfer hands the ticket to someone else
    if ticket.grid_code is not None and person.grid_code == ticket.grid_code:
        return person.role is Role.GRID_WORKER
    if person.grid_code is None or community.grid(person.grid_code) is None:
        return False
    return grid_receiver(community, person.grid_code, open_counts or {}) == person
