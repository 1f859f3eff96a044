"""Where the problem is: the building (or the estate's public area), the unit, the floor or spot.

In a community with estates (小区) the way goes estate → building of that estate → unit; a building name
typed that several estates have is asked back with just those estates (which_place).

Building and unit list their choices a page at a time when the list is long (‹ 上一页 / 下一页 › edit the
question in place: handlers.keyboards), and always take a typed name or alias too.
"""

from __future__ import annotations

from gridcore.intake import extract_place, match_building, shows_words
from gridcore.messages import Button
from gridcore.places import buildings_of, find_place, match_estate, match_typed_place
from handlers import keyboards
from handlers import report_steps as s
from handlers.context import Context
from handlers.draft import NO_ESTATE, ReportDraft

LISTED_UNITS = 20  # units named in the reply to a unit the building lacks; the buttons show them all


# --- estate (only in a community with estates) ------------------------------------------------------


async def ask_estate(ctx: Context, draft: ReportDraft, page: int = 0, *, edit: bool = False) -> None:
    """Which estate: one button each, the buildings of no estate as one more choice, 公共区域 (not for a
    home), 取消."""
    choices = [Button(e.name, s.data(ctx, f"es:{keyboards.compact_key(e.code)}"))
               for e in ctx.community.estates]
    fixed = []
    if buildings_of(ctx.community, None):
        fixed.append([s.button(ctx, "no_estate", f"es:{NO_ESTATE}")])
    if not draft.home_only:
        fixed.append([s.button(ctx, "public_area", "public")])
    fixed.append([s.button(ctx, "cancel", "cancel")])
    await s.ask_paged(ctx, "ask_estate", choices, page, width=2, edit=edit, fixed=fixed, home=draft.home_only)


turn_estate_page = s.page_turner(ask_estate)


async def take_estate_button(ctx: Context, draft: ReportDraft, value: str) -> bool:
    key = value.removeprefix("es:")
    code = NO_ESTATE if key == NO_ESTATE else keyboards.find_key(key, [e.code for e in ctx.community.estates])
    if code is None:
        return await s.refuse_button(ctx)
    draft.estate_code = code
    return True


async def take_estate_text(ctx: Context, draft: ReportDraft, text: str) -> bool:
    """An estate typed ("雅悦", "雅悦花园小区"), or a whole place ("雅悦12栋": estate and building at once),
    or a building of no estate."""
    typed = text.strip()
    found = find_place(typed, ctx.community)
    if found is not None and s.take_found_place(draft, found):
        return True
    if found is not None and found.estate is not None:
        draft.estate_code = found.estate.code
        return True
    await ctx.say("unknown_estate", typed=typed[:50])
    await ask_estate(ctx, draft)
    return False


# --- which estate's building (a typed name several estates have) -------------------------------------


async def ask_which_place(ctx: Context, draft: ReportDraft, page: int = 0, *, edit: bool = False) -> None:
    candidates = [b for b in map(ctx.community.building, draft.place_candidates) if b is not None]
    choices = [Button(ctx.community.place_name(b), s.data(ctx, f"pc:{keyboards.compact_key(b.code)}"))
               for b in candidates]
    await s.ask_paged(ctx, "ask_which_place", choices, page, width=2, edit=edit,
                      fixed=[[s.button(ctx, "none_of_these", "pc:")], [s.button(ctx, "cancel", "cancel")]],
                      building=candidates[0].name if candidates else "")


turn_which_place_page = s.page_turner(ask_which_place)


async def take_which_place_button(ctx: Context, draft: ReportDraft, value: str) -> bool:
    """"pc:<building>", or "pc:" for 都不是: the place is asked estate by estate."""
    key = value.removeprefix("pc:")
    if not key:
        draft.place_candidates, draft.candidate_unit = [], None
        return True
    code = keyboards.find_key(key, draft.place_candidates)
    building = ctx.community.building(code) if code is not None else None
    if building is None:
        return await s.refuse_button(ctx)
    s.set_building(draft, building, draft.candidate_unit)
    return True


