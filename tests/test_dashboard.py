"""The console dashboard: each week's figures are the weekly summary's (both databases), medians and
hotspots over the weeks before, the attention list carries nothing personal, a grid worker sees only
their grid, the charts are PNGs of the documented size, and the partials render with StrictUndefined
and escape what residents and the roster typed."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from dialog_support import example_community, load_example
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from PIL import Image
from test_summary import NAMES, PHONE_PATTERN, PHONES, W47, at, fixture_tickets, make, prepared, store

from gridcore.community import Building, Person, Role
from gridcore.conversation import Resident
from gridcore.metrics import Week, summarize_each
from gridcore.ticket import Rating, Satisfaction, Solved, TicketStatus
from gridcore.workdays import parse_office_hours
from handlers import dashboard_chart
from handlers.dashboard import Attention, Dashboard, dashboard
from handlers.roster_view import roster_view
from handlers.texts import Texts

pytestmark = pytest.mark.memory

SH = ZoneInfo("Asia/Shanghai")
NOW = at(22, 9, 30)  # Sunday morning of W47 (in progress): ticket 0009's resolve (22nd 23:30) is later
SCRIPT = "<script>alert(1)</script>"


def earlier_tickets():
    """Three tickets in the weeks before W47, with 签收 times: filed → accepted 2 h, 6 h, 1 h; filed →
    resolved 24 h, 48 h, 96 h (and the fixture's 0007: 48 h, no 签收 recorded)."""
    S = TicketStatus
    happy = Rating(True, Solved.SOLVED, Satisfaction.SATISFIED)
    a1 = make(11, grid="1", category="env", building="3", created=at(2, 9), resolved=at(3, 9),
              status=S.CLOSED, rating=(at(4, 9), happy))
    a2 = make(12, grid="2", category="fire", building="5", created=at(9, 8), resolved=at(11, 8),
              status=S.CLOSED)
    a3 = make(13, grid="1", category="env", building="3", created=datetime(2026, 10, 20, 8, tzinfo=SH),
              resolved=datetime(2026, 10, 24, 8, tzinfo=SH), status=S.CLOSED)
    for ticket, hours in ((a1, 2), (a2, 6), (a3, 1)):
        ticket.accepted_at = ticket.created_at + timedelta(hours=hours)
    return [a1, a2, a3]


def all_tickets():
    tickets = fixture_tickets() + earlier_tickets()
    # What a resident typed, with their phone and name in it; the roster never reaches the page raw.
    tickets[4].description = f"{NAMES[0]}说 {PHONES[0]} 消防通道被堵，找{PROFILE_NAME} @wangdama88 {SCRIPT}"
    return tickets


PROFILE_NAME = "翠花小区王大妈"  # ticket 0003's reporter's Telegram name now, not the name it was filed with


async def loaded_dashboard(uow_factory, grids=None) -> Dashboard:
    community = await load_example(uow_factory)
    await store(uow_factory, all_tickets())
    async with uow_factory() as uow:
        await uow.residents.save(Resident(5003, 5003, PROFILE_NAME, "wangdama88"))
        await uow.commit()
    async with uow_factory() as uow:
        return await dashboard(uow, [community], NOW, grids)


async def test_each_week_is_the_weekly_summary_of_that_week(uow_factory):
    d = await loaded_dashboard(uow_factory)
    assert len(d.weeks) == 13 and d.this_week.week == W47 and d.this_week.in_progress
    assert d.weeks[0].week == W47.shift(-12) and not d.weeks[0].in_progress
    community = example_community()
    async with uow_factory() as uow:
        for row in d.weeks:
            items = await uow.tickets.for_summary("XK", row.week.start, row.week.end)
            [summary] = summarize_each("XK", row.week, items, [None], NOW)  # as handlers.summary.prepare
            assert row.figures == summary.total, row.week.label
    this = d.this_week.figures
    assert (this.new, this.resolved, this.still_open, this.overdue) == (5, 3, 4, 4)  # 0009 still open
    grids = {b.key: b for b in d.by_grid}
    assert list(grids) == ["XK/1", "XK/2", "XK/3"] and grids["XK/1"].name == "第一网格"
    assert grids["XK/1"].this_week == summary.by_grid["1"]
    # the 12 weeks before: 0011 and 0013 in grid 1 (filed and resolved), nothing else of grid 1
    assert (grids["XK/1"].twelve_weeks.new, grids["XK/1"].twelve_weeks.resolved) == (4, 2)
    assert grids["XK/1"].twelve_weeks.rated == 1
    categories = {b.name: b for b in d.by_category}
    assert categories["消防安全"].this_week == summary.by_category["fire"]
    assert [b.name for b in d.by_category] == [c.name for c in community.categories
                                                if c.name in categories]  # roster order


async def test_this_week_and_last_are_what_the_weekly_summary_reports(uow_factory, tmp_path):
    """Through handlers.summary.prepare itself: the community's report and each grid's."""
    d = await loaded_dashboard(uow_factory)
    for row in (d.weeks[-1], d.weeks[-2]):
        reports = await prepared(uow_factory, NOW, row.week, tmp_path / row.week.label)
        by_chat = {r.grid_code: r.summary for r in reports}
        assert by_chat[None].total == row.figures
        if row.in_progress:
            grids = {code: s.total for code, s in by_chat.items() if code is not None and not s.total.empty}
            assert grids == {b.key.removeprefix("XK/"): b.this_week for b in d.by_grid}


async def test_medians_and_hotspots_over_the_weeks(uow_factory):
    d = await loaded_dashboard(uow_factory)
    assert (d.median_accept_hours, d.accepted_count) == (2.0, 3)
    assert (d.median_resolve_hours, d.resolved_count) == (48.0, 4)  # 24, 48, 96 and 0007's 48
    assert [(h.place, h.category, h.count) for h in d.hotspots] == [
        ("3号楼", "环境卫生", 4), ("5号楼", "消防安全", 2)]


async def test_the_attention_list_is_the_late_and_unhappy_and_nothing_personal(uow_factory):
    d = await loaded_dashboard(uow_factory)
    assert [(i.number[-4:], i.hours_late) for i in d.attention] == [
        ("0005", 169), ("0009", 121), ("0003", 25), ("0004", 1)]
    assert d.attention_total == 4
    reopened = d.attention[-1]
    assert reopened.reasons == (Attention.OVERDUE, Attention.REOPENED, Attention.UNHAPPY)
    assert reopened.status is TicketStatus.REOPENED and reopened.place == "6号楼1单元"
    fire = d.attention[2]
    assert (fire.grid, fire.category, fire.place) == ("第二网格", "消防安全", "5号楼1单元")
    assert "消防通道被堵" in fire.description
    for item in d.attention:
        text = repr(item)
        assert not PHONE_PATTERN.search(text) and not any(name in text for name in NAMES), text
        assert PROFILE_NAME not in text and "wangdama88" not in text, text


async def test_a_grid_worker_sees_only_their_grid(uow_factory):
    d = await loaded_dashboard(uow_factory, grids=frozenset({("XK", "2"), ("OTHER", "1")}))
    assert d.scope_names == ("兴康社区 第二网格",)
    async with uow_factory() as uow:
        items = await uow.tickets.for_summary("XK", W47.start, W47.end)
    [grid_2] = summarize_each("XK", W47, items, ["2"], NOW)
    assert d.this_week.figures == grid_2.total
    assert [b.key for b in d.by_grid] == ["XK/2"]
    assert {i.number[-4:] for i in d.attention} == {"0003", "0004"} and d.attention_total == 2
    assert [(h.place, h.category) for h in d.hotspots] == [("5号楼", "消防安全")]
    assert (d.median_accept_hours, d.median_resolve_hours) == (6.0, 48.0)  # 0012 only
    async with uow_factory() as uow:
        nothing = await dashboard(uow, [example_community()], NOW, frozenset({("OTHER", "1")}))
    assert nothing.scope_names == () and not nothing.attention and nothing.this_week.figures.new == 0


async def test_the_charts_are_pngs_of_the_documented_size(uow_factory):
    d = await loaded_dashboard(uow_factory)
    texts = Texts()
    for kind, height in (("weeks", dashboard_chart.HEIGHT), ("rates", dashboard_chart.RATES_HEIGHT)):
        data = dashboard_chart.trend_chart_png(d, texts, kind)
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        with Image.open(io.BytesIO(data)) as image:
            assert image.size == (1080, height)
            assert len(image.getcolors(1 << 16) or ()) > 10  # drawn, not a blank page
    with pytest.raises(ValueError):
        dashboard_chart.trend_chart_png(d, texts, "pie")
    async with uow_factory() as uow:  # 13 weeks with nothing: axes and labels, no error
        quiet = await dashboard(uow, [example_community()], Week(2026, 30, "Asia/Shanghai").start)
    assert all(w.figures.empty for w in quiet.weeks)
    for kind in ("weeks", "rates"):
        with Image.open(io.BytesIO(dashboard_chart.trend_chart_png(quiet, texts, kind))) as image:
            assert image.width == 1080


def web_templates() -> Environment:
    return Environment(loader=FileSystemLoader("templates/web"), autoescape=True, undefined=StrictUndefined)


def ticket_url(number: str) -> str:
    return f"/console/tickets/{number}"


async def test_the_dashboard_partial_renders_and_escapes(uow_factory):
    d = await loaded_dashboard(uow_factory)
    item = d.attention[0]
    d = replace(d, attention=(replace(item, place=f"5号楼{SCRIPT}", description=f"堵了{SCRIPT}"),
                              *d.attention[1:]))
    html = web_templates().get_template("_dashboard.html").render(
        dashboard=d, chart_urls={"weeks": "/console/chart/weeks.png?x=1&y=2", "rates": "/r.png"},
        ticket_url=ticket_url)
    assert SCRIPT not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'href="/console/tickets/XK-20261112-0005"' in html
    assert 'src="/console/chart/weeks.png?x=1&amp;y=2"' in html and 'src="/r.png"' in html
    assert "工作看板：兴康社区" in html and "需要关注的工单（4 张）" in html and "7天1小时" in html
    assert html.count("<tr") >= 13 * 2  # both 13-week tables
    assert not PHONE_PATTERN.search(html) and not any(name in html for name in NAMES)
    empty_week = Week(2026, 30, "Asia/Shanghai")
    async with uow_factory() as uow:
        quiet = await dashboard(uow, [example_community()], empty_week.start + timedelta(days=2))
    html = web_templates().get_template("_dashboard.html").render(
        dashboard=quiet, chart_urls={"weeks": "/w.png", "rates": "/r.png"}, ticket_url=ticket_url)
    assert "现在没有超期" in html and "这13周没有工单" in html


def test_the_roster_partial_shows_who_handles_what_and_escapes():
    community = example_community()
    evil = Building("X1", f"{SCRIPT}楼", "3")
    away = Person("请假的人", Role.GRID_WORKER, "7", telegram_user_id=9999, away=True)
    community = replace(community, buildings=(*community.buildings, evil), staff=(*community.staff, away))
    view = roster_view(community, {1011: 3, 1012: 1})
    grid_1 = view.grids[0]
    assert grid_1.name == "第一网格" and grid_1.open_tickets == 3 and grid_1.reachable
    assert [p.name for p in grid_1.workers] == ["王芳"] and grid_1.workers[0].phone == "13800001011"
    [places] = grid_1.places
    assert places.estate is None and places.buildings == ("1号楼", "2号楼", "3号楼", "4号楼")
    [loose] = view.estates
    assert loose.code is None and next(b for b in loose.buildings if b.code == "X1").grid_name == "第三网格"
    guo = next(p for g in view.grids for p in g.building_leaders if p.name == "郭秀云")
    assert not guo.bound and guo.open_tickets is None and view.unbound == 1
    fire = next(c for c in view.categories if c.code == "fire")
    assert fire.deadline_hours == 24 and fire.feedback_workdays is None and fire.mode.value == "自办"
    facility = next(c for c in view.categories if c.code == "facility")
    assert [p.name for p in facility.partners] == ["钱经理"]
    html = web_templates().get_template("_roster.html").render(roster=view)
    assert SCRIPT not in html and "&lt;script&gt;alert(1)&lt;/script&gt;楼" in html
    assert "王芳" in html and "13800001011" in html and "未绑定" in html and "请假中" in html
    assert "反馈时限" in html and "24 小时" in html and "3 个工作日" in html  # fire on the clock, env not
    assert view.office_hours is None and "按办公时间计" not in html
    assert "紧急工单 1 小时、重大工单 30 分钟内签收" in html
    office = parse_office_hours("08:30-12:00,14:00-17:30", community.timezone)
    with_office = replace(community, reminders=replace(community.reminders, office_hours=office))
    html = web_templates().get_template("_roster.html").render(roster=roster_view(with_office, {}))
    assert "新工单 4 小时内签收，按办公时间计（工作日 08:30-12:00,14:00-17:30，节假日顺延）" in html
    assert not re.search(r"张阿姨|李叔|王姐", html)  # residents are not in the roster


def cuihu():
    from pathlib import Path

    from gridcore.roster import parse_roster

    path = Path("examples/cuihu.yaml")
    return parse_roster(path.read_text(encoding="utf-8"), str(path))


def test_the_roster_of_a_community_with_estates_groups_buildings_by_estate():
    community = cuihu()
    view = roster_view(community, {})
    assert view.has_estates and [e.name for e in view.estates][:1] == [community.estates[0].name]
    first = view.estates[0]
    assert all(b.name.startswith(first.name) for b in first.buildings)  # named as the bot names them
    grid = view.grids[0]
    assert grid.places and all(group.estate for group in grid.places)
    assert sum(len(g.buildings) for g in grid.places) == sum(
        1 for b in community.buildings if b.grid_code == grid.code)
    html = web_templates().get_template("_roster.html").render(roster=view)
    assert f"<strong>{first.name}</strong>：" in html and "小区和楼栋" in html
    # Under its estate's heading a building shows its own name.
    assert f'<td data-label="楼栋">{first.buildings[0].own_name}</td>' in html


async def test_several_communities_add_up_and_name_their_grids(uow_factory):
    xk_only = await loaded_dashboard(uow_factory)
    async with uow_factory() as uow:
        both = await dashboard(uow, [example_community(), cuihu()], NOW)
    assert both.scope_names == ("兴康社区", "翠湖社区")
    assert [w.figures for w in both.weeks] == [w.figures for w in xk_only.weeks]  # 翠湖 has no tickets
    assert [(b.community, b.name) for b in both.by_grid] == [
        ("兴康社区", "第一网格"), ("兴康社区", "第二网格"), ("兴康社区", "第三网格")]
    assert (both.hotspots[0].community, both.hotspots[0].place) == ("兴康社区", "3号楼")
    assert both.attention == xk_only.attention and both.community_names == ("兴康社区", "翠湖社区")
    html = web_templates().get_template("_dashboard.html").render(
        dashboard=both, chart_urls={"weeks": "/w.png", "rates": "/r.png"}, ticket_url=ticket_url)
    assert "<td>兴康社区 第一网格</td>" in html and "<td>兴康社区 3号楼</td>" in html  # whose each row is
