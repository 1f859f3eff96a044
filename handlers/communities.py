"""Which community an update is about, when one deployment serves several (a street office's bot).

Without a resident's say, the update itself tells:
* a group chat: the community whose staff group, public group, grid group or street group it is;
* a button or command about a ticket (w:/v:/rt:<ticket id>, t:<number>, /ticket <number>): the
  ticket's community (whoever presses is then checked against that community's roster, so staff of
  another community are refused);
* a private chat of staff: the community whose roster binds their Telegram id (the first of several).
A resident's community comes from handlers.community_choice. These are decided on the community
directory (gridcore.directory); only the picked community's roster is read.

Street staff (街道) belong to every community of their street: the community they are seen in carries
the street staff of its sibling communities too (`with_street`), so authorization, 督办 and the
street summary need no second roster.
"""

from __future__ import annotations

from dataclasses import replace

from gridcore.community import Community, Role
from gridcore.directory import CommunityDirectory
from gridcore.ports import UnitOfWork
from gridcore.ticket import Ticket
from handlers.inputs import Incoming, InputKind

TICKET_ID_BUTTONS = ("w:", "v:", "rt:")  # <prefix><act?>:<ticket id>...; see ticket_of


async def street_communities(uow: UnitOfWork, community: Community) -> list[Community]:
    """The communities of `community`'s street office, in code order, each read through the roster
    cache (itself alone when it names no street)."""
    if community.street is None:
        return [community]
    siblings = (await uow.roster.directory()).street_of(community.code)
    found = [await uow.roster.get(entry.code) for entry in siblings]
    return [c for c in found if c is not None]


def with_street(directory: CommunityDirectory, community: Community) -> Community:
    """The community with the street staff of its whole street in its roster (each once, by account)."""
    extra = directory.street_staff_for(community)
    return replace(community, staff=(*community.staff, *extra)) if extra else community


def street_chats(community: Community) -> list[int]:
    """Where the street office is told about the community: its group, else each of its street staff
    privately (none when the community has neither)."""
    if community.street_chat_id is not None:
        return [community.street_chat_id]
    return list(dict.fromkeys(p.telegram_user_id for p in community.people(Role.STREET_STAFF)
                              if p.telegram_user_id is not None))


async def ticket_of(uow: UnitOfWork, incoming: Incoming) -> Ticket | None:
    """The ticket a button or /ticket command is about, if any (unknown or forged: None)."""
    data = incoming.button_data if incoming.kind is InputKind.BUTTON else ""
    if data.startswith("t:"):
        return await uow.tickets.get(data.removeprefix("t:")[:40])
    if data.startswith(TICKET_ID_BUTTONS):
        parts = data.split(":")  # v:<id>, rt:<id>:…, w:<act>:<id>…
        raw = parts[1] if not data.startswith("w:") else (parts[2] if len(parts) > 2 else "")
        return await uow.tickets.get_by_id(int(raw)) if raw.isdigit() and len(raw) < 19 else None
    if incoming.kind is InputKind.COMMAND and incoming.command == "ticket" and incoming.args.strip():
        return await uow.tickets.get(incoming.args.strip().upper()[:40])
    return None

