"""Scheduled announcements from the roster: 居民议事日, 逢四说事, 日排查, 周研判 and 进度公示.

due() is pure: which announcements have an occurrence due at a local time. send_due() is the
scheduler's job (every minute, run through Conversations.system()): each due occurrence is recorded
in the update log under a derived id (occurrence_id) in the same transaction as its outbox rows, so a
second sweep, a second process or a restart never sends it again; one missed while the bot was down
goes out when it is back, if within CATCH_UP of its time. Group posts carry no resident's name,
phone or description.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from gridcore.community import (
    Announcement,
    AnnouncementKind,
    AnnouncementTarget,
    Building,
    Community,
    Grid,
    Role,
)
from gridcore.ticket import Ticket
from handlers.cards import chat_of, place_text
from handlers.context import Context
from handlers.texts import TEXT_LIMIT, Texts, telegram_length

CATCH_UP = timedelta(hours=6)
LIST_LIMIT = 30  # tickets listed in one private prompt; the rest are counted
# 进度公示 in one message: (lines listed, an estate's buildings named on its line), tried in turn until the
# text fits Telegram's limit; what is left out is counted ("另有 N 处共 M 件", "等 N 处").
BOARD_LIMITS = ((40, 12), (25, 8), (15, 5), (10, 3), (5, 0), (0, 0))
TEMPLATES = {
    AnnouncementKind.COUNCIL_DAY: "announce_council",
    AnnouncementKind.FOURS: "announce_fours",
    AnnouncementKind.DAILY_PATROL: "announce_patrol",
    AnnouncementKind.WEEKLY_REVIEW: "announce_review",
    AnnouncementKind.PROGRESS_BOARD: "announce_board",
}


@dataclass(frozen=True)
class Occurrence:
    announcement: Announcement
    at: datetime  # local, in the community's time zone

    @property
    def key(self) -> str:
        a = self.announcement
        return f"{a.kind.value}|{self.at:%Y-%m-%dT%H:%M}"


def occurs_on(announcement: Announcement, day: date) -> bool:
    if announcement.days:
        return day.day in announcement.days
    if announcement.weekdays:
        return day.isoweekday() in announcement.weekdays
    return True


def due(announcements: Iterable[Announcement], local_now: datetime,
        catch_up: timedelta = CATCH_UP) -> list[Occurrence]:
    """The enabled announcements with an occurrence in (local_now - catch_up, local_now], oldest first.
    local_now must carry the community's time zone; schedules are read in it."""
    found = []
    for announcement in announcements:
        if not announcement.enabled:
            continue
        for back in (1, 0):  # catching up may reach back over midnight
            day = local_now.date() - timedelta(days=back)
            if not occurs_on(announcement, day):
                continue
            at = datetime.combine(day, announcement.at, tzinfo=local_now.tzinfo)
            if at <= local_now < at + catch_up:
                found.append(Occurrence(announcement, at))
    return sorted(found, key=lambda o: o.at)


def occurrence_id(community_code: str, key: str) -> int:
    """The update-log id of one occurrence: negative, so it never meets a Telegram update id."""
    digest = hashlib.sha256(f"announcement|{community_code}|{key}".encode()).digest()
    return -(int.from_bytes(digest[:7], "big") + 1)


async def send_due(ctx: Context) -> int:
    """Send every occurrence due now that was not sent before; returns how many went out."""
    sent = 0
    for occurrence in due(ctx.community.announcements, ctx.local(ctx.now)):
        if not await ctx.uow.updates.record(occurrence_id(ctx.community.code, occurrence.key)):
            continue  # already sent (another sweep, another process, before a restart)
        await announce(ctx, occurrence.announcement.kind, occurrence.announcement, occurrence.at)
        sent += 1
    return sent


async def announce(ctx: Context, kind: AnnouncementKind, announcement: Announcement,
                   at: datetime) -> None:
    if kind is AnnouncementKind.DAILY_PATROL:
        await daily_patrol(ctx, kind, announcement, at)
    elif kind is AnnouncementKind.WEEKLY_REVIEW:
        await weekly_review(ctx, kind, announcement, at)
    elif kind is AnnouncementKind.PROGRESS_BOARD:
        await progress_board(ctx, kind, announcement, at)
    else:
        await group_notice(ctx, kind, announcement, at)


def target_chats(ctx: Context, targets: Sequence[AnnouncementTarget]) -> list[tuple[int, Grid | None]]:
    """(chat id, its grid or None) for each target; a grid without a group or a missing chat is skipped."""
    chats: dict[int, Grid | None] = {}
    for target in targets:
        if target is AnnouncementTarget.GRIDS:
            for grid in ctx.community.grids:
                if grid.group_chat_id is not None:
                    chats.setdefault(grid.group_chat_id, grid)
        elif target is AnnouncementTarget.PUBLIC and ctx.community.public_chat_id is not None:
            chats.setdefault(ctx.community.public_chat_id, None)
        elif target is AnnouncementTarget.STAFF and ctx.community.staff_chat_id is not None:
            chats.setdefault(ctx.community.staff_chat_id, None)
    return list(chats.items())


async def group_notice(ctx: Context, kind: AnnouncementKind, announcement: Announcement,
                       at: datetime) -> None:
    """居民议事日 / 逢四说事: the same invitation to each target group (a grid group sees its grid's name)."""
    for chat_id, grid in target_chats(ctx, announcement.targets):
        await ctx.tell(chat_id, TEMPLATES[kind], community=ctx.community, grid=grid, at=at,
                       note=announcement.note, bot_username=ctx.bot_username)


