"""The worker's buttons on a card, and the short dialogs some of them open.

    w:accept:<id>    签收 ─────────────────────────────▶ accepted; the resident hears who took it
    w:progress:<id>  进展 ─▶ note ─────────────────────▶ the resident sees the note
    w:resolve:<id>   办结 ─▶ result note ─▶ photos/跳过 ─▶ resolved; the resident gets it and is asked to rate
    w:transfer:<id>  转派 ─▶ pick worker/grid (w:tt) ─▶ reason ─▶ the new handler gets a card
    w:escalate:<id>  上报社区 ─▶ reason ──────────────▶ community staff get a card to assign
    w:reveal:<id>    联系居民 ─────────────────────────▶ the phone, to the handler only (in the ledger)
    w:assign:<id>    指派 (staff) ─▶ pick (w:to) ──────▶ the chosen one gets a card

Every press is checked against who presses (gridcore.authorization) and the ticket's state now: a
refused or stale press gets a short answer and changes nothing.
"""

from __future__ import annotations

from gridcore.authorization import Act, may
from gridcore.community import Person, Role
from gridcore.messages import Button
from gridcore.routing import reachable, worker_on_duty
from gridcore.ticket import TRANSITIONS, Action, Ticket
from handlers import cards, dispatch, rating, report
from handlers.context import Context
from handlers.inputs import InputKind

TASK = "task"
MAX_NOTE = 500
ACT_ACTIONS = {Act.ACCEPT: Action.ACCEPT, Act.RESOLVE: Action.RESOLVE, Act.TRANSFER: Action.TRANSFER,
               Act.ESCALATE: Action.ESCALATE, Act.ASSIGN: Action.ASSIGN}
PICKS = {"tt": Act.TRANSFER, "to": Act.ASSIGN}  # second presses: the target picked


def legal_now(ticket: Ticket, act: Act) -> bool:
    if act in (Act.PROGRESS, Act.REVEAL_CONTACT):
        return ticket.is_open
    return ticket.status in TRANSITIONS[ACT_ACTIONS[act]][0]


async def checked(ctx: Context, ticket: Ticket | None, act: Act) -> bool:
    """May the presser do this to this ticket now? If not, say why briefly; nothing changes."""
    if ticket is None:
        ctx.answer(ctx.label("ticket_gone"), alert=True)
        return False
    if not may(ctx.community, ctx.sender_id, act, ticket):
        ctx.answer(ctx.label("not_allowed"), alert=True)
        return False
    if not legal_now(ticket, act):
        ctx.answer(ctx.label("ticket_now", number=ticket.number,
                             status=ctx.label("status_" + ticket.status.value)), alert=True)
        return False
    return True


async def on_button(ctx: Context) -> None:
    parts = ctx.incoming.button_data.split(":")
    act_name, ticket_id, arg = ([*parts, "", "", ""])[1:4]
    act = PICKS.get(act_name) or next((a for a in Act if a.value == act_name), None)
    ticket = await ctx.uow.tickets.get_by_id(int(ticket_id)) if ticket_id.isdigit() else None
    if act is None or not await checked(ctx, ticket, act):
        if act is None:
            ctx.answer(ctx.label("not_allowed"), alert=True)
        return
    assert ticket is not None
    ctx.answer("")
    if act_name == "to":
        await assign_to(ctx, ticket, arg)
    elif act_name == "tt":
        await ask(ctx, ticket, "transfer_reason", target=arg)
    elif act is Act.ACCEPT:
        await accept(ctx, ticket)
    elif act in (Act.PROGRESS, Act.RESOLVE, Act.ESCALATE):
        await ask(ctx, ticket, {Act.PROGRESS: "progress", Act.RESOLVE: "resolve_note",
                                Act.ESCALATE: "escalate_reason"}[act])
    elif act is Act.TRANSFER:
        await pick(ctx, ticket, "tt", transfer_targets(ctx, ticket), "ask_transfer_target")
    elif act is Act.ASSIGN:
        await pick(ctx, ticket, "to", assign_targets(ctx, ticket), "ask_assign_target")
    elif act is Act.REVEAL_CONTACT:
        await reveal(ctx, ticket)


