"""The weekly summary: numbers equal a hand-computed week (both databases), rates over nothing are "—",
the chart is a PNG, group messages carry no resident's name or phone, and the CLI prints a week."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from dialog_support import (
    FakeClock,
    assert_telegram_accepts,
    example_community,
    load_example,
    make_conversations,
)
from test_cli import gridbot

from gridcore.metrics import Week, WeekTicket, summarize
from gridcore.ticket import Action, Location, Rating, Reporter, Satisfaction, Solved, Ticket, TicketStatus
from handlers import summary
from handlers.chart import count_ticks
from handlers.texts import Texts

pytestmark = pytest.mark.memory

SH = ZoneInfo("Asia/Shanghai")
W47 = Week(2026, 47, "Asia/Shanghai")  # Mon 2026-11-16 00:00 to Mon 2026-11-23 00:00, Shanghai time
NAMES = ("张阿姨", "李叔", "王姐")
PHONES = ("13800138000", "13912345678", "13700001111")
PHONE_PATTERN = re.compile(r"1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}")
STAFF_GROUP = -1001000000001


def at(day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SH)


def make(n: int, *, grid: str, category: str, building: str, created: datetime, due_days: float = 3,
         status: TicketStatus = TicketStatus.ACCEPTED, resolved: datetime | None = None,
         rating: tuple[datetime, Rating] | None = None, due: datetime | None = None) -> Ticket:
    ticket = Ticket(
        number=f"XK-{created:%Y%m%d}-{n:04d}", community_code="XK", category_code=category,
        description="楼道堆物", location=Location(building, "1", "3楼"),
        reporter=Reporter(5000 + n, 5000 + n, NAMES[n % 3], PHONES[n % 3]),
        created_at=created, feedback_due_at=due or created + timedelta(days=due_days), status=status,
        grid_code=grid, resolved_at=resolved,
    )
    if rating is not None:
        rated_at, answer = rating
        ticket.record(f"resident:{5000 + n}", rated_at, Action.RATE, contacted=answer.contacted,
                      solved=answer.solved, satisfaction=answer.satisfaction, reason=answer.reason)
        if not answer.unhappy:
            ticket.rating = answer
    return ticket


def fixture_tickets() -> list[Ticket]:
    """The known week. Hand-computed below: see test_numbers_equal_the_hand_computed_week."""
    S = TicketStatus
    return [
        # grid 1
        make(1, grid="1", category="env", building="3", created=at(16, 10), resolved=at(18, 10),
             status=S.CLOSED,
             rating=(at(18, 12), Rating(True, Solved.SOLVED, Satisfaction.SATISFIED))),  # on time
        make(2, grid="1", category="env", building="3", created=at(17, 9), resolved=at(21, 9),
             status=S.CLOSED,
             rating=(at(21, 10), Rating(True, Solved.PARTLY, Satisfaction.BASIC))),  # late
        make(5, grid="1", category="env", building="2", created=at(12, 8), status=S.SUBMITTED),  # overdue
        make(9, grid="1", category="env", building="1", created=at(14, 8), resolved=at(22, 23, 30),
             status=S.RESOLVED),  # resolved late on the last evening, not rated yet
        # grid 2
        make(3, grid="2", category="fire", building="5", created=at(18, 8)),  # open, overdue (due 21st)
        # filed last week, resolved, rated 不满意 on the 19th -> reopened with a new clock due the 22nd
        make(4, grid="2", category="env", building="6", created=at(10, 8), status=S.REOPENED,
             due=at(22, 8),
             rating=(at(19, 8), Rating(False, Solved.UNSOLVED, Satisfaction.UNSATISFIED, "没人来"))),
        make(10, grid="2", category="env", building="5", created=at(19, 9), resolved=at(20, 9),
             status=S.CLOSED,
             rating=(at(23, 1), Rating(True, Solved.SOLVED, Satisfaction.SATISFIED))),  # rated next week
        # grid 3
        make(8, grid="3", category="env", building="10", created=at(20, 10), status=S.WITHDRAWN),
        make(6, grid="3", category="env", building="9", created=at(23, 1)),  # next week: not loaded
        make(7, grid="3", category="fire", building="9", created=at(1, 8), resolved=at(3, 8), status=S.CLOSED,
             rating=(at(4, 8), Rating(True, Solved.SOLVED, Satisfaction.SATISFIED))),  # long ago: not loaded
    ]


async def store(uow_factory, tickets: list[Ticket]) -> None:
    async with uow_factory() as uow:
        for ticket in tickets:
            await uow.tickets.add(ticket)
        await uow.commit()


async def week_tickets(uow_factory, week: Week) -> list[WeekTicket]:
    async with uow_factory() as uow:
        return await uow.tickets.for_summary("XK", week.start, week.end)


def test_week_bounds_in_the_community_time_zone():
    week = Week.parse("2026-W47", "Asia/Shanghai")
    assert week == W47 and week.label == "2026-W47"
    assert week.start == at(16) and week.end == at(23)
    assert week.start.astimezone(ZoneInfo("UTC")).hour == 16  # Sunday 16:00 UTC
    assert Week.before(at(23, 9), "Asia/Shanghai") == W47
    with pytest.raises(ValueError):
        Week.parse("2026-47", "Asia/Shanghai")


async def test_numbers_equal_the_hand_computed_week(uow_factory):
    await load_example(uow_factory)
    await store(uow_factory, fixture_tickets())
    items = await week_tickets(uow_factory, W47)
    loaded = {item.ticket.number[-4:] for item in items}
    assert loaded == {"0001", "0002", "0003", "0004", "0005", "0008", "0009", "0010"}  # not 6 (next week), 7

    s = summarize("XK", W47, items)
    t = s.total
    assert (t.new, t.resolved, t.still_open, t.overdue) == (5, 4, 3, 3)
    assert (t.rated, t.contacted, t.solved, t.satisfied, t.basic, t.resolved_on_time) == (3, 2, 1, 1, 1, 2)
    assert t.response_rate.value == pytest.approx(2 / 3) and t.response_rate.percent == "66.7%"
    assert t.resolution_rate.value == pytest.approx(1 / 3) and t.resolution_rate.percent == "33.3%"
    assert t.satisfaction_rate.value == pytest.approx((1 + 0.9 * 1) / 3)
    assert t.satisfaction_rate.percent == "63.3%"
    assert t.on_time_rate.value == pytest.approx(2 / 4) and t.on_time_rate.percent == "50.0%"

    g1, g2, g3 = s.by_grid["1"], s.by_grid["2"], s.by_grid["3"]
    assert (g1.new, g1.resolved, g1.still_open, g1.overdue, g1.rated, g1.contacted, g1.solved, g1.satisfied,
            g1.basic, g1.resolved_on_time) == (2, 3, 1, 1, 2, 2, 1, 1, 1, 1)
    assert (g2.new, g2.resolved, g2.still_open, g2.overdue, g2.rated, g2.contacted, g2.solved,
            g2.resolved_on_time) == (2, 1, 2, 2, 1, 0, 0, 1)
    assert g2.satisfaction_rate.percent == "0.0%"
    assert (g3.new, g3.resolved, g3.still_open, g3.rated) == (1, 0, 0, 0)
    assert g3.response_rate.percent == "—" and g3.on_time_rate.percent == "—"
    assert set(s.by_grid) == {"1", "2", "3"}
    assert (s.by_category["env"].new, s.by_category["fire"].new, s.by_category["fire"].overdue) == (4, 1, 1)
    assert [(h.kind, h.code, h.count) for h in s.hotspots] == [
        ("category", "env", 4), ("building", "3", 2), ("building", "5", 2)]
    assert [o.number for o in s.overdue] == ["XK-20261110-0004", "XK-20261112-0005", "XK-20261118-0003"]
    assert [d.new for d in s.per_day] == [1, 1, 1, 1, 1, 0, 0]
    assert [d.resolved for d in s.per_day] == [0, 0, 1, 0, 1, 1, 1]

    only_2 = summarize("XK", W47, items, grid_code="2")
    assert only_2.total == g2 and set(only_2.by_grid) == {"2"}
    assert [o.number[-4:] for o in only_2.overdue] == ["0004", "0003"]


async def test_an_empty_week_is_one_line_without_dashes(uow_factory):
    await load_example(uow_factory)
    await store(uow_factory, fixture_tickets())
    week = Week(2026, 30, "Asia/Shanghai")
    s = summarize("XK", week, await week_tickets(uow_factory, week))
    assert s.total.empty and s.total.rated == 0 and s.total.resolved == 0
    t = s.total
    for rate in (t.response_rate, t.resolution_rate, t.satisfaction_rate, t.on_time_rate):
        assert rate.value is None and rate.percent == "—"
    text = summary.render_text(Texts(), example_community(), s)
    assert "本周没有工单" in text and "2026-W30" in text
    assert "—" not in text and "\n" not in text and "三率" not in text


def test_the_chart_is_a_png(tmp_path):
    items = [WeekTicket.of(t) for t in fixture_tickets()]
    path = summary.render_chart(summarize("XK", W47, items), tmp_path / "charts" / "w47.png")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000


def test_count_axes_are_whole_numbers_from_zero_with_few_ticks():
    assert count_ticks(1.25) == [0, 1]  # an empty week
    assert count_ticks(5) == [0, 1, 2, 3, 4, 5]
    assert count_ticks(6.25) == [0, 2, 4, 6]
    assert count_ticks(37.5) == [0, 10, 20, 30]
    assert count_ticks(1250) == [0, 500, 1000]


def test_a_reused_chart_draws_each_summary_as_a_fresh_one_would(tmp_path):
    """prepare() draws a week's charts with one Chart: nothing of one chart (its bars, grids, scale,
    week) may be left in the next."""
    items = [WeekTicket.of(t) for t in fixture_tickets()]
    community = summarize("XK", W47, items)
    grid_2 = summarize("XK", W47, items, grid_code="2")
    grid_3 = summarize("XK", W47, items, grid_code="3")
    empty = summarize("XK", Week(2026, 30, "Asia/Shanghai"), [])
    assert len(community.by_grid) == 3 and len(grid_2.by_grid) == 1 and not empty.by_grid
    reused = summary.Chart()
    for name, s in (("community", community), ("grid-2", grid_2), ("empty", empty), ("grid-3", grid_3),
                    ("again", community)):
        drawn = summary.render_chart(s, tmp_path / "reused" / f"{name}.png", reused)
        fresh = summary.render_chart(s, tmp_path / "fresh" / f"{name}.png")
        if name == "empty":  # nothing to draw: no chart at all
            assert drawn is fresh is None and not (tmp_path / "reused" / "empty.png").exists()
            continue
        assert drawn is not None and fresh is not None
        assert drawn.read_bytes() == fresh.read_bytes(), name
    reused_dir = tmp_path / "reused"
    assert (reused_dir / "grid-2.png").read_bytes() != (reused_dir / "grid-3.png").read_bytes()


def test_long_lists_are_cut_to_one_message():
    base = at(10, 8)
    many = [WeekTicket.of(make(i, grid=str(i % 7 + 1), category="env", building=str(i % 20 + 1),
                            created=base + timedelta(minutes=i))) for i in range(1, 400)]
    s = summarize("XK", W47, many)
    assert len(s.overdue) == 399
    text = summary.render_text(Texts(), example_community(), s)
    assert len(summary.plain(text)) <= 4096
    assert "等 399 张" in text


def assert_no_pii(text: str) -> None:
    for name in NAMES:
        assert name not in text
    assert not PHONE_PATTERN.search(summary.plain(text)), text


async def test_sent_to_staff_and_each_grid_group_with_only_its_numbers_and_no_pii(uow_factory, tmp_path):
    community = await load_example(uow_factory)
    await store(uow_factory, fixture_tickets())
    conversations = make_conversations(uow_factory, FakeClock(at(23, 9)))  # Monday 09:00: last week
    sent = await conversations.system(lambda ctx: summary.send(ctx, chart_dir=tmp_path))
    grids = [g for g in community.grids if g.group_chat_id is not None]
    assert [m.chat_id for m in sent] == [STAFF_GROUP, *(g.group_chat_id for g in grids)]
    busy_grids = {community.grid(code).group_chat_id for code in ("1", "2", "3")}
    for message in sent:
        assert_telegram_accepts(message)
        assert_no_pii(message.text)
        assert "2026-W47" in message.text
        if message.chat_id in (STAFF_GROUP, *busy_grids):
            (photo,) = message.photos
            assert photo.startswith("file:")
            assert Path(photo.removeprefix("file:")).read_bytes()[:4] == b"\x89PNG"
        else:  # a grid with nothing going on: one line, no chart
            assert message.photos == () and "本周没有工单" in message.text and "\n" not in message.text
    staff = sent[0].text
    assert "新增 <b>5</b> · 办结 <b>4</b> · 仍在办 <b>3</b> · 超期 <b>3</b>" in staff
    assert "响应率 <b>66.7%</b>（有人联系 2 ÷ 评价 3）" in staff
    assert "满意率 <b>63.3%</b>（(满意 1 + 0.9×基本满意 1) ÷ 评价 3）" in staff
    assert ("按时反馈率 <b>50.0%</b>（按时办结 2 ÷ 办结 4）\n"
            "（时限按工作日计：周末和法定节假日不算，调休上班日照算）\n\n<b>按网格</b>") in staff
    assert "第一网格" in staff and "XK-20261118-0003" in staff
    grid2 = next(m.text for m in sent if m.chat_id == community.grid("2").group_chat_id)
    assert "新增 <b>2</b> · 办结 <b>1</b> · 仍在办 <b>2</b> · 超期 <b>2</b>" in grid2
    assert "XK-20261112-0005" not in grid2 and "XK-20261118-0003" in grid2
    grid7 = next(m.text for m in sent if m.chat_id == community.grid("7").group_chat_id)
    assert grid7 == ("📊 <b>兴康社区 第七网格 周报 2026-W47</b>（11-16 至 11-22）："
                     "本周没有工单（无新增、办结、在办或评价）。")


def test_cli_prints_a_week(tmp_path):
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'g.db'}", "LOG_LEVEL": "WARNING"}
    assert gridbot("roster", "load", "examples/roster.yaml", env=env).returncode == 0
    result = gridbot("summary", "--week", "2026-W47", "--chart-dir", str(tmp_path / "charts"), env=env)
    assert result.returncode == 0, result.stderr
    assert "兴康社区 周报 2026-W47" in result.stdout and "<b>" not in result.stdout
    assert result.stdout.count("===") == 8 and result.stdout.count("本周没有工单") == 8  # no tickets loaded
    assert result.stdout.count("chart: -（没有可画的数据）") == 8
    assert not list((tmp_path / "charts").glob("*"))
    bad = gridbot("summary", "--week", "2026-47", env=env)
    assert bad.returncode == 2 and "ISO week" in bad.stderr and "Traceback" not in bad.stderr


async def test_the_scheduled_summary_goes_out_once_per_week(uow_factory, tmp_path):
    """Two runs of the Monday job (two processes, or a restart) queue last week's summary once."""
    from datetime import UTC, datetime

    from dialog_support import FakeClock, load_example, make_conversations

    from handlers import summary

    await load_example(uow_factory)
    bot = make_conversations(uow_factory, FakeClock(datetime(2026, 11, 23, 1, 0, tzinfo=UTC)))

    async def job(ctx):
        await summary.send_weekly(ctx, tmp_path)

    first = await bot.system(job)
    second = await bot.system(job)
    assert first and second == []


