"""The report dialog's first questions: what the problem is (category, description) and the helpers
every step shares. The table that joins the steps, and its diagram: handlers.report.

A take (handlers.dialog_table.Take) returns True only when the draft now holds the answer; on False it
has told the resident why, or asked again, and the question stays. A file sent with an answer it could
not take (a photo, a voice note) is kept in the draft all the same.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from gridcore.community import Building, Category
from gridcore.intake import shows_words, suggest_category, visible_length
from gridcore.messages import Button
from gridcore.places import PlaceFind, find_place
from gridcore.spots import public_area_in, spot_in
from handlers import keyboards
from handlers.context import Context, Keyboard
from handlers.draft import NO_ESTATE, ReportDraft
from handlers.triage import suggestion_for

MAX_DESCRIPTION = 1000
MIN_DESCRIPTION = 2
MAX_DETAIL = 100
PUBLIC_AREA = ""  # building_code for "小区公共区域": a place, but not inside a building
# conversation.data key, with no dialog under way: the building of the QR code the resident just opened
LINKED_BUILDING = "linked_building"
PAGE = "pg:"  # a button that shows another page of the same question's choices (handlers.keyboards)


def data(ctx: Context, value: str) -> str:
    """Callback data of a dialog button; it carries the turn, so a button of an older question is stale."""
    return ctx.dialog_data(value)


def button(ctx: Context, label: str, value: str, **label_args: str) -> Button:
    return Button(ctx.label(label, **label_args), data(ctx, value))


def rows(buttons: list[Button], width: int) -> list[list[Button]]:
    return [buttons[i : i + width] for i in range(0, len(buttons), width)]


def category_of(ctx: Context, draft: ReportDraft) -> Category | None:
    return ctx.community.category(draft.category_code) if draft.category_code else None


def building_of(ctx: Context, draft: ReportDraft) -> Building | None:
    return ctx.community.building(draft.building_code) if draft.building_code else None


async def refuse_button(ctx: Context) -> bool:
    """A button this question does not take: answered as stale (an alert), and nothing changes."""
    ctx.answer(ctx.label("stale_button"), alert=True)
    return False


async def first_draft(ctx: Context, *, text: str = "", photo: str = "",
                      voice: str = "") -> ReportDraft | None:
    """The draft of a new report, with whatever the first message already says (a voice note is the
    description; its category is then picked with buttons). None: the message shows nothing to report."""
    draft = ReportDraft()
    if text and not shows_words(text):
        await ctx.say("description_blank")  # only emoji, punctuation or invisible characters
        text = ""
        if not (photo or voice):
            return None
    if text:
        draft.description = text.strip()[:MAX_DESCRIPTION]
        suggestion = await suggestion_for(ctx, text)
        best = suggestion.best
        draft.bot_suggestion = best.code if best is not None else None
        if best is not None and suggestion.emergency:
            await set_category(ctx, draft, best)  # no question first: say whom to call now
        elif best is not None:
            draft.suggested_category_code = best.code
            if not suggestion.sure:  # the two most likely, as buttons (plus 其他类别)
                draft.alternative_category_code = suggestion.categories[1].code
        take_place_from_text(ctx, draft, text)
    if photo:
        draft.photos.append(photo)
    if voice:
        draft.voice = voice
    linked = ctx.community.building(str(ctx.conversation.data.get(LINKED_BUILDING) or ""))
    if draft.building_code is None and linked is not None:  # a stairwell QR code, for this one report
        draft.building_code, draft.home_asked = linked.code, True
        draft.estate_code = linked.estate_code or NO_ESTATE
    return draft


def take_place_from_text(ctx: Context, draft: ReportDraft, text: str) -> None:
    """Fill what the resident wrote of the place: building and unit ("3号楼2单元", "雅悦花园12栋3单元") if it
    names a known building; the buildings it could mean when several estates have that name (asked
    which); the estate alone ("雅悦花园门口": the building asked within it); else the estate's public area
    ("小区门口", "停车场"); and the floor, room or spot ("一楼", "302室", "楼道里") for the detail
    question."""
    found = find_place(text, ctx.community)
    take_spot_from_text(draft, text, room=found.room if found else None)
    if found is not None and found.room:
        draft.room = found.room
    if draft.building_code is not None:
        return
    if found is not None and (found.building is not None or found.ambiguous):
        take_found_place(draft, found)
        return
    public = public_area_in(text) if found is None or found.building_text is None else None
    if public is not None:
        draft.building_code, draft.unit, draft.unit_asked = PUBLIC_AREA, None, True
        if draft.detail is None:
            draft.detail = public
    elif found is not None and found.estate is not None:
        draft.estate_code = found.estate.code


def take_found_place(draft: ReportDraft, found: PlaceFind) -> bool:
    """A place read from text into the draft: its building (and unit, if the building has it), or the
    buildings it could mean. False when it names neither."""
    if found.room:
        draft.room = found.room
    if found.building is not None:
        set_building(draft, found.building, found.unit)
        return True
    if found.ambiguous:
        draft.place_candidates = [b.code for b in found.candidates]
        draft.candidate_unit = found.unit
        return True
    return False


def set_building(draft: ReportDraft, building: Building, unit: str | None = None) -> None:
    draft.building_code, draft.duplicate_checked = building.code, False
    draft.estate_code = building.estate_code or NO_ESTATE
    draft.unit = unit if unit and unit in building.units else None
    draft.place_candidates, draft.candidate_unit = [], None


def take_spot_from_text(draft: ReportDraft, text: str, room: str | None = None) -> None:
    """The detail ("几楼/哪个位置") from the text, unless the resident gave it already."""
    if draft.detail is not None:
        return
    spot = spot_in(text) or room
    if spot:
        draft.detail = spot[:MAX_DETAIL]


async def set_category(ctx: Context, draft: ReportDraft, category: Category) -> None:
    draft.category_code = category.code
    draft.duplicate_checked = False
    if category.emergency:
        # Safety first: say whom to call before anything else, then keep filing (marked urgent).
        await ctx.say("emergency", numbers=category.emergency_numbers, category=category.name,
                      description=draft.description)
        draft.photos_done = True
        if draft.anonymous is None:
            draft.anonymous = False


async def ask_paged(ctx: Context, template: str, choices: list[Button], page: int, *, width: int,
                    fixed: Keyboard, edit: bool, **context: object) -> None:
    """Ask with one page of `choices` (a long list is paged; typing the answer always works too).
    `edit`: a page was turned, so the question's own message shows the new page."""
    shown = keyboards.paged(choices, page, width=width, rows=8, fixed=fixed,
                            turn=lambda n, forward: button(ctx, "page_next" if forward else "page_prev",
                                                           f"{PAGE}{n}"))
    context = {**context, "page": shown.number + 1, "pages": shown.count}
    if edit and ctx.incoming.message_id is not None:
        await ctx.tell(ctx.chat_id, template, buttons=shown.rows, edit_message_id=ctx.incoming.message_id,
                       **context)
    else:
        await ctx.say(template, buttons=shown.rows, **context)


