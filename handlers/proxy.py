"""A building leader (楼栋长) files a report for a neighbour (代办).

    /proxy ─▶ neighbour: "王大爷 13800001111" (one line) or 匿名 ─▶ the report dialog as usual
              (the building is pre-filled with the leader's; no 实名/匿名 question, no duplicate offer)
           ─▶ ticket: the Reporter carries the neighbour's name/phone (or is anonymous), but the leader's
              user and chat id — the leader gets every update and relays it; ticket.filed_by = the
              leader; the ledger's SUBMIT event says {"filed_by": <leader id>, "on_behalf": true}.

The neighbour step is a state of the report dialog's table (handlers.report.STATES["neighbour"]).
"""

from __future__ import annotations

import re
from dataclasses import replace

from gridcore.community import Community, Person, Role
from gridcore.phones import parse_phone
from gridcore.ticket import Reporter, Ticket
from handlers import report_steps as s
from handlers.context import Context
from handlers.draft import ReportDraft

MAX_NAME = 20
# A run of digits as a number is typed (a + in front, spaces, dashes or brackets between the digits);
# gridcore.phones reads whether it is a phone number.
NUMBER = re.compile(r"[+＋(（]?\d(?:[\d\s\-‐‑–—()（）]*\d)?[)）]?")
FILLER = re.compile(r"(姓名|名字|电话|手机|号码|联系方式)[:：]?")
SEPARATORS = re.compile(r"[\s,，、;；:：/]+")
ANONYMOUS_WORDS = ("匿名", "不留名", "不留姓名")


def building_leader(community: Community, user_id: int) -> Person | None:
    """The roster entry that makes this user a building leader, or None."""
    return next((p for p in community.roles_of(user_id) if p.role is Role.BUILDING_LEADER), None)


def new_draft(leader: Person) -> ReportDraft:
    draft = ReportDraft(on_behalf=True)
    if leader.building_code is not None:
        draft.building_code = leader.building_code
    return draft


def parse_neighbour(text: str) -> tuple[str, str | None] | None:
    """("王大爷", "13800001111") from "王大爷 13800001111"; the phone may be left out. None: not understood.
    """
    phones: list[str] = []

    def take_phone(number: re.Match[str]) -> str:  # 138-0000-1111, +86 138…, (0531) 8888 6666
        phone = parse_phone(number.group())
        if phone is None:
            return number.group()
        phones.append(phone.replace("-", ""))  # the neighbour's number is kept as bare digits
        return " "

    rest = NUMBER.sub(take_phone, text)
    if len(phones) > 1 or re.search(r"\d{5,}", rest):  # a number that is no phone: mistyped
        return None
    name = SEPARATORS.sub(" ", FILLER.sub(" ", rest)).strip()
    if not name or len(name) > MAX_NAME:
        return None
    return name, (phones[0] if phones else None)


async def ask_neighbour(ctx: Context, draft: ReportDraft) -> None:
    await ctx.say("ask_neighbour", buttons=[[s.button(ctx, "anonymous_neighbour", "anon")],
                                            [s.button(ctx, "cancel", "cancel")]])


def set_neighbour(draft: ReportDraft, name: str, phone: str | None) -> None:
    draft.neighbour, draft.neighbour_phone = name, phone
    draft.anonymous = not name


async def take_neighbour_button(ctx: Context, draft: ReportDraft, value: str) -> bool:
    if value != "anon":
        return await s.refuse_button(ctx)
    set_neighbour(draft, "", None)
    return True


async def take_neighbour_text(ctx: Context, draft: ReportDraft, text: str) -> bool:
    typed = text.strip()
    if typed in ANONYMOUS_WORDS:
        set_neighbour(draft, "", None)
        return True
    parsed = parse_neighbour(typed)
    if parsed is None:
        await ctx.say("neighbour_wrong")
        await ask_neighbour(ctx, draft)
        return False
    set_neighbour(draft, *parsed)
    return True


def reporter(ctx: Context, draft: ReportDraft) -> Reporter:
    """The neighbour as the reporter, reached through the leader's chat."""
    anonymous = not draft.neighbour
    return Reporter(ctx.sender_id, ctx.chat_id, "" if anonymous else draft.neighbour or "",
                    None if anonymous else draft.neighbour_phone, anonymous)


def mark_filed_by(ticket: Ticket, leader_id: int) -> None:
    """Record the leader as the filer, on the ticket and in the ledger's SUBMIT event (not yet stored)."""
    ticket.filed_by = leader_id
    submit = ticket.new_events[0]
    details = {**submit.details, "filed_by": leader_id, "on_behalf": True}
    ticket.new_events[0] = replace(submit, details=details)
