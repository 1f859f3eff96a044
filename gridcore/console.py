"""The staff console's rules: who may log in, what each staff member sees, how long a login lasts.

A login is a one-time link the bot sends in a private chat (/console); opening it starts a session for
that Telegram account. Only hashes of the link's token and of the session id are stored, so a copy of
the database opens no console. What a session sees is decided on every request from the rosters as
they are then (a staff member taken off the roster sees nothing at once):

    community staff, street staff   every ticket of the community (street staff: of each community of
                                    their street; they view, the community acts)
    grid worker, grid leader        the tickets of their grids
    building leader, partner        none (they may log in; the list is empty)
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import timedelta

from gridcore.community import Community, Role
from gridcore.directory import CommunityDirectory
from gridcore.ticket_query import Scope

LOGIN_VALID = timedelta(minutes=10)  # a /console link works once, within this
SESSION_IDLE = timedelta(hours=2)  # a session unused this long is over
SESSION_MAX = timedelta(hours=12)  # and any session ends this long after its login
WHOLE_COMMUNITY = (Role.COMMUNITY_STAFF, Role.STREET_STAFF)
OWN_GRIDS = (Role.GRID_WORKER, Role.GRID_LEADER)


def new_secret() -> str:
    """A login token or session id: 32 random bytes, URL-safe."""
    return secrets.token_urlsafe(32)


def secret_hash(secret: str) -> str:
    """What is stored of a token or session id (sha256, hex)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def staff_community_codes(directory: CommunityDirectory, user_id: int) -> list[str]:
    """The communities whose rosters bind this account: where it holds a community role, and every
    community of the street of a roster that lists it as street staff. In code order."""
    codes: set[str] = set()
    for entry in directory.entries:
        if user_id in entry.staff_ids:
            codes.add(entry.code)
        if user_id in entry.street_staff_ids:
            codes.update(sibling.code for sibling in directory.street_of(entry.code))
    return sorted(codes)


def scope_for(user_id: int, communities: Iterable[Community]) -> Scope:
    """The tickets this account may list (gridcore.ticket_query.Scope) from the rosters given (each with
    its street's street staff, handlers.communities.with_street)."""
    whole: set[str] = set()
    grids: set[tuple[str, str]] = set()
    for community in communities:
        for person in community.roles_of(user_id):
            if person.role in WHOLE_COMMUNITY:
                whole.add(community.code)
            elif person.role in OWN_GRIDS and person.grid_code is not None:
                grids.add((community.code, person.grid_code))
    return Scope(frozenset(whole), frozenset((code, grid) for code, grid in grids if code not in whole))


def may_log_in(user_id: int, communities: Iterable[Community]) -> bool:
    """Any roster role but resident (gridcore.authorization.is_staff) in one of the communities."""
    return any(p.role is not Role.RESIDENT for c in communities for p in c.roles_of(user_id))