# --- category ------------------------------------------------------------------------------------


async def ask_confirm_category(ctx: Context, draft: ReportDraft) -> None:
    """Sure of one category: 是的 / 选其他类别. Unsure: the two most likely as buttons, and 其他类别."""
    category = ctx.community.category(draft.suggested_category_code or "")
    assert category is not None
    alternative = ctx.community.category(draft.alternative_category_code or "")
    if alternative is not None:
        choices = [Button(category.name, data(ctx, "yes")), Button(alternative.name, data(ctx, "alt"))]
        await ctx.say("ask_two_categories", first=category.name, second=alternative.name,
                      buttons=[choices, [button(ctx, "other_categories", "other"),
                                         button(ctx, "cancel", "cancel")]])
        return
    await ctx.say("ask_confirm_category", category=category.name, description=draft.description,
                  buttons=[[button(ctx, "yes_category", "yes"), button(ctx, "other_category", "other")],
                           [button(ctx, "cancel", "cancel")]])


async def take_suggestion(ctx: Context, draft: ReportDraft, value: str) -> bool:
    """是的, or the first of the two offered; "alt": the second."""
    code = draft.alternative_category_code if value == "alt" else draft.suggested_category_code
    category = ctx.community.category(code or "")
    if value == "alt" and code is None:  # an 换一个 button of a question that offered only one
        return await refuse_button(ctx)
    draft.suggested_category_code = draft.alternative_category_code = None
    if category is None:  # the roster changed under the dialog: the category is asked
        return True
    await set_category(ctx, draft, category)
    return True


