"""Who is looking: a console session's Telegram account, the rosters that bind it, what it may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gridcore.community import Community, Role
from gridcore.console import may_log_in, scope_for, staff_community_codes
from gridcore.conversation import Conversation
from gridcore.ports import UnitOfWork
from gridcore.ticket_query import Scope
from handlers.communities import with_street
from handlers.context import Context
from handlers.inputs import Incoming, InputKind, Sender
from handlers.texts import Texts

ROSTER_ROLES = (Role.COMMUNITY_STAFF, Role.GRID_LEADER, Role.GRID_WORKER, Role.STREET_STAFF)


@dataclass(frozen=True)
class Viewer:
    user_id: int
    csrf_token: str
    communities: dict[str, Community]  # code -> roster (with its street's street staff), code order
    scope: Scope

    @property
    def is_staff(self) -> bool:
        return may_log_in(self.user_id, self.communities.values())

    def name(self) -> str:
        """The viewer's name as their rosters have it."""
        return next((p.name for c in self.communities.values() for p in c.roles_of(self.user_id)), "")

    def roster_communities(self) -> dict[str, Community]:
        """The communities whose roster (and posters) the viewer may see: staff see staff. Community
        staff, grid leaders and grid workers of the community, and the street's staff (they oversee
        it); building leaders and partners do not."""
        return {code: c for code, c in self.communities.items()
                if any(p.role in ROSTER_ROLES for p in c.roles_of(self.user_id))}

    def full_ledger(self, code: str) -> bool:
        """Names, phones and residents' own words in a ledger: community staff of the community only
        (the community's archive); grid staff and street staff get it redacted."""
        community = self.communities.get(code)
        return community is not None and any(
            p.role is Role.COMMUNITY_STAFF for p in community.roles_of(self.user_id))


async def load_viewer(uow: UnitOfWork, user_id: int, csrf_token: str, served: str | None = None) -> Viewer:
    """The rosters binding the account now (only `served` when the deployment serves one community)."""
    directory = await uow.roster.directory()
    communities: dict[str, Community] = {}
    for code in staff_community_codes(directory, user_id):
        if served is not None and code != served:
            continue
        community = await uow.roster.get(code)
        if community is not None:
            communities[code] = with_street(directory, community)
    return Viewer(user_id, csrf_token, communities, scope_for(user_id, communities.values()))


def acting_context(uow: UnitOfWork, viewer: Viewer, community: Community, texts: Texts, now: datetime,
                   **extra: Any) -> Context:
    """A Context whose sender is the viewer, for reading a ticket as their chat would (labels, names,
    the targets they may pick). Nothing is committed through it: changes go through ticket_actions."""
    incoming = Incoming(0, viewer.user_id, Sender(viewer.user_id), InputKind.TEXT, is_private=True)
    return Context(uow, incoming, community, Conversation(viewer.user_id, viewer.user_id), texts, now,
                   **extra)
