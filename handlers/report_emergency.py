"""An emergency report (a live emergency keyword, or an emergency category chosen): filed at once.

    whom to call (report_steps.set_category), then
    place known (from the text, or a stairwell QR code just opened)? ── yes ──▶ filed now, urgent
        │ no
        ▼
    emergency_place: ONE question — a building (button or typed) or 小区公共区域 / 不清楚; a typed
        answer naming no building is kept as where it is ──▶ filed now, urgent
        ▼
    followup: for FOLLOW_UP after filing, what the resident sends (text, photos, a voice note) is added
        to the ticket (RESIDENT_UPDATE in the ledger) and forwarded to its handler (else community
        staff). The window ends FOLLOW_UP after filing, on /cancel, or with a new report; after it, a
        message is read as a new report again.

No confirmation, photo, anonymity or duplicate question: the ticket is named (the handler may need to
call), and routed to the grid's worker on duty with the grid leader and the community staff told
(gridcore.routing).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from gridcore.intake import extract_place, match_building, shows_words
from gridcore.places import find_place
from gridcore.ticket import Action, Ticket
from handlers import cards, report_filing
from handlers import report_place as place
from handlers import report_steps as s
from handlers.context import Context
from handlers.draft import MAX_PHOTOS, ReportDraft
from handlers.inputs import InputKind

FOLLOW_UP_STEP = "followup"
FOLLOW_UP = timedelta(minutes=30)
MAX_UPDATE_PHOTOS = 2 * MAX_PHOTOS  # the ticket's photos, with those sent after filing
# Typed answers to the place question that mean "I don't know": filed as the estate's public area.
UNKNOWN_PLACE = ("不清楚", "不知道", "不确定", "说不清", "不晓得", "公共区域", "小区里")


async def ask_place(ctx: Context, draft: ReportDraft) -> None:
    """The building question, after a line saying one answer files the report."""
    await ctx.say("ask_emergency_place")
    await place.ask_building(ctx, draft)


async def take_place_text(ctx: Context, draft: ReportDraft, text: str) -> bool:
    """Whatever is typed is taken: a building, else "don't know", else where it is, as typed."""
    typed = text.strip()
    mention = extract_place(typed, ctx.community.buildings)
    building = match_building(mention.building_text if mention else typed, ctx.community.buildings)
    building = building or match_building(typed, ctx.community.buildings)
    unit = mention.unit if mention else None
    if building is None and ctx.community.estates:  # "雅悦12栋": the estate's building
        found = find_place(typed, ctx.community)
        building, unit = (found.building, found.unit) if found is not None else (None, None)
    if building is not None:
        draft.building_code = building.code
        if unit and unit in building.units:
            draft.unit = unit
        s.take_spot_from_text(draft, typed)
        return True
    draft.building_code, draft.unit, draft.unit_asked = s.PUBLIC_AREA, None, True
    if draft.detail is None and shows_words(typed) and not any(word in typed for word in UNKNOWN_PLACE):
        draft.detail = typed[: s.MAX_DETAIL]
    return True


async def file_now(ctx: Context, draft: ReportDraft) -> Ticket:
    """File the emergency with what is known, then open the follow-up window."""
    draft.photos_done = True
    if draft.anonymous is None:
        draft.anonymous = False
    ticket = await report_filing.file_ticket(ctx, draft)
    until = ctx.now + FOLLOW_UP
    conversation = ctx.conversation
    conversation.dialog, conversation.step = "report", FOLLOW_UP_STEP
    conversation.turn += 1
    conversation.data = {"ticket": ticket.number, "until": until.isoformat()}
    await ctx.say("emergency_followup", minutes=int(FOLLOW_UP.total_seconds() // 60),
                  until=ctx.local(until), ticket_number=ticket.number, ticket=ticket)
    return ticket


async def ask_follow_up(ctx: Context, draft: ReportDraft) -> None:
    """The follow-up window has no question: asked again, it says what it does."""
    await ctx.say("followup_hint", what="", ticket=None, ticket_number=None)


def in_follow_up(ctx: Context) -> bool:
    return ctx.conversation.step == FOLLOW_UP_STEP and "ticket" in ctx.conversation.data


def follow_up_open(ctx: Context) -> bool:
    until = ctx.conversation.data.get("until")
    return in_follow_up(ctx) and isinstance(until, str) and ctx.now < datetime.fromisoformat(until)


async def take_follow_up(ctx: Context) -> bool:
    """An input in the follow-up window, added to the ticket. False when the window is over or the ticket
    closed (the caller ends the window and reads the input as a new message)."""
    if not follow_up_open(ctx):
        return False
    ticket = await ctx.uow.tickets.get(str(ctx.conversation.data["ticket"]))
    if ticket is None or not ticket.is_open:
        return False
    incoming = ctx.incoming
    if incoming.kind is InputKind.BUTTON:  # an earlier question's button: the report was filed
        await s.refuse_button(ctx)
        return True
    text = incoming.text.strip()[: s.MAX_DESCRIPTION]
    photo = incoming.photo_file_id if incoming.kind is InputKind.PHOTO else ""
    voice = incoming.voice_file_id if incoming.kind is InputKind.VOICE else ""
    if incoming.kind not in (InputKind.TEXT, InputKind.PHOTO, InputKind.VOICE) or not (
            photo or voice or shows_words(text)):
        await ctx.say("followup_hint", what=incoming.what or incoming.kind.value, ticket=ticket,
                      ticket_number=ticket.number)
        return True
    ticket.record(f"resident:{ctx.sender_id}", ctx.now, Action.RESIDENT_UPDATE, text=text,
                  photos=1 if photo else 0, voice=bool(voice))
    if photo and len(ticket.photos) < MAX_UPDATE_PHOTOS:
        ticket.photos = (*ticket.photos, photo)
    await ctx.uow.tickets.save(ticket)
    await forward(ctx, ticket, text=text, photo=photo, voice=voice)
    await ctx.say("followup_received", ticket=ticket, ticket_number=ticket.number)
    return True


async def forward(ctx: Context, ticket: Ticket, *, text: str, photo: str, voice: str) -> None:
    """The update to the ticket's handler (their private chat); unassigned, to community staff — in a
    group without the voice and redacted as a group's card is (handlers.cards)."""
    chats = [ticket.assignee] if ticket.assignee is not None else cards.staff_chat(ctx)
    outside = [chat_id for chat_id in chats if not cards.in_chain(ctx, chat_id)]
    names = await cards.known_names(ctx, ticket) if outside else ()
    for chat_id in chats:
        private = chat_id not in outside
        shown = text if private else cards.for_group(text, *names)
        await ctx.tell(chat_id, "resident_update", ticket=ticket, text=shown, has_voice=bool(voice),
                       has_photo=bool(photo), private=private, photos=(photo,) if photo else (),
                       voice=voice if private else None, ticket_number=ticket.number)
