"""The resident's report dialog, declared as one table (run by handlers.dialog_table).

    (free text / photo / voice / /report)  /proxy (a building leader, 代办: handlers.proxy)
            │                                 ▼
            │                            neighbour ("王大爷 138…" or 匿名); the building is the
            │◀────────────────────────────────┘  leader's; no anonymous and no duplicate step
            │  category suggested from keywords; from the text: building/unit, the public area
            │  ("小区门口", "停车场"), and the floor/room/spot for the detail ("一楼", "302室", "楼道里")
            ▼
    confirm_category ─┐   category ◀── (no suggestion — a voice note has none —, or "选其他类别")
            │         └──────▶│
            ▼                 ▼
    description → (place: [which_place] [home] [estate]) building → unit → [duplicate] → detail → photos
                                                                       → anonymous → confirm
    (text, or a voice)  (buttons or a typed name/alias)   (实名 without a phone on file: the phone
                                                           offered before the summary, report_phone)
    emergency (not on /proxy): after the description, at most one place question (emergency_place),
               then filed at once; for a while what the resident sends next is added to the ticket
               (followup, handlers.report_emergency)
    confirm: 确认 → ticket filed │ 修改 → edit_choice → the reopened step(s) → back to confirm │ 取消
    duplicate: 加入 (+1) → joined, the dialog ends │ 仍要新报 → on to the detail
    which_place: a typed building several estates have ("5栋") → just those estates │ 都不是 → estate
    home: "还是 <home> 吗？" (a resident with a remembered home, no place in the text: handlers.report_home)
    estate → building of that estate (communities with estates; "其他楼栋" for buildings of no estate)
    after filing a first report: home_offer (remember this place as the home?); /home: home_menu

Only what is still missing is asked: after an answer the dialog goes to the first of GAPS the draft
still has (NEXT), so the order of the diagram is the order of GAPS. An answer that names a state goes
there instead (修改 → edit_choice). Every question takes 取消; FALLBACKS answer any other input.
"""

from __future__ import annotations

from datetime import timedelta

from handlers import dialog_table, proxy
from handlers import report_emergency as emergency
from handlers import report_home as home
from handlers import report_phone as phone
from handlers import report_place as place
from handlers import report_review as review
from handlers import report_steps as s
from handlers.context import Context
from handlers.dialog_table import END, SAME, Answer, Dialog, Fallbacks, Gap, State
from handlers.draft import ReportDraft
from handlers.inputs import InputKind

DIALOG = "report"
DUPLICATE_WINDOW = timedelta(days=14)
MIN_IDLE_TEXT = 4  # shorter idle texts ("你好", "在吗") get the help hint instead of a report


# --- entry points: an input with no dialog under way ----------------------------------------------
# handlers.app hands an idle message to enter() (after saying a too-long one is too long); /report
# (handlers.commands) calls start() with nothing, /proxy (handlers.staff_commands) advance() with the
# leader's draft.


async def start(ctx: Context, *, text: str = "", photo: str = "", voice: str = "") -> None:
    """Begin a report, taking whatever the first message already says."""
    draft = await s.first_draft(ctx, text=text, photo=photo, voice=voice)
    if draft is not None:
        await advance(ctx, draft)


async def start_with_text(ctx: Context) -> bool:
    text = ctx.incoming.text.strip()
    if not MIN_IDLE_TEXT <= len(text) <= s.MAX_DESCRIPTION:
        return False
    await start(ctx, text=text)
    return True


async def start_with_photo(ctx: Context) -> bool:
    await start(ctx, text=ctx.incoming.text.strip()[: s.MAX_DESCRIPTION], photo=ctx.incoming.photo_file_id)
    return True


async def start_with_voice(ctx: Context) -> bool:
    await start(ctx, text=ctx.incoming.text.strip()[: s.MAX_DESCRIPTION], voice=ctx.incoming.voice_file_id)
    return True


ENTRY_POINTS = {
    InputKind.TEXT: start_with_text,
    InputKind.PHOTO: start_with_photo,
    InputKind.VOICE: start_with_voice,
}


