"""The resident's phone number: offered once at 实名 when none is on file, kept for the next reports.

    anonymous: 实名 ─▶ phone on file? ── yes ──▶ the summary
                           │ no (or 修改 → 联系电话 from the summary)
                           ▼
    the offer, just before the summary: a reply keyboard under the input field — 「分享我的手机号」
    (Telegram's share-contact button) or 「不留电话」 — or a number typed: a mainland mobile or landline,
    however written (+86, spaces, dashes, full-width digits; gridcore.phones). The summary's 确认提交
    works with or without an answer (skipping). Each answer, and the filing, take the keyboard away.
/phone shows the number on file (masked); "/phone 138…" changes it, "/phone 删除" removes it.
Who sees it: the grid worker handling the ticket, on asking (the reveal is recorded in the ledger);
everywhere else it is masked (138****5678).
"""

from __future__ import annotations

from gridcore.conversation import Resident
from gridcore.messages import Button
from gridcore.phones import parse_phone
from gridcore.redact import mask_phone
from handlers import report_review as review
from handlers.context import Context, Keyboard
from handlers.draft import ReportDraft

DECLINE_WORDS = ("不留", "跳过", "不用", "不想", "算了", "不要", "不方便", "删除", "删掉")


async def needs_phone_question(ctx: Context, draft: ReportDraft) -> bool:
    if draft.on_behalf or draft.anonymous is not False or draft.phone_asked:
        return False
    if draft.phone_change:
        return True
    resident = await ctx.uow.residents.get(ctx.sender_id)
    return resident is None or not resident.phone


def phone_keyboard(ctx: Context, *, with_decline: bool = True) -> Keyboard:
    share = [Button(ctx.label("share_phone"), request_contact=True)]
    return [share, [Button(ctx.label("no_phone"))]] if with_decline else [share]


async def ask_phone(ctx: Context, draft: ReportDraft) -> None:
    resident = await ctx.uow.residents.get(ctx.sender_id)
    current = mask_phone(resident.phone) if resident and resident.phone else ""
    await ctx.say("ask_phone", current=current, reply_keyboard=phone_keyboard(ctx))


async def take_phone_text(ctx: Context, draft: ReportDraft, text: str) -> bool:
    typed = text.strip()
    phone = parse_phone(typed)
    if phone is not None:
        await keep(ctx, phone, confirm=True)
        draft.phone_asked, draft.phone_change = True, False
        return True
    if typed == ctx.label("no_phone") or any(word in typed for word in DECLINE_WORDS):
        if draft.phone_change:  # asked to change it, and no number now: the old one goes
            await keep(ctx, None)
        draft.phone_asked, draft.phone_change = True, False
        await ctx.say("phone_skipped", removed=False, remove_reply_keyboard=True)
        return True
    await ctx.say("phone_invalid", reply_keyboard=phone_keyboard(ctx))
    return False


async def ask_summary(ctx: Context, draft: ReportDraft) -> None:
    """The summary; 实名 without a phone on file: offered first, under the input field (answered or not,
    the summary's 确认提交 files the report)."""
    if await needs_phone_question(ctx, draft):
        draft.phone_asked = True
        ctx.conversation.data = draft.dump()
        await ask_phone(ctx, draft)
    await review.ask_confirm(ctx, draft)


async def take_summary_text(ctx: Context, draft: ReportDraft, text: str) -> bool:
    """At the summary a text is the answer to the phone offer, if one was made."""
    if draft.phone_asked and draft.anonymous is False and not draft.on_behalf:
        return await take_phone_text(ctx, draft, text)
    await ctx.say("wrong_input", what="text", hint="use_buttons")
    await review.ask_confirm(ctx, draft)
    return False


async def take_contact(ctx: Context, draft: ReportDraft, phone: str) -> bool:
    """A shared contact at the summary: the resident's own number is kept; someone else's is not."""
    incoming = ctx.incoming
    if incoming.contact_user_id != incoming.sender.user_id or not phone.strip():
        await ctx.say("contact_not_own", reply_keyboard=phone_keyboard(ctx))
        return False
    await keep(ctx, shared_number(phone), confirm=True)
    draft.phone_asked, draft.phone_change = True, False
    return True


async def command(ctx: Context) -> None:
    """/phone: the number on file; /phone <number> changes it; /phone 删除 removes it."""
    typed = ctx.incoming.args.strip()
    resident = await ctx.uow.residents.get(ctx.sender_id)
    if not typed:
        current = mask_phone(resident.phone) if resident and resident.phone else ""
        await ctx.say("phone_status", current=current, reply_keyboard=phone_keyboard(ctx, with_decline=False))
        return
    phone = parse_phone(typed)
    if phone is not None:
        await keep(ctx, phone, confirm=True)
    elif any(word in typed for word in DECLINE_WORDS):
        await keep(ctx, None)
        await ctx.say("phone_skipped", removed=True, remove_reply_keyboard=True)
    else:
        await ctx.say("phone_invalid", reply_keyboard=())


def shared_number(phone: str) -> str:
    """The number a shared contact carries, kept as a typed one is (else as Telegram gave it)."""
    return parse_phone(phone) or phone.strip()[:32]


async def keep(ctx: Context, phone: str | None, *, confirm: bool = False) -> None:
    """The resident's number for this and later reports (None: none any more); `confirm`: tell them
    the number now on file (masked) and take the phone keyboard away."""
    sender = ctx.incoming.sender
    resident = await ctx.uow.residents.get(sender.user_id) or Resident(
        sender.user_id, ctx.chat_id, sender.display_name, sender.username)
    resident.phone = phone
    await ctx.uow.residents.save(resident)
    if confirm and phone is not None:
        await ctx.say("phone_saved", phone=mask_phone(phone), remove_reply_keyboard=True)
