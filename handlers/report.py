"""The resident's report dialog: the step table, what comes next, and filing the ticket."""

from __future__ import annotations

from datetime import timedelta

from gridcore.errors import DomainError
from gridcore.intake import suggest_category
from gridcore.ticket import Location, Reporter, Ticket, stand_in_number
from handlers import dispatch, proxy
from handlers import report_steps as s
from handlers.context import Context
from handlers.draft import ReportDraft
from handlers.inputs import InputKind

DIALOG = "report"
DUPLICATE_WINDOW = timedelta(days=14)

STEPS: dict[str, s.Step] = {
    "neighbour": s.Step(proxy.ask_neighbour, proxy.take_neighbour_button, proxy.take_neighbour_text),
    "confirm_category": s.Step(s.ask_confirm_category, s.take_confirm_category, s.take_category_text),
    "category": s.Step(s.ask_category, s.take_category_button, s.take_category_text),
    "description": s.Step(s.ask_description, None, s.take_description, hint="use_text"),
    "building": s.Step(s.ask_building, s.take_building_button, s.take_building_text),
    "unit": s.Step(s.ask_unit, s.take_unit_button, s.take_unit_text),
    "detail": s.Step(s.ask_detail, s.take_detail_button, s.take_detail, hint="use_text"),
    "photos": s.Step(s.ask_photos, None, None, hint="use_photos"),
    "anonymous": s.Step(s.ask_anonymous, None, None),
    "duplicate": s.Step(s.ask_duplicate, None, None),
    "confirm": s.Step(s.ask_confirm, None, None),
    "edit_choice": s.Step(s.ask_edit_choice, None, None),
}


async def next_step(ctx: Context, draft: ReportDraft) -> str:
    """The first thing the draft still lacks. The duplicate question comes as soon as category and place
    are known, before the details and photos a +1 would not need. An emergency is filed as soon as
    its place is known (report_emergency)."""
    if draft.on_behalf and draft.neighbour is None:
        return "neighbour"  # 代办: whom the leader reports for, first
    if draft.category_code is None or ctx.community.category(draft.category_code) is None:
        draft.category_code = None
        return "confirm_category" if draft.suggested_category_code else "category"
    if not draft.description:
        return "description"
    category = s.category_of(ctx, draft)
    if category is not None and category.emergency and not draft.on_behalf:
        return "emergency_place" if draft.building_code is None else emergency.FILE_NOW
    if draft.building_code is None:
        return "building"
    building = s.building_of(ctx, draft)
    if building is not None and building.units and draft.unit is None and not draft.unit_asked:
        return "unit"
    if not draft.duplicate_checked and not draft.on_behalf:
        draft.duplicate_checked = True
        draft.duplicate_number = None
        if draft.building_code:
            duplicate = await ctx.uow.tickets.find_open_duplicate(
                ctx.community.code, draft.category_code, draft.building_code, ctx.now - DUPLICATE_WINDOW,
                unit=draft.unit,
            )
            if duplicate is not None and duplicate.reporter.user_id != ctx.incoming.sender.user_id:
                draft.duplicate_number = duplicate.number
                return "duplicate"
    if draft.detail is None:
        return "detail"
    if not draft.photos_done:
        return "photos"
    if draft.anonymous is None:
        return "anonymous"
    if await contact.needs_phone_question(ctx, draft):
        return "phone"
    return "confirm"


async def advance(ctx: Context, draft: ReportDraft) -> None:
    """Ask the next missing thing (a new turn: buttons of earlier questions go stale)."""
    step = await next_step(ctx, draft)
    if step == emergency.FILE_NOW:
        await emergency.file_now(ctx, draft)
        return
    conversation = ctx.conversation
    conversation.dialog, conversation.step = DIALOG, step
    conversation.turn += 1
    conversation.data = draft.dump()
    await STEPS[step].ask(ctx, draft)