# --- what the draft still lacks, in the order asked -----------------------------------------------
# The duplicate question comes as soon as category and place are known, before the details and photos
# a +1 would not need. An emergency is filed as soon as its place is known.


async def lacks_neighbour(ctx: Context, draft: ReportDraft) -> bool:
    return draft.on_behalf and draft.neighbour is None  # 代办: whom the leader reports for, first


async def lacks_category(ctx: Context, draft: ReportDraft) -> bool:
    if draft.category_code is not None and ctx.community.category(draft.category_code) is None:
        draft.category_code = None  # the roster dropped it meanwhile: asked again
    return draft.category_code is None


async def lacks_category_but_has_a_guess(ctx: Context, draft: ReportDraft) -> bool:
    return await lacks_category(ctx, draft) and bool(draft.suggested_category_code)


async def lacks_description(ctx: Context, draft: ReportDraft) -> bool:
    return not draft.description and not draft.voice


def is_emergency(ctx: Context, draft: ReportDraft) -> bool:
    category = s.category_of(ctx, draft)
    return category is not None and category.emergency and not draft.on_behalf


async def emergency_lacks_place(ctx: Context, draft: ReportDraft) -> bool:
    return is_emergency(ctx, draft) and draft.building_code is None


async def emergency_is_ready(ctx: Context, draft: ReportDraft) -> bool:
    return is_emergency(ctx, draft) and draft.building_code is not None


async def lacks_building(ctx: Context, draft: ReportDraft) -> bool:
    return draft.building_code is None


async def lacks_place_choice(ctx: Context, draft: ReportDraft) -> bool:
    return draft.building_code is None and bool(draft.place_candidates)


async def lacks_estate(ctx: Context, draft: ReportDraft) -> bool:
    return draft.building_code is None and bool(ctx.community.estates) and draft.estate_code is None


async def lacks_unit(ctx: Context, draft: ReportDraft) -> bool:
    building = s.building_of(ctx, draft)
    return building is not None and bool(building.units) and draft.unit is None and not draft.unit_asked


async def finds_open_duplicate(ctx: Context, draft: ReportDraft) -> bool:
    """Looked up once per category and place (an answer changing either clears duplicate_checked): an
    open ticket of someone else's, same category, building and unit, filed within DUPLICATE_WINDOW."""
    if draft.duplicate_checked or draft.on_behalf:
        return False
    draft.duplicate_checked = True
    draft.duplicate_number = None
    if not draft.building_code:  # the estate's public area: no duplicate is looked for
        return False
    duplicate = await ctx.uow.tickets.find_open_duplicate(
        ctx.community.code, draft.category_code, draft.building_code, ctx.now - DUPLICATE_WINDOW,
        unit=draft.unit,
    )
    if duplicate is None or duplicate.reporter.user_id == ctx.incoming.sender.user_id:
        return False
    draft.duplicate_number = duplicate.number
    return True


async def lacks_detail(ctx: Context, draft: ReportDraft) -> bool:
    return draft.detail is None


async def lacks_photos(ctx: Context, draft: ReportDraft) -> bool:
    return not draft.photos_done


async def lacks_anonymity(ctx: Context, draft: ReportDraft) -> bool:
    return draft.anonymous is None


GAPS = (
    Gap("neighbour", lacks_neighbour),
    Gap("confirm_category", lacks_category_but_has_a_guess),
    Gap("category", lacks_category),
    Gap("description", lacks_description),
    Gap("emergency_place", emergency_lacks_place),
    Gap(emergency.FOLLOW_UP_STEP, emergency_is_ready, act=emergency.file_now),
    Gap("which_place", lacks_place_choice),
    Gap("home", home.lacks_home_answer),
    Gap("estate", lacks_estate),
    Gap("building", lacks_building),
    Gap("unit", lacks_unit),
    Gap("duplicate", finds_open_duplicate),
    Gap("detail", lacks_detail),
    Gap("photos", lacks_photos),
    Gap("anonymous", lacks_anonymity),
)
COMPLETE = "confirm"  # the draft lacks nothing: the summary


# --- the states ----------------------------------------------------------------------------------


