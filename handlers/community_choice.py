"""A resident's community, when the bot serves several (a street office's bot).

In order: a building's QR deep link naming a community (gridcore.links; an old b_<building> link when
exactly one community has that building) > the resident's saved community (Resident.community_code,
saved by every choice and link, so a report under way keeps its community) > the only community >
a question listing the communities (paged buttons; typing the name works too). What the resident sent
before answering (a report typed straight away, a /start) is kept in the question's dialog and
handled, in the chosen community, right after the answer. /community asks again, to move.

    r:<turn>:c:<code>   a community picked
    r:<turn>:p<page>    another page of the list
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from gridcore.conversation import Conversation, Resident
from gridcore.directory import CommunityDirectory, DirectoryEntry
from gridcore.links import read_building_link
from gridcore.messages import Button
from gridcore.ports import UnitOfWork
from handlers import keyboards
from handlers.context import Context
from handlers.inputs import Incoming, InputKind, Sender

DIALOG = "community"
COMMAND = "community"
PICK = "c:"
PAGE = "p"
WIDTH = 2
KEPT = "kept"  # conversation.data: the input that came before the answer
BEFORE = "before"  # conversation.data: a dialog the question interrupted (dialog, step, data)
KEPT_KINDS = frozenset({InputKind.TEXT, InputKind.COMMAND, InputKind.PHOTO, InputKind.VOICE,
                        InputKind.LOCATION, InputKind.CONTACT})


async def from_link(uow: UnitOfWork, incoming: Incoming, directory: CommunityDirectory
                    ) -> DirectoryEntry | None:
    """The community a /start deep link to a building names, if it names one that exists. An old link
    naming no community reads the rosters to find the one community having that building (rare: such
    links predate serving several communities)."""
    if incoming.kind is not InputKind.COMMAND or incoming.command != "start":
        return None
    link = read_building_link(incoming.args)
    if link is None:
        return None
    if link.community_code is not None:
        return directory.find(link.community_code)
    having = []
    for entry in directory.entries:
        community = await uow.roster.get(entry.code)
        if community is not None and community.building(link.building_code) is not None:
            having.append(entry)
    return having[0] if len(having) == 1 else None


async def saved(uow: UnitOfWork, user_id: int, directory: CommunityDirectory) -> DirectoryEntry | None:
    resident = await uow.residents.get(user_id)
    return directory.find(resident.community_code) if resident is not None else None


async def remember(uow: UnitOfWork, incoming: Incoming, community: DirectoryEntry) -> None:
    """Save the resident's community (created if the bot never met them)."""
    sender = incoming.sender
    resident = await uow.residents.get(sender.user_id) or Resident(
        sender.user_id, incoming.chat_id, sender.display_name, sender.username)
    if resident.move_to(community.code):
        await uow.residents.save(resident)


def pending(conversation: Conversation) -> bool:
    return conversation.dialog == DIALOG


def wants_choice(incoming: Incoming) -> bool:
    return incoming.is_private and incoming.kind is InputKind.COMMAND and incoming.command == COMMAND


async def explain(ctx: Context) -> None:
    """/community where there is nothing to choose: one community only, or staff (who act in the
    community whose roster names them)."""
    await ctx.say("community_fixed", name=ctx.community.name,
                  staff=bool(ctx.community.roles_of(ctx.sender_id)))


# --- the question ---------------------------------------------------------------------------------


async def begin(ctx: Context, communities: Sequence[DirectoryEntry]) -> None:
    """Ask which community; keep what was sent (unless it was /community itself) for after the answer."""
    conversation = ctx.conversation
    incoming = ctx.incoming
    data: dict[str, Any] = {}
    if pending(conversation):  # asked again (/community): what the first asking kept stays
        data = {key: conversation.data[key] for key in (BEFORE, KEPT) if key in conversation.data}
    elif conversation.dialog is not None:
        data[BEFORE] = {"dialog": conversation.dialog, "step": conversation.step, "data": conversation.data}
    if incoming.kind in KEPT_KINDS and not wants_choice(incoming) and KEPT not in data:
        data[KEPT] = dataclasses.asdict(incoming)
    conversation.dialog, conversation.step, conversation.data = DIALOG, "choose", data
    conversation.turn += 1
    await ask(ctx, communities, 0)


