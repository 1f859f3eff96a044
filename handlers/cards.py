"""Ticket cards: the worker's card with its buttons, copies for leaders and partners, the staff card.

A card is remembered (ticket_cards) with the outbox id that sent it; whenever the ticket changes, every
card is edited in place to show the current state. Only the card in the handler's chat has the handler's
buttons, only those the current state allows; the grid leader's copy of a 紧急 / 重大 ticket has 转派,
上报社区 and 调整等级. 调整等级 asks for a typed reason, so a group's card does not offer it. Cards outside
the handling chain (group chats, partners) never show a resident's name, phone or other personal data
(gridcore.redact).
"""

from __future__ import annotations

from dataclasses import dataclass

from gridcore.authorization import Act, may
from gridcore.community import Community, Person, Role
from gridcore.messages import Button
from gridcore.ports import TicketCard, UnitOfWork
from gridcore.redact import mask_phone, redact
from gridcore.ticket import Action, Location, Ticket, TicketEvent, TicketStatus, Urgency
from handlers.context import Context

HANDLER, COPY, STAFF = "handler", "copy", "staff"
# Buttons per state; callback data w:<act>:<ticket id> (CALLBACK_NAMES: a shorter name than the act's).
CARD_ACTS = {
    TicketStatus.ASSIGNED: (Act.ACCEPT, Act.TRANSFER, Act.ESCALATE, Act.REVEAL_CONTACT, Act.RECATEGORISE,
                            Act.SET_PRIORITY),
    TicketStatus.ACCEPTED: (Act.PROGRESS, Act.RESOLVE, Act.TRANSFER, Act.ESCALATE, Act.REVEAL_CONTACT,
                            Act.RECATEGORISE, Act.SET_PRIORITY),
}
CALLBACK_NAMES = {Act.RECATEGORISE: "recat"}  # Telegram's callback data holds 64 bytes
STAFF_ACTS = {TicketStatus.SUBMITTED, TicketStatus.ESCALATED, TicketStatus.TRANSFERRED, TicketStatus.REOPENED}
# The grid leader's copy of a 紧急 / 重大 ticket: what a supervisor does while the worker runs (hand it to
# someone nearer, or up to the community, or set its level); the handler's own acts stay on theirs.
LEADER_URGENT_ACTS = (Act.TRANSFER, Act.ESCALATE, Act.SET_PRIORITY)


def for_group(text: str, *names: str) -> str:
    """What a resident wrote, made fit for anyone outside the handling chain (a group, a partner): every
    phone, ID, card number, address, chat id and the given names masked (gridcore.redact)."""
    return redact(text, names)


async def known_names(ctx: Context, ticket: Ticket) -> tuple[str, ...]:
    """Every name the system knows for the ticket's resident: the reporter as filed (on a /proxy ticket,
    the neighbour the leader named) and, for their own ticket, their profile now (a Telegram name
    changed since, their @username). An anonymous ticket's names are known too, and masked the same."""
    return await names_known(ctx.uow, ticket)


async def names_known(uow: UnitOfWork, ticket: Ticket) -> tuple[str, ...]:
    """known_names() for code without a Context (the staff console)."""
    names = [ticket.reporter.display_name]
    if ticket.filed_by is None:
        resident = await uow.residents.get(ticket.reporter.user_id)
        if resident is not None:
            names += [resident.display_name, resident.username or ""]
    return tuple(name for name in dict.fromkeys(names) if name)


def in_chain(ctx: Context, chat_id: int) -> bool:
    """A private chat of someone in the handling chain (a grid worker or leader, community staff):
    they see what the resident wrote. Groups and partners get it redacted."""
    chain = (Role.GRID_WORKER, Role.GRID_LEADER, Role.COMMUNITY_STAFF)
    return chat_id > 0 and any(p.role in chain for p in ctx.community.roles_of(chat_id))


def place_text(community: Community, location: Location) -> str:
    """Where a ticket is, as every card, list and notice names it (Community.place_name: the estate first,
    "雅悦花园3栋2单元"); "" for the public area or a building the roster no longer has."""
    return community.place_name(community.building(location.building_code or ""), location.unit)


def worker_data(act: Act | str, ticket: Ticket, arg: str | int | None = None) -> str:
    value = CALLBACK_NAMES.get(act, act.value) if isinstance(act, Act) else act
    return f"w:{value}:{ticket.id}" + (f":{arg}" if arg is not None else "")