async def follow_up(ctx: Context) -> None:
    """An emergency's follow-up window: an input is added to the filed ticket; once the window is over
    (or the ticket closed), it is read as a message with no dialog under way."""
    if await emergency.take_follow_up(ctx):
        return
    await ctx.end_dialog()
    await idle(ctx)


PLACE_BUTTONS = {
    "b:": Answer(place.take_building_button),
    "public": Answer(place.take_public_area),
    "es:": Answer(place.take_other_estate),
    s.PAGE: Answer(place.turn_building_page, SAME),
}


async def file_report(ctx: Context, draft: ReportDraft, value: str) -> bool:
    """Filed; after a first report, the offer to remember its place as the home."""
    return await review.file(ctx, draft, value, offer=lambda c, d: home.offer(c, d, DIALOG))


async def home_offer_input(ctx: Context) -> None:
    await home.on_offer_input(ctx, idle)


async def home_menu_input(ctx: Context) -> None:
    await home.on_menu_input(ctx, idle, lambda c, draft: dialog_table.advance(c, HOME, draft))


async def idle(ctx: Context) -> None:
    """An input read as if no dialog were under way."""
    if await dialog_table.enter(ctx, REPORT):
        return
    if ctx.incoming.kind is InputKind.BUTTON:
        await s.refuse_button(ctx)
    else:
        await ctx.say("idle_hint", what=ctx.incoming.what or ctx.incoming.kind.value)

STATES = {
    "neighbour": State(proxy.ask_neighbour, text=Answer(proxy.take_neighbour_text),
                       buttons={"anon": Answer(proxy.take_neighbour_button)}),
    "confirm_category": State(s.ask_confirm_category, text=Answer(s.take_category_text),
                              buttons={"yes": Answer(s.take_suggestion), "alt": Answer(s.take_suggestion),
                                       "other": Answer(s.decline_suggestion)}),
    "category": State(s.ask_category, text=Answer(s.take_category_text),
                      buttons={"cat:": Answer(s.take_category_button),
                               s.PAGE: Answer(s.turn_category_page, SAME)}),
    "description": State(s.ask_description, text=Answer(s.take_description),
                         photo=Answer(s.take_description_photo), voice=Answer(s.take_description_voice),
                         hint="use_text"),
    "which_place": State(place.ask_which_place, text=Answer(place.take_which_place_text),
                         buttons={"pc:": Answer(place.take_which_place_button),
                                  s.PAGE: Answer(place.turn_which_place_page, SAME)}),
    "home": State(home.ask_home, text=Answer(home.take_home_text),
                  buttons={"hy": Answer(home.take_home), "hn": Answer(home.take_other_place)}),
    "estate": State(place.ask_estate, text=Answer(place.take_estate_text),
                    buttons={"es:": Answer(place.take_estate_button),
                             "public": Answer(place.take_public_area),
                             s.PAGE: Answer(place.turn_estate_page, SAME)}),
    "building": State(place.ask_building, text=Answer(place.take_building_text), buttons=PLACE_BUTTONS),
    "unit": State(place.ask_unit, text=Answer(place.take_unit_text),
                  buttons={"u:": Answer(place.take_unit_button), s.PAGE: Answer(place.turn_unit_page, SAME)}),
    "detail": State(place.ask_detail, text=Answer(place.take_detail),
                    buttons={"skip": Answer(place.skip_detail)}, hint="use_text"),
    "photos": State(review.ask_photos, photo=Answer(review.take_photo, SAME),
                    buttons={"done": Answer(review.photos_done)}, hint="use_photos"),
    "anonymous": State(review.ask_anonymous, text=Answer(review.take_anonymous_text),
                       buttons={"named": Answer(review.take_named), "anon": Answer(review.take_anonymous)}),
    "duplicate": State(review.ask_duplicate, buttons={"join": Answer(review.join, END), "new": Answer()}),
    # A text or a shared contact here answers the phone offer (report_phone); a contact shared at any
    # other step is kept by handlers.commands.contact, outside the dialog.
    "confirm": State(phone.ask_summary, text=Answer(phone.take_summary_text),
                     contact=Answer(phone.take_contact),
                     buttons={"confirm": Answer(file_report, END), "edit": Answer(leads_to="edit_choice")}),
    "edit_choice": State(review.ask_edit_choice, buttons={
        "e:category": Answer(review.reopen_category),
        "e:description": Answer(review.reopen_description),
        "e:location": Answer(review.reopen_location),
        "e:photos": Answer(review.reopen_photos),
        "e:anonymity": Answer(review.reopen_anonymity),
        "e:phone": Answer(review.reopen_phone),
        "e:back": Answer(),
    }),
    "emergency_place": State(emergency.ask_place, text=Answer(emergency.take_place_text),
                             buttons=PLACE_BUTTONS),
    emergency.FOLLOW_UP_STEP: State(emergency.ask_follow_up, every_input=follow_up),
}


