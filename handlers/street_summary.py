"""The street office's weekly summary (街道周报): each community of the street side by side, with its
三率 (响应率/解决率/满意率) computed exactly as that community's own weekly summary computes them
(gridcore.metrics over TicketRepository.for_summary), then the street's total.

It goes to the street's group (street_chat_id), else to each street staff member privately; once per
street and week, recorded in the update log with its outbox rows. Counts and rates only: nothing about
a resident.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime

from gridcore.community import Community
from gridcore.metrics import Figures, summarize_each
from gridcore.ports import UnitOfWork
from gridcore.weeks import Week
from handlers.announcements import occurrence_id
from handlers.communities import street_chats, street_communities
from handlers.context import Context
from handlers.texts import Texts

TEXT_LIMIT = 4000  # Telegram's 4096, with room for the markup's entities


@dataclass(frozen=True)
class StreetRow:
    code: str
    name: str
    figures: Figures


async def street_week(uow: UnitOfWork, communities: Sequence[Community], week: Week,
                      now: datetime | None = None) -> list[StreetRow]:
    """Each community's figures for the week (the week numbered like `week`, in the community's own
    timezone), as of `now`, in the order given."""
    rows = []
    for community in communities:
        local = Week(week.year, week.number, community.timezone)
        items = await uow.tickets.for_summary(community.code, local.start, local.end)
        [summary] = summarize_each(community.code, local, items, [None], now)
        rows.append(StreetRow(community.code, community.name, summary.total))
    return rows


def total(rows: Sequence[StreetRow]) -> Figures:
    return Figures(**{f.name: sum(getattr(r.figures, f.name) for r in rows) for f in fields(Figures)})


def render(texts: Texts, street: str, week: Week, rows: Sequence[StreetRow],
           as_of: datetime | None = None) -> list[str]:
    """The summary's messages: one, or several when a big street's rows do not fit one."""
    parts: list[list[StreetRow]] = [[]]
    for row in rows:
        trial = texts.render("street_summary", street=street, week=week, rows=[*parts[-1], row],
                             total=None, part=len(parts), as_of=as_of)
        if parts[-1] and len(trial) > TEXT_LIMIT:
            parts.append([])
        parts[-1].append(row)
    return [texts.render("street_summary", street=street, week=week, rows=chunk, part=number,
                         total=total(rows) if number == len(parts) else None, as_of=as_of)
            for number, chunk in enumerate(parts, 1)]


async def send_once(ctx: Context, week: Week) -> int:
    """The street's summary of `week`, unless it went out already; 0 for a community of no street."""
    street = ctx.community.street
    chats = street_chats(ctx.community)
    if street is None or not chats:
        return 0
    if not await ctx.uow.updates.record(occurrence_id(f"street:{street}", f"street_summary:{week.label}")):
        return 0
    communities = await street_communities(ctx.uow, ctx.community)
    rows = await street_week(ctx.uow, communities, week, ctx.now)
    queued = 0
    for text in render(ctx.texts, street, week, rows, ctx.local(ctx.now) if week.end > ctx.now else None):
        for chat_id in chats:
            await ctx.tell(chat_id, "summary_text", text=text)
            queued += 1
    return queued
