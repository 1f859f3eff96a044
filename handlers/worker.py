"""The worker's buttons on a card, and the short dialogs some of them open.

    w:accept:<id>    签收 ─────────────────────────────▶ accepted; the resident hears who took it
    w:progress:<id>  进展 ─▶ note ─────────────────────▶ the resident sees the note
    w:resolve:<id>   办结 ─▶ result note ─▶ photos/跳过 ─▶ resolved; the resident gets it and is asked to rate
                          └▶ a 常用回复 button ─────────▶ resolved at once with that text (no photo step)
    w:transfer:<id>  转派 ─▶ pick worker/grid (w:tt) ─▶ reason ─▶ the new handler gets a card
    w:escalate:<id>  上报社区 ─▶ reason ──────────────▶ community staff get a card to assign
    w:reveal:<id>    联系居民 ─────────────────────────▶ the phone, a message in the handler's private
                                                        chat (in the ledger only when one was shown)
    w:assign:<id>    指派 (staff) ─▶ pick (w:to) ──────▶ the chosen one gets a card
    w:recat:<id>     改类别 ─▶ pick a category (w:rc) ─▶ the category corrected; the resident is not told
    w:priority:<id>  调整等级 ─▶ pick a level (w:pl) ─▶ reason ─▶ the level and its clocks changed; the
                                                        people it informs told; the resident is not

Every press is checked against who presses (gridcore.authorization) and the ticket's state now: a
refused or stale press gets a short answer and changes nothing. A picked target (w:tt, w:to) is
callback data, so it is checked too (may_receive): only what the picker would offer is taken. A long
picker turns its pages in place (w:tt:<id>:p<page>); in a private chat a typed name picks too. A used
picker shows the choice instead of its buttons ("✔ 转派给 张敏"); an unused one loses them with the
next question or the end of the task. What a press finally does is a use case of handlers.ticket_actions
(the same a web console calls); this module is the chat around it.
"""

from __future__ import annotations

from gridcore.authorization import Act
from gridcore.community import Role
from gridcore.messages import Button
from gridcore.phones import dialable
from gridcore.ticket import Action, Ticket
from handlers import cards, keyboards, report, ticket_actions
from handlers.context import Context
from handlers.inputs import InputKind
from handlers.ticket_actions import (
    MAX_NOTE,
    Outcome,
    assign_targets,
    priority_targets,
    recategorise_targets,
    resolve_target,
    transfer_targets,
)

TASK = "task"
# Second presses: the target picked.
PICKS = {"tt": Act.TRANSFER, "to": Act.ASSIGN, "rc": Act.RECATEGORISE, "pl": Act.SET_PRIORITY}
PICK_PAGE = "p"  # w:tt:<id>:p<page>: another page of the targets (a category code may: rc checks it first)
NAMED = {name: act for act, name in cards.CALLBACK_NAMES.items()}  # w:recat: a short name for the act
# The steps that offer the roster's 常用回复 (Community.replies_for), one button each: r:<turn>:t<index>.
# The texts offered are kept in the task's data, so a press takes the text that was shown even if the
# roster changed since; a press of an older question is stale (Context.dialog_press) and does nothing.
REPLY_STEPS = {"progress": "progress", "resolve_note": "resolve"}
REPLY = "t"
OFFERED = "replies"


async def checked(ctx: Context, ticket: Ticket | None, act: Act) -> bool:
    """May the presser do this to this ticket now? If not, say why briefly; nothing changes."""
    outcome = ticket_actions.allowed(ctx, ticket, act)
    if not outcome.ok:
        ctx.answer(outcome.message(ctx), alert=True)
    return outcome.ok


