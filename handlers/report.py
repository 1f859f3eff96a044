"""The resident's report dialog: the step table and what comes next (diagram: handlers.report_steps).
Filing: handlers.report_filing; emergencies: handlers.report_emergency; the phone: handlers.report_phone."""

from __future__ import annotations

from datetime import timedelta

from gridcore.intake import shows_words, suggest_category
from handlers import proxy, report_filing
from handlers import report_emergency as emergency
from handlers import report_phone as phone
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
    "confirm": s.Step(phone.ask_summary, None, phone.take_summary_text),
    "edit_choice": s.Step(s.ask_edit_choice, None, None),
    "emergency_place": s.Step(emergency.ask_place, emergency.take_place_button, emergency.take_place_text),
}
MIN_IDLE_TEXT = 4  # as handlers.app: shorter idle texts get the help hint instead of a report


async def next_step(ctx: Context, draft: ReportDraft) -> str:
    """The first thing the draft still lacks. The duplicate question comes as soon as category and place
    are known, before the details and photos a +1 would not need. An emergency is filed as soon as
    its place is known (report_emergency)."""
    if draft.on_behalf and draft.neighbour is None:
        return "neighbour"  # 代办: whom the leader reports for, first
    if draft.category_code is None or ctx.community.category(draft.category_code) is None:
        draft.category_code = None
        return "confirm_category" if draft.suggested_category_code else "category"
    if not draft.description and not draft.voice:
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


async def start(ctx: Context, *, text: str = "", photo: str = "", voice: str = "") -> None:
    """Begin a report, taking whatever the first message already says (a voice note is the description;
    its category is then picked with buttons)."""
    draft = ReportDraft()
    resident = await ctx.uow.residents.get(ctx.incoming.sender.user_id)
    if text and not shows_words(text):
        await ctx.say("description_blank")  # only emoji, punctuation or invisible characters
        text = ""
        if not (photo or voice):
            return
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
    if voice:
        draft.voice = voice
    home = ctx.community.building(resident.home_building_code or "") if resident else None
    if draft.building_code is None and home is not None:
        draft.building_code = home.code
    await advance(ctx, draft)


async def start_afresh(ctx: Context) -> None:
    """An input after the emergency follow-up window: read as a message with no dialog under way."""
    await ctx.end_dialog()
    incoming = ctx.incoming
    text = incoming.text.strip()
    if incoming.kind is InputKind.TEXT and MIN_IDLE_TEXT <= len(text) <= s.MAX_DESCRIPTION:
        await start(ctx, text=text)
    elif incoming.kind is InputKind.PHOTO:
        await start(ctx, text=text[: s.MAX_DESCRIPTION], photo=incoming.photo_file_id)
    elif incoming.kind is InputKind.VOICE:
        await start(ctx, text=text[: s.MAX_DESCRIPTION], voice=incoming.voice_file_id)
    elif incoming.kind is InputKind.BUTTON:
        await s.refuse_button(ctx)
    else:
        await ctx.say("idle_hint", what=incoming.what or incoming.kind.value)


async def resume(ctx: Context) -> None:
    """Ask the current step again (after /start, /report or an input that fits no step)."""
    if emergency.in_follow_up(ctx):
        await ctx.say("followup_hint", what="", ticket=None, ticket_number=None)
        return
    draft = ReportDraft.load(ctx.conversation.data)
    step = ctx.conversation.step or "category"
    await STEPS.get(step, STEPS["category"]).ask(ctx, draft)


async def on_input(ctx: Context) -> None:
    """An input while the report dialog is under way."""
    if emergency.in_follow_up(ctx):
        if not await emergency.take_follow_up(ctx):
            await start_afresh(ctx)
        return
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
    elif incoming.kind is InputKind.VOICE and step_name == "description":
        draft.voice = incoming.voice_file_id
        taken = True if not incoming.text.strip() else await s.take_description(ctx, draft, incoming.text)
    elif incoming.kind is InputKind.CONTACT and step_name == "confirm":
        taken = await phone.take_contact(ctx, draft)
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
    return await s.take_photo(ctx, draft, ctx.incoming.photo_file_id, caption)


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
    await report_filing.join(ctx, draft)
    return True  # joined (the dialog ended), or the ticket is gone: the resident's own report goes on


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
        draft.phone_asked = False
    elif field == "phone":
        draft.phone_asked, draft.phone_change = False, True
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
    await report_filing.file_ticket(ctx, draft)
    return True


async def cancel(ctx: Context) -> None:
    following = emergency.in_follow_up(ctx)
    await ctx.end_dialog()
    await ctx.say("followup_ended" if following else "cancelled", remove_reply_keyboard=True)


FIXED_BUTTONS = {
    "photos": take_photos_button,
    "anonymous": take_anonymous_button,
    "duplicate": take_duplicate_button,
    "confirm": take_confirm_button,
    "edit_choice": take_edit_button,
}
