"""Filing a report as a ticket, and joining an open one (+1)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from gridcore.errors import DomainError
from gridcore.ports import CORRECTED_BY_RESIDENT
from gridcore.priority import feedback_due
from gridcore.ticket import Location, Reporter, Ticket
from handlers import dispatch, proxy, ticket_actions
from handlers import report_steps as s
from handlers.context import Context, Keyboard
from handlers.draft import ReportDraft

Offer = Callable[[Context, ReportDraft], Awaitable[tuple[str, Keyboard]]]


async def file_ticket(ctx: Context, draft: ReportDraft, offer: Offer | None = None) -> Ticket:
    """The draft as a ticket: stored already routed, the resident told, the cards sent. Ends the dialog;
    `offer`, once it ended, may start a question the message saying "filed" asks (the home offer)."""
    category = s.category_of(ctx, draft)
    assert category is not None
    building = s.building_of(ctx, draft)
    sender = ctx.incoming.sender
    resident = await ctx.uow.residents.get(sender.user_id)
    # The number first, so the ticket and every message about it carry it from the start. From here to
    # the commit, the day's counter is this filing's: another filing of the community waits for it.
    number = await ctx.uow.tickets.next_number(ctx.community.code, ctx.local(ctx.now).date())
    ticket = Ticket.file(
        number=number,
        community_code=ctx.community.code,
        category_code=category.code,
        feedback_due_at=feedback_due(ctx.community, category, category.level, ctx.now),
        description=draft.description or ctx.label("voice_description"),
        location=Location(building.code if building else None, draft.unit, draft.detail or ""),
        reporter=proxy.reporter(ctx, draft) if draft.on_behalf else Reporter(
            sender.user_id, ctx.chat_id, sender.display_name,
            resident.phone if resident and not draft.anonymous else None, bool(draft.anonymous)),
        at=ctx.now,
        urgency=category.level,  # an emergency category's tickets are 紧急 at least
        photos=tuple(draft.photos),
        grid_code=building.grid_code if building else None,
        voice=draft.voice,
    )
    if draft.on_behalf:
        proxy.mark_filed_by(ticket, sender.user_id)
    routing = await dispatch.route_new(ctx, ticket)
    await ctx.end_dialog()
    await ctx.uow.tickets.add(ticket)  # in one insert, already assigned
    if draft.bot_suggestion and draft.description and ctx.community.category(draft.bot_suggestion):
        await ticket_actions.record_correction(ctx, draft.description, draft.bot_suggestion, category.code,
                                               CORRECTED_BY_RESIDENT)  # nothing when the guess was taken
    offer_place, buttons = await offer(ctx, draft) if offer is not None else ("", [])
    # One message takes the phone question's reply keyboard away or carries buttons, not both.
    apart = bool(buttons) and draft.phone_asked
    await ctx.say("filed", ticket=ticket, category=category, due=ctx.local(ticket.feedback_due_at),
                  ticket_number=ticket.number, remove_reply_keyboard=draft.phone_asked,
                  offer_place="" if apart else offer_place, buttons=[] if apart else buttons)
    if apart:
        await ctx.say("offer_home", place=offer_place, buttons=buttons)
    await dispatch.send_new_cards(ctx, ticket, routing)
    return ticket


async def join(ctx: Context, draft: ReportDraft) -> bool:
    """The resident joins the open ticket offered (+1): True when joined (the dialog ended), False when it
    is gone or closed meanwhile (the resident was told; their own report goes on)."""
    ticket = await ctx.uow.tickets.get(draft.duplicate_number or "")
    try:
        if ticket is None:
            raise DomainError("gone")
        joined = ticket.follow(ctx.incoming.sender.user_id, at=ctx.now)
    except DomainError:
        await ctx.say("duplicate_gone")
        return False
    await ctx.uow.tickets.save(ticket)
    await ctx.end_dialog()
    await ctx.say("joined", ticket=ticket, followers=len(ticket.followers))
    if joined is not None and ticket.assignee is not None:
        # Only that one more resident raised it: never who, nor what they wrote.
        await ctx.tell(ticket.assignee, "follower_joined", ticket=ticket, followers=len(ticket.followers),
                       ticket_number=ticket.number)
    return True