def _line(ctx: Context, ticket: Ticket) -> dict[str, Any]:
    """What a private prompt shows of a ticket: number, category, place, deadline. No resident data."""
    category = ctx.community.category(ticket.category_code)
    due_at = ticket.feedback_due_at
    return {"number": ticket.number, "category": category.name if category else ticket.category_code,
            "place": place_text(ctx.community, ticket.location),
            "due": ctx.local(due_at) if due_at else None, "overdue": due_at is not None and due_at < ctx.now}


async def daily_patrol(ctx: Context, kind: AnnouncementKind, announcement: Announcement,
                       at: datetime) -> None:
    """日排查: each grid worker (not away, with a Telegram account) gets today's checklist and their open
    tickets, nearest feedback deadline first."""
    for worker in ctx.community.people(Role.GRID_WORKER):
        if worker.away or worker.telegram_user_id is None:
            continue
        tickets = [_line(ctx, t) for t in await ctx.uow.tickets.assigned_to(worker.telegram_user_id)]
        await ctx.tell(chat_of(worker), TEMPLATES[kind], name=worker.name, at=at, note=announcement.note,
                       checklist=announcement.checklist, tickets=tickets[:LIST_LIMIT],
                       more=max(0, len(tickets) - LIST_LIMIT), total=len(tickets))


async def weekly_review(ctx: Context, kind: AnnouncementKind, announcement: Announcement,
                        at: datetime) -> None:
    """周研判: each grid leader gets the grid's open tickets, the overdue ones first and counted apart."""
    for grid in ctx.community.grids:
        leaders = [p for p in ctx.community.people(Role.GRID_LEADER, grid.code) if p.telegram_user_id]
        if not leaders:
            continue
        lines = [_line(ctx, t) for t in await ctx.uow.tickets.open_in(ctx.community.code, grid.code)]
        overdue = [line for line in lines if line["overdue"]]
        rest = [line for line in lines if not line["overdue"]]
        for leader in leaders:
            await ctx.tell(chat_of(leader), TEMPLATES[kind], name=leader.name, grid=grid, at=at,
                           note=announcement.note, total=len(lines), overdue=overdue[:LIST_LIMIT],
                           rest=rest[:LIST_LIMIT], more=max(0, len(overdue) - LIST_LIMIT)
                           + max(0, len(rest) - LIST_LIMIT))


def previous_month(at: datetime) -> tuple[datetime, datetime]:
    """[start, end) of the calendar month before `at`'s month, in `at`'s time zone."""
    end = at.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    start = (end - timedelta(days=1)).replace(day=1)
    return start, end


@dataclass(frozen=True)
class PlaceCount:
    """One place line of the 进度公示: an estate with its buildings, or a building outside any estate, or
    (name "") tickets of no known building."""

    name: str
    count: int
    parts: tuple[tuple[str, int], ...] = ()  # an estate's buildings (name, count), most first


def board_places(community: Community, buildings: Iterable[Building | None]) -> list[PlaceCount]:
    """The resolved tickets' places, most first: an estate's buildings grouped on its line. Ties: estates,
    then buildings outside any estate, then tickets of no building, each in first-seen order. Without
    estates this is one line per building, as the board always was."""
    singles: Counter[str] = Counter()
    in_estate: dict[str, Counter[str]] = {}
    for building, n in Counter(buildings).items():
        estate = community.estate(building.estate_code) if building is not None else None
        if estate is None:
            singles[building.name if building is not None else ""] += n
        else:
            in_estate.setdefault(estate.name, Counter())[building.name] += n
    rows = [PlaceCount(name, sum(parts.values()), tuple(parts.most_common()))
            for name, parts in in_estate.items()]
    rows += [PlaceCount(name, n) for name, n in singles.items()]
    return sorted(rows, key=lambda row: (-row.count, not row.parts and not row.name))


def fit_board(texts: Texts, **context: Any) -> dict[str, Any]:
    """The board's context with the longest lists that keep the rendered text within Telegram's limit."""
    chosen: dict[str, Any] = {}
    for rows, parts in BOARD_LIMITS:
        chosen = dict(context, rows=rows, parts=parts)
        if telegram_length(texts.render(TEMPLATES[AnnouncementKind.PROGRESS_BOARD], **chosen)) <= TEXT_LIMIT:
            break
    return chosen


async def progress_board(ctx: Context, kind: AnnouncementKind, announcement: Announcement,
                         at: datetime) -> None:
    """进度公示: the tickets resolved in the previous calendar month, counted by category and by place
    (estate, then building). Counts only: no number, description, name or phone reaches the public group.
    A long list is cut to fit one message, the rest counted."""
    start, end = previous_month(at)
    resolved = [w.ticket for w in await ctx.uow.tickets.for_summary(ctx.community.code, start, end)
                if w.ticket.resolved_at is not None and start <= w.ticket.resolved_at < end]
    by_category: Counter[str] = Counter()
    for ticket in resolved:
        category = ctx.community.category(ticket.category_code)
        by_category[category.name if category else ""] += 1
    places = board_places(ctx.community, (ctx.community.building(t.building_code or "") for t in resolved))
    board = fit_board(ctx.texts, community=ctx.community, month=start, total=len(resolved),
                         by_category=by_category.most_common(), places=places,
                         estates=bool(ctx.community.estates), note=announcement.note)
    for chat_id, _grid in target_chats(ctx, announcement.targets):
        await ctx.tell(chat_id, TEMPLATES[kind], **board)
