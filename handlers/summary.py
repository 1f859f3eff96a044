"""The weekly summary (周研判): text and chart to the community staff and each grid's group.

Numbers come from gridcore.metrics; the text from templates/zh/weekly_summary.html; the chart is a PNG
written to `chart_dir` and sent as "file:<path>" (bot.delivery uploads it). Group messages carry
ticket numbers, categories, buildings and counts only — never a resident's name or phone.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gridcore.community import Community
from gridcore.metrics import NO_GRID, Week, WeekSummary, WeekTicket, summarize
from handlers import cards
from handlers.announcements import occurrence_id
from handlers.context import Context
from handlers.texts import Texts

DEFAULT_CHART_DIR = Path("data/charts")
TEXT_LIMIT = 4096
LIST_LIMITS = (30, 15, 8, 4, 2, 0)
_TAG = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class Report:
    chat_ids: tuple[int, ...]
    grid_code: str | None
    text: str  # Telegram HTML
    chart: Path
    summary: WeekSummary


def plain(text: str) -> str:
    """The text as Telegram counts it (after entity parsing), and as the CLI prints it."""
    return html.unescape(_TAG.sub("", text))


def _names(community: Community) -> dict[str, Any]:
    return {
        "grid_names": {g.code: g.name for g in community.grids},
        "category_names": {c.code: c.name for c in community.categories},
        "building_names": {b.code: b.name for b in community.buildings},
    }


def render_text(texts: Texts, community: Community, summary: WeekSummary) -> str:
    """The summary's text, lists shortened ("等 N 张") until it fits one message."""
    grid = community.grid(summary.grid_code) if summary.grid_code else None
    title = f"{community.name} {grid.name}" if grid else community.name
    text = ""
    for limit in LIST_LIMITS:
        text = texts.render("weekly_summary", s=summary, title=title, limit=limit, **_names(community))
        if len(plain(text)) <= TEXT_LIMIT:
            return text
    return text[:TEXT_LIMIT]  # unreachable with sane data: the fixed part alone is far shorter


def render_chart(summary: WeekSummary, path: Path) -> Path:
    """A PNG: tickets per day (new, resolved, open at day's end) and the rates by grid. Labels are
    ASCII (grid codes, English), so missing CJK fonts cannot turn them into boxes."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(10, 4), dpi=100)
    days, rates = figure.subplots(1, 2)
    x = list(range(7))
    labels = [f"{d:%a}\n{d:%m-%d}" for d in summary.week.days]
    days.bar([i - 0.2 for i in x], [d.new for d in summary.per_day], width=0.4, label="new")
    days.bar([i + 0.2 for i in x], [d.resolved for d in summary.per_day], width=0.4, label="resolved")
    days.plot(x, [d.still_open for d in summary.per_day], color="black", marker="o", label="open")
    days.set_xticks(x, labels, fontsize=8)
    days.set_title(f"Tickets per day, {summary.week.label}")
    days.legend(fontsize=8)
    peak = max([1] + [max(d.new, d.resolved, d.still_open) for d in summary.per_day])
    days.set_ylim(0, peak * 1.15)  # counts: from zero, whole numbers, also for an empty week
    days.yaxis.get_major_locator().set_params(integer=True)
    grids = list(summary.by_grid.items()) or [("all", summary.total)]
    kinds = [("response", "response_rate"), ("resolution", "resolution_rate"),
             ("satisfaction", "satisfaction_rate"), ("on time", "on_time_rate")]
    width = 0.8 / len(kinds)
    for k, (name, attr) in enumerate(kinds):
        values = [(getattr(f, attr).value or 0) * 100 for _, f in grids]
        rates.bar([i - 0.4 + width * (k + 0.5) for i in range(len(grids))], values, width=width, label=name)
    rates.set_xticks(range(len(grids)), [f"grid {c}" if c not in ("all", NO_GRID) else c or "none"
                                         for c, _ in grids], fontsize=8)
    rates.set_ylim(0, 105)
    rates.set_ylabel("%")
    rates.set_title("Rates by grid (no rating: 0)")
    rates.legend(fontsize=7)
    # Fixed margins: tight_layout() measured every label first and cost a sixth of each chart.
    figure.subplots_adjust(left=0.05, right=0.99, top=0.91, bottom=0.16, wspace=0.16)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png")
    return path


async def prepare(ctx: Context, week: Week, chart_dir: Path = DEFAULT_CHART_DIR) -> list[Report]:
    """The community's report (to the staff chat) and one per grid that has a group."""
    community = ctx.community
    items = await ctx.uow.tickets.for_summary(community.code, week.start, week.end)
    targets: list[tuple[str | None, tuple[int, ...]]] = [(None, tuple(cards.staff_chat(ctx)))]
    targets += [(g.code, (g.group_chat_id,)) for g in community.grids if g.group_chat_id is not None]
    by_grid: dict[str, list[WeekTicket]] = {}  # each grid's summary reads only its own tickets
    for item in items:
        by_grid.setdefault(item.ticket.grid_code or NO_GRID, []).append(item)
    summaries = [(summarize(community.code, week, items if code is None else by_grid.get(code, []), code),
                  chats) for code, chats in targets]
    del items, by_grid  # the week's tickets are not needed for the texts and charts
    reports = []
    for summary, chats in summaries:
        label = summary.grid_code or "all"
        chart = render_chart(summary, chart_dir / f"{community.code}-{week.label}-{label}.png")
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
            photo = f"file:{report.chart.resolve()}"
            await ctx.tell(chat_id, "summary_text", photos=(photo,), text=report.text)
            queued += 1
    return queued


async def send_weekly(ctx: Context, chart_dir: Path = DEFAULT_CHART_DIR) -> int:
    """The scheduled send: last week's summary, once, however many processes run the job (the week is
    recorded in the update log in the same transaction as its outbox rows)."""
    week = Week.before(ctx.now, ctx.community.timezone)
    if not await ctx.uow.updates.record(occurrence_id(ctx.community.code, f"weekly_summary:{week.label}")):
        return 0
    return await send(ctx, week, chart_dir)