async def on_button(ctx: Context) -> None:
    parts = ctx.incoming.button_data.split(":")
    act_name, ticket_id, arg = ([*parts, "", "", ""])[1:4]
    act = PICKS.get(act_name) or NAMED.get(act_name) or next((a for a in Act if a.value == act_name), None)
    ticket = await ctx.uow.tickets.get_by_id(int(ticket_id)) if ticket_id.isdigit() else None
    if act is None or not await checked(ctx, ticket, act):
        if act is None:
            ctx.answer(ctx.label("not_allowed"), alert=True)
        return
    assert ticket is not None
    ctx.answer("")
    if act_name not in PICKS and ctx.conversation.dialog == TASK and ctx.conversation.step in PICK_STEPS:
        await ctx.end_dialog()  # another button of a card: the pick asked before is dropped
    page = None if act_name == "rc" and ctx.community.category(arg) else keyboards.page_number(arg, PICK_PAGE)
    if act_name in PICKS and page is not None:
        await pick(ctx, ticket, act_name, page, edit=True)
    elif act_name == "rc":
        await recategorise_to(ctx, ticket, arg)
    elif act_name == "to":
        await assign_to(ctx, ticket, arg)
    elif act_name == "tt":
        await pick_transfer(ctx, ticket, arg)
    elif act_name == "pl":
        await pick_priority(ctx, ticket, arg)
    elif act is Act.ACCEPT:
        await accept(ctx, ticket)
    elif act in (Act.PROGRESS, Act.RESOLVE, Act.ESCALATE):
        await ask(ctx, ticket, {Act.PROGRESS: "progress", Act.RESOLVE: "resolve_note",
                                Act.ESCALATE: "escalate_reason"}[act])
    elif act is Act.TRANSFER:
        await pick(ctx, ticket, "tt")
    elif act is Act.ASSIGN:
        await pick(ctx, ticket, "to")
    elif act is Act.RECATEGORISE:
        await pick(ctx, ticket, "rc")
    elif act is Act.SET_PRIORITY:
        await pick(ctx, ticket, "pl")
    elif act is Act.REVEAL_CONTACT:
        await reveal(ctx, ticket)


async def accept(ctx: Context, ticket: Ticket) -> None:
    outcome = await ticket_actions.accept(ctx, ticket)
    ctx.answer(ctx.label("accepted") if outcome.ok else outcome.message(ctx), alert=not outcome.ok)


async def reveal(ctx: Context, ticket: Ticket) -> None:
    """The resident's phone, as a message in the presser's own private chat (a number in a message can
    be tapped to call; an alert cannot) — never in a group, even when pressed there. The ledger records
    a reveal only when a number was shown."""
    phone = ticket.reporter.phone if not ticket.reporter.anonymous else None
    if not phone:
        ctx.answer(ctx.label("reveal", phone="", anonymous=ticket.reporter.anonymous), alert=True)
        return
    ticket.record(f"staff:{ctx.sender_id}", ctx.now, Action.REVEAL_CONTACT, shown=True)
    await ctx.uow.tickets.save(ticket)
    await ctx.tell(ctx.sender_id, "contact_phone", ticket=ticket, dial=dialable(phone),
                   name=ticket.reporter.display_name, ticket_number=ticket.number)
    ctx.answer(ctx.label("reveal_sent"))


# A private chat's pick also takes a typed name.
PICK_STEPS = {"pick_tt": "tt", "pick_to": "to", "pick_rc": "rc", "pick_pl": "pl"}
PICK_QUESTIONS = {"tt": "ask_transfer_target", "to": "ask_assign_target", "rc": "ask_recategorise_target",
                  "pl": "ask_priority_target"}


def pick_targets(ctx: Context, ticket: Ticket, kind: str) -> list[tuple[str, str]]:
    if kind == "rc":
        return [(c.name, c.code) for c in recategorise_targets(ctx, ticket)]
    if kind == "pl":
        return [(ctx.label(f"priority_{level.value}"), level.value) for level in priority_targets(ticket)]
    return transfer_targets(ctx, ticket) if kind == "tt" else assign_targets(ctx, ticket)