def card_buttons(ctx: Context, ticket: Ticket, kind: str, live: bool,
                 chat_id: int | None = None) -> list[list[Button]]:
    if not live:
        return []
    if kind == COPY and chat_id is not None and leads_urgent(ctx, ticket, chat_id):
        return [[Button(ctx.label(f"act_{act.value}"), worker_data(act, ticket))
                 for act in LEADER_URGENT_ACTS]]
    if kind == HANDLER and ticket.status in CARD_ACTS:
        acts = [Button(ctx.label(f"act_{act.value}"), worker_data(act, ticket))
                for act in CARD_ACTS[ticket.status]]
        return [acts[i:i + 3] for i in range(0, len(acts), 3)]
    if kind == STAFF and ticket.status in STAFF_ACTS:
        private = chat_id is None or chat_id > 0  # a reason is typed: not in a group
        acts = (Act.ASSIGN, Act.RECATEGORISE, *((Act.SET_PRIORITY,) if private else ()))
        return [[Button(ctx.label(f"act_{act.value}"), worker_data(act, ticket)) for act in acts]]
    return []


def leads_urgent(ctx: Context, ticket: Ticket, chat_id: int) -> bool:
    """The chat is the ticket's grid leader's own, and the ticket is 紧急 / 重大 and being handled."""
    return (ticket.urgency.raised and ticket.status in CARD_ACTS and ticket.grid_code is not None
            and any(p.role is Role.GRID_LEADER and p.grid_code == ticket.grid_code
                    for p in ctx.community.roles_of(chat_id)))


def staff_name(ctx: Context, user_id: int | None) -> str:
    if user_id is None:  # nobody: not the first roster entry that has no Telegram id yet
        return ""
    person = next((p for p in ctx.community.staff if p.telegram_user_id == user_id), None)
    return person.name if person else ""


@dataclass(frozen=True)
class Round:
    """Which time the ticket is being handled: 1, then +1 for each reopening after 不满意/未解决; with
    the resident's reason for the last one (their own words: shown in the handler's private chat only)."""

    number: int = 1
    reason: str = ""


async def handling_round(ctx: Context, ticket: Ticket) -> Round:
    reopens = [e for e in await ctx.uow.tickets.ledger(ticket.number) if e.action is Action.REOPEN]
    if not reopens:
        return Round()
    return Round(len(reopens) + 1, str(reopens[-1].details.get("reason") or ""))


async def render_card(ctx: Context, ticket: Ticket, kind: str, *, chat_id: int,
                      edit_outbox_id: int | None = None, note: str = "", live: bool = True,
                      round_: Round | None = None) -> int:
    category = ctx.community.category(ticket.category_code)
    private = in_chain(ctx, chat_id)  # the handling chain in a private chat: it sees what was written
    names = () if private else await known_names(ctx, ticket)
    reporter = ticket.reporter
    round_ = round_ or Round()
    return await ctx.tell(
        chat_id, "card", kind=kind, ticket=ticket, category=category,
        place=place_text(ctx.community, ticket.location),
        status=ctx.label("status_" + ticket.status.value), due=ctx.local(ticket.feedback_due_at),
        handler=staff_name(ctx, ticket.assignee), note=note,
        pending=ticket.status in STAFF_ACTS, round=round_.number,
        reopen_reason=round_.reason if private and kind == HANDLER else "",
        reporter_name=reporter.display_name if private and not reporter.anonymous else "",
        reporter_phone=mask_phone(reporter.phone) if private and not reporter.anonymous else "",
        anonymous=reporter.anonymous, on_behalf=ticket.filed_by is not None,
        # What the resident typed (the description, and the floor/room: "302室 张阿姨 138...") is shown
        # outside the handling chain (groups, partners) redacted.
        description=ticket.description if private else for_group(ticket.description, *names),
        detail=ticket.location.detail if private else for_group(ticket.location.detail, *names),
        live=live, buttons=card_buttons(ctx, ticket, kind, live, chat_id),
        photos=ticket.photos if edit_outbox_id is None else (),
        # A voice note is the resident's own words: sent to a person's chat only, never to a group.
        voice=ticket.voice if private and edit_outbox_id is None else None, voice_private=private,
        edit_outbox_id=edit_outbox_id, ticket_number=ticket.number)


