"""The console dashboard's trend charts: PNG bytes the console serves as image routes.

Drawn like the weekly summary's chart (handlers/chart.py: its sizes, colours, fonts and tick rule):
1080 px wide, no text under 24 px, Chinese labels from templates/zh/labels.html (dash_chart_*).
- weeks_chart_png: new and resolved bars and the open line (at each week's end; this week: now), 13 weeks;
- rates_chart_png: the four rates per week as lines, each with its own marker shape (told apart without
  colour); a week where a rate is over nothing has no point there and the line breaks.
The exact numbers are in the table under each chart on the page; the charts show the shape.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable
from typing import Any

from handlers.chart import (
    BLUE,
    FRAME,
    GRID_LINE,
    HEADING,
    INK,
    LABEL,
    MARGIN,
    MUTED,
    ORANGE,
    PNG_OPTIONS,
    RATES,
    TEXT,
    WIDTH,
    Chart,
    count_ticks,
)
from handlers.dashboard import Dashboard
from handlers.texts import Texts

HEADER = 150  # title, period, and a line of this week's figures or a note
NOTE_Y = 20 + HEADING + 18 + LABEL + 14
LEGEND = 50
PLOT = 440
AXIS = 80  # the week labels under the plot: two lines of TEXT
HEIGHT = HEADER + LEGEND + PLOT + AXIS + 20
TITLE_ROOM = 640  # px of the title line the scope's names may take
LEFT = MARGIN + 80  # room for the value axis
RIGHT = WIDTH - MARGIN
# The rates chart: per rate a title row (its legend), room for the value labels above 100%, the plot.
RATE_TITLE, RATE_HEADROOM, RATE_PLOT, RATE_GAP = 44, 36, 150, 24
RATE_PANEL = RATE_TITLE + RATE_HEADROOM + RATE_PLOT + RATE_GAP
RATES_HEIGHT = HEADER + len(RATES) * RATE_PANEL - RATE_GAP + AXIS + 20
ZOOMED_FLOOR = 0.5
THIS_WEEK = "#fff4d6"  # the week in progress is shaded
MARKERS = ("circle", "square", "triangle", "diamond")  # one per rate, in RATES' order


def _png(image: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", **PNG_OPTIONS)
    return buffer.getvalue()


class _Canvas:
    """One chart's image, fonts and the shared parts: header, legend, week axis."""

    def __init__(self, dashboard: Dashboard, texts: Texts, height: int = HEIGHT) -> None:
        from PIL import Image, ImageDraw

        self.dashboard = dashboard
        self.label: Callable[..., str] = texts.label
        self.fonts = Chart(texts.label)
        self.image = Image.new("RGB", (WIDTH, height), "white")
        self.draw = ImageDraw.Draw(self.image)
        self.upper = HEADER + LEGEND
        self.bottom = self.upper + PLOT
        self.slot = (RIGHT - LEFT) / len(dashboard.weeks)

    def font(self, size: int) -> Any:
        return self.fonts.font(size)

    def scope(self) -> str:
        """Whose figures these are, short enough for the title line: every community / grid seen, or the
        first and how many there are (a street office's dozen communities)."""
        names = self.dashboard.scope_names
        joined = self.label("dash_chart_scope", names=names)
        if len(names) > 1 and self.draw.textlength(joined, font=self.font(HEADING + 4)) > TITLE_ROOM:
            return self.label("dash_chart_scope_many", first=names[0], count=len(names))
        return joined

    def middle(self, k: int) -> float:
        return LEFT + self.slot * (k + 0.5)

    def header(self, title: str) -> None:
        weeks = self.dashboard.weeks
        self.draw.text((MARGIN, 20), title, fill=INK, font=self.font(HEADING + 4))
        first, as_of = weeks[0].week.start, self.dashboard.as_of
        last = f"{as_of:%m-%d}" if as_of.year == first.year else f"{as_of:%Y-%m-%d}"  # across New Year
        period = self.label("dash_chart_period", first=f"{first:%Y-%m-%d}", last=last,
                            as_of=f"{as_of:%m-%d %H:%M}")
        self.draw.text((MARGIN, 20 + HEADING + 18), period, fill=MUTED, font=self.font(LABEL))

    def legend(self, entries: list[tuple[str, str, str]]) -> None:
        """Swatches (a bar's square, or a line with its marker) and names in one row."""
        font, middle, x = self.font(TEXT), HEADER + LEGEND / 2, float(LEFT)
        for name, color, kind in entries:
            if kind == "bar":
                self.draw.rectangle((x, middle - 11, x + 22, middle + 11), fill=color)
            else:
                self.draw.line((x - 4, middle, x + 30, middle), fill=color, width=4)
                self.marker(x + 13, middle, kind, color)
            x += 40
            self.draw.text((x, middle), name, fill=INK, font=font, anchor="lm")
            x += self.draw.textlength(name, font=font) + 36

    def marker(self, x: float, y: float, shape: str, color: str) -> None:
        r = 8
        if shape == "square":
            self.draw.rectangle((x - r, y - r, x + r, y + r), fill=color)
        elif shape == "triangle":
            self.draw.polygon([(x, y - r - 2), (x - r - 1, y + r), (x + r + 1, y + r)], fill=color)
        elif shape == "diamond":
            self.draw.polygon([(x, y - r - 2), (x + r + 2, y), (x, y + r + 2), (x - r - 2, y)], fill=color)
        else:
            self.draw.ellipse((x - r, y - r, x + r, y + r), fill=color)

    def frame(self, ticks: list[tuple[float, str]], axis: bool = True) -> None:
        """Horizontal tick lines with their labels, the plot's frame, and the week labels below it: the
        week number and its Monday; this week says 本周 and is shaded."""
        small = self.font(TEXT)
        this = len(self.dashboard.weeks) - 1
        x0 = LEFT + self.slot * this
        self.draw.rectangle((x0, self.upper, RIGHT, self.bottom), fill=THIS_WEEK)
        for y, text in ticks:
            self.draw.line((LEFT, y, RIGHT, y), fill=GRID_LINE, width=2)
            self.draw.text((LEFT - 10, y), text, fill=INK, font=small, anchor="rm")
        self.draw.rectangle((LEFT, self.upper, RIGHT, self.bottom), outline=FRAME, width=2)
        if not axis:
            return
        for k, row in enumerate(self.dashboard.weeks):
            first = self.label("dash_chart_this_week") if k == this else f"W{row.week.number:02d}"
            self.draw.multiline_text((self.middle(k), self.bottom + 10), f"{first}\n{row.week.start:%m-%d}",
                                     fill=INK if k == this else MUTED, font=small, anchor="ma",
                                     align="center", spacing=6)

    def png(self) -> bytes:
        return _png(self.image)


