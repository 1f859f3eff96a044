"""The weekly summary's chart: a PNG made to be read on a phone. 1080 px wide, every text 24 px or more,
Chinese labels (templates/zh/labels.html, chart_*) in a CJK font (handlers/chart_font.py).

Panels, top to bottom, each drawn only when it has something to show (no empty panels; nothing to show
at all: no chart):
- 每日工单: new and resolved bars and the open line for each day that has begun (the week in progress
  shows no day still to come);
- 三率（按网格）: per grid with a rate to show, its four rates as labelled horizontal bars.

Drawn with Pillow's ImageDraw, not a plotting library: the charts are bars, one line and labels, and a
plotting library would stay loaded in the long-running bot for a weekly picture (docs/DECISIONS.md).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from gridcore.metrics import NO_GRID, Figures, WeekSummary
from handlers.chart_font import FontFile, load_font

WIDTH = 1080
MARGIN = 40
TEXT, LABEL, HEADING, TITLE = 24, 26, 32, 38  # px; TEXT is the smallest used anywhere
BLUE, ORANGE, GREEN, RED = "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"
INK, MUTED, GRID_LINE, FRAME = "#000000", "#555555", "#e0e0e0", "#444444"
RATES = (("chart_response", "response_rate", BLUE), ("chart_resolution", "resolution_rate", ORANGE),
         ("chart_satisfaction", "satisfaction_rate", GREEN), ("chart_on_time", "on_time_rate", RED))
MAX_RATE_GRIDS = 20  # rows past this are counted in a note (the text lists every grid)
# Heights in px: the title block, the days panel, and the rates panel's parts.
HEADER = 120
DAYS_PLOT = 420
DAYS_PANEL = 56 + 48 + DAYS_PLOT + 80 + 30
RATES_HEAD, RATE_ROW, GRID_HEAD, GRID_GAP = 60, 40, 40, 18
PNG_OPTIONS = {"compress_level": 1}  # several times faster than PIL's default 6, a slightly larger file

Label = Callable[..., str]  # Texts.label: a labels.html macro's text


def count_ticks(top: float) -> list[int]:
    """Whole-number ticks from 0 up to `top`, 1/2/5 × 10^k apart, at most 6 of them."""
    for exponent in itertools.count():
        for mantissa in (1, 2, 5):
            step = mantissa * 10**exponent
            if top / step <= 5:
                return list(range(0, math.floor(top / step) * step + 1, step))
    raise AssertionError("unreachable")


def rate_rows(summary: WeekSummary) -> list[tuple[str, Figures]]:
    """The grids the rates panel shows: the community's grids (a grid's summary: that grid), each with
    at least one rate that is not over nothing."""
    rows = (list(summary.by_grid.items()) if summary.grid_code is None
            else [(summary.grid_code, summary.total)])
    return [(code, f) for code, f in rows if any(getattr(f, attr).value is not None for _, attr, _ in RATES)]


def panels(summary: WeekSummary) -> list[str]:
    """The panels a chart of `summary` has: "days" and/or "rates", each only with data to show."""
    shown = []
    if any(d.new or d.resolved or d.still_open for d in summary.per_day):
        shown.append("days")
    if rate_rows(summary):
        shown.append("rates")
    return shown


class Chart:
    """Draws WeekSummary charts one after another; fonts are loaded by the first render and reused."""

    def __init__(self, label: Label | None = None, font_file: FontFile | None = None) -> None:
        if label is None:
            from handlers.texts import Texts

            label = Texts().label
        self.label = label
        self.font_file = font_file
        self.fonts: dict[int, Any] = {}

    def font(self, size: int) -> Any:
        if size not in self.fonts:
            self.fonts[size] = load_font(size, self.font_file)
        return self.fonts[size]

    def render(self, summary: WeekSummary, path: Path, title: str | None = None,
               grid_names: Mapping[str, str] | None = None) -> Path | None:
        """The chart as a PNG at `path`; None (and no file) when no panel has anything to show."""
        from PIL import Image, ImageDraw

        shown = panels(summary)
        if not shown:
            return None
        order = {code: k for k, code in enumerate(grid_names or {})}  # the roster's order of grids
        grids = sorted(rate_rows(summary), key=lambda row: order.get(row[0], len(order)))
        listed = min(len(grids), MAX_RATE_GRIDS)
        rates_height = (RATES_HEAD + listed * (GRID_HEAD + len(RATES) * RATE_ROW + GRID_GAP)
                        + (RATE_ROW if len(grids) > listed else 0) + 20)
        height = HEADER + (DAYS_PANEL if "days" in shown else 0) + (rates_height if "rates" in shown else 0)
        image = Image.new("RGB", (WIDTH, height), "white")
        draw = ImageDraw.Draw(image)
        self._header(draw, summary, title or summary.community_code)
        y = HEADER
        if "days" in shown:
            self._days(draw, summary, y)
            y += DAYS_PANEL
        if "rates" in shown:
            self._rates(draw, grids, y, grid_names or {})
        path.parent.mkdir(parents=True, exist_ok=True)
        image.save(path, format="PNG", **PNG_OPTIONS)
        return path

    def _header(self, draw: Any, summary: WeekSummary, title: str) -> None:
        week = summary.week
        draw.text((MARGIN, 24), self.label("chart_title", title=title, week=week.label), fill=INK,
                  font=self.font(TITLE))
        first = f"{week.days[0]:%m-%d}"
        if summary.in_progress and summary.as_of is not None:
            period = self.label("chart_period_in_progress", first=first, as_of=f"{summary.as_of:%m-%d %H:%M}")
        else:
            period = self.label("chart_period", first=first, last=f"{week.days[6]:%m-%d}")
        draw.text((MARGIN, 24 + TITLE + 14), period, fill=MUTED, font=self.font(LABEL))

    def _days(self, draw: Any, summary: WeekSummary, top_y: int) -> None:
        days = summary.per_day
        new = [d.new for d in days]
        resolved = [d.resolved for d in days]
        still_open = [d.still_open for d in days]
        draw.text((MARGIN, top_y + 10), self.label("chart_days"), fill=INK, font=self.font(HEADING))
        self._legend(draw, top_y + 56 + 20, [(self.label("chart_new"), BLUE, "bar"),
                                             (self.label("chart_resolved"), ORANGE, "bar"),
                                             (self.label("chart_open"), INK, "line")])
        top = max([1, *new, *resolved, *still_open]) * 1.2  # from zero; headroom for the value labels
        ticks = count_ticks(top)
        left, right = MARGIN + 70, WIDTH - MARGIN
        upper = top_y + 56 + 48
        bottom = upper + DAYS_PLOT

        def y(value: float) -> float:
            return bottom - (bottom - upper) * value / top

        small = self.font(TEXT)
        for tick in ticks:
            draw.line((left, y(tick), right, y(tick)), fill=GRID_LINE, width=2)
            draw.text((left - 10, y(tick)), str(tick), fill=INK, font=small, anchor="rm")
        draw.rectangle((left, upper, right, bottom), outline=FRAME, width=2)
        slot = (right - left) / len(days)
        width = min(slot * 0.3, 64)
        for k, day in enumerate(days):
            middle = left + slot * (k + 0.5)
            for side, (value, color) in enumerate(((new[k], BLUE), (resolved[k], ORANGE))):
                x0 = middle - width - 2 if side == 0 else middle + 2
                if value:
                    draw.rectangle((x0, y(value), x0 + width, bottom), fill=color)
                    draw.text((x0 + width / 2, y(value) - 4), str(value), fill=INK, font=small, anchor="md")
            weekday = self.label("chart_weekday", number=day.day.weekday())
            draw.multiline_text((middle, bottom + 10), f"{weekday}\n{day.day:%m-%d}", fill=INK, font=small,
                                anchor="ma", align="center", spacing=6)
        points = [(left + slot * (k + 0.5), y(still_open[k])) for k in range(len(days))]
        if len(points) > 1:
            draw.line(points, fill=INK, width=4)
        for x, point_y in points:
            draw.ellipse((x - 7, point_y - 7, x + 7, point_y + 7), fill=INK)

    def _rates(self, draw: Any, grids: list[tuple[str, Figures]], top_y: int,
               grid_names: Mapping[str, str]) -> None:
        draw.text((MARGIN, top_y + 10), self.label("chart_rates"), fill=INK, font=self.font(HEADING))
        small, label_font = self.font(TEXT), self.font(LABEL)
        name_width = max(draw.textlength(self.label(name), font=small) for name, _, _ in RATES)
        bar_left = MARGIN + name_width + 20
        bar_right = WIDTH - MARGIN - draw.textlength("100.0%", font=small) - 16
        y = top_y + RATES_HEAD
        for code, figures in grids[:MAX_RATE_GRIDS]:
            name = grid_names.get(code) or (self.label("chart_no_grid") if code == NO_GRID else code)
            draw.text((MARGIN, y + 4), name, fill=INK, font=label_font)
            y += GRID_HEAD
            for label_name, attr, color in RATES:
                rate = getattr(figures, attr)
                middle = y + RATE_ROW / 2
                draw.text((MARGIN, middle), self.label(label_name), fill=MUTED, font=small, anchor="lm")
                draw.rectangle((bar_left, middle - 13, bar_right, middle + 13), fill="#f2f2f2")
                if rate.value is None:
                    draw.text((bar_left + 8, middle), self.label("chart_no_value"), fill=MUTED, font=small,
                              anchor="lm")
                else:
                    end = bar_left + (bar_right - bar_left) * rate.value
                    if rate.value:
                        draw.rectangle((bar_left, middle - 13, end, middle + 13), fill=color)
                    draw.text((bar_right + 10, middle), rate.percent, fill=INK, font=small, anchor="lm")
                y += RATE_ROW
            y += GRID_GAP
        if len(grids) > MAX_RATE_GRIDS:
            draw.text((MARGIN, y + 4), self.label("chart_more_grids", count=len(grids) - MAX_RATE_GRIDS),
                      fill=MUTED, font=small)

    def _legend(self, draw: Any, middle: float, entries: list[tuple[str, str, str]]) -> None:
        """One row of swatches (a bar's square or the line's dash) and names, from the left margin."""
        font = self.font(TEXT)
        x = MARGIN + 70
        for name, color, kind in entries:
            if kind == "bar":
                draw.rectangle((x, middle - 11, x + 22, middle + 11), fill=color)
            else:
                draw.line((x, middle, x + 22, middle), fill=color, width=4)
                draw.ellipse((x + 5, middle - 6, x + 17, middle + 6), fill=color)
            draw.text((x + 30, middle), name, fill=INK, font=font, anchor="lm")
            x += 30 + draw.textlength(name, font=font) + 36
