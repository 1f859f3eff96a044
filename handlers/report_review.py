"""The report dialog's last questions: photos, 实名/匿名, the offer to join an open report of the same
problem (+1), the summary with 确认 / 修改, and what 修改 reopens.
"""

from __future__ import annotations

from gridcore.intake import shows_words
from gridcore.redact import mask_phone
from handlers import report_filing, timelines
from handlers import report_steps as s
from handlers.context import Context
from handlers.draft import MAX_PHOTOS, ReportDraft

# --- photos --------------------------------------------------------------------------------------


async def ask_photos(ctx: Context, draft: ReportDraft) -> None:
    label = "photos_done" if draft.photos else "skip_photos"
    await ctx.say("ask_photos", count=len(draft.photos), buttons=[[s.button(ctx, label, "done")]])


async def take_photo(ctx: Context, draft: ReportDraft, caption: str) -> bool:
    """One more photo (up to MAX_PHOTOS); the question stays until 完成."""
    if len(draft.photos) >= MAX_PHOTOS:
        await ctx.say("too_many_photos", limit=MAX_PHOTOS, buttons=[[s.button(ctx, "photos_done", "done")]])
        return False
    draft.photos.append(ctx.incoming.photo_file_id)
    kept = add_caption(draft, caption)
    await ctx.say("photo_received", count=len(draft.photos), caption_kept=kept,
                  buttons=[[s.button(ctx, "photos_done", "done")]])
    return False


def add_caption(draft: ReportDraft, caption: str) -> bool:
    """A photo's caption is added to the description (or is the description, beside a voice note); True if
    kept. One already in the description is not added twice."""
    caption = caption.strip()
    if not shows_words(caption) or caption in draft.description:
        return False
    joined = f"{draft.description}\n{caption}" if draft.description else caption
    draft.description = joined[: s.MAX_DESCRIPTION]
    return True


async def photos_done(ctx: Context, draft: ReportDraft, value: str) -> bool:
    draft.photos_done = True
    return True


# --- 实名 / 匿名 ---------------------------------------------------------------------------------


async def ask_anonymous(ctx: Context, draft: ReportDraft) -> None:
    choices = [s.button(ctx, "named", "named"), s.button(ctx, "anonymous", "anon")]
    await ctx.say("ask_anonymous", buttons=[choices])


async def take_named(ctx: Context, draft: ReportDraft, value: str) -> bool:
    draft.anonymous = False
    return True


async def take_anonymous(ctx: Context, draft: ReportDraft, value: str) -> bool:
    draft.anonymous = True
    return True


async def take_anonymous_text(ctx: Context, draft: ReportDraft, text: str) -> bool:
    """匿名 or 实名 typed instead of pressed; anything else is asked again."""
    if "匿名" in text and "不" not in text:
        draft.anonymous = True
        return True
    if "实名" in text or "不匿名" in text:
        draft.anonymous = False
        return True
    await ctx.say("wrong_input", what="text", hint="use_buttons")
    await ask_anonymous(ctx, draft)
    return False


# --- joining an open report (+1) -----------------------------------------------------------------


async def ask_duplicate(ctx: Context, draft: ReportDraft) -> None:
    ticket = await ctx.uow.tickets.get(draft.duplicate_number or "")
    assert ticket is not None
    # Only the public view: never the other resident's words, name, phone or room.
    await ctx.say("ask_duplicate", **timelines.public_context(ctx, ticket),
                  buttons=[[s.button(ctx, "join_duplicate", "join")], [s.button(ctx, "new_anyway", "new")]])


async def join(ctx: Context, draft: ReportDraft, value: str) -> bool:
    """Joined: the dialog ended. The ticket gone or closed meanwhile: the resident's own report goes on."""
    await report_filing.join(ctx, draft)
    return True


# --- the summary ---------------------------------------------------------------------------------


async def ask_confirm(ctx: Context, draft: ReportDraft) -> None:
    category = s.category_of(ctx, draft)
    building = s.building_of(ctx, draft)
    resident = await ctx.uow.residents.get(ctx.sender_id)
    phone = mask_phone(resident.phone) if resident and resident.phone and not draft.on_behalf else ""
    await ctx.say("summary_proxy" if draft.on_behalf else "summary", draft=draft, category=category,
                  building=building, place=ctx.community.place_name(building, draft.unit), phone=phone,
                  public_area=draft.building_code == s.PUBLIC_AREA,
                  buttons=[[s.button(ctx, "confirm", "confirm")],
                           [s.button(ctx, "edit", "edit"), s.button(ctx, "cancel", "cancel")]])


async def file(ctx: Context, draft: ReportDraft, value: str,
               offer: report_filing.Offer | None = None) -> bool:
    await report_filing.file_ticket(ctx, draft, offer)
    return True


# --- 修改: what the summary's edit reopens ---------------------------------------------------------
# Each clears what it reopens, so the walk over what the draft lacks asks for it again and then comes
# back to the summary. A changed category or place checks for an open duplicate again.


async def ask_edit_choice(ctx: Context, draft: ReportDraft) -> None:
    fields = ["category", "description", "location", "photos", "anonymity"]
    if not draft.on_behalf and draft.anonymous is False:
        fields.append("phone")
    choices = [s.button(ctx, "edit_neighbour" if name == "anonymity" and draft.on_behalf else f"edit_{name}",
                        f"e:{name}") for name in fields]
    await ctx.say("ask_edit", buttons=[*s.rows(choices, 2), [s.button(ctx, "back", "e:back")]])


async def reopen_category(ctx: Context, draft: ReportDraft, value: str) -> bool:
    draft.category_code = draft.suggested_category_code = draft.alternative_category_code = None
    draft.duplicate_checked = False
    return True


async def reopen_description(ctx: Context, draft: ReportDraft, value: str) -> bool:
    draft.description = ""
    draft.bot_suggestion = None  # the guess was about the words being replaced
    return True


async def reopen_location(ctx: Context, draft: ReportDraft, value: str) -> bool:
    draft.building_code, draft.unit, draft.unit_asked, draft.detail = None, None, False, None
    draft.duplicate_checked = False
    draft.estate_code, draft.place_candidates, draft.room = None, [], None
    draft.home_asked = True  # the place is changed: not "还是 <home> 吗？" again
    return True


async def reopen_photos(ctx: Context, draft: ReportDraft, value: str) -> bool:
    draft.photos, draft.photos_done = [], False
    return True


async def reopen_anonymity(ctx: Context, draft: ReportDraft, value: str) -> bool:
    """实名/匿名 again; on /proxy, the neighbour again."""
    draft.anonymous, draft.neighbour = None, None
    draft.phone_asked = False
    return True


async def reopen_phone(ctx: Context, draft: ReportDraft, value: str) -> bool:
    draft.phone_asked, draft.phone_change = False, True
    return True