async def accept(ctx: Context, ticket: Ticket) -> None:
    ticket.apply(Action.ACCEPT, actor=f"staff:{ctx.sender_id}", at=ctx.now)
    await ctx.uow.tickets.save(ticket)
    await cards.refresh_cards(ctx, ticket)
    await dispatch.tell_residents(ctx, ticket, "notify_accepted",
                                  worker=cards.mask_name(cards.staff_name(ctx, ticket.assignee)))
    ctx.answer(ctx.label("accepted"))


async def reveal(ctx: Context, ticket: Ticket) -> None:
    phone = ticket.reporter.phone if not ticket.reporter.anonymous else None
    if phone:  # the ledger records a number that was shown; with none on file nothing happened
        ticket.record(f"staff:{ctx.sender_id}", ctx.now, Action.REVEAL_CONTACT, shown=True)
        await ctx.uow.tickets.save(ticket)
    # An alert only the presser sees; the number is never written into a chat.
    ctx.answer(ctx.label("reveal", phone=phone or "", anonymous=ticket.reporter.anonymous), alert=True)


def transfer_targets(ctx: Context, ticket: Ticket) -> list[tuple[str, str]]:
    """(label, target): other workers of the grid, then the other grids (their worker on duty)."""
    workers = ctx.community.people(Role.GRID_WORKER, ticket.grid_code) if ticket.grid_code else ()
    same = [(p.name, f"u{p.telegram_user_id}") for p in workers
            if reachable(p) and p.telegram_user_id != ticket.assignee]
    grids = [(g.name, f"g{g.code}") for g in ctx.community.grids if g.code != ticket.grid_code]
    return same + grids


def assign_targets(ctx: Context, ticket: Ticket) -> list[tuple[str, str]]:
    roles = (Role.GRID_WORKER, Role.GRID_LEADER)
    people = [p for p in ctx.community.staff if p.role in roles and reachable(p)
              and (ticket.grid_code is None or p.grid_code == ticket.grid_code)]
    return [(p.name, str(p.telegram_user_id)) for p in people]


async def pick(ctx: Context, ticket: Ticket, kind: str, targets: list[tuple[str, str]],
               template: str) -> None:
    buttons = [Button(label, cards.worker_data(kind, ticket, target)) for label, target in targets]
    rows = [buttons[i:i + 3] for i in range(0, len(buttons), 3)]
    await ctx.say(template, ticket=ticket, none=not targets, buttons=rows)


def resolve_target(ctx: Context, ticket: Ticket, target: str, counts: dict[int, int]) -> Person | None:
    if target.startswith("u") and target[1:].isdigit():
        user_id = int(target[1:])
        return next((p for p in ctx.community.staff if p.telegram_user_id == user_id and reachable(p)), None)
    if target.startswith("g") and ctx.community.grid(target[1:]):
        grid = target[1:]
        return worker_on_duty(ctx.community, grid, counts) or next(
            (p for p in ctx.community.people(Role.GRID_LEADER, grid) if reachable(p)), None)
    return None


async def assign_to(ctx: Context, ticket: Ticket, target: str) -> None:
    person = resolve_target(ctx, ticket, f"u{target}", {})
    if person is None or person.role not in (Role.GRID_WORKER, Role.GRID_LEADER):
        ctx.answer(ctx.label("not_allowed"), alert=True)
        return
    await dispatch.assign(ctx, ticket, person, actor=f"staff:{ctx.sender_id}")
    await ctx.say("assigned", ticket=ticket, name=person.name)


async def ask(ctx: Context, ticket: Ticket, step: str, **data: str) -> None:
    ctx.begin_task(TASK, step, {"ticket_id": ticket.id, **data})
    await ask_step(ctx, ticket)


async def ask_step(ctx: Context, ticket: Ticket) -> None:
    step = ctx.conversation.step or ""
    buttons = [[Button(ctx.label("cancel"), ctx.dialog_data("cancel"))]]
    if step == "resolve_photos":
        label = "photos_done" if ctx.conversation.data.get("photos") else "skip_photos"
        buttons = [[Button(ctx.label(label), ctx.dialog_data("done"))], *buttons]
    await ctx.say(f"ask_{step}", ticket=ticket, count=len(ctx.conversation.data.get("photos", [])),
                  buttons=buttons)