async def pick(ctx: Context, ticket: Ticket, kind: str, page: int = 0, *, edit: bool = False) -> None:
    """Whom to transfer / assign to: one page of the targets (w:<kind>:<id>:<target>), and a row to
    turn pages (w:<kind>:<id>:p<page>) that shows another page in the same message. In a private chat
    a typed name is taken too (a task step; in a group the bot sees commands only)."""
    targets = pick_targets(ctx, ticket, kind)
    buttons = [Button(label, cards.worker_data(kind, ticket, target)) for label, target in targets]
    asking = ctx.conversation.dialog == TASK and ctx.conversation.step == f"pick_{kind}"
    can_type = ctx.incoming.is_private and bool(targets) and (asking or not edit)
    if can_type and not edit:
        ctx.begin_task(TASK, f"pick_{kind}", {"ticket_id": ticket.id})
    fixed = [[Button(ctx.label("cancel"), ctx.dialog_data("cancel"))]] if can_type else []

    def turn(to_page: int, forward: bool) -> Button:
        label = ctx.label("page_next" if forward else "page_prev")
        return Button(label, cards.worker_data(kind, ticket, f"{PICK_PAGE}{to_page}"))

    shown = keyboards.paged(buttons, page, width=3, rows=8, turn=turn, fixed=fixed)
    template = PICK_QUESTIONS[kind]
    context = {"ticket": ticket, "nobody": not targets, "page": shown.number + 1, "pages": shown.count,
               "can_type": can_type}
    if edit and ctx.incoming.message_id is not None:
        await ctx.tell(ctx.chat_id, template, buttons=shown.rows, edit_message_id=ctx.incoming.message_id,
                       **context)
    else:
        outbox_id = await ctx.say(template, buttons=shown.rows, **context)
        if targets and not can_type:
            # A live choice like a dialog question (a typed pick's 取消 makes it one already): the next
            # question, /cancel or the end of the task takes its buttons away (Context.retire_prompts),
            # as a pick does at once (echo_pick).
            ctx.conversation.prompts.append(outbox_id)


def typed_targets(ctx: Context, ticket: Ticket, kind: str) -> list[tuple[str, str]]:
    """What a typed name may mean: the picker's names, and for a transfer also the name of a worker or
    leader of another grid, which stands for that grid (its own rule picks who takes it, may_receive)."""
    targets = pick_targets(ctx, ticket, kind)
    if kind != "tt":
        return targets
    grids = {f"g{g.code}" for g in ctx.community.grids if g.code != ticket.grid_code}
    return targets + [(p.name, f"g{p.grid_code}") for p in ctx.community.staff
                      if p.role in (Role.GRID_WORKER, Role.GRID_LEADER) and f"g{p.grid_code}" in grids]


async def take_pick(ctx: Context, ticket: Ticket, kind: str) -> None:
    """An input while a pick is asked in a private chat: a typed name, or its 取消."""
    if ctx.incoming.kind is InputKind.BUTTON:
        if ctx.dialog_press() == "cancel":
            await finish(ctx, "task_cancelled")
        return
    if not await still(ctx, ticket, PICKS[kind]):
        return
    text = ctx.incoming.text if ctx.incoming.kind is InputKind.TEXT else ""
    target = keyboards.typed_target(text, typed_targets(ctx, ticket, kind))
    if target is None:
        await ctx.say("pick_unknown", typed=text.strip()[:20])
        await pick(ctx, ticket, kind)
    elif kind == "tt":
        await pick_transfer(ctx, ticket, target)
    elif kind == "rc":
        await recategorise_to(ctx, ticket, target)
    elif kind == "pl":
        await pick_priority(ctx, ticket, target)
    else:
        await assign_to(ctx, ticket, target)


async def echo_pick(ctx: Context, ticket: Ticket, template: str, name: str) -> None:
    """The picker, once used, shows what was picked instead of its buttons (the chat reads as a
    transcript: "把 … 转给谁？ ✔ 转派给 张敏"). A typed pick is echoed as a new message: the typed
    text is the resident's own message, which the bot cannot edit."""
    if ctx.incoming.kind is not InputKind.BUTTON or ctx.incoming.message_id is None:
        await ctx.say("picked", ticket=ticket, question=template, name=name)
        return
    await ctx.tell(ctx.chat_id, "picked", edit_message_id=ctx.incoming.message_id, ticket=ticket,
                   question=template, name=name)


