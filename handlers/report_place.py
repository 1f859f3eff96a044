"""Where the problem is: the building (or the estate's public area), the unit, the floor or spot.

Building and unit list their choices a page at a time when the list is long (‹ 上一页 / 下一页 › edit the
question in place: handlers.keyboards), and always take a typed name or alias too.
"""

from __future__ import annotations

from gridcore.intake import extract_place, match_building, shows_words
from gridcore.messages import Button
from handlers import keyboards
from handlers import report_steps as s
from handlers.context import Context
from handlers.draft import ReportDraft

LISTED_UNITS = 20  # units named in the reply to a unit the building lacks; the buttons show them all


async def ask_building(ctx: Context, draft: ReportDraft, page: int = 0, *, edit: bool = False) -> None:
    choices = [Button(b.name, s.data(ctx, f"b:{keyboards.compact_key(b.code)}"))
               for b in ctx.community.buildings]
    await s.ask_paged(ctx, "ask_building", choices, page, width=4, edit=edit,
                      fixed=[[s.button(ctx, "public_area", "public")], [s.button(ctx, "cancel", "cancel")]])


async def turn_building_page(ctx: Context, draft: ReportDraft, value: str) -> bool:
    page = keyboards.page_number(value, s.PAGE)
    if page is None:
        return await s.refuse_button(ctx)
    await ask_building(ctx, draft, page, edit=True)
    return False


async def take_public_area(ctx: Context, draft: ReportDraft, value: str) -> bool:
    draft.building_code, draft.unit, draft.unit_asked = s.PUBLIC_AREA, None, True
    draft.duplicate_checked = False
    return True


async def take_building_button(ctx: Context, draft: ReportDraft, value: str) -> bool:
    code = keyboards.find_key(value.removeprefix("b:"), [b.code for b in ctx.community.buildings])
    building = ctx.community.building(code) if code is not None else None
    if building is None:
        return await s.refuse_button(ctx)
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


async def ask_unit(ctx: Context, draft: ReportDraft, page: int = 0, *, edit: bool = False) -> None:
    building = s.building_of(ctx, draft)
    assert building is not None
    choices = [s.button(ctx, "unit", f"u:{keyboards.compact_key(u)}", unit=u) for u in building.units]
    await s.ask_paged(ctx, "ask_unit", choices, page, width=4, edit=edit, building=building.name,
                      fixed=[[s.button(ctx, "no_unit", "u:")]])


async def turn_unit_page(ctx: Context, draft: ReportDraft, value: str) -> bool:
    page = keyboards.page_number(value, s.PAGE)
    if page is None or s.building_of(ctx, draft) is None:
        return await s.refuse_button(ctx)
    await ask_unit(ctx, draft, page, edit=True)
    return False


async def take_unit_button(ctx: Context, draft: ReportDraft, value: str) -> bool:
    """"u:<unit>", or "u:" for 不清楚/没有单元."""
    building = s.building_of(ctx, draft)
    key = value.removeprefix("u:")
    unit = keyboards.find_key(key, building.units) if building is not None and key else None
    if building is None or (key and unit is None):
        return await s.refuse_button(ctx)
    draft.unit, draft.unit_asked = unit, True
    return True


async def take_unit_text(ctx: Context, draft: ReportDraft, text: str) -> bool:
    building = s.building_of(ctx, draft)
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


async def ask_detail(ctx: Context, draft: ReportDraft) -> None:
    await ctx.say("ask_detail", public_area=draft.building_code == s.PUBLIC_AREA,
                  buttons=[[s.button(ctx, "skip", "skip")]])


async def take_detail(ctx: Context, draft: ReportDraft, text: str) -> bool:
    text = text.strip()
    if not shows_words(text):  # only emoji, punctuation, zero-width or format characters: no place
        await ctx.say("detail_blank")
        await ask_detail(ctx, draft)
        return False
    if len(text) > s.MAX_DETAIL:
        await ctx.say("detail_too_long", limit=s.MAX_DETAIL)
        return False
    draft.detail = text
    return True


async def skip_detail(ctx: Context, draft: ReportDraft, value: str) -> bool:
    draft.detail = ""
    return True
