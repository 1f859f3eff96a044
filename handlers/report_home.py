"""The resident's remembered home (estate, building, unit, room).

    first filed report with a building (home_offered False) ──▶ home_offer: 是，记住 / 不用
        (asked once: home_offered is set either way)
    next report naming no place ──▶ home: "还是 雅悦花园3栋2单元 吗？" 是 (building, unit, room filled) /
        换一个地方 (the place questions) / a place typed instead
    /home ──▶ home_menu: the home, 修改 (the place questions, then saved) / 忘记 (cleared)

A stairwell QR code's building fills one report only (report_steps.first_draft) and never the home.
home_offer and home_menu handle every input themselves: a button of theirs, or anything else, which ends
them and is read as a message with no dialog under way (`reenter`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from gridcore.community import Building, PlaceKind
from gridcore.conversation import Resident
from handlers import report_steps as s
from handlers.context import Context, Keyboard
from handlers.draft import NO_ESTATE, ReportDraft
from handlers.inputs import InputKind

OFFER_STEP = "home_offer"
MENU_STEP = "home_menu"
YES_WORDS = ("是", "对", "还是", "没错", "嗯", "好")
Reenter = Callable[[Context], Awaitable[object]]


def under_way(ctx: Context) -> bool:
    """The home offer, /home or its place questions are under way (not a report)."""
    return bool(ctx.conversation.data.get("home_only"))


async def resident_home(ctx: Context) -> tuple[Resident | None, Building | None]:
    resident = await ctx.uow.residents.get(ctx.sender_id)
    code = resident.home_building_code if resident else None
    return resident, ctx.community.building(code) if code else None


def home_name(ctx: Context, building: Building, unit: str | None, room: str | None) -> str:
    return ctx.community.place_name(building, unit) + (f"{room}室" if room else "")


# --- "还是 … 吗？" in the report dialog --------------------------------------------------------------


async def lacks_home_answer(ctx: Context, draft: ReportDraft) -> bool:
    """The report names no place yet and the resident has a home here: asked once per report."""
    if (draft.building_code is not None or draft.home_asked or draft.place_candidates or draft.on_behalf
            or draft.estate_code is not None or draft.home_only):
        return False
    _, building = await resident_home(ctx)
    if building is None:
        draft.home_asked = True
        return False
    return True


async def ask_home(ctx: Context, draft: ReportDraft) -> None:
    resident, building = await resident_home(ctx)
    # The home forgotten meanwhile (asked again after /start): 是 then leads to the place questions.
    place = home_name(ctx, building, resident.home_unit, resident.home_room) if resident and building else ""
    await ctx.say("ask_home", place=place,
                  buttons=[[s.button(ctx, "home_yes", "hy"), s.button(ctx, "home_change", "hn")],
                           [s.button(ctx, "cancel", "cancel")]])


async def take_home(ctx: Context, draft: ReportDraft, value: str) -> bool:
    """是: the building, unit and room of the home (a unit the building lost since is asked)."""
    resident, building = await resident_home(ctx)
    draft.home_asked = True
    if resident is None or building is None:
        return True
    s.set_building(draft, building, resident.home_unit)
    # No unit in the home is an answer (不清楚/没有单元); a unit the building has lost since is asked.
    draft.unit_asked = draft.unit is not None or resident.home_unit is None
    if resident.home_room:
        draft.room = resident.home_room
        if draft.detail is None:
            draft.detail = f"{resident.home_room}室"
    return True


async def take_other_place(ctx: Context, draft: ReportDraft, value: str) -> bool:
    draft.home_asked = True
    return True


async def take_home_text(ctx: Context, draft: ReportDraft, text: str) -> bool:
    """是 typed, or a place typed instead (taken as it is), or anything else: the place questions."""
    typed = text.strip()
    if typed.startswith(YES_WORDS) and "不" not in typed:
        return await take_home(ctx, draft, "hy")
    draft.home_asked = True
    s.take_place_from_text(ctx, draft, typed)
    return True


# --- the offer after the first report ----------------------------------------------------------------


async def offer(ctx: Context, draft: ReportDraft, dialog: str) -> tuple[str, Keyboard]:
    """Called as a report is filed (its dialog ended): offer once to remember its place as the
    resident's home (a building of kind 楼栋 only; not for a neighbour's report, nor when it is the home
    already). The place and the buttons, for the message saying "filed"; ("", []) when not offered."""
    building = s.building_of(ctx, draft)
    if draft.on_behalf or building is None or building.kind is not PlaceKind.BUILDING:
        return "", []
    if ctx.conversation.dialog is not None:  # a task the report interrupted came back: not now
        return "", []
    resident = await ctx.uow.residents.get(ctx.sender_id)
    if resident is None or resident.home_offered:
        return "", []
    resident.home_offered = True
    await ctx.uow.residents.save(resident)
    if resident.home_building_code == building.code:
        return "", []
    home = ReportDraft(building_code=building.code, unit=draft.unit, room=draft.room,
                       estate_code=building.estate_code or NO_ESTATE, home_only=True, home_asked=True)
    ctx.begin_task(dialog, OFFER_STEP, home.dump())
    return home_name(ctx, building, draft.unit, draft.room), offer_buttons(ctx)


def offer_buttons(ctx: Context) -> Keyboard:
    return [[s.button(ctx, "home_remember", "hy"), s.button(ctx, "home_no_thanks", "hn")]]


async def ask_offer(ctx: Context, draft: ReportDraft) -> None:
    """The offer again (after /start or /report while it stands)."""
    building = s.building_of(ctx, draft)
    place = home_name(ctx, building, draft.unit, draft.room) if building else ""
    await ctx.say("offer_home", place=place, buttons=offer_buttons(ctx))


async def on_offer_input(ctx: Context, reenter: Reenter) -> None:
    value = await pressed(ctx, reenter)
    if value == "hy":
        await save_home(ctx, ReportDraft.load(ctx.conversation.data))
    elif value is not None:
        await ctx.end_dialog()
        await ctx.say("home_not_saved")


# --- /home ---------------------------------------------------------------------------------------


async def command(ctx: Context, dialog: str) -> None:
    """/home: the remembered home with 修改 / 忘记 (设置 when there is none)."""
    if ctx.conversation.dialog is not None:
        await ctx.say("finish_task_first")
        return
    ctx.begin_task(dialog, MENU_STEP, ReportDraft(home_only=True, home_asked=True).dump())
    await ask_menu(ctx, ReportDraft.load(ctx.conversation.data))


async def ask_menu(ctx: Context, draft: ReportDraft) -> None:
    resident, building = await resident_home(ctx)
    place = home_name(ctx, building, resident.home_unit, resident.home_room) if resident and building else ""
    buttons = [s.button(ctx, "home_edit" if place else "home_set", "hm:change")]
    if place:
        buttons.append(s.button(ctx, "home_forget", "hm:forget"))
    await ctx.say("home_show", place=place, buttons=[buttons, [s.button(ctx, "back", "cancel")]])


async def on_menu_input(ctx: Context, reenter: Reenter, change: Callable[[Context, ReportDraft],
                                                                         Awaitable[None]]) -> None:
    value = await pressed(ctx, reenter)
    if value == "hm:change":
        await change(ctx, ReportDraft(home_only=True, home_asked=True))
    elif value == "hm:forget":
        resident, _ = await resident_home(ctx)
        if resident is not None:
            resident.home_building_code = resident.home_unit = resident.home_room = None
            resident.home_offered = True
            await ctx.uow.residents.save(resident)
        await ctx.end_dialog()
        await ctx.say("home_forgotten")
    elif value is not None:
        await ctx.end_dialog()
        await ctx.say("home_kept")


async def pressed(ctx: Context, reenter: Reenter) -> str | None:
    """The value of this step's button pressed; None when it was another button (refused) or another
    input (the step ends and the input is read afresh)."""
    if ctx.incoming.kind is InputKind.BUTTON:
        return ctx.dialog_press()
    await ctx.end_dialog()
    await reenter(ctx)
    return None


async def save_home(ctx: Context, draft: ReportDraft) -> None:
    """The place of the draft becomes the home (the state after /home's place questions)."""
    building = s.building_of(ctx, draft)
    resident = await ctx.uow.residents.get(ctx.sender_id)
    await ctx.end_dialog()
    if building is None or resident is None:
        await ctx.say("home_not_saved")
        return
    resident.home_building_code, resident.home_unit = building.code, draft.unit
    resident.home_room = draft.room
    resident.community_code, resident.home_offered = ctx.community.code, True
    await ctx.uow.residents.save(resident)
    await ctx.say("home_saved", place=home_name(ctx, building, draft.unit, draft.room))
