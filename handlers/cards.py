"""Ticket cards: the worker's card with its buttons, copies for leaders and partners, the staff card.

A card is remembered (ticket_cards) with the outbox id that sent it; whenever the ticket changes, every
card is edited in place to show the current state. Only the card in the handler's chat has buttons, and
only the buttons the current state allows. Cards in group chats never show a resident's name or phone.
"""

from __future__ import annotations

import re

from gridcore.authorization import Act
from gridcore.community import Person
from gridcore.messages import Button
from gridcore.ports import TicketCard
from gridcore.ticket import Ticket, TicketStatus
from handlers.context import Context

HANDLER, COPY, STAFF = "handler", "copy", "staff"
# Buttons per state; callback data w:<act>:<ticket id>.
CARD_ACTS = {
    TicketStatus.ASSIGNED: (Act.ACCEPT, Act.TRANSFER, Act.ESCALATE, Act.REVEAL_CONTACT),
    TicketStatus.ACCEPTED: (Act.PROGRESS, Act.RESOLVE, Act.TRANSFER, Act.ESCALATE, Act.REVEAL_CONTACT),
}
STAFF_ACTS = {TicketStatus.SUBMITTED, TicketStatus.ESCALATED, TicketStatus.TRANSFERRED, TicketStatus.REOPENED}


def mask_name(name: str) -> str:
    """张** — what a resident sees of a worker, and a worker of an anonymous-minded name."""
    return f"{name[:1]}{'*' * max(2, len(name) - 1)}" if name else "**"


def mask_phone(phone: str | None) -> str:
    if not phone:
        return ""
    digits = phone.replace(" ", "").replace("-", "")
    return f"{digits[:3]}****{digits[-4:]}" if len(digits) >= 8 else "****"


# A mobile number (with +86 / 86 in front, spaces, dashes or dots inside), a landline with its area code.
PHONE_IN_TEXT = re.compile(r"(?<!\d)(?:\+?86[\s-]?)?(1[3-9]\d)[\s.-]?(\d{4})[\s.-]?(\d{4})(?!\d)")
LANDLINE_IN_TEXT = re.compile(r"(?<!\d)(0\d{2,3})[\s-]?\d{3,4}[\s-]?(\d{4})(?!\d)")
FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９＋－", "0123456789+-")


def for_group(text: str, reporter_name: str) -> str:
    """What a resident wrote, made fit for a group chat: phone numbers masked, their own name removed."""
    text = text.translate(FULL_WIDTH_DIGITS)  # a number typed in full-width digits is a number too
    text = PHONE_IN_TEXT.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)
    text = LANDLINE_IN_TEXT.sub(lambda m: f"{m.group(1)}-****{m.group(2)}", text)
    return text.replace(reporter_name, mask_name(reporter_name)) if len(reporter_name) >= 2 else text


def worker_data(act: Act | str, ticket: Ticket, arg: str | int | None = None) -> str:
    value = act.value if isinstance(act, Act) else act
    return f"w:{value}:{ticket.id}" + (f":{arg}" if arg is not None else "")


def card_buttons(ctx: Context, ticket: Ticket, kind: str, live: bool) -> list[list[Button]]:
    if not live:
        return []
    if kind == HANDLER and ticket.status in CARD_ACTS:
        acts = [Button(ctx.label(f"act_{act.value}"), worker_data(act, ticket))
                for act in CARD_ACTS[ticket.status]]
        return [acts[i:i + 3] for i in range(0, len(acts), 3)]
    if kind == STAFF and ticket.status in STAFF_ACTS:
        return [[Button(ctx.label("act_assign"), worker_data(Act.ASSIGN, ticket))]]
    return []


def staff_name(ctx: Context, user_id: int | None) -> str:
    if user_id is None:  # nobody: not the first roster entry that has no Telegram id yet
        return ""
    person = next((p for p in ctx.community.staff if p.telegram_user_id == user_id), None)
    return person.name if person else ""


async def render_card(ctx: Context, ticket: Ticket, kind: str, *, chat_id: int,
                      edit_outbox_id: int | None = None, note: str = "", live: bool = True) -> int:
    category = ctx.community.category(ticket.category_code)
    building = ctx.community.building(ticket.location.building_code or "")
    private = chat_id > 0  # Telegram: users have positive ids, groups negative
    reporter = ticket.reporter
    return await ctx.tell(
        chat_id, "card", kind=kind, ticket=ticket, category=category, building=building,
        status=ctx.label("status_" + ticket.status.value), due=ctx.local(ticket.feedback_due_at),
        handler=staff_name(ctx, ticket.assignee), note=note,
        reporter_name=reporter.display_name if private and not reporter.anonymous else "",
        reporter_phone=mask_phone(reporter.phone) if private and not reporter.anonymous else "",
        anonymous=reporter.anonymous, on_behalf=ticket.filed_by is not None,
        # What the resident typed (the description, and the floor/room: "302室 张阿姨 138...") is shown
        # in a group with phone numbers masked and their name removed.
        description=ticket.description if private else for_group(ticket.description, reporter.display_name),
        detail=(ticket.location.detail if private
                else for_group(ticket.location.detail, reporter.display_name)),
        live=live, buttons=card_buttons(ctx, ticket, kind, live),
        photos=ticket.photos if edit_outbox_id is None else (),
        # A voice note is the resident's own words: sent to a person's chat only, never to a group.
        voice=ticket.voice if private and edit_outbox_id is None else None, voice_private=private,
        edit_outbox_id=edit_outbox_id, ticket_number=ticket.number)


async def send_card(ctx: Context, ticket: Ticket, chat_id: int, kind: str, note: str = "") -> int:
    assert ticket.id is not None
    outbox_id = await render_card(ctx, ticket, kind, chat_id=chat_id, note=note)
    await ctx.uow.tickets.add_card(ticket.id, TicketCard(chat_id, outbox_id, kind))
    return outbox_id


async def refresh_cards(ctx: Context, ticket: Ticket, *, fresh: int | None = None) -> None:
    """Edit every card of the ticket to its current state; buttons stay only on the handler's own card."""
    assert ticket.id is not None
    all_cards = await ctx.uow.tickets.cards(ticket.id)
    # Buttons live on one card only: the newest handler card in the handler's own chat.
    live = next((c for c in reversed(all_cards) if c.kind == HANDLER and c.chat_id == ticket.assignee), None)
    for card in all_cards:
        if card.outbox_id == fresh:
            continue  # just sent as it is now
        await render_card(ctx, ticket, card.kind, chat_id=card.chat_id, edit_outbox_id=card.outbox_id,
                          live=card.kind != HANDLER or card is live)


def staff_chat(ctx: Context) -> list[int]:
    """Where community staff are told: their group, else each of them privately."""
    if ctx.community.staff_chat_id is not None:
        return [ctx.community.staff_chat_id]
    return [p.telegram_user_id for p in ctx.community.staff
            if p.role.value == "community_staff" and p.telegram_user_id is not None]


def chat_of(person: Person) -> int:
    assert person.telegram_user_id is not None
    return person.telegram_user_id  # a private chat's id is the user's id