def weeks_chart_png(dashboard: Dashboard, texts: Texts) -> bytes:
    """New and resolved per week as bars, still open at each week's end as a line: 13 weeks."""
    canvas = _Canvas(dashboard, texts)
    canvas.header(texts.label("dash_chart_weeks", title=canvas.scope()))
    canvas.legend([(texts.label("chart_new"), BLUE, "bar"), (texts.label("chart_resolved"), ORANGE, "bar"),
                   (texts.label("dash_chart_open"), INK, "circle")])
    rows = [w.figures for w in dashboard.weeks]
    this = rows[-1]
    counts = texts.label("dash_chart_this_week_counts", new=this.new, resolved=this.resolved,
                         still_open=this.still_open)
    canvas.draw.text((MARGIN, NOTE_Y), counts, fill=INK, font=canvas.font(LABEL))
    top = max([1, *(f.new for f in rows), *(f.resolved for f in rows), *(f.still_open for f in rows)]) * 1.1

    def y(value: float) -> float:
        return canvas.bottom - PLOT * value / top

    canvas.frame([(y(tick), str(tick)) for tick in count_ticks(top)])
    width = min(canvas.slot * 0.34, 40)
    for k, figures in enumerate(rows):
        middle = canvas.middle(k)
        bars = ((figures.new, middle - width - 2, BLUE), (figures.resolved, middle + 2, ORANGE))
        for value, x0, color in bars:
            if value:
                canvas.draw.rectangle((x0, y(value), x0 + width, canvas.bottom), fill=color)
    points = [(canvas.middle(k), y(f.still_open)) for k, f in enumerate(rows)]
    canvas.draw.line(points, fill=INK, width=4, joint="curve")
    for x, point_y in points:
        canvas.marker(x, point_y, "circle", INK)
    return canvas.png()