async def start(ctx: Context, *, text: str = "", photo: str = "") -> None:
    """Begin a report, taking whatever the first message already says."""
    draft = ReportDraft()
    resident = await ctx.uow.residents.get(ctx.incoming.sender.user_id)
    if text:
        draft.description = text.strip()[: s.MAX_DESCRIPTION]
        suggestion = suggest_category(text, ctx.community.categories)
        if suggestion is not None and suggestion.emergency:
            await s.set_category(ctx, draft, suggestion)  # no question first: say whom to call now
        elif suggestion is not None:
            draft.suggested_category_code = suggestion.code
        s.take_place_from_text(ctx, draft, text)
    if photo:
        draft.photos.append(photo)
    home = ctx.community.building(resident.home_building_code or "") if resident else None
    if draft.building_code is None and home is not None:
        draft.building_code = home.code
    await advance(ctx, draft)


async def resume(ctx: Context) -> None:
    """Ask the current step again (after /start, /report or an input that fits no step)."""
    draft = ReportDraft.load(ctx.conversation.data)
    step = ctx.conversation.step or "category"
    await STEPS.get(step, STEPS["category"]).ask(ctx, draft)


async def on_input(ctx: Context) -> None:
    """An input while the report dialog is under way."""
    draft = ReportDraft.load(ctx.conversation.data)
    step_name = ctx.conversation.step or ""
    step = STEPS.get(step_name)
    if step is None:  # a step renamed by an upgrade: start the questions again from the draft
        await advance(ctx, draft)
        return
    incoming = ctx.incoming
    taken = False
    if incoming.kind is InputKind.BUTTON:
        taken = await take_button(ctx, draft, step_name, step)
        if ctx.callback_alert:  # refused: a stale or foreign button changes nothing
            return
    elif incoming.kind is InputKind.TEXT and step.on_text is not None:
        taken = await step.on_text(ctx, draft, incoming.text)
    elif incoming.kind is InputKind.TEXT and step_name == "anonymous":
        taken = await take_anonymous_text(ctx, draft, incoming.text)
    elif incoming.kind is InputKind.PHOTO and step_name in ("photos", "description"):
        taken = await take_photo_input(ctx, draft, step_name)
    else:
        await ctx.say("wrong_input", what=incoming.what or incoming.kind.value, hint=step.hint)
        await step.ask(ctx, draft)
        return
    if ctx.conversation.dialog != DIALOG:  # the step finished the dialog (filed, joined, cancelled)
        return
    if taken:
        await advance(ctx, draft)
    else:
        ctx.conversation.data = draft.dump()


async def take_photo_input(ctx: Context, draft: ReportDraft, step_name: str) -> bool:
    caption = ctx.incoming.text.strip()
    if step_name == "description":
        draft.photos.append(ctx.incoming.photo_file_id)
        if caption:
            return await s.take_description(ctx, draft, caption)
        await ctx.say("photo_needs_text")
        return False
    taken = await s.take_photo(ctx, draft, ctx.incoming.photo_file_id)
    return taken


async def take_anonymous_text(ctx: Context, draft: ReportDraft, text: str) -> bool:
    if "匿名" in text and "不" not in text:
        draft.anonymous = True
        return True
    if "实名" in text or "不匿名" in text:
        draft.anonymous = False
        return True
    await ctx.say("wrong_input", what="text", hint="use_buttons")
    await s.ask_anonymous(ctx, draft)
    return False


async def take_button(ctx: Context, draft: ReportDraft, step_name: str, step: s.Step) -> bool:
    value = ctx.dialog_press()
    if value is None:
        return False
    if value == "cancel":
        await cancel(ctx)
        return False
    take = step.on_button or FIXED_BUTTONS.get(step_name)
    if take is None:
        return await s.refuse_button(ctx)
    return await take(ctx, draft, value)


async def take_photos_button(ctx: Context, draft: ReportDraft, value: str) -> bool:
    if value != "done":
        return await s.refuse_button(ctx)
    draft.photos_done = True
    return True


async def take_anonymous_button(ctx: Context, draft: ReportDraft, value: str) -> bool:
    if value not in ("named", "anon"):
        return await s.refuse_button(ctx)
    draft.anonymous = value == "anon"
    return True