async def pick_transfer(ctx: Context, ticket: Ticket, target: str) -> None:
    person = resolve_target(ctx, ticket, Act.TRANSFER, target,
                            await ctx.uow.tickets.open_counts(ctx.community.code))
    grid = ctx.community.grid(target[1:]) if target.startswith("g") else None
    if person is None:  # a grid nobody can take it in now, or a target nobody was offered
        if grid is not None and grid.code != ticket.grid_code:
            ctx.answer(ctx.label("grid_has_nobody", grid=grid.name), alert=True)
        else:
            ctx.answer(ctx.label("not_allowed"), alert=True)
        return
    await echo_pick(ctx, ticket, "transfer", grid.name if grid else person.name)
    await ask(ctx, ticket, "transfer_reason", target=target)


async def assign_to(ctx: Context, ticket: Ticket, target: str) -> None:
    person = resolve_target(ctx, ticket, Act.ASSIGN, f"u{target}", {})
    if person is None:
        ctx.answer(ctx.label("not_allowed"), alert=True)
        return
    await echo_pick(ctx, ticket, "assign", person.name)
    outcome = await ticket_actions.assign(ctx, ticket, target)
    if not outcome.ok:  # checked just above, in this transaction: cannot happen, but never act blind
        ctx.answer(outcome.message(ctx), alert=True)
        return
    if ctx.conversation.dialog == TASK and ctx.conversation.step in PICK_STEPS:
        await finish(ctx, "assigned", ticket=ticket, name=person.name)  # the pick asked in this chat
    else:
        await ctx.say("assigned", ticket=ticket, name=person.name)


async def recategorise_to(ctx: Context, ticket: Ticket, code: str) -> None:
    outcome = await ticket_actions.recategorise(ctx, ticket, code)
    if not outcome.ok:
        ctx.answer(outcome.message(ctx), alert=True)
        return
    name = outcome.detail["category"]
    await echo_pick(ctx, ticket, "recategorise", name)
    if ctx.conversation.dialog == TASK and ctx.conversation.step in PICK_STEPS:
        await finish(ctx, "recategorised", ticket=ticket, name=name)  # the pick asked in this chat
    else:
        await ctx.say("recategorised", ticket=ticket, name=name)


async def pick_priority(ctx: Context, ticket: Ticket, level: str) -> None:
    """A level picked: its reason is asked next (required); the use case checks the level again."""
    if level not in {target for _, target in pick_targets(ctx, ticket, "pl")}:
        ctx.answer(ctx.label("priority_unknown"), alert=True)
        return
    await echo_pick(ctx, ticket, "priority", ctx.label(f"priority_{level}"))
    await ask(ctx, ticket, "priority_reason", level=level)


async def ask(ctx: Context, ticket: Ticket, step: str, **data: str) -> None:
    ctx.begin_task(TASK, step, {"ticket_id": ticket.id, **data})
    await ask_step(ctx, ticket)


async def ask_step(ctx: Context, ticket: Ticket) -> None:
    step = ctx.conversation.step or ""
    buttons = [[Button(ctx.label("cancel"), ctx.dialog_data("cancel"))]]
    if step == "resolve_photos":
        label = "photos_done" if ctx.conversation.data.get("photos") else "skip_photos"
        buttons = [[Button(ctx.label(label), ctx.dialog_data("done"))], *buttons]
    kind = REPLY_STEPS.get(step)
    replies = ctx.community.replies_for(ticket.category_code, kind) if kind else ()
    # A text longer than a button shows whole in the question, numbered like its button.
    numbered = any(keyboards.short_label(text) != text for text in replies)
    if replies:
        ctx.conversation.data[OFFERED] = list(replies)
        buttons = [*([Button(keyboards.short_label(f"{i}. {text}" if numbered else text),
                             ctx.dialog_data(f"{REPLY}{i - 1}"))] for i, text in enumerate(replies, 1)),
                   *buttons]
    await ctx.say(f"ask_{step}", ticket=ticket, count=len(ctx.conversation.data.get("photos", [])),
                  buttons=buttons, replies=replies, numbered=numbered,
                  level=ctx.conversation.data.get("level", ""))


def chosen_reply(ctx: Context, value: str) -> str | None:
    """The 常用回复 a pressed r:<turn>:t<index> stands for, among those this question offered."""
    offered = ctx.conversation.data.get(OFFERED) or []
    index = value.removeprefix(REPLY)
    if not value.startswith(REPLY) or not index.isdigit() or int(index) >= len(offered):
        return None
    return str(offered[int(index)])