async def prepared(uow_factory, now: datetime, week: Week, chart_dir: Path) -> list[summary.Report]:
    """The reports a summary made at `now` would send (as `gridbot summary` prints them)."""
    reports: list[summary.Report] = []

    async def work(ctx) -> None:
        reports.extend(await summary.prepare(ctx, week, chart_dir))

    await make_conversations(uow_factory, FakeClock(now)).system(work)
    return reports


async def test_the_week_in_progress_counts_overdue_only_past_deadlines(uow_factory, tmp_path):
    """Made on Thursday 15:30: a ticket due tonight is open, not overdue; one due this morning is;
    the chart and the per-day numbers stop at today."""
    await load_example(uow_factory)
    tonight = make(21, grid="1", category="env", building="3", created=at(16, 9), due=at(19, 22))
    this_morning = make(22, grid="1", category="env", building="2", created=at(16, 9), due=at(19, 10))
    done = make(23, grid="1", category="fire", building="2", created=at(17, 9), resolved=at(18, 9),
                status=TicketStatus.RESOLVED)
    await store(uow_factory, [tonight, this_morning, done])
    thursday = at(19, 15, 30)
    staff = (await prepared(uow_factory, thursday, W47, tmp_path))[0]
    s = staff.summary
    assert s.in_progress and (s.total.still_open, s.total.overdue) == (2, 1)
    assert [o.number for o in s.overdue] == [this_morning.number] and s.overdue[0].days_over == 0
    assert [d.day.day for d in s.per_day] == [16, 17, 18, 19]
    text = summary.plain(staff.text)
    assert "（11-16 至 11-19 15:30，本周进行中）" in text and "超期工单（1 张，截至 11-19 15:30）" in text
    assert this_morning.number in text and tonight.number not in text
    assert staff.chart is not None and staff.chart.exists()
    # The same week summed up after it ended: both deadlines have passed.
    after = (await prepared(uow_factory, at(23, 9), W47, tmp_path))[0].summary
    assert not after.in_progress and after.total.overdue == 2 and len(after.per_day) == 7