# --- fallbacks -----------------------------------------------------------------------------------


async def cancel(ctx: Context) -> None:
    """取消 (a question's button, or /cancel: handlers.commands): the report is dropped; in an emergency's
    follow-up window, the window ends (the ticket stays)."""
    following = emergency.in_follow_up(ctx)
    home_only = home.under_way(ctx)
    await ctx.end_dialog()
    if home_only:
        await ctx.say("home_kept")
        return
    await ctx.say("followup_ended" if following else "cancelled", remove_reply_keyboard=True)


async def wrong_input(ctx: Context, state: State, draft: ReportDraft) -> None:
    """An input of a kind the question does not take (a sticker, a photo at the building...): said
    politely, and the question again."""
    await ctx.say("wrong_input", what=ctx.incoming.what or ctx.incoming.kind.value, hint=state.hint)
    await state.ask(ctx, draft)


async def unknown_step(ctx: Context, draft: ReportDraft) -> None:
    """A step no state has any more (renamed or dropped by an upgrade): asked again from the draft."""
    await advance(ctx, draft)


FALLBACKS = Fallbacks(cancel=cancel, refused_button=s.refuse_button, wrong_input=wrong_input,
                      unknown_step=unknown_step)

REPORT = Dialog(DIALOG, ENTRY_POINTS, STATES, FALLBACKS, GAPS, COMPLETE)

# /home and the offer after a first report: the report's place questions, then the home saved. Under
# the report's dialog name (the draft says home_only), so every input of it reaches on_input here.
HOME_GAPS = (
    Gap("which_place", lacks_place_choice),
    Gap("estate", lacks_estate),
    Gap("building", lacks_building),
    Gap("unit", lacks_unit),
)
HOME_STATES = {
    **{name: STATES[name] for name in ("which_place", "estate", "building", "unit")},
    home.OFFER_STEP: State(home.ask_offer, every_input=home_offer_input),
    home.MENU_STEP: State(home.ask_menu, every_input=home_menu_input),
    "home_saved": State(home.save_home),
}
HOME = Dialog(DIALOG, {}, HOME_STATES, FALLBACKS, HOME_GAPS, "home_saved")


def table_for_draft(draft: ReportDraft) -> Dialog:
    """The report's table, or the home's when the draft sets the home."""
    return HOME if draft.home_only else REPORT


def table(ctx: Context, draft: ReportDraft | None = None) -> Dialog:
    return table_for_draft(draft) if draft is not None else HOME if home.under_way(ctx) else REPORT


# --- what the rest of the bot calls ----------------------------------------------------------------


async def enter(ctx: Context) -> bool:
    """An input with no dialog under way, read by the entry points; False when none starts a report."""
    return await dialog_table.enter(ctx, REPORT)


async def advance(ctx: Context, draft: ReportDraft) -> None:
    """Ask the next missing thing (a new turn: buttons of earlier questions go stale)."""
    await dialog_table.advance(ctx, table(ctx, draft), draft)


async def resume(ctx: Context) -> None:
    """Ask the current question again (after /start, /report or a task that interrupted the report)."""
    await dialog_table.resume(ctx, table(ctx))


async def on_input(ctx: Context) -> None:
    """An input while the report dialog is under way."""
    await dialog_table.on_input(ctx, table(ctx))