def rates_chart_png(dashboard: Dashboard, texts: Texts) -> bytes:
    """响应率, 解决率, 满意率 and 按时反馈率 per week: one small panel each, stacked, with a shared week axis
    (four lines in one plot hide each other where rates sit at 100%). Each panel is 0–100%, its line
    and markers in the rate's colour, each point labelled with its whole percent; its title row is the
    legend and says this week's rate. A week where the rate is over nothing has no point: the line breaks.
    A panel whose rates are all 50% or more is drawn from 50% (its axis labels say so): rates mostly sit
    in the 80s and 90s, and from 0% their weeks would look alike."""
    canvas = _Canvas(dashboard, texts, RATES_HEIGHT)
    canvas.header(texts.label("dash_chart_rates", title=canvas.scope()))
    small, label_font = canvas.font(TEXT), canvas.font(LABEL)
    gaps = False
    for k, ((name, attr, color), shape) in enumerate(zip(RATES, MARKERS, strict=True)):
        top = HEADER + k * RATE_PANEL
        canvas.upper = top + RATE_TITLE + RATE_HEADROOM
        canvas.bottom = canvas.upper + RATE_PLOT
        canvas.marker(MARGIN + 12, top + RATE_TITLE / 2, shape, color)
        canvas.draw.text((MARGIN + 34, top + RATE_TITLE / 2), texts.label(name), fill=INK, font=label_font,
                         anchor="lm")
        this = getattr(dashboard.this_week.figures, attr)
        value_text = this.percent if this.value is not None else texts.label("chart_no_value")
        canvas.draw.text((RIGHT, top + RATE_TITLE / 2),
                         f"{texts.label('dash_chart_this_week')} {value_text}", fill=INK, font=label_font,
                         anchor="rm")

        values = [getattr(w.figures, attr).value for w in dashboard.weeks]
        shown = [v for v in values if v is not None]
        floor = ZOOMED_FLOOR if shown and min(shown) >= ZOOMED_FLOOR else 0.0

        def y(value: float, bottom: float = canvas.bottom, floor: float = floor) -> float:
            return bottom - RATE_PLOT * (value - floor) / (1 - floor)

        canvas.frame([(y(v), f"{round(v * 100)}%") for v in (floor, (floor + 1) / 2, 1)],
                     axis=k == len(RATES) - 1)
        gaps = gaps or any(v is None for v in values)
        points = [(canvas.middle(j), y(v)) if v is not None else None for j, v in enumerate(values)]
        for a, b in itertools.pairwise(points):
            if a is not None and b is not None:
                canvas.draw.line((a, b), fill=color, width=4)
        for j, (point, value) in enumerate(zip(points, values, strict=True)):
            if point is not None and value is not None:
                canvas.marker(point[0], point[1], shape, color)
                # on a patch of the background, so the frame and the line do not cut through the digits
                where, text = (point[0], point[1] - 14), f"{round(value * 100)}%"
                left, top_, right, bottom = canvas.draw.textbbox(where, text, font=small, anchor="md")
                inside = point[1] - 14 - (bottom - top_) > canvas.upper and j == len(values) - 1
                canvas.draw.rectangle((left - 2, top_ - 1, right + 2, bottom + 1),
                                      fill=THIS_WEEK if inside else "white")
                canvas.draw.text(where, text, fill=INK, font=small, anchor="md")
    if gaps:
        canvas.draw.text((MARGIN, NOTE_Y), texts.label("dash_chart_gap"), fill=MUTED, font=small)
    return canvas.png()


def trend_chart_png(dashboard: Dashboard, texts: Texts, kind: str = "weeks") -> bytes:
    """The console's image route in one call: kind "weeks" or "rates"."""
    charts = {"weeks": weeks_chart_png, "rates": rates_chart_png}
    if kind not in charts:
        raise ValueError(f"unknown chart {kind!r}: weeks or rates")
    return charts[kind](dashboard, texts)
