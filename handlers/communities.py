"""Which community an update is about, when one deployment serves several (a street office's bot).

Without a resident's say, the update itself tells:
* a group chat: the community whose staff group, public group, grid group or street group it is;
* a button or command about a ticket (w:/v:/rt:<ticket id>, t:<number>, /ticket <number>): the
  ticket's community (whoever presses is then checked against that community's roster, so staff of
  another community are refused);
* a private chat of staff: the community whose roster binds their Telegram id (the first of several).
A resident's community comes from handlers.community_choice.

Street staff (街道) belong to every community of their street: the community they are seen in carries
the street staff of its sibling communities too (`with_street`), so authorization, 督办 and the
street summary need no second roster.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from gridcore.community import Community, Role
from gridcore.ports import UnitOfWork
from gridcore.ticket import Ticket
from handlers.inputs import Incoming, InputKind

TICKET_ID_BUTTONS = ("w:", "v:", "rt:")  # <prefix><act?>:<ticket id>...; see ticket_of


async def all_communities(uow: UnitOfWork) -> list[Community]:
    """Every community in the database, in code order (each read through the roster cache)."""
    found = [await uow.roster.get(code) for code in await uow.roster.list_codes()]
    return [c for c in found if c is not None]


def street_of(communities: Sequence[Community], community: Community) -> list[Community]:
    """The communities of `community`'s street office (itself alone when it names no street)."""
    if community.street is None:
        return [community]
    return [c for c in communities if c.street == community.street]


def with_street(communities: Sequence[Community], community: Community) -> Community:
    """The community with the street staff of its whole street in its roster (each once, by account)."""
    if community.street is None:
        return community
    present = {p.telegram_user_id for p in community.staff if p.role is Role.STREET_STAFF}
    extra = []
    for sibling in street_of(communities, community):
        for person in sibling.people(Role.STREET_STAFF):
            if sibling.code != community.code and person.telegram_user_id not in present:
                present.add(person.telegram_user_id)
                extra.append(person)
    return replace(community, staff=(*community.staff, *extra)) if extra else community


def street_chats(community: Community) -> list[int]:
    """Where the street office is told about the community: its group, else each of its street staff
    privately (none when the community has neither)."""
    if community.street_chat_id is not None:
        return [community.street_chat_id]
    return list(dict.fromkeys(p.telegram_user_id for p in community.people(Role.STREET_STAFF)
                              if p.telegram_user_id is not None))


def by_chat(communities: Sequence[Community], chat_id: int) -> Community | None:
    """The community a group chat belongs to (its staff, public, grid or street group)."""
    for community in communities:
        chats = {community.staff_chat_id, community.public_chat_id,
                 *(g.group_chat_id for g in community.grids)}
        if chat_id in chats:
            return community
    return next((c for c in communities if c.street_chat_id == chat_id), None)


def by_staff(communities: Sequence[Community], user_id: int) -> Community | None:
    """The first community whose roster binds this account (community roles before street ones)."""
    own = [c for c in communities if c.roles_of(user_id)]
    direct = [c for c in own if any(p.role is not Role.STREET_STAFF for p in c.roles_of(user_id))]
    return (direct or own or [None])[0]


async def ticket_of(uow: UnitOfWork, incoming: Incoming) -> Ticket | None:
    """The ticket a button or /ticket command is about, if any (unknown or forged: None)."""
    data = incoming.button_data if incoming.kind is InputKind.BUTTON else ""
    if data.startswith("t:"):
        return await uow.tickets.get(data.removeprefix("t:")[:40])
    if data.startswith(TICKET_ID_BUTTONS):
        parts = data.split(":")
        raw = parts[1] if data.startswith("v:") else (parts[2] if len(parts) > 2 else "")
        if data.startswith("rt:"):
            raw = parts[1]
        return await uow.tickets.get_by_id(int(raw)) if raw.isdigit() and len(raw) < 19 else None
    if incoming.kind is InputKind.COMMAND and incoming.command == "ticket" and incoming.args.strip():
        return await uow.tickets.get(incoming.args.strip().upper()[:40])
    return None


def find(communities: Sequence[Community], code: str | None) -> Community | None:
    return next((c for c in communities if c.code == code), None) if code else None