async def on_input(ctx: Context) -> None:
    """An input while a task (a note, a reason, result photos) is under way."""
    data = ctx.conversation.data
    ticket = await ctx.uow.tickets.get_by_id(int(data.get("ticket_id") or 0))
    step = ctx.conversation.step or ""
    incoming = ctx.incoming
    if ticket is None:
        await finish(ctx, "ticket_gone_text")
        return
    if step in PICK_STEPS:
        await take_pick(ctx, ticket, PICK_STEPS[step])
        return
    if incoming.kind is InputKind.BUTTON:
        value = ctx.dialog_press()
        if value == "cancel":
            await finish(ctx, "task_cancelled")
        elif value == "done" and step == "resolve_photos":
            await resolve(ctx, ticket)
        elif step in REPLY_STEPS and value and (reply := chosen_reply(ctx, value)) is not None:
            await take_note(ctx, ticket, step, reply, chosen=True)
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
    if step in REPLY_STEPS:
        await take_note(ctx, ticket, step, text, chosen=False)
    elif step == "escalate_reason":
        await done(ctx, ticket, await ticket_actions.escalate(ctx, ticket, text), "escalated")
    elif step == "priority_reason":
        outcome = await ticket_actions.set_priority(ctx, ticket, data.get("level", ""), text)
        await done(ctx, ticket, outcome, "priority_set", due=ctx.local(ticket.feedback_due_at))
    elif step == "transfer_reason":
        outcome = await ticket_actions.transfer(ctx, ticket, data.get("target", ""), text)
        await done(ctx, ticket, outcome, "transferred", name=outcome.detail.get("name", ""))


async def take_note(ctx: Context, ticket: Ticket, step: str, note: str, *, chosen: bool) -> None:
    """A progress note or a result, typed or a 常用回复. A typed result asks for photos next; a chosen
    one resolves at once (two taps: 办结, the reply) and the answer repeats the text that was sent."""
    shown = note if chosen else ""
    if step == "progress":
        await done(ctx, ticket, await ticket_actions.progress(ctx, ticket, note), "progress_sent", note=shown)
    elif chosen:
        ctx.conversation.data["note"] = note
        await resolve(ctx, ticket, shown)
    else:
        ctx.conversation.data["note"] = note
        ctx.conversation.step = "resolve_photos"
        ctx.conversation.turn += 1
        ctx.conversation.data.pop(OFFERED, None)
        await ask_step(ctx, ticket)


async def still(ctx: Context, ticket: Ticket, act: Act) -> bool:
    """Re-check at the end of a task: the ticket may have moved on while the note was being typed."""
    if ticket_actions.allowed(ctx, ticket, act).ok:
        return True
    await moved_on(ctx, ticket)
    return False


async def moved_on(ctx: Context, ticket: Ticket) -> None:
    await finish(ctx, "ticket_moved_on", ticket=ticket, status=ctx.label("status_" + ticket.status.value))


async def done(ctx: Context, ticket: Ticket, outcome: Outcome, template: str, **context: object) -> None:
    """The end of a task: what was done, or why nothing was (the ticket moved on while the note was
    being typed; a transfer's target can no longer take it)."""
    if outcome.ok:
        await finish(ctx, template, ticket=ticket, **context)
    elif outcome.refusal in ("grid_has_nobody", "nobody_to_transfer_to"):
        await finish(ctx, "nobody_to_transfer_to")
    else:
        await moved_on(ctx, ticket)


async def resolve(ctx: Context, ticket: Ticket, shown_note: str = "") -> None:
    """办结 with the note and photos the task collected; `shown_note`: the 常用回复 the answer repeats."""
    note = ctx.conversation.data.get("note", "")
    photos = tuple(ctx.conversation.data.get("photos", []))
    await done(ctx, ticket, await ticket_actions.resolve(ctx, ticket, note, photos), "resolved",
               note=shown_note)


async def finish(ctx: Context, template: str, **context: object) -> None:
    await ctx.end_dialog()
    await ctx.say(template, **context)
    if ctx.conversation.dialog == report.DIALOG:
        await report.resume(ctx)
