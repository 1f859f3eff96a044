"""The weekly summary (周研判): text and chart to the community staff and each grid's group.

Numbers come from gridcore.metrics, as of the moment the summary is made (the week in progress counts
up to now); the text from templates/zh/weekly_summary.html (a week with nothing going on is one line);
the chart is a PNG written to `chart_dir` and sent as "file:<path>" (bot.delivery uploads it), or no
chart when it would have no panel with data. Group messages carry ticket numbers, categories,
buildings and counts only — never a resident's name or phone.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gridcore.community import Community
from gridcore.metrics import Week, WeekSummary, summarize_each
from handlers import cards, street_summary
from handlers.announcements import occurrence_id
from handlers.chart import Chart
from handlers.context import Context
from handlers.texts import TEXT_LIMIT, Texts, telegram_length
from handlers.texts import plain as plain  # summary.plain: how the CLI and tests read a summary's text

DEFAULT_CHART_DIR = Path("data/charts")
LIST_LIMITS = (30, 15, 8, 4, 2, 0)


@dataclass(frozen=True)
class Report:
    chat_ids: tuple[int, ...]
    grid_code: str | None
    text: str  # Telegram HTML
    chart: Path | None  # None: nothing to draw
    summary: WeekSummary


def _names(community: Community) -> dict[str, Any]:
    return {
        "grid_names": {g.code: g.name for g in community.grids},
        "category_names": {c.code: c.name for c in community.categories},
        # A building as every card names it: with its estate ("雅悦花园5栋"), so two 5栋 stay apart.
        "building_names": {b.code: community.place_name(b) for b in community.buildings},
        "estate_names": {e.code: e.name for e in community.estates},  # roster order
        # Some promises count working days: the on-time rate says its deadlines skip holidays.
        "counts_workdays": any(c.feedback_workdays for c in community.categories),
    }


def estate_of(community: Community) -> dict[str, str]:
    """Building code → estate code, for the summary's per-estate figures; empty without estates."""
    return {b.code: b.estate_code for b in community.buildings if b.estate_code is not None}


def title_of(community: Community, summary: WeekSummary) -> str:
    grid = community.grid(summary.grid_code) if summary.grid_code else None
    return f"{community.name} {grid.name}" if grid else community.name


def render_text(texts: Texts, community: Community, summary: WeekSummary) -> str:
    """The summary's text, lists shortened ("等 N 张") until it fits one message."""
    title = title_of(community, summary)
    text = ""
    for limit in LIST_LIMITS:
        text = texts.render("weekly_summary", s=summary, title=title, limit=limit, **_names(community))
        if telegram_length(text) <= TEXT_LIMIT:
            return text
    return text[:TEXT_LIMIT]  # unreachable with sane data: the fixed part alone is far shorter


def render_chart(summary: WeekSummary, path: Path, chart: Chart | None = None, title: str | None = None,
                 grid_names: dict[str, str] | None = None) -> Path | None:
    """The summary's chart as a PNG at `path`, or None when no panel would have data (drawn by `chart`
    when given: reuse one Chart, and its loaded fonts, for the charts of one week)."""
    return (chart or Chart()).render(summary, path, title, grid_names)


async def prepare(ctx: Context, week: Week, chart_dir: Path = DEFAULT_CHART_DIR) -> list[Report]:
    """The community's report (to the staff chat) and one per grid that has a group."""
    community = ctx.community
    items = await ctx.uow.tickets.for_summary(community.code, week.start, week.end)
    targets: list[tuple[str | None, tuple[int, ...]]] = [(None, tuple(cards.staff_chat(ctx)))]
    targets += [(g.code, (g.group_chat_id,)) for g in community.grids if g.group_chat_id is not None]
    summaries = zip(summarize_each(community.code, week, items, [code for code, _ in targets], ctx.now,
                                   estate_of(community)),
                    [chats for _, chats in targets], strict=True)
    del items  # the week's tickets are not needed for the texts and charts
    reports = []
    drawer = Chart(ctx.texts.label)
    grid_names = {g.code: g.name for g in community.grids}
    for summary, chats in summaries:
        label = summary.grid_code or "all"
        path = chart_dir / f"{community.code}-{week.label}-{label}.png"
        path.unlink(missing_ok=True)  # a chart an earlier run drew for this week is not this one's
        chart = render_chart(summary, path, drawer, title_of(community, summary), grid_names)
        reports.append(Report(chats, summary.grid_code, render_text(ctx.texts, community, summary), chart,
                              summary))
    return reports


async def send(ctx: Context, week: Week | None = None, chart_dir: Path = DEFAULT_CHART_DIR,
               reports: list[Report] | None = None) -> int:
    """Queue the week's summaries (default: the last complete week; `reports` if already prepared);
    returns how many were queued."""
    week = week or Week.before(ctx.now, ctx.community.timezone)
    queued = 0
    for report in reports if reports is not None else await prepare(ctx, week, chart_dir):
        for chat_id in report.chat_ids:
            photos = (f"file:{report.chart.resolve()}",) if report.chart is not None else ()
            await ctx.tell(chat_id, "summary_text", photos=photos, text=report.text)
            queued += 1
    return queued


async def send_weekly(ctx: Context, chart_dir: Path = DEFAULT_CHART_DIR) -> int:
    """The scheduled send: last week's summary, once, however many processes run the job (the week is
    recorded in the update log in the same transaction as its outbox rows); and the street office's,
    once per street, by whichever of its communities' runs comes first (handlers.street_summary)."""
    week = Week.before(ctx.now, ctx.community.timezone)
    queued = await street_summary.send_once(ctx, week)
    if not await ctx.uow.updates.record(occurrence_id(ctx.community.code, f"weekly_summary:{week.label}")):
        return queued
    return queued + await send(ctx, week, chart_dir)
