"""What happens around a ticket when it changes hands: routing a new one, assigning, telling people."""

from __future__ import annotations

from gridcore.community import Person
from gridcore.deadlines import start_accept_clock
from gridcore.messages import Button
from gridcore.routing import Routing, grid_leader, route
from gridcore.ticket import Action, Ticket, Urgency
from handlers import cards, timelines
from handlers.communities import street_chats
from handlers.context import Context

URGENT = "urgent"  # the note of a 紧急 / 重大 ticket's staff card


async def route_new(ctx: Context, ticket: Ticket) -> Routing:
    """Decide who handles a ticket being filed, and record it on the ticket, before it is stored: the
    ticket then goes in with its assignment in one insert (see report.file_ticket for why). The open
    counts are read before the day's number, so filings at the same moment do not see each other's
    assignment: in a burst, a grid's workers may get a ticket or two more than an even share."""
    routing = route(ctx.community, ticket, await ctx.uow.tickets.open_counts(ctx.community.code))
    if routing.assignee is not None:
        record_assignment(ctx, ticket, routing.assignee, actor="system", reason=routing.reason.value)
    else:
        ticket.record("system", ctx.now, Action.NOTE, to_staff=routing.reason.value)
    return routing


async def send_new_cards(ctx: Context, ticket: Ticket, routing: Routing) -> None:
    """The cards of a just-stored ticket routed by route_new: to its handler (else staff), and copies.
    A new ticket has no earlier cards to refresh."""
    if routing.assignee is not None:
        await cards.send_card(ctx, ticket, cards.chat_of(routing.assignee), cards.HANDLER)
    else:
        await to_staff(ctx, ticket, reason=routing.reason.value)
    for person in routing.copies:
        await cards.send_card(ctx, ticket, cards.chat_of(person), cards.COPY)
    if routing.assignee is not None and routing.inform_staff:  # 紧急 / 重大: staff see it at once, assigned
        await to_staff(ctx, ticket, reason=URGENT)
    if routing.inform_street:
        await tell_street(ctx, ticket)


async def inform_level(ctx: Context, ticket: Ticket, old: Urgency) -> None:
    """调整等级 raised the ticket: whoever its new level informs at filing and holds no card of it yet gets
    one now (紧急 / 重大: the grid leader a copy, community staff their card; 重大: the street is told)."""
    if not ticket.urgency.raised:
        return
    assert ticket.id is not None
    held = {card.chat_id for card in await ctx.uow.tickets.cards(ticket.id)}
    leader = grid_leader(ctx.community, ticket.grid_code)
    if leader is not None and leader.telegram_user_id not in (ticket.assignee, *held):
        await cards.send_card(ctx, ticket, cards.chat_of(leader), cards.COPY)
    staff = cards.staff_chat(ctx)
    if ticket.assignee is not None and not held & set(staff):
        await to_staff(ctx, ticket, reason=URGENT)
    if ticket.urgency is Urgency.MAJOR and old is not Urgency.MAJOR:
        await tell_street(ctx, ticket)


async def tell_street(ctx: Context, ticket: Ticket) -> None:
    """重大: the street office hears at once where its 督办 would reach it (its group, else each street
    staff member), with no resident's words; in a private chat a button opens the ticket."""
    category = ctx.community.category(ticket.category_code)
    for chat_id in street_chats(ctx.community):
        await ctx.tell(chat_id, "major_street", ticket=ticket, community=ctx.community.name,
                       category=category.name if category else ticket.category_code,
                       place=cards.place_text(ctx.community, ticket.location),
                       handler=cards.staff_name(ctx, ticket.assignee), due=ctx.local(ticket.feedback_due_at),
                       buttons=[[Button(ctx.label("view_ticket"), f"v:{ticket.id}")]] if chat_id > 0 else (),
                       ticket_number=ticket.number)


def record_assignment(ctx: Context, ticket: Ticket, person: Person, *, actor: str, **details: str) -> None:
    """The ASSIGN on the ticket (in memory) and its acceptance clock started."""
    ticket.apply(Action.ASSIGN, actor=actor, at=ctx.now, assignee=person.telegram_user_id,
                 name=person.name, **details)
    start_accept_clock(ticket, ctx.now, ctx.community.reminders)


async def assign(ctx: Context, ticket: Ticket, person: Person, *, actor: str, **details: str) -> None:
    record_assignment(ctx, ticket, person, actor=actor, **details)
    await ctx.uow.tickets.save(ticket)
    fresh = await cards.send_card(ctx, ticket, cards.chat_of(person), cards.HANDLER)
    await cards.refresh_cards(ctx, ticket, fresh=fresh)  # earlier cards lose their buttons


async def to_staff(ctx: Context, ticket: Ticket, *, reason: str) -> None:
    for chat_id in cards.staff_chat(ctx):
        await cards.send_card(ctx, ticket, chat_id, cards.STAFF, note=reason)


# What a follower hears for each notice the reporter gets: the news, never its content (the worker's
# note, name or photos). Notices not listed here (overdue apologies) go to the reporter only.
FOLLOWER_NEWS = {"notify_accepted": "status", "notify_escalated": "status", "notify_resolved": "status",
                 "notify_progress": "progress", "rate_reopened": "status"}


async def tell_residents(ctx: Context, ticket: Ticket, template: str, *, photos: tuple[str, ...] = (),
                         **context: object) -> None:
    """The reporter hears about their ticket in full; everyone who joined (+1) gets the public view of
    the news (handlers.timelines): the ticket's phase in neutral words."""
    await ctx.tell(ticket.reporter.chat_id, template, ticket=ticket, photos=photos,
                   ticket_number=ticket.number, **context)
    followers = [f for f in dict.fromkeys(ticket.followers) if f != ticket.reporter.chat_id]
    news = FOLLOWER_NEWS.get(template)
    if not followers or news is None:
        return
    public = timelines.public_context(ctx, ticket, await ctx.uow.tickets.ledger(ticket.number))
    for chat_id in followers:  # a private chat's id is the user's id
        await ctx.tell(chat_id, "notify_follower", news=news, ticket_number=ticket.number, **public)


async def tell_grid_leader(ctx: Context, ticket: Ticket, template: str, **context: object) -> None:
    leader = grid_leader(ctx.community, ticket.grid_code)
    chats = [cards.chat_of(leader)] if leader is not None else cards.staff_chat(ctx)
    for chat_id in chats:
        # `private`: what residents wrote is shown in a person's chat, never in a group.
        await ctx.tell(chat_id, template, ticket=ticket, ticket_number=ticket.number, private=chat_id > 0,
                       **context)