async def ask(ctx: Context, communities: Sequence[DirectoryEntry], page: int, *, edit: bool = False,
              unknown: str = "") -> None:
    choices = [Button(c.name, ctx.dialog_data(PICK + c.code)) for c in communities]
    shown = keyboards.paged(choices, page, width=WIDTH, rows=8, turn=lambda n, forward: Button(
        ctx.label("page_next" if forward else "page_prev"), ctx.dialog_data(f"{PAGE}{n}")))
    context = dict(kept=KEPT in ctx.conversation.data, unknown=unknown[:30], page=shown.number + 1,
                   pages=shown.count)
    if edit and ctx.incoming.message_id is not None:
        await ctx.tell(ctx.chat_id, "ask_community", buttons=shown.rows,
                       edit_message_id=ctx.incoming.message_id, **context)
    else:
        await ctx.say("ask_community", buttons=shown.rows, **context)


def typed(communities: Sequence[DirectoryEntry], text: str) -> DirectoryEntry | None:
    """The community a typed answer names: its name or code, or a part of its name only it has."""
    text = "".join(text.split())
    if not text:
        return None
    exact = [c for c in communities if text in (c.name, c.code) or text.upper() == c.code.upper()]
    if exact:
        return exact[0]
    partial = [c for c in communities if text in c.name or (len(c.name) > 2 and c.name in text)]
    return partial[0] if len(partial) == 1 else None


Chosen = tuple[DirectoryEntry, Incoming | None]  # the community, and the input kept for after the answer


async def on_input(ctx: Context, communities: Sequence[DirectoryEntry]) -> Chosen | None:
    """An input while the question is open: the chosen community and the kept input, or None when
    the question stays (a page turned, an unknown name, something else sent)."""
    incoming = ctx.incoming
    if incoming.kind is InputKind.BUTTON:
        value = ctx.dialog_press()
        if value is None:
            return None
        if (page := keyboards.page_number(value, PAGE)) is not None:
            await ask(ctx, communities, page, edit=True)
            return None
        chosen = next((c for c in communities if PICK + c.code == value), None)
        if chosen is None:
            ctx.answer(ctx.label("stale_button"), alert=True)
            return None
        return await choose(ctx, chosen)
    if incoming.kind is InputKind.COMMAND and incoming.command == "cancel":
        restore(ctx.conversation)
        await ctx.say("task_cancelled")
        return None
    chosen = typed(communities, incoming.text) if incoming.kind is InputKind.TEXT else None
    if chosen is None:
        await ask(ctx, communities, 0, unknown=incoming.text if incoming.kind is InputKind.TEXT else "")
        return None
    return await choose(ctx, chosen)


async def choose(ctx: Context, community: DirectoryEntry) -> Chosen:
    await remember(ctx.uow, ctx.incoming, community)
    kept = ctx.conversation.data.get(KEPT)
    restore(ctx.conversation)
    ctx.retire_prompts()
    await ctx.say("community_chosen", name=community.name, kept=kept is not None)
    return community, (incoming_from(kept) if kept else None)


def restore(conversation: Conversation) -> None:
    """End the question; a dialog it interrupted comes back."""
    before = conversation.data.get(BEFORE)
    conversation.reset()
    if before:
        conversation.dialog, conversation.step = before["dialog"], before["step"]
        conversation.data = before["data"]


def incoming_from(data: dict[str, Any]) -> Incoming:
    return Incoming(**{**data, "sender": Sender(**data["sender"]), "kind": InputKind(data["kind"])})