async def test_an_unhappy_rating_that_reopened_a_ticket_still_shows_with_the_final_one(uow_factory, tmp_path):
    """不满意 reopened the ticket, it was resolved again and rated 满意 in the same week: the rates count
    the final rating, and the summary lists the ticket with its first and its final rating. A 不满意
    not yet followed by a new rating is listed as such."""
    await load_example(uow_factory)
    twice = make(31, grid="1", category="env", building="3", created=at(16, 8), resolved=at(18, 8),
                 status=TicketStatus.CLOSED,
                 rating=(at(17, 10), Rating(True, Solved.UNSOLVED, Satisfaction.UNSATISFIED, "还是堆着")))
    twice.record("resident:5031", at(18, 10), Action.RATE, contacted=True, solved=Solved.SOLVED,
                 satisfaction=Satisfaction.SATISFIED, reason=None)
    await store(uow_factory, [*fixture_tickets(), twice])
    items = await week_tickets(uow_factory, W47)
    s = summarize("XK", W47, items)
    assert [(r.number[-4:], r.first.satisfaction, r.final and r.final.satisfaction) for r in s.reopened] == [
        ("0004", Satisfaction.UNSATISFIED, None), ("0031", Satisfaction.UNSATISFIED, Satisfaction.SATISFIED)]
    assert s.by_grid["1"].rated == 3 and s.by_grid["1"].satisfied == 2  # 0031 counts once, as 满意
    staff = (await prepared(uow_factory, at(23, 9), W47, tmp_path))[0]
    text = summary.plain(staff.text)
    assert "评价不满意、重新办理（2 张）" in text
    assert f"{twice.number} 环境卫生 3号楼：首次评价 不满意（未解决） → 最终评价 满意（已解决）" in text
    assert "XK-20261110-0004 环境卫生 6号楼：首次评价 不满意（未解决） → 尚未再次评价" in text
    # each listed ticket on a line of its own (2 reopened, 3 overdue), the sections apart
    assert sum(line.startswith("· XK-") for line in text.splitlines()) == 5
    assert "最终评价 满意（已解决）\n\n超期工单（3 张）\n· XK-20261110-0004" in text
