"""The weekly summary's chart: a PNG with tickets per day (new, resolved, open at day's end) and the rates
by grid. Labels are ASCII (grid codes, English), so missing CJK fonts cannot turn them into boxes.

One Chart draws all of a week's charts (the community's and one per grid) on the same figure: its axes,
ticks, legends and fonts are built once and only the data changes between charts, which made each chart
several times cheaper than a new figure. matplotlib is imported when the first chart is drawn, so the bot
does not load it (~45 MB) before a summary draws its first chart.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gridcore.metrics import NO_GRID, WeekSummary

DAY_COLORS = ("C0", "C1")  # new, resolved
RATES = (("response", "response_rate", "C0"), ("resolution", "resolution_rate", "C1"),
         ("satisfaction", "satisfaction_rate", "C2"), ("on time", "on_time_rate", "C3"))
TITLE_Y = 1.02  # axes fraction (matplotlib's automatic placement: 1.0 plus a pad of 6 points)
# PNG compression: level 1 encodes several times faster than PIL's default 6 for a slightly larger file.
PNG_OPTIONS = {"compress_level": 1}


class Chart:
    """Draws WeekSummary charts one after another on one reused figure (not thread-safe: one at a time).
    The figure is built by the first render."""

    def __init__(self) -> None:
        self.built = False

    def _build(self) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.patches import Patch

        self.figure = Figure(figsize=(10, 4), dpi=100)
        self.canvas = FigureCanvasAgg(self.figure)
        self.days, self.rates = self.figure.subplots(1, 2)
        days, rates = self.days, self.rates
        x = list(range(7))
        self.new = days.bar([i - 0.2 for i in x], [0] * 7, width=0.4, color=DAY_COLORS[0], label="new")
        self.resolved = days.bar([i + 0.2 for i in x], [0] * 7, width=0.4, color=DAY_COLORS[1],
                                 label="resolved")
        (self.open,) = days.plot(x, [0] * 7, color="black", marker="o", label="open")
        days.set_xlim(-0.6, 6.6)
        # Legends in a fixed place above the data (the tops of the y ranges leave room for them):
        # loc="best" measured every artist for each chart and still covered bars.
        days.legend(loc="upper center", ncols=3, fontsize=8, frameon=False)
        days.yaxis.get_major_locator().set_params(integer=True)
        self.day_labels: list[str] = []
        rates.set_ylim(0, 118)
        rates.set_yticks(range(0, 101, 20))
        # Titles at a given height (y=1.02): placed automatically, each draw measured every tick label
        # below them. No y label: placing it measured them again.
        rates.set_title("Rates by grid, % (no rating: 0)", y=TITLE_Y)
        rates.legend(handles=[Patch(color=color, label=name) for name, _, color in RATES],
                     loc="upper center", ncols=4, fontsize=7, frameon=False)
        self.rate_bars: list[Any] = []
        for axis in (days.xaxis, days.yaxis, rates.xaxis, rates.yaxis):
            axis.set_label_coords(0.5, 0.5)  # no axis labels: fixed places spare measuring every tick label
        # Fixed margins: tight_layout() measured every label first and cost a sixth of each chart.
        self.figure.subplots_adjust(left=0.05, right=0.99, top=0.91, bottom=0.16, wspace=0.16)
        self.built = True

    def render(self, summary: WeekSummary, path: Path) -> Path:
        if not self.built:
            self._build()
        days, rates = self.days, self.rates
        labels = [f"{d:%a}\n{d:%m-%d}" for d in summary.week.days]
        if labels != self.day_labels:
            days.set_xticks(range(7), labels, fontsize=8)
            self.day_labels = labels
        for bars, values in ((self.new, [d.new for d in summary.per_day]),
                             (self.resolved, [d.resolved for d in summary.per_day])):
            for bar, value in zip(bars, values, strict=True):
                bar.set_height(value)
        self.open.set_ydata([d.still_open for d in summary.per_day])
        days.set_title(f"Tickets per day, {summary.week.label}", y=TITLE_Y)
        peak = max([1] + [max(d.new, d.resolved, d.still_open) for d in summary.per_day])
        days.set_ylim(0, peak * 1.25)  # counts: from zero, whole numbers, also for an empty week

        grids = list(summary.by_grid.items()) or [("all", summary.total)]
        values = [[(getattr(f, attr).value or 0) * 100 for _, f in grids] for _, attr, _ in RATES]
        names = [f"grid {c}" if c not in ("all", NO_GRID) else c or "none" for c, _ in grids]
        if len(self.rate_bars) and len(self.rate_bars[0]) == len(grids):  # a grid's chart after a grid's
            for bars, heights in zip(self.rate_bars, values, strict=True):
                for bar, height in zip(bars, heights, strict=True):
                    bar.set_height(height)
        else:
            for bars in self.rate_bars:
                bars.remove()
            width = 0.8 / len(RATES)
            self.rate_bars = [rates.bar([i - 0.4 + width * (k + 0.5) for i in range(len(grids))], heights,
                                        width=width, color=color)
                              for k, (heights, (_, _, color)) in enumerate(zip(values, RATES, strict=True))]
            rates.set_xlim(-0.5, len(grids) - 0.5)
        rates.set_xticks(range(len(grids)), names, fontsize=8)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.figure.savefig(path, format="png", pil_kwargs=PNG_OPTIONS)
        return path