async def take_duplicate_button(ctx: Context, draft: ReportDraft, value: str) -> bool:
    if value == "new":
        return True
    if value != "join":
        return await s.refuse_button(ctx)
    ticket = await ctx.uow.tickets.get(draft.duplicate_number or "")
    try:
        if ticket is None:
            raise DomainError("gone")
        ticket.follow(ctx.incoming.sender.user_id, at=ctx.now)
    except DomainError:
        await ctx.say("duplicate_gone")
        return True  # file a new one instead: nothing the resident wrote is lost
    await ctx.uow.tickets.save(ticket)
    await ctx.end_dialog()
    await ctx.say("joined", ticket=ticket, followers=len(ticket.followers))
    return True


async def take_edit_button(ctx: Context, draft: ReportDraft, value: str) -> bool:
    field = value.removeprefix("e:")
    if field == "category":
        draft.category_code = draft.suggested_category_code = None
        draft.duplicate_checked = False
    elif field == "description":
        draft.description = ""
    elif field == "location":
        draft.building_code, draft.unit, draft.unit_asked, draft.detail = None, None, False, None
        draft.duplicate_checked = False
    elif field == "photos":
        draft.photos, draft.photos_done = [], False
    elif field == "anonymity":
        draft.anonymous, draft.neighbour = None, None
    elif field != "back":
        return await s.refuse_button(ctx)
    return True


async def take_confirm_button(ctx: Context, draft: ReportDraft, value: str) -> bool:
    if value == "edit":
        ctx.conversation.step = "edit_choice"
        ctx.conversation.turn += 1
        ctx.conversation.data = draft.dump()
        await s.ask_edit_choice(ctx, draft)
        return False
    if value != "confirm":
        return await s.refuse_button(ctx)
    await file_ticket(ctx, draft)
    return True


async def file_ticket(ctx: Context, draft: ReportDraft) -> Ticket:
    category = s.category_of(ctx, draft)
    assert category is not None
    building = s.building_of(ctx, draft)
    sender = ctx.incoming.sender
    resident = await ctx.uow.residents.get(sender.user_id)
    day = ctx.local(ctx.now).date()
    ticket = Ticket.file(
        number=stand_in_number(),  # the day's number is taken last, below
        community_code=ctx.community.code,
        category_code=category.code,
        feedback_deadline=category.feedback_deadline,
        description=draft.description,
        location=Location(building.code if building else None, draft.unit, draft.detail or ""),
        reporter=proxy.reporter(ctx, draft) if draft.on_behalf else Reporter(
            sender.user_id, ctx.chat_id, sender.display_name, resident.phone if resident else None,
            bool(draft.anonymous)),
        at=ctx.now,
        urgent=category.emergency,
        photos=tuple(draft.photos),
        grid_code=building.grid_code if building else None,
    )
    if draft.on_behalf:
        proxy.mark_filed_by(ticket, sender.user_id)
    routing = await dispatch.route_new(ctx, ticket)
    await ctx.end_dialog()
    await ctx.uow.tickets.add(ticket)  # in one insert, already assigned
    await ctx.say("filed", ticket=ticket, category=category, due=ctx.local(ticket.feedback_due_at),
                  ticket_number=ticket.number)
    await dispatch.send_new_cards(ctx, ticket, routing)
    # Last: on PostgreSQL the day's number stays locked until the commit (numbers are gap-free) and every
    # other filing waits for it (storage/repositories/numbering.py; bench/RESULTS.md §1).
    await ctx.number_ticket(ticket, day)
    return ticket


async def cancel(ctx: Context) -> None:
    await ctx.end_dialog()
    await ctx.say("cancelled")


FIXED_BUTTONS = {
    "photos": take_photos_button,
    "anonymous": take_anonymous_button,
    "duplicate": take_duplicate_button,
    "confirm": take_confirm_button,
    "edit_choice": take_edit_button,
}
