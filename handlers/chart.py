"""The weekly summary's chart: a PNG with tickets per day (new, resolved, open at day's end) and the rates
by grid. Labels are ASCII (grid codes, English), so missing CJK fonts cannot turn them into boxes.

Drawn with Pillow's ImageDraw, not a plotting library: the charts are two panels of bars, one line and
a few labels, and matplotlib cost the long-running bot ~55 MB of RSS from the first summary on (it is
never unloaded) and ~50 ms per chart; Pillow costs ~15 MB and a few ms (bench/RESULTS.md §3). The font
is the one Pillow ships (Aileron), so the output does not depend on the machine's fonts.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gridcore.metrics import NO_GRID, WeekSummary

WIDTH, HEIGHT = 1000, 400
BLUE, ORANGE, GREEN, RED = "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"
DAY_COLORS = (BLUE, ORANGE)  # new, resolved
RATES = (("response", "response_rate", BLUE), ("resolution", "resolution_rate", ORANGE),
         ("satisfaction", "satisfaction_rate", GREEN), ("on time", "on_time_rate", RED))
# The two panels' plot areas (left, top, right, bottom) in pixels; titles and legends sit above them,
# tick labels to the left and below.
DAYS_AREA = (50, 62, 505, 336)
RATES_AREA = (560, 62, 990, 336)
INK, GRID_LINE, FRAME = "#000000", "#e6e6e6", "#444444"
# PNG compression: level 1 encodes several times faster than PIL's default 6 for a slightly larger file.
PNG_OPTIONS = {"compress_level": 1}


def count_ticks(top: float) -> list[int]:
    """Whole-number ticks from 0 up to `top`, 1/2/5 × 10^k apart, at most 6 of them."""
    for exponent in itertools.count():
        for mantissa in (1, 2, 5):
            step = mantissa * 10**exponent
            if top / step <= 5:
                return list(range(0, math.floor(top / step) * step + 1, step))
    raise AssertionError("unreachable")


class Chart:
    """Draws WeekSummary charts one after another; the fonts are loaded by the first render and reused."""

    def __init__(self) -> None:
        self.fonts: dict[int, Any] = {}

    def font(self, size: int) -> Any:
        if size not in self.fonts:
            from PIL import ImageFont

            self.fonts[size] = ImageFont.load_default(size)
        return self.fonts[size]

    def render(self, summary: WeekSummary, path: Path) -> Path:
        from PIL import Image, ImageDraw

        image = Image.new("RGB", (WIDTH, HEIGHT), "white")
        draw = ImageDraw.Draw(image)
        self._days(draw, summary)
        self._rates(draw, summary)
        path.parent.mkdir(parents=True, exist_ok=True)
        image.save(path, format="PNG", **PNG_OPTIONS)
        return path

    def _days(self, draw: Any, summary: WeekSummary) -> None:
        new = [d.new for d in summary.per_day]
        resolved = [d.resolved for d in summary.per_day]
        still_open = [d.still_open for d in summary.per_day]
        top = max([1, *new, *resolved, *still_open]) * 1.25  # from zero; headroom for the legend
        ticks = count_ticks(top)
        labels = [(f"{d:%a}", f"{d:%m-%d}") for d in summary.week.days]
        y = self._panel(draw, DAYS_AREA, f"Tickets per day, {summary.week.label}", ticks, top, labels)
        left, _, right, bottom = DAYS_AREA
        slot = (right - left) / 7
        width = slot * 0.4
        for day in range(7):
            middle = left + slot * (day + 0.5)
            for k, (values, color) in enumerate(((new, DAY_COLORS[0]), (resolved, DAY_COLORS[1]))):
                x0 = middle - width + k * width
                if values[day]:
                    draw.rectangle((x0, y(values[day]), x0 + width - 1, bottom), fill=color)
        points = [(left + slot * (day + 0.5), y(still_open[day])) for day in range(7)]
        draw.line(points, fill=INK, width=2)
        for x, point_y in points:
            draw.ellipse((x - 3.5, point_y - 3.5, x + 3.5, point_y + 3.5), fill=INK)
        self._legend(draw, DAYS_AREA, [("new", DAY_COLORS[0]), ("resolved", DAY_COLORS[1]), ("open", INK)])

    def _rates(self, draw: Any, summary: WeekSummary) -> None:
        grids = list(summary.by_grid.items()) or [("all", summary.total)]
        names = [(f"grid {c}" if c not in ("all", NO_GRID) else c or "none",) for c, _ in grids]
        y = self._panel(draw, RATES_AREA, "Rates by grid, % (no rating: 0)", list(range(0, 101, 20)), 118,
                        names)
        left, _, right, bottom = RATES_AREA
        slot = (right - left) / len(grids)
        width = slot * 0.8 / len(RATES)
        for g, (_, figures) in enumerate(grids):
            for k, (_, attr, color) in enumerate(RATES):
                percent = (getattr(figures, attr).value or 0) * 100
                x0 = left + slot * g + slot * 0.1 + width * k
                if percent:
                    draw.rectangle((x0, y(percent), x0 + width - 1, bottom), fill=color)
        self._legend(draw, RATES_AREA, [(name, color) for name, _, color in RATES])

    def _panel(self, draw: Any, area: tuple[int, int, int, int], title: str, ticks: list[int], top: float,
               labels: Sequence[tuple[str, ...]]) -> Any:
        """Title, horizontal grid lines with their values, frame and x labels; returns value → pixel y."""
        left, upper, right, bottom = area

        def y(value: float) -> float:
            return bottom - (bottom - upper) * value / top

        draw.text(((left + right) / 2, upper - 16), title, fill=INK, font=self.font(14), anchor="ms")
        for tick in ticks:
            draw.line((left, y(tick), right, y(tick)), fill=GRID_LINE)
            draw.text((left - 5, y(tick)), str(tick), fill=INK, font=self.font(10), anchor="rm")
        draw.rectangle(area, outline=FRAME)
        slot = (right - left) / len(labels)
        for i, lines in enumerate(labels):
            draw.multiline_text((left + slot * (i + 0.5), bottom + 6), "\n".join(lines), fill=INK,
                                font=self.font(10), anchor="ma", align="center")
        return y

    def _legend(self, draw: Any, area: tuple[int, int, int, int], entries: list[tuple[str, str]]) -> None:
        """One row of colour swatches and names, centred at the top of the plot area."""
        font = self.font(10)
        widths = [14 + draw.textlength(name, font=font) + 16 for name, _ in entries]
        x = (area[0] + area[2] - sum(widths)) / 2
        middle = area[1] + 10
        for (name, color), width in zip(entries, widths, strict=True):
            draw.rectangle((x, middle - 4, x + 9, middle + 4), fill=color)
            draw.text((x + 14, middle), name, fill=INK, font=font, anchor="lm")
            x += width