async def take_which_place_text(ctx: Context, draft: ReportDraft, text: str) -> bool:
    """The estate typed ("雅悦") picks its candidate; a whole place typed is taken as such."""
    typed = text.strip()
    estate = match_estate(typed, ctx.community)
    candidates = [b for b in map(ctx.community.building, draft.place_candidates) if b is not None]
    chosen = next((b for b in candidates if estate is not None and b.estate_code == estate.code), None)
    if chosen is not None:
        s.set_building(draft, chosen, draft.candidate_unit)
        return True
    found = find_place(typed, ctx.community)
    if found is not None and found.building is not None:
        s.take_found_place(draft, found)
        return True
    await ctx.say("unknown_estate", typed=typed[:50])
    await ask_which_place(ctx, draft)
    return False


# --- building and unit -------------------------------------------------------------------------------


def navigated_estate(ctx: Context, draft: ReportDraft) -> str | None:
    return None if draft.estate_code in (None, NO_ESTATE) else draft.estate_code


async def ask_building(ctx: Context, draft: ReportDraft, page: int = 0, *, edit: bool = False) -> None:
    """The buildings of the estate picked (or of no estate); in a community without estates, all of them.
    Before any estate is picked (an emergency's one place question) all, each named with its estate."""
    community = ctx.community
    estate = community.estate(navigated_estate(ctx, draft))
    if not community.estates or draft.estate_code is None:
        buildings, label = community.buildings, community.place_name
    else:
        buildings, label = buildings_of(community, estate.code if estate else None), lambda b: b.name
    choices = [Button(label(b), s.data(ctx, f"b:{keyboards.compact_key(b.code)}")) for b in buildings]
    fixed = [] if draft.home_only else [[s.button(ctx, "public_area", "public")]]
    if community.estates and draft.estate_code is not None:
        fixed.append([s.button(ctx, "other_estate", "es:"), s.button(ctx, "cancel", "cancel")])
    else:
        fixed.append([s.button(ctx, "cancel", "cancel")])
    await s.ask_paged(ctx, "ask_building", choices, page, width=4, edit=edit, fixed=fixed,
                      estate=estate.name if estate else "", home=draft.home_only)


async def take_other_estate(ctx: Context, draft: ReportDraft, value: str) -> bool:
    """换个小区: back to the estate question."""
    draft.estate_code = None
    return True


turn_building_page = s.page_turner(ask_building)


async def take_public_area(ctx: Context, draft: ReportDraft, value: str) -> bool:
    if draft.home_only:
        return await s.refuse_button(ctx)
    draft.building_code, draft.unit, draft.unit_asked = s.PUBLIC_AREA, None, True
    draft.duplicate_checked = False
    return True


async def take_building_button(ctx: Context, draft: ReportDraft, value: str) -> bool:
    code = keyboards.find_key(value.removeprefix("b:"), [b.code for b in ctx.community.buildings])
    building = ctx.community.building(code) if code is not None else None
    if building is None:
        return await s.refuse_button(ctx)
    s.set_building(draft, building)
    return True


async def take_building_text(ctx: Context, draft: ReportDraft, text: str) -> bool:
    typed = text.strip()
    if ctx.community.estates:
        found = match_typed_place(typed, ctx.community, navigated_estate(ctx, draft))
        if s.take_found_place(draft, found):
            return True
        if found.estate is not None:  # another estate named: its buildings are asked
            draft.estate_code = found.estate.code
            return True
        building = None
    else:
        mention = extract_place(typed, ctx.community.buildings)
        building = match_building(mention.building_text if mention else typed, ctx.community.buildings)
        building = building or match_building(typed, ctx.community.buildings)
    if building is None:
        await ctx.say("unknown_building", typed=typed[:50])
        await ask_building(ctx, draft)
        return False
    s.set_building(draft, building, mention.unit if mention else None)
    if mention and mention.room:
        draft.room = mention.room
    return True


async def ask_unit(ctx: Context, draft: ReportDraft, page: int = 0, *, edit: bool = False) -> None:
    building = s.building_of(ctx, draft)
    assert building is not None
    choices = [s.button(ctx, "unit", f"u:{keyboards.compact_key(u)}", unit=u) for u in building.units]
    await s.ask_paged(ctx, "ask_unit", choices, page, width=4, edit=edit,
                      building=ctx.community.place_name(building),
                      fixed=[[s.button(ctx, "no_unit", "u:")]])


turn_unit_page = s.page_turner(ask_unit, ready=lambda ctx, draft: s.building_of(ctx, draft) is not None)


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
        await ctx.say("unknown_unit", typed=typed[:20], building=ctx.community.place_name(building),
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
