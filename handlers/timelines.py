"""What a resident is shown of a ticket: the reporter their own, anyone else only the public view.

    reporter    timeline.html           what they wrote, where, their photos count; the ledger less
                                        the staff-internal entries (gridcore.disclosure.INTERNAL)
    follower    follower_timeline.html  number, category, building/unit, dates, phase changes in
                                        neutral words — nothing another resident wrote, no names
The same public view is what the duplicate offer (ask_duplicate.html) and the followers' notices
(notify_follower.html) show.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gridcore.disclosure import Phase, PublicTicket, public_ticket, reporter_events
from gridcore.ticket import Location, Ticket, TicketEvent
from handlers.cards import place_text
from handlers.context import Context


def phase_word(ctx: Context, phase: Phase) -> str:
    return ctx.label("phase_" + phase.value)


def public_context(ctx: Context, ticket: Ticket, events: Sequence[TicketEvent] = ()) -> dict[str, Any]:
    """The template context of the public view: plain values, never the ticket itself."""
    view: PublicTicket = public_ticket(ticket, events)
    category = ctx.community.category(view.category_code)
    place = place_text(ctx.community, Location(view.building_code, view.unit)) or ctx.label("public_place")
    return dict(
        number=view.number, category=category.name if category else view.category_code, place=place,
        phase=phase_word(ctx, view.phase), created=ctx.local(view.created_at),
        updated=ctx.local(view.updated_at), followers=view.followers,
        history=[(ctx.local(at), phase_word(ctx, phase)) for at, phase in view.history])


def is_reporter(ctx: Context, ticket: Ticket) -> bool:
    return ticket.reporter.user_id == ctx.sender_id


async def show(ctx: Context, ticket: Ticket) -> None:
    """The ticket as this resident (its reporter or a follower) may see it."""
    events = await ctx.uow.tickets.ledger(ticket.number)
    if not is_reporter(ctx, ticket):
        await ctx.say("follower_timeline", **public_context(ctx, ticket, events))
        return
    await ctx.say("timeline", ticket=ticket, events=reporter_events(events), local=ctx.local,
                  place=place_text(ctx.community, ticket.location),
                  categories={c.code: c.name for c in ctx.community.categories},
                  status=ctx.label("status_" + ticket.status.value),
                  action=lambda e: ctx.label("action_" + e.action.value))
