"""The console's action forms: each POST is one use case of handlers.ticket_actions, run as the viewer
through Conversations.as_staff (the same authorization and outbox as the chat's buttons: the resident
hears in chat), then back to the ticket with a flash (成功, or the refusal's words).

    POST <base>/tickets/<number>/accept                  签收
    POST <base>/tickets/<number>/progress   note | reply  进展
    POST <base>/tickets/<number>/resolve    note | reply  办结
    POST <base>/tickets/<number>/transfer   target reason  转派
    POST <base>/tickets/<number>/escalate   reason       上报社区
    POST <base>/tickets/<number>/assign     target       指派
    POST <base>/tickets/<number>/recategorise  category  改类别
    POST <base>/tickets/<number>/priority   priority reason  调整等级

A ticket the viewer may not see, or an act they may not take on it at all, is a 403 page and changes
nothing; an act the ticket's state no longer allows comes back as the refusal's text. `reply` is a
常用回复 picked from the form's list (no JavaScript): a typed note wins over it. Either is a note like
one typed in the chat (the same checks in ticket_actions), so a forged reply can say nothing a typed
note could not.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from gridcore.authorization import Act, may
from gridcore.ticket import Ticket
from handlers import ticket_actions
from handlers.context import Context
from web.state import console_of, viewer_of
from web.tickets import ACTS, visible_ticket

Use = Callable[[Context, Ticket], Awaitable[ticket_actions.Outcome]]


def use_case(act: Act, form: dict[str, str]) -> Use | None:
    """The use case a form asks for, with its fields; None when a required field is blank. A progress
    note or result is the typed note, else the picked 常用回复."""
    note = form.get("note", "") or form.get("reply", "")
    reason, target = form.get("reason", ""), form.get("target", "")
    category, level = form.get("category", ""), form.get("priority", "")
    if (act in (Act.PROGRESS, Act.RESOLVE) and not note) or (act is Act.RECATEGORISE and not category):
        return None
    if act is Act.SET_PRIORITY and not (level and reason):
        return None
    if (act in (Act.TRANSFER, Act.ESCALATE) and not reason) or (
            act in (Act.TRANSFER, Act.ASSIGN) and not target):
        return None
    uses: dict[Act, Use] = {
        Act.ACCEPT: lambda ctx, t: ticket_actions.accept(ctx, t),
        Act.PROGRESS: lambda ctx, t: ticket_actions.progress(ctx, t, note),
        Act.RESOLVE: lambda ctx, t: ticket_actions.resolve(ctx, t, note),
        Act.TRANSFER: lambda ctx, t: ticket_actions.transfer(ctx, t, target, reason),
        Act.ESCALATE: lambda ctx, t: ticket_actions.escalate(ctx, t, reason),
        Act.ASSIGN: lambda ctx, t: ticket_actions.assign(ctx, t, target),
        Act.RECATEGORISE: lambda ctx, t: ticket_actions.recategorise(ctx, t, category),
        Act.SET_PRIORITY: lambda ctx, t: ticket_actions.set_priority(ctx, t, level, reason),
    }
    return uses[act]


async def act(request: web.Request) -> web.StreamResponse:
    console, viewer = console_of(request), viewer_of(request)
    config = console.config
    chosen = next((a for a in ACTS if a.value == request.match_info["act"]), None)
    async with config.units() as uow:
        found = await visible_ticket(uow, viewer, request.match_info["number"])
    if found is None:
        return console.refuse(request, "ticket")
    ticket, community = found
    if chosen is None or not may(community, viewer.user_id, chosen, ticket):
        return console.refuse(request, "act")
    posted = await request.post()
    fields = ("note", "reply", "reason", "target", "category", "priority")
    form = {key: str(posted.get(key, "")).strip() for key in fields}
    back = f"/tickets/{ticket.number}"
    limit = ticket_actions.MAX_NOTE
    use = use_case(chosen, form) if all(len(text) <= limit for text in form.values()) else None
    if use is None:  # a blank or too long note, reason or pick: the chat's words for it
        return console.redirect(back, flash=config.texts.label("note_invalid", limit=limit), ok=False)

    async def work(ctx: Context) -> tuple[bool, str]:
        current = await ctx.uow.tickets.get(ticket.number)  # as it is now, in this transaction
        if current is None:
            return False, ctx.label("ticket_gone")
        outcome = await use(ctx, current)
        return outcome.ok, "" if outcome.ok else outcome.message(ctx)

    done = await config.conversations.as_staff(viewer.user_id, community.code, work)
    if done is None:
        return console.refuse(request, "act")
    ok, refusal = done
    done_text = config.texts.label_in("console", "done", act=chosen.value)
    return console.redirect(back, flash=done_text if ok else refusal, ok=ok)
