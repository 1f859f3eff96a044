"""The report dialog as a table of steps. Each step asks, and takes a text, a button or a photo.

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
    description → building → unit → [duplicate] → detail → photos → anonymous → confirm
    (text, or a voice)  (buttons or a typed name/alias)   (实名 without a phone on file: the phone
                                                           offered before the summary, report_phone)
    emergency (not on /proxy): after the description, at most one place question, then filed at once;
               what the resident sends next is added to the ticket (handlers.report_emergency)
    confirm: 确认 → ticket filed │ 修改 → edit_choice → the chosen step → back to confirm │ 取消

Only what is still missing is asked: `next_step` looks at the draft and picks the first gap.
Category, building and unit list their choices a page at a time when the list is long (‹ 上一页 /
下一页 › edit the question in place: handlers.keyboards), and always take a typed answer too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from gridcore.community import Building, Category
from gridcore.intake import extract_place, match_building, shows_words, suggest_category, visible_length
from gridcore.messages import Button
from gridcore.redact import mask_phone
from gridcore.spots import public_area_in, spot_in
from handlers import keyboards
from handlers.context import Context, Keyboard
from handlers.draft import MAX_PHOTOS, ReportDraft

MAX_DESCRIPTION = 1000
MIN_DESCRIPTION = 2
MAX_DETAIL = 100
PUBLIC_AREA = ""  # building_code for "小区公共区域": a place, but not inside a building
LISTED_UNITS = 20  # units named in the reply to a unit the building lacks; the buttons show them all
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


def take_place_from_text(ctx: Context, draft: ReportDraft, text: str) -> None:
    """Fill what the resident wrote of the place: building and unit ("3号楼2单元") if it names a known
    building, else the estate's public area ("小区门口", "停车场"); and the floor, room or spot ("一楼",
    "302室", "楼道里") for the detail question."""
    mention = extract_place(text, ctx.community.buildings)
    take_spot_from_text(draft, text, room=mention.room if mention else None)
    if draft.building_code is not None:
        return
    building = match_building(mention.building_text, ctx.community.buildings) if mention else None
    if building is not None:
        draft.building_code = building.code
        if mention and mention.unit and mention.unit in building.units:
            draft.unit = mention.unit
        return
    public = public_area_in(text) if mention is None or mention.building_text is None else None
    if public is not None:
        draft.building_code, draft.unit, draft.unit_asked = PUBLIC_AREA, None, True
        if draft.detail is None:
            draft.detail = public


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


# --- asking -------------------------------------------------------------------------------------


async def ask_confirm_category(ctx: Context, draft: ReportDraft) -> None:
    category = ctx.community.category(draft.suggested_category_code or "")
    assert category is not None
    await ctx.say("ask_confirm_category", category=category.name, description=draft.description,
                  buttons=[[button(ctx, "yes_category", "yes"), button(ctx, "other_category", "other")],
                           [button(ctx, "cancel", "cancel")]])


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


async def ask_category(ctx: Context, draft: ReportDraft, page: int = 0, *, edit: bool = False) -> None:
    choices = [Button(c.name, data(ctx, f"cat:{keyboards.compact_key(c.code)}"))
               for c in ctx.community.categories]
    await ask_paged(ctx, "ask_category", choices, page, width=2, edit=edit,
                    fixed=[[button(ctx, "cancel", "cancel")]])


async def ask_description(ctx: Context, draft: ReportDraft) -> None:
    await ctx.say("ask_description", buttons=[[button(ctx, "cancel", "cancel")]])


async def ask_building(ctx: Context, draft: ReportDraft, page: int = 0, *, edit: bool = False) -> None:
    choices = [Button(b.name, data(ctx, f"b:{keyboards.compact_key(b.code)}"))
               for b in ctx.community.buildings]
    await ask_paged(ctx, "ask_building", choices, page, width=4, edit=edit,
                    fixed=[[button(ctx, "public_area", "public")], [button(ctx, "cancel", "cancel")]])


async def ask_unit(ctx: Context, draft: ReportDraft, page: int = 0, *, edit: bool = False) -> None:
    building = building_of(ctx, draft)
    assert building is not None
    choices = [button(ctx, "unit", f"u:{keyboards.compact_key(u)}", unit=u) for u in building.units]
    await ask_paged(ctx, "ask_unit", choices, page, width=4, edit=edit, building=building.name,
                    fixed=[[button(ctx, "no_unit", "u:")]])


async def ask_detail(ctx: Context, draft: ReportDraft) -> None:
    await ctx.say("ask_detail", public_area=draft.building_code == PUBLIC_AREA,
                  buttons=[[button(ctx, "skip", "skip")]])


async def ask_photos(ctx: Context, draft: ReportDraft) -> None:
    label = "photos_done" if draft.photos else "skip_photos"
    await ctx.say("ask_photos", count=len(draft.photos), buttons=[[button(ctx, label, "done")]])


async def ask_anonymous(ctx: Context, draft: ReportDraft) -> None:
    choices = [button(ctx, "named", "named"), button(ctx, "anonymous", "anon")]
    await ctx.say("ask_anonymous", buttons=[choices])


async def ask_duplicate(ctx: Context, draft: ReportDraft) -> None:
    ticket = await ctx.uow.tickets.get(draft.duplicate_number or "")
    assert ticket is not None
    from handlers import timelines  # the public view of a ticket (imported here: this function's only need)

    # Only the public view: never the other resident's words, name, phone or room (issue 16).
    await ctx.say("ask_duplicate", **timelines.public_context(ctx, ticket),
                  buttons=[[button(ctx, "join_duplicate", "join")], [button(ctx, "new_anyway", "new")]])


async def ask_confirm(ctx: Context, draft: ReportDraft) -> None:
    category = category_of(ctx, draft)
    building = building_of(ctx, draft)
    resident = await ctx.uow.residents.get(ctx.sender_id)
    phone = mask_phone(resident.phone) if resident and resident.phone and not draft.on_behalf else ""
    await ctx.say("summary_proxy" if draft.on_behalf else "summary", draft=draft, category=category,
                  building=building, phone=phone,
                  public_area=draft.building_code == PUBLIC_AREA,
                  buttons=[[button(ctx, "confirm", "confirm")],
                           [button(ctx, "edit", "edit"), button(ctx, "cancel", "cancel")]])


async def ask_edit_choice(ctx: Context, draft: ReportDraft) -> None:
    fields = ["category", "description", "location", "photos", "anonymity"]
    if not draft.on_behalf and draft.anonymous is False:
        fields.append("phone")
    choices = [button(ctx, "edit_neighbour" if name == "anonymity" and draft.on_behalf else f"edit_{name}",
                      f"e:{name}") for name in fields]
    await ctx.say("ask_edit", buttons=[*rows(choices, 2), [button(ctx, "back", "e:back")]])


# --- taking answers -----------------------------------------------------------------------------
# Each returns True when the answer was taken (the dialog moves on) and False after re-asking.


async def take_confirm_category(ctx: Context, draft: ReportDraft, value: str) -> bool:
    if value == "yes":
        category = ctx.community.category(draft.suggested_category_code or "")
        if category is None:  # the roster changed under the dialog
            draft.suggested_category_code = None
            return True
        await set_category(ctx, draft, category)
        return True
    if value == "other":
        draft.suggested_category_code = None
        return True
    return await refuse_button(ctx)


async def take_category_button(ctx: Context, draft: ReportDraft, value: str) -> bool:
    if (page := keyboards.page_number(value, PAGE)) is not None:
        await ask_category(ctx, draft, page, edit=True)
        return False
    categories = ctx.community.categories
    code = keyboards.find_key(value.removeprefix("cat:"), [c.code for c in categories])
    category = ctx.community.category(code) if value.startswith("cat:") and code is not None else None
    if category is None:
        return await refuse_button(ctx)
    draft.suggested_category_code = None
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


async def take_building_button(ctx: Context, draft: ReportDraft, value: str) -> bool:
    if (page := keyboards.page_number(value, PAGE)) is not None:
        await ask_building(ctx, draft, page, edit=True)
        return False
    if value == "public":
        draft.building_code, draft.unit, draft.unit_asked = PUBLIC_AREA, None, True
        draft.duplicate_checked = False
        return True
    code = keyboards.find_key(value.removeprefix("b:"), [b.code for b in ctx.community.buildings])
    building = ctx.community.building(code) if value.startswith("b:") and code is not None else None
    if building is None:
        return await refuse_button(ctx)
    draft.building_code, draft.unit, draft.duplicate_checked = building.code, None, False
    return True


async def take_building_text(ctx: Context, draft: ReportDraft, text: str) -> bool:
    typed = text.strip()
    mention = extract_place(typed, ctx.community.buildings)
    building = match_building(mention.building_text if mention else typed, ctx.community.buildings)
    if building is None:
        building = match_building(typed, ctx.community.buildings)
    if building is None:
        await ctx.say("unknown_building", typed=typed[:50])
        await ask_building(ctx, draft)
        return False
    draft.building_code, draft.unit, draft.duplicate_checked = building.code, None, False
    if mention and mention.unit and mention.unit in building.units:
        draft.unit = mention.unit
    return True


async def take_unit_button(ctx: Context, draft: ReportDraft, value: str) -> bool:
    building = building_of(ctx, draft)
    if building is not None and (page := keyboards.page_number(value, PAGE)) is not None:
        await ask_unit(ctx, draft, page, edit=True)
        return False
    key = value.removeprefix("u:")
    unit = keyboards.find_key(key, building.units) if building is not None and key else None
    if not value.startswith("u:") or building is None or (key and unit is None):
        return await refuse_button(ctx)
    draft.unit, draft.unit_asked = unit, True
    return True


async def take_unit_text(ctx: Context, draft: ReportDraft, text: str) -> bool:
    building = building_of(ctx, draft)
    assert building is not None
    typed = text.strip()
    mention = extract_place(f"{building.name}{typed}", ctx.community.buildings)
    unit = mention.unit if mention and mention.unit else typed.removesuffix("单元")
    if unit not in building.units:
        await ctx.say("unknown_unit", typed=typed[:20], building=building.name,
                      units=building.units[:LISTED_UNITS], more=len(building.units) > LISTED_UNITS)
        await ask_unit(ctx, draft)
        return False
    draft.unit, draft.unit_asked = unit, True
    return True


async def take_detail(ctx: Context, draft: ReportDraft, text: str) -> bool:
    text = text.strip()
    if not shows_words(text):  # only emoji, punctuation, zero-width or format characters: no place
        await ctx.say("detail_blank")
        await ask_detail(ctx, draft)
        return False
    if len(text) > MAX_DETAIL:
        await ctx.say("detail_too_long", limit=MAX_DETAIL)
        return False
    draft.detail = text
    return True


async def take_detail_button(ctx: Context, draft: ReportDraft, value: str) -> bool:
    if value != "skip":
        return await refuse_button(ctx)
    draft.detail = ""
    return True


async def take_photo(ctx: Context, draft: ReportDraft, file_id: str, caption: str = "") -> bool:
    if len(draft.photos) >= MAX_PHOTOS:
        await ctx.say("too_many_photos", limit=MAX_PHOTOS, buttons=[[button(ctx, "photos_done", "done")]])
        return False
    draft.photos.append(file_id)
    kept = add_caption(draft, caption)
    await ctx.say("photo_received", count=len(draft.photos), caption_kept=kept,
                  buttons=[[button(ctx, "photos_done", "done")]])
    return False  # stay on the photos step until "done"


def add_caption(draft: ReportDraft, caption: str) -> bool:
    """A photo's caption is added to the description (or is the description, beside a voice note); True if
    kept. One already in the description is not added twice."""
    caption = caption.strip()
    if not shows_words(caption) or caption in draft.description:
        return False
    joined = f"{draft.description}\n{caption}" if draft.description else caption
    draft.description = joined[:MAX_DESCRIPTION]
    return True


async def refuse_button(ctx: Context) -> bool:
    ctx.answer(ctx.label("stale_button"), alert=True)
    return False


@dataclass(frozen=True)
class Step:
    ask: Callable[[Context, ReportDraft], Awaitable[None]]
    on_button: Callable[[Context, ReportDraft, str], Awaitable[bool]] | None = None
    on_text: Callable[[Context, ReportDraft, str], Awaitable[bool]] | None = None
    # What to say when the input is of a kind this step can't use ("text", "button", ...).
    hint: str = "use_buttons"