async def send_card(ctx: Context, ticket: Ticket, chat_id: int, kind: str, note: str = "") -> int:
    assert ticket.id is not None
    round_ = await handling_round(ctx, ticket) if kind == HANDLER else None
    outbox_id = await render_card(ctx, ticket, kind, chat_id=chat_id, note=note, round_=round_)
    await ctx.uow.tickets.add_card(ticket.id, TicketCard(chat_id, outbox_id, kind))
    return outbox_id


async def refresh_cards(ctx: Context, ticket: Ticket, *, fresh: int | None = None) -> None:
    """Edit every card of the ticket to its current state (its header too: 新工单 → 已签收 → 已办结,
    待指派 → 已指派给 …); buttons stay only on the handler's own card."""
    assert ticket.id is not None
    all_cards = await ctx.uow.tickets.cards(ticket.id)
    # Buttons live on one card only: the newest handler card in the handler's own chat.
    live = next((c for c in reversed(all_cards) if c.kind == HANDLER and c.chat_id == ticket.assignee), None)
    stale = [c for c in all_cards if c.outbox_id != fresh]
    round_ = await handling_round(ctx, ticket) if any(c.kind == HANDLER for c in stale) else None
    for card in stale:
        await render_card(ctx, ticket, card.kind, chat_id=card.chat_id, edit_outbox_id=card.outbox_id,
                          live=card.kind != HANDLER or card is live, round_=round_)


def viewer_buttons(ctx: Context, ticket: Ticket) -> list[list[Button]]:
    """The buttons the presser's own card of this ticket would carry now (a ticket opened from /tasks
    or /ticket): the handler's acts, or 指派 for whoever may assign a ticket waiting for it; else 调整等级
    for a supervisor of a ticket being handled (in a private chat: its reason is typed)."""
    if ticket.assignee == ctx.sender_id and may(ctx.community, ctx.sender_id, Act.ACCEPT, ticket):
        return card_buttons(ctx, ticket, HANDLER, True)
    if may(ctx.community, ctx.sender_id, Act.ASSIGN, ticket) and ticket.status in STAFF_ACTS:
        return card_buttons(ctx, ticket, STAFF, True, ctx.chat_id)
    if (ctx.chat_id > 0 and ticket.status in CARD_ACTS
            and may(ctx.community, ctx.sender_id, Act.SET_PRIORITY, ticket)):
        return [[Button(ctx.label(f"act_{Act.SET_PRIORITY.value}"), worker_data(Act.SET_PRIORITY, ticket))]]
    return []


def staff_chat(ctx: Context) -> list[int]:
    """Where community staff are told: their group, else each of them privately."""
    if ctx.community.staff_chat_id is not None:
        return [ctx.community.staff_chat_id]
    return [p.telegram_user_id for p in ctx.community.staff
            if p.role.value == "community_staff" and p.telegram_user_id is not None]


def chat_of(person: Person) -> int:
    assert person.telegram_user_id is not None
    return person.telegram_user_id  # a private chat's id is the user's id


NOTE_KEYS = ("note", "reason")  # the ledger details a staff member wrote


def event_note(ctx: Context, event: TicketEvent) -> str:
    """What a ledger line says beside its action, for staff (the chat's /ticket, the console's timeline):
    the note or reason written, whom it was assigned to, the categories of a 改类别, 楼栋长代办."""
    details = event.details
    if event.action is Action.ASSIGN:
        return str(details.get("name") or "")
    if event.action is Action.RECATEGORISE:
        return ctx.label("recategorised", old=category_name(ctx, details.get("from")),
                         new=category_name(ctx, details.get("to")))
    if event.action is Action.SET_PRIORITY:
        return ctx.label("priority_changed", old=level_name(ctx, details.get("from")),
                         new=level_name(ctx, details.get("to")), reason=str(details.get("reason") or ""))
    if event.action is Action.SUBMIT and details.get("on_behalf"):
        return ctx.label("on_behalf")
    return next((str(details[k]) for k in NOTE_KEYS if details.get(k)), "")


def category_name(ctx: Context, code: object) -> str:
    """A category's name as the roster has it now; its code when the roster dropped it since."""
    category = ctx.community.category(str(code or ""))
    return category.name if category else str(code or "")


def level_name(ctx: Context, value: object) -> str:
    """一般 / 紧急 / 重大 for a Urgency value (as the ledger stores it)."""
    known = {u.value for u in Urgency}
    return ctx.label(f"priority_{value}") if value in known else str(value or "")