async def decline_suggestion(ctx: Context, draft: ReportDraft, value: str) -> bool:
    draft.suggested_category_code = draft.alternative_category_code = None
    return True


async def ask_category(ctx: Context, draft: ReportDraft, page: int = 0, *, edit: bool = False) -> None:
    choices = [Button(c.name, data(ctx, f"cat:{keyboards.compact_key(c.code)}"))
               for c in ctx.community.categories]
    await ask_paged(ctx, "ask_category", choices, page, width=2, edit=edit,
                    fixed=[[button(ctx, "cancel", "cancel")]])


Ask = Callable[..., Awaitable[None]]  # ask_x(ctx, draft, page, *, edit)
TurnPage = Callable[[Context, ReportDraft, str], Awaitable[bool]]


def page_turner(ask: Ask, ready: Callable[[Context, ReportDraft], bool] | None = None) -> TurnPage:
    """The answer to ‹ 上一页 / 下一页 › of a paged question: `ask` again at that page, editing the
    message in place (the question stays: SAME). A forged page, or a question no longer `ready`, is
    refused."""
    async def turn(ctx: Context, draft: ReportDraft, value: str) -> bool:
        page = keyboards.page_number(value, PAGE)
        if page is None or (ready is not None and not ready(ctx, draft)):
            return await refuse_button(ctx)
        await ask(ctx, draft, page, edit=True)
        return False

    return turn


turn_category_page = page_turner(ask_category)


async def take_category_button(ctx: Context, draft: ReportDraft, value: str) -> bool:
    code = keyboards.find_key(value.removeprefix("cat:"), [c.code for c in ctx.community.categories])
    category = ctx.community.category(code) if code is not None else None
    if category is None:
        return await refuse_button(ctx)
    draft.suggested_category_code = draft.alternative_category_code = None
    await set_category(ctx, draft, category)
    return True


async def take_category_text(ctx: Context, draft: ReportDraft, text: str) -> bool:
    typed = text.strip()
    category = next((c for c in ctx.community.categories if c.name == typed), None)
    category = category or suggest_category(typed, ctx.community.categories)
    if category is None:
        await ctx.say("unknown_category", typed=typed[:50])
        await ask_category(ctx, draft)
        return False
    await set_category(ctx, draft, category)
    return True


# --- description ---------------------------------------------------------------------------------


async def ask_description(ctx: Context, draft: ReportDraft) -> None:
    await ctx.say("ask_description", buttons=[[button(ctx, "cancel", "cancel")]])


async def take_description(ctx: Context, draft: ReportDraft, text: str) -> bool:
    text = text.strip()
    if not shows_words(text):  # only emoji, punctuation, zero-width or format characters
        await ctx.say("description_blank")
        return False
    if visible_length(text) < MIN_DESCRIPTION:
        await ctx.say("description_too_short")
        return False
    if len(text) > MAX_DESCRIPTION:
        await ctx.say("description_too_long", length=len(text), limit=MAX_DESCRIPTION)
        return False
    draft.description = text
    take_place_from_text(ctx, draft, text)
    return True


async def take_description_photo(ctx: Context, draft: ReportDraft, caption: str) -> bool:
    """A photo is kept; its caption is the description, and without one the words are asked for."""
    draft.photos.append(ctx.incoming.photo_file_id)
    if caption.strip():
        return await take_description(ctx, draft, caption)
    await ctx.say("photo_needs_text")
    return False


async def take_description_voice(ctx: Context, draft: ReportDraft, caption: str) -> bool:
    """A voice note is the description (its caption too, when there is one)."""
    draft.voice = ctx.incoming.voice_file_id
    return True if not caption.strip() else await take_description(ctx, draft, caption)
