"""Work no resident's message starts: closing tickets nobody rated, and undeliverable messages.

Each function is one unit of work, run through Conversations.system().
"""

from __future__ import annotations

from datetime import timedelta

from gridcore.deadlines import ACCEPT_STAGES, Stage, due_stages, time_left
from gridcore.messages import Button
from gridcore.redact import mask_name
from gridcore.routing import grid_leader
from gridcore.ticket import TRANSITIONS, Action, Ticket, TicketStatus
from handlers import cards, dispatch
from handlers.communities import street_chats
from handlers.context import Context

SYSTEM = "system"


async def close_unrated(ctx: Context) -> int:
    """A resolved ticket the resident has not rated within the roster's rating_days closes as 未评价."""
    cutoff = ctx.now - timedelta(days=ctx.community.rating_days)
    closed = 0
    for ticket in await ctx.uow.tickets.unrated_since(cutoff, community_code=ctx.community.code):
        if ticket.status is not TicketStatus.RESOLVED:
            continue
        ticket.apply(Action.CLOSE, actor=SYSTEM, at=ctx.now, reason="unrated")
        await ctx.uow.tickets.save(ticket)
        await cards.refresh_cards(ctx, ticket)
        await ctx.tell(ticket.reporter.chat_id, "closed_unrated", ticket=ticket,
                       days=ctx.community.rating_days, ticket_number=ticket.number)
        closed += 1
    return closed


async def delivery_failed(ctx: Context, chat_id: int, ticket_number: str | None, error: str) -> None:
    """A message could not be delivered for good (the bot was blocked, the chat is gone). Write it on the
    ticket's ledger; if it was the handler's card, community staff get the ticket to assign anew, so a
    worker who blocked the bot never silently misses an assignment."""
    ticket = await ctx.uow.tickets.get(ticket_number) if ticket_number else None
    if ticket is None:
        return
    ticket.record(SYSTEM, ctx.now, Action.DELIVERY_FAILED, chat_id=chat_id, error=error[:200])
    await ctx.uow.tickets.save(ticket)
    if chat_id in cards.staff_chat(ctx):
        return  # the staff chat itself is unreachable: nobody left to tell in chat (the ledger has it)
    handler_lost = chat_id == ticket.assignee and ticket.is_open
    who = cards.staff_name(ctx, chat_id)
    for staff_chat in cards.staff_chat(ctx):
        await ctx.tell(staff_chat, "delivery_failed", ticket=ticket, who=who, handler_lost=handler_lost,
                       ticket_number=ticket.number)
    if handler_lost and ticket.status in TRANSITIONS[Action.TRANSFER][0]:
        # Taken back from the unreachable handler, so staff can assign it to someone else.
        ticket.apply(Action.TRANSFER, actor=SYSTEM, at=ctx.now, reason="undeliverable", to=None)
        await ctx.uow.tickets.save(ticket)
        await cards.refresh_cards(ctx, ticket)
        await dispatch.to_staff(ctx, ticket, reason="undeliverable")


async def send_reminders(ctx: Context) -> int:
    """Each due reminder / 督办 stage, sent once: the stage is marked on the ticket in the same
    transaction as the messages it causes (a sweep that runs twice, or after downtime, sends nothing
    twice; a stage missed while the bot was down goes out now, once)."""
    sent = 0
    for ticket in await ctx.uow.tickets.due_for_reminders(ctx.now, community_code=ctx.community.code):
        send, skip = due_stages(ticket, ctx.now, ctx.community.reminders)
        for stage in send:
            await remind(ctx, ticket, stage)
            sent += 1
        ticket.reminders = (*ticket.reminders, *send, *skip)
        await ctx.uow.tickets.save(ticket)
    return sent


async def remind(ctx: Context, ticket: Ticket, stage: Stage) -> None:
    deadline = (ticket.accept_due_at if stage in ACCEPT_STAGES and ticket.accept_due_at
                else ticket.feedback_due_at)
    due = ctx.local(deadline)
    left = time_left(deadline, ctx.now)  # from the moment it is sent: a late sweep says the real time
    place = cards.place_text(ctx.community, ticket.location)  # names the estate: "雅悦花园5栋2单元"
    handler_chats = [ticket.assignee] if ticket.assignee is not None else cards.staff_chat(ctx)
    if stage in (Stage.ACCEPT_REMINDER, Stage.FEEDBACK_24H, Stage.FEEDBACK_4H):
        ticket.record(SYSTEM, ctx.now, Action.REMIND, stage=stage.value)
        for chat_id in handler_chats:
            await ctx.tell(chat_id, "reminder", ticket=ticket, stage=stage.value, due=due, left=left,
                           place=place, unassigned=ticket.assignee is None, ticket_number=ticket.number)
        return
    handler = cards.staff_name(ctx, ticket.assignee)
    if stage is Stage.OVERDUE_STREET:
        await supervise_street(ctx, ticket, due=due, left=left, handler=handler, place=place)
        return
    ticket.record(SYSTEM, ctx.now, Action.SUPERVISE, stage=stage.value)
    if stage is Stage.OVERDUE_STAFF:
        for chat_id in cards.staff_chat(ctx):
            await ctx.tell(chat_id, "supervise", ticket=ticket, stage=stage.value, due=due, left=left,
                           place=place, handler=handler, ticket_number=ticket.number)
        follower = "community"
    else:
        await dispatch.tell_grid_leader(ctx, ticket, "supervise", stage=stage.value, due=due, left=left,
                                        place=place, handler=handler)
        leader = grid_leader(ctx.community, ticket.grid_code)
        follower = mask_name(leader.name) if leader else "community"
    if stage is not Stage.ACCEPT_OVERDUE:
        await dispatch.tell_residents(ctx, ticket, "overdue_resident", follower=follower,
                                      staff=stage is Stage.OVERDUE_STAFF)


async def supervise_street(ctx: Context, ticket: Ticket, **context: object) -> None:
    """The street office's 督办, a day (street_after) after community staff's: only where there is a
    street office to tell; the resident heard already when staff were told."""
    chats = street_chats(ctx.community)
    if not chats:
        return
    ticket.record(SYSTEM, ctx.now, Action.SUPERVISE, stage=Stage.OVERDUE_STREET.value)
    for chat_id in chats:
        await ctx.tell(chat_id, "supervise", ticket=ticket, stage=Stage.OVERDUE_STREET.value,
                       community=ctx.community.name, ticket_number=ticket.number,
                       buttons=[[Button(ctx.label("view_ticket"), f"v:{ticket.id}")]] if chat_id > 0 else (),
                       **context)
