"""What staff do to a ticket, as plain use cases any edge calls: the chat card today (handlers.worker),
a web console form tomorrow.

Each use case checks who acts (ctx.sender_id, in ctx.community) and the ticket's state now, then applies
the lifecycle, saves, edits every card of the ticket and tells the residents and the new handlers.
It sends nothing to the actor's own chat: the caller tells the actor (the chat says 已签收, a web page
shows its own notice). A refusal changes nothing — no ticket change, no ledger event, no message — and
names a labels.html label that says why (Outcome.message).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from gridcore.authorization import Act, grid_receiver, may, may_receive
from gridcore.community import Category, Person, Role
from gridcore.ports import CORRECTED_BY_WORKER, TriageCorrection
from gridcore.priority import reprioritise
from gridcore.redact import mask_name
from gridcore.ticket import TRANSITIONS, URGENCY_ORDER, Action, Ticket, TicketStatus, Urgency
from handlers import cards, dispatch, rating
from handlers.context import Context

MAX_NOTE = 500  # a progress note, a result, a reason: what a chat message or a form field may hold
ACT_ACTIONS = {Act.ACCEPT: Action.ACCEPT, Act.RESOLVE: Action.RESOLVE, Act.TRANSFER: Action.TRANSFER,
               Act.ESCALATE: Action.ESCALATE, Act.ASSIGN: Action.ASSIGN}
STATUS = "status"  # an Outcome.detail key holding a TicketStatus value; message() shows its name


@dataclass(frozen=True)
class Outcome:
    """What a use case did: ok, or refused with the label that says why (detail: the label's
    arguments, raw values; a status is its TicketStatus value). A success may carry detail too (the
    new handler's name)."""

    ok: bool
    refusal: str = ""
    detail: dict[str, str] = field(default_factory=dict)

    def message(self, ctx: Context) -> str:
        """The refusal in the community's language; "" for a success."""
        if self.ok or not self.refusal:
            return ""
        context = dict(self.detail)
        if STATUS in context:
            context[STATUS] = ctx.label("status_" + context[STATUS])
        return ctx.label(self.refusal, **context)


DONE = Outcome(True)


def refused(refusal: str, **detail: str) -> Outcome:
    return Outcome(False, refusal, detail)


def legal_now(ticket: Ticket, act: Act) -> bool:
    """Does the ticket's state allow the act now (the lifecycle, whoever acts)?"""
    if act in (Act.PROGRESS, Act.REVEAL_CONTACT, Act.RECATEGORISE):
        return ticket.is_open
    if act is Act.SET_PRIORITY:  # a level is for the work still to do: not once resolved
        return ticket.is_open and ticket.status is not TicketStatus.RESOLVED
    return ticket.status in TRANSITIONS[ACT_ACTIONS[act]][0]


def allowed(ctx: Context, ticket: Ticket | None, act: Act) -> Outcome:
    """May the actor do this to this ticket now? No side effects."""
    if ticket is None:
        return refused("ticket_gone")
    if not may(ctx.community, ctx.sender_id, act, ticket):
        return refused("not_allowed")
    if not legal_now(ticket, act):
        return refused("ticket_now", number=ticket.number, status=ticket.status.value)
    return DONE


def note_refusal(note: str) -> Outcome | None:
    """A note or reason must say something and fit in a message: None when it does."""
    if not note.strip() or len(note.strip()) > MAX_NOTE:
        return refused("note_invalid", limit=str(MAX_NOTE))
    return None


def actor(ctx: Context) -> str:
    return f"staff:{ctx.sender_id}"


def transfer_targets(ctx: Context, ticket: Ticket) -> list[tuple[str, str]]:
    """(label, target): other workers of the grid, then the other grids (their worker on duty).
    Only what may_receive lets through is offered; a chosen target is checked again (resolve_target)."""
    workers = ctx.community.people(Role.GRID_WORKER, ticket.grid_code) if ticket.grid_code else ()
    same = [(p.name, f"u{p.telegram_user_id}") for p in workers
            if may_receive(ctx.community, ctx.sender_id, ticket, p, Act.TRANSFER)]
    grids = [(g.name, f"g{g.code}") for g in ctx.community.grids if g.code != ticket.grid_code]
    return same + grids


def assign_targets(ctx: Context, ticket: Ticket) -> list[tuple[str, str]]:
    """(label, user id): whom the actor may make the ticket's handler."""
    people = [p for p in ctx.community.staff if may_receive(ctx.community, ctx.sender_id, ticket, p)]
    return [(p.name, str(p.telegram_user_id)) for p in people]


def resolve_target(ctx: Context, ticket: Ticket, act: Act, target: str,
                   counts: Mapping[int, int]) -> Person | None:
    """The roster entry a target (u<user id> / g<grid code>, from callback data or a form and so never
    trusted) stands for, if may_receive lets it have the ticket; else None."""
    community = ctx.community
    candidates: tuple[Person | None, ...] = ()
    if target.startswith("u") and target[1:].isdigit():
        candidates = community.roles_of(int(target[1:]))
    elif target.startswith("g") and community.grid(target[1:]) and target[1:] != ticket.grid_code:
        candidates = (grid_receiver(community, target[1:], counts),)
    return next((p for p in candidates
                 if p is not None and may_receive(community, ctx.sender_id, ticket, p, act, counts)), None)


async def accept(ctx: Context, ticket: Ticket) -> Outcome:
    """签收: the resident hears who took it."""
    if not (outcome := allowed(ctx, ticket, Act.ACCEPT)).ok:
        return outcome
    ticket.apply(Action.ACCEPT, actor=actor(ctx), at=ctx.now)
    await ctx.uow.tickets.save(ticket)
    await cards.refresh_cards(ctx, ticket)
    await dispatch.tell_residents(ctx, ticket, "notify_accepted",
                                  worker=mask_name(cards.staff_name(ctx, ticket.assignee)))
    return DONE


async def progress(ctx: Context, ticket: Ticket, note: str) -> Outcome:
    """进展: the note goes in the ledger and to the reporter (followers hear there is news)."""
    if not (outcome := allowed(ctx, ticket, Act.PROGRESS)).ok or (outcome := note_refusal(note)):
        return outcome
    note = note.strip()
    ticket.record(actor(ctx), ctx.now, Action.PROGRESS, note=note)
    await ctx.uow.tickets.save(ticket)
    await dispatch.tell_residents(ctx, ticket, "notify_progress", note=note)
    return DONE


async def resolve(ctx: Context, ticket: Ticket, note: str, photos: Sequence[str] = ()) -> Outcome:
    """办结: the result (and its photos) to the resident, who is then asked to rate."""
    if not (outcome := allowed(ctx, ticket, Act.RESOLVE)).ok or (outcome := note_refusal(note)):
        return outcome
    note, shown = note.strip(), tuple(photos)
    ticket.apply(Action.RESOLVE, actor=actor(ctx), at=ctx.now, note=note, photos=list(shown))
    await ctx.uow.tickets.save(ticket)
    await cards.refresh_cards(ctx, ticket)
    await dispatch.tell_residents(ctx, ticket, "notify_resolved", photos=shown, note=note)
    await rating.ask_first(ctx, ticket)
    return DONE


async def escalate(ctx: Context, ticket: Ticket, reason: str) -> Outcome:
    """上报社区: community staff get a card to assign; the resident hears it went up."""
    if not (outcome := allowed(ctx, ticket, Act.ESCALATE)).ok or (outcome := note_refusal(reason)):
        return outcome
    ticket.apply(Action.ESCALATE, actor=actor(ctx), at=ctx.now, reason=reason.strip())
    await ctx.uow.tickets.save(ticket)
    await cards.refresh_cards(ctx, ticket)
    await dispatch.to_staff(ctx, ticket, reason="escalated")
    await dispatch.tell_residents(ctx, ticket, "notify_escalated")
    return DONE


async def transfer(ctx: Context, ticket: Ticket, target: str, reason: str) -> Outcome:
    """转派 to another worker of the grid (u<id>) or another grid (g<code>: its own rule picks who);
    the new handler gets a card. detail on success: the new handler's name and user id."""
    if not (outcome := allowed(ctx, ticket, Act.TRANSFER)).ok or (outcome := note_refusal(reason)):
        return outcome
    person = resolve_target(ctx, ticket, Act.TRANSFER, target,
                            await ctx.uow.tickets.open_counts(ctx.community.code))
    if person is None:
        grid = ctx.community.grid(target[1:]) if target.startswith("g") else None
        if grid is not None and grid.code != ticket.grid_code:
            return refused("grid_has_nobody", grid=grid.name)
        return refused("nobody_to_transfer_to")
    ticket.apply(Action.TRANSFER, actor=actor(ctx), at=ctx.now, reason=reason.strip(),
                 to=person.telegram_user_id)
    if person.grid_code and person.grid_code != ticket.grid_code:
        ticket.grid_code = person.grid_code
    await dispatch.assign(ctx, ticket, person, actor=actor(ctx))
    return handed_to(person)


async def assign(ctx: Context, ticket: Ticket, target: str) -> Outcome:
    """指派 (community staff; a grid leader within the grid): `target` is the user id the picker
    offered (assign_targets); the chosen one gets a card. detail on success as transfer's."""
    if not (outcome := allowed(ctx, ticket, Act.ASSIGN)).ok:
        return outcome
    person = resolve_target(ctx, ticket, Act.ASSIGN, f"u{target}", {})
    if person is None:
        return refused("cannot_receive")
    await dispatch.assign(ctx, ticket, person, actor=actor(ctx))
    return handed_to(person)


def recategorise_targets(ctx: Context, ticket: Ticket) -> list[Category]:
    """The categories a ticket may be moved to: the community's others, in the roster's order."""
    return [c for c in ctx.community.categories if c.code != ticket.category_code]


async def recategorise(ctx: Context, ticket: Ticket, category_code: str) -> Outcome:
    """改类别: the category is corrected (a ledger event; status, handler and feedback deadline stay, see
    Ticket.recategorise), every card shows the new one, and the correction is kept for the community's
    triage to learn from. The resident is not told: the category is the office's filing, not news about
    their problem (their own view of the ticket shows the new one)."""
    if not (outcome := allowed(ctx, ticket, Act.RECATEGORISE)).ok:
        return outcome
    category = ctx.community.category(category_code)
    if category is None:
        return refused("category_unknown")
    if category.code == ticket.category_code:
        return refused("category_same", category=category.name)
    suggested = ticket.category_code
    ticket.recategorise(category.code, actor=actor(ctx), at=ctx.now)
    await ctx.uow.tickets.save(ticket)
    if ticket.description != ctx.label("voice_description"):  # a voice note's stand-in is nobody's words
        await record_correction(ctx, ticket.description, suggested, category.code, CORRECTED_BY_WORKER)
    await cards.refresh_cards(ctx, ticket)
    return Outcome(True, detail={"category": category.name})


def priority_targets(ticket: Ticket) -> list[Urgency]:
    """The levels a ticket may be set to: the others, 一般 → 紧急 → 重大."""
    return [level for level in URGENCY_ORDER if level is not ticket.urgency]


async def set_priority(ctx: Context, ticket: Ticket, level: str, reason: str) -> Outcome:
    """调整等级 with a reason: the ledger keeps from, to and why; the clocks follow the new level
    (gridcore.priority.reprioritise); every card shows it; whoever the new level informs and holds no card
    yet gets one (dispatch.inform_level); the handler hears it when someone else changed it. The resident
    is not told: the level is how the office works the ticket, not news about their problem. detail on
    success: the new level's name."""
    if not (outcome := allowed(ctx, ticket, Act.SET_PRIORITY)).ok or (outcome := note_refusal(reason)):
        return outcome
    new = next((u for u in Urgency if u.value == level), None)
    if new is None:
        return refused("priority_unknown")
    if new is ticket.urgency:
        return refused("priority_same", priority=ctx.label(f"priority_{new.value}"))
    old = ticket.urgency
    assigned = [e.at for e in await ctx.uow.tickets.ledger(ticket.number) if e.action is Action.ASSIGN]
    reprioritise(ticket, new, community=ctx.community, actor=actor(ctx), at=ctx.now, reason=reason.strip(),
                 assigned_at=assigned[-1] if assigned else None)
    await ctx.uow.tickets.save(ticket)
    await cards.refresh_cards(ctx, ticket)
    await dispatch.inform_level(ctx, ticket, old)
    if ticket.assignee is not None and ticket.assignee != ctx.sender_id:
        await ctx.tell(ticket.assignee, "priority_changed", ticket=ticket, old=old.value,
                       reason=reason.strip(), who=cards.staff_name(ctx, ctx.sender_id),
                       due=ctx.local(ticket.feedback_due_at),
                       ticket_number=ticket.number)
    return Outcome(True, detail={"priority": ctx.label(f"priority_{new.value}")})


async def record_correction(ctx: Context, text: str, suggested: str, chosen: str, source: str) -> None:
    """Keep a corrected category with the words it was about (never shown to anyone: training only)."""
    if text.strip() and suggested != chosen:
        await ctx.uow.corrections.add(TriageCorrection(ctx.community.code, text, suggested, chosen, source,
                                                       ctx.now))


def handed_to(person: Person) -> Outcome:
    return Outcome(True, detail={"name": person.name, "user_id": str(person.telegram_user_id)})