async def on_input(ctx: Context) -> None:
    """An input while a task (a note, a reason, result photos) is under way."""
    data = ctx.conversation.data
    ticket = await ctx.uow.tickets.get_by_id(int(data.get("ticket_id") or 0))
    step = ctx.conversation.step or ""
    incoming = ctx.incoming
    if ticket is None:
        await finish(ctx, "ticket_gone_text")
        return
    if incoming.kind is InputKind.BUTTON:
        value = ctx.dialog_press()
        if value == "cancel":
            await finish(ctx, "task_cancelled")
        elif value == "done" and step == "resolve_photos":
            await resolve(ctx, ticket)
        return
    if incoming.kind is InputKind.PHOTO and step == "resolve_photos":
        data.setdefault("photos", []).append(incoming.photo_file_id)
        await ask_step(ctx, ticket)
        return
    text = incoming.text.strip()
    # At the result photos step a text is as wrong as a sticker: it was once silently dropped.
    if step == "resolve_photos" or incoming.kind is not InputKind.TEXT or not text or len(text) > MAX_NOTE:
        await ctx.say("task_wrong_input", limit=MAX_NOTE, photo_step=step == "resolve_photos")
        await ask_step(ctx, ticket)
        return
    if step == "resolve_note":
        data["note"] = text
        ctx.conversation.step = "resolve_photos"
        ctx.conversation.turn += 1
        await ask_step(ctx, ticket)
    elif step == "progress" and await still(ctx, ticket, Act.PROGRESS):
        ticket.record(f"staff:{ctx.sender_id}", ctx.now, Action.PROGRESS, note=text)
        await ctx.uow.tickets.save(ticket)
        await dispatch.tell_residents(ctx, ticket, "notify_progress", note=text)
        await finish(ctx, "progress_sent")
    elif step == "escalate_reason" and await still(ctx, ticket, Act.ESCALATE):
        ticket.apply(Action.ESCALATE, actor=f"staff:{ctx.sender_id}", at=ctx.now, reason=text)
        await ctx.uow.tickets.save(ticket)
        await cards.refresh_cards(ctx, ticket)
        await dispatch.to_staff(ctx, ticket, reason="escalated")
        await dispatch.tell_residents(ctx, ticket, "notify_escalated")
        await finish(ctx, "escalated")
    elif step == "transfer_reason" and await still(ctx, ticket, Act.TRANSFER):
        await transfer(ctx, ticket, data.get("target", ""), text)


async def still(ctx: Context, ticket: Ticket, act: Act) -> bool:
    """Re-check at the end of a task: the ticket may have moved on while the note was being typed."""
    if may(ctx.community, ctx.sender_id, act, ticket) and legal_now(ticket, act):
        return True
    await finish(ctx, "ticket_moved_on", ticket=ticket, status=ctx.label("status_" + ticket.status.value))
    return False


async def transfer(ctx: Context, ticket: Ticket, target: str, reason: str) -> None:
    person = resolve_target(ctx, ticket, target, await ctx.uow.tickets.open_counts(ctx.community.code))
    if person is None:
        await finish(ctx, "nobody_to_transfer_to")
        return
    ticket.apply(Action.TRANSFER, actor=f"staff:{ctx.sender_id}", at=ctx.now, reason=reason,
                 to=person.telegram_user_id)
    if person.grid_code and person.grid_code != ticket.grid_code:
        ticket.grid_code = person.grid_code
    await dispatch.assign(ctx, ticket, person, actor=f"staff:{ctx.sender_id}")
    await finish(ctx, "transferred", ticket=ticket, name=person.name)


async def resolve(ctx: Context, ticket: Ticket) -> None:
    if not await still(ctx, ticket, Act.RESOLVE):
        return
    note = ctx.conversation.data.get("note", "")
    photos = tuple(ctx.conversation.data.get("photos", []))
    ticket.apply(Action.RESOLVE, actor=f"staff:{ctx.sender_id}", at=ctx.now, note=note, photos=list(photos))
    await ctx.uow.tickets.save(ticket)
    await cards.refresh_cards(ctx, ticket)
    await dispatch.tell_residents(ctx, ticket, "notify_resolved", photos=photos, note=note)
    await rating.ask_first(ctx, ticket)
    await finish(ctx, "resolved")


async def finish(ctx: Context, template: str, **context: object) -> None:
    await ctx.end_dialog()
    await ctx.say(template, **context)
    if ctx.conversation.dialog == report.DIALOG:
        await report.resume(ctx)
