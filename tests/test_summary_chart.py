"""The weekly chart as a person on a phone sees it: 1080 px wide, text of 24 px or more, Chinese drawn
in a real CJK font (not tofu), no panel without data, and no day of the week in progress still to come."""

from __future__ import annotations

import logging
from datetime import timedelta

from PIL import Image, ImageFont
from test_summary import W47, at, fixture_tickets, make

from gridcore.metrics import WeekTicket, summarize
from gridcore.ticket import Rating, Satisfaction, Solved, TicketStatus
from handlers import chart_font
from handlers.chart import DAYS_PANEL, HEADER, WIDTH, Chart, panels
from handlers.chart_font import FontFile, find_cjk_font, has_glyph, pick_font

GRID_NAMES = {"1": "第一网格", "2": "第二网格", "3": "第三网格"}


RATED = {"0001": (at(18, 12), Rating(True, Solved.SOLVED, Satisfaction.SATISFIED)),
         "0002": (at(21, 10), Rating(True, Solved.PARTLY, Satisfaction.BASIC)),
         "0004": (at(19, 8), Rating(False, Solved.UNSOLVED, Satisfaction.UNSATISFIED, "没人来"))}


def week_items() -> list[WeekTicket]:
    """The known week of test_summary, with the ratings the ledger would give (rated_at, rating)."""
    items = []
    for ticket in fixture_tickets():
        rated_at, rating = RATED.get(ticket.number[-4:], (None, None))
        items.append(WeekTicket.of(ticket, rating, rated_at))
    return items


def test_a_cjk_font_is_installed_and_draws_chinese_not_tofu():
    found = find_cjk_font()
    assert found is not None, f"no CJK font: {chart_font.INSTALL_HINT}"
    cjk = ImageFont.truetype(found.path, 24, index=found.index)
    assert has_glyph(cjk, "网格周报三率")
    # The check can fail: Pillow's own font has no Chinese and draws its .notdef box (or nothing).
    assert not has_glyph(ImageFont.load_default(24), "网格") and has_glyph(ImageFont.load_default(24), "W")


def test_the_chart_is_phone_sized_with_text_of_at_least_24_px(tmp_path):
    drawer = Chart()
    path = drawer.render(summarize("XK", W47, week_items()), tmp_path / "w47.png", "兴康社区", GRID_NAMES)
    assert path is not None
    with Image.open(path) as image:
        assert image.format == "PNG" and image.width >= 1080 and image.width == WIDTH
        assert image.height <= 10000 and image.height / image.width <= 20  # Telegram's photo limits
    assert drawer.fonts and min(drawer.fonts) >= 24
    assert all(has_glyph(font, "网格") for font in drawer.fonts.values())  # every size draws Chinese


def test_no_panel_without_data_and_no_chart_without_any(tmp_path):
    drawer = Chart()
    # Only filed and open this week, nothing rated or resolved: the rates panel is left out.
    only_open = summarize("XK", W47, [WeekTicket.of(make(1, grid="1", category="env", building="3",
                                                         created=at(17, 9)))])
    assert panels(only_open) == ["days"]
    path = drawer.render(only_open, tmp_path / "days.png")
    with Image.open(path) as image:
        assert image.height == HEADER + DAYS_PANEL
    # Filed and resolved last week, rated this week: no day has anything, the rates do.
    earlier = make(2, grid="2", category="env", building="5", created=at(9, 9), resolved=at(10, 9),
                   status=TicketStatus.CLOSED)
    rated = WeekTicket.of(earlier, Rating(True, Solved.SOLVED, Satisfaction.SATISFIED), at(17, 10))
    only_rated = summarize("XK", W47, [rated])
    assert panels(only_rated) == ["rates"]
    with Image.open(drawer.render(only_rated, tmp_path / "rates.png")) as image:
        assert image.height < HEADER + DAYS_PANEL
    # Nothing at all: no chart, no file.
    assert panels(summarize("XK", W47, [])) == []
    assert drawer.render(summarize("XK", W47, []), tmp_path / "none.png") is None
    assert not (tmp_path / "none.png").exists()


def test_the_week_in_progress_has_no_days_still_to_come(tmp_path):
    thursday = at(19, 15, 30)
    s = summarize("XK", W47, week_items(), now=thursday)
    assert [d.day.day for d in s.per_day] == [16, 17, 18, 19] and s.in_progress
    open_now = [t for t in (i.ticket for i in week_items())
                if t.created_at < thursday and t.status is not TicketStatus.WITHDRAWN
                and (t.resolved_at is None or t.resolved_at >= thursday)]
    assert s.per_day[-1].still_open == len(open_now)
    # A week that has not begun has no day at all, and nothing to draw.
    future = summarize("XK", W47, week_items(), now=at(16) - timedelta(minutes=1))
    assert future.per_day == [] and Chart().render(future, tmp_path / "future.png") is None
    # The chart draws a slot per day of per_day: Thursday's bars are wider apart than a full week's, so
    # the two charts differ in the days panel though their first three days hold the same numbers.
    full = summarize("XK", W47, week_items())
    assert len(full.per_day) == 7 and full.per_day[:3] == s.per_day[:3]
    drawer = Chart()
    thursday_png = drawer.render(s, tmp_path / "thursday.png", "兴康社区", GRID_NAMES)
    full_png = drawer.render(full, tmp_path / "full.png", "兴康社区", GRID_NAMES)
    assert thursday_png is not None and full_png is not None
    with Image.open(thursday_png) as a, Image.open(full_png) as b:
        plot = (0, HEADER + 100, WIDTH, HEADER + DAYS_PANEL)
        assert a.crop(plot).tobytes() != b.crop(plot).tobytes()


def test_a_missing_font_is_a_warning_and_the_chart_is_still_drawn(tmp_path, caplog):
    missing = FontFile(str(tmp_path / "no-such-font.ttc"), 0, "Nowhere Sans")
    with caplog.at_level(logging.WARNING, logger="handlers.chart_font"):
        assert pick_font([missing]) is None
        path = Chart(font_file=missing).render(summarize("XK", W47, week_items()), tmp_path / "w.png")
    assert path is not None and path.read_bytes()[:4] == b"\x89PNG"
    messages = [r.getMessage() for r in caplog.records]
    assert any("no CJK font found" in m and "fonts-wqy-microhei" in m for m in messages)
    assert any("cannot load the chart font" in m for m in messages)
