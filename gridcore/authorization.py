"""Who may do what to a ticket. Checked on the server for every action, whatever the button said.

Scope: a grid worker or leader acts within their own grid; community staff across the community.
"""

from __future__ import annotations

from enum import StrEnum

from gridcore.community import Community, Role
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


def roles(community: Community, user_id: int) -> set[tuple[Role, str | None]]:
    return {(p.role, p.grid_code) for p in community.roles_of(user_id)}


def is_staff(community: Community, user_id: int) -> bool:
    return any(role is not Role.RESIDENT for role, _ in roles(community, user_id))


def may(community: Community, user_id: int, act: Act, ticket: Ticket) -> bool:
    """True when this Telegram user may do `act` to `ticket` now (state aside: the lifecycle decides that)."""
    held = roles(community, user_id)
    community_staff = any(role is Role.COMMUNITY_STAFF for role, _ in held)
    leads_grid = ticket.grid_code is not None and (Role.GRID_LEADER, ticket.grid_code) in held
    works_grid = ticket.grid_code is not None and (Role.GRID_WORKER, ticket.grid_code) in held
    handler = ticket.assignee is not None and ticket.assignee == user_id and bool(held)
    if act is Act.REVEAL_CONTACT:
        return handler  # the full phone number: the person handling it, nobody else
    if act in (Act.ACCEPT, Act.PROGRESS, Act.RESOLVE, Act.TRANSFER):
        return handler or leads_grid or community_staff
    if act is Act.ESCALATE:
        return handler or leads_grid
    if act is Act.ASSIGN:
        return community_staff or leads_grid
    if act is Act.VIEW:
        resident = user_id == ticket.reporter.user_id or user_id in ticket.followers
        return resident or handler or works_grid or leads_grid or community_staff
    return False
