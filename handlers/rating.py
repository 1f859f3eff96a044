"""回访评价: after the result reaches the resident, three questions with buttons, and a reason when
it went badly. 未解决 or 不满意 reopens the ticket to the same worker and tells the grid leader;
otherwise the ticket closes. Only the reporter rates; a repeated or foreign press changes nothing.

    rt:<id>:c:<1|0>                           是否有人联系您？
    rt:<id>:s:<solved|partly|unsolved>        问题是否解决？
    rt:<id>:f:<satisfied|basic|unsatisfied>   您是否满意？ ─▶ (unhappy) reason ─▶ reopened
"""

from __future__ import annotations

import dataclasses

from gridcore.deadlines import restart_clock
from gridcore.messages import Button
from gridcore.priority import feedback_due
from gridcore.routing import reachable
from gridcore.ticket import Action, Rating, Satisfaction, Solved, Ticket, TicketStatus
from handlers import cards, dispatch
from handlers.context import Context
from handlers.inputs import InputKind

DIALOG = "rating"
MAX_REASON = 500
QUESTIONS = {
    "c": ("contacted", {"1": True, "0": False}),
    "s": ("solved", {s.value: s for s in Solved}),
    "f": ("satisfaction", {s.value: s for s in Satisfaction}),
}
ORDER = ("c", "s", "f")


def data(ticket: Ticket, question: str, answer: str) -> str:
    return f"rt:{ticket.id}:{question}:{answer}"


async def ask(ctx: Context, ticket: Ticket, question: str) -> None:
    _, answers = QUESTIONS[question]
    buttons = [[Button(ctx.label(f"rate_{question}_{key}"), data(ticket, question, key)) for key in answers]]
    await ctx.tell(ticket.reporter.chat_id, f"rate_{question}", ticket=ticket, buttons=buttons,
                   ticket_number=ticket.number)


async def ask_first(ctx: Context, ticket: Ticket) -> None:
    await ask(ctx, ticket, ORDER[0])


async def on_button(ctx: Context) -> None:
    _, ticket_id, question, answer = ([*ctx.incoming.button_data.split(":"), "", "", "", ""])[:4]
    ticket = await ctx.uow.tickets.get_by_id(int(ticket_id)) if ticket_id.isdigit() else None
    if ticket is None or ticket.reporter.user_id != ctx.sender_id or question not in QUESTIONS:
        ctx.answer(ctx.label("not_allowed"), alert=True)
        return
    field, answers = QUESTIONS[question]
    rating = ticket.rating or Rating()
    asked = ORDER.index(question)
    expected = next((q for q in ORDER if getattr(rating, QUESTIONS[q][0]) is None), None)
    if ticket.status is not TicketStatus.RESOLVED or answer not in answers or expected != question:
        ctx.answer(ctx.label("already_rated"), alert=True)
        return
    ctx.answer(ctx.label("thanks_answer"))
    if ctx.incoming.message_id is not None:
        await ctx.tell(ctx.chat_id, "rate_answered", edit_message_id=ctx.incoming.message_id,
                       question=question, answer=ctx.label(f"rate_{question}_{answer}"))
    ticket.rating = dataclasses.replace(rating, **{field: answers[answer]})
    if asked + 1 < len(ORDER):
        await ctx.uow.tickets.save(ticket)
        await ask(ctx, ticket, ORDER[asked + 1])
    elif ticket.rating.unhappy:
        await ctx.uow.tickets.save(ticket)
        ctx.begin_task(DIALOG, "reason", {"ticket_id": ticket.id})
        await ask_reason(ctx)
    else:
        await complete(ctx, ticket)


async def ask_reason(ctx: Context) -> None:
    await ctx.say("rate_reason", buttons=[[Button(ctx.label("no_reason"), ctx.dialog_data("none"))]])


async def on_input(ctx: Context) -> None:
    """The reason for 未解决 / 不满意."""
    ticket = await ctx.uow.tickets.get_by_id(int(ctx.conversation.data.get("ticket_id") or 0))
    incoming = ctx.incoming
    reason = None
    if incoming.kind is InputKind.BUTTON:
        value = ctx.dialog_press()
        if value is None:
            return
        reason = "" if value == "none" else None
    elif incoming.kind is InputKind.TEXT and 0 < len(incoming.text.strip()) <= MAX_REASON:
        reason = incoming.text.strip()
    if reason is None:
        await ctx.say("task_wrong_input", limit=MAX_REASON, photo_step=False)
        await ask_reason(ctx)
        return
    await ctx.end_dialog()
    if ticket is None or ticket.status is not TicketStatus.RESOLVED or ticket.rating is None:
        await ctx.say("already_rated_text")
        return
    ticket.rating = dataclasses.replace(ticket.rating, reason=reason)
    await complete(ctx, ticket)


async def complete(ctx: Context, ticket: Ticket) -> None:
    """All answered: close it, or (未解决/不满意) give it back to the same worker and tell the leader."""
    rating = ticket.rating
    assert rating is not None
    actor = f"resident:{ctx.sender_id}"
    ticket.record(actor, ctx.now, Action.RATE, contacted=rating.contacted, solved=rating.solved,
                  satisfaction=rating.satisfaction, reason=rating.reason)
    if not rating.unhappy:
        ticket.apply(Action.CLOSE, actor=actor, at=ctx.now, reason="rated")
        await ctx.uow.tickets.save(ticket)
        await cards.refresh_cards(ctx, ticket)
        await ctx.tell(ticket.reporter.chat_id, "rate_thanks", ticket=ticket)
        return
    worker = next((p for p in ctx.community.staff if p.telegram_user_id == ticket.assignee and reachable(p)),
                  None)
    ticket.apply(Action.REOPEN, actor=actor, at=ctx.now, reason=rating.reason or "")
    category = ctx.community.category(ticket.category_code)
    if category is not None:  # a new promise to the resident, with its own reminders
        restart_clock(ticket, feedback_due(ctx.community, category, ticket.urgency, ctx.now))
    await dispatch.tell_grid_leader(ctx, ticket, "leader_reopened", reason=rating.reason or "",
                                    worker=worker.name if worker else "")
    if worker is not None:
        await dispatch.assign(ctx, ticket, worker, actor="system", reason="reopened")
    else:
        await ctx.uow.tickets.save(ticket)
        await cards.refresh_cards(ctx, ticket)
        await dispatch.to_staff(ctx, ticket, reason="reopened")
    await dispatch.tell_residents(ctx, ticket, "rate_reopened")  # followers: it is in hand again
