"""Working-day deadlines (issue 20) on chinese_calendar's real 2026 data: 国庆+中秋 2026 is 10月1日-7日
off, with 调休 make-up workdays Sunday 9月20日 and Saturday 10月10日; 中秋 alone is 9月25日-27日."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest

from bot.roster_files import read_roster_checked
from gridcore.community import Category, Community
from gridcore.deadlines import ReminderPolicy, Stage, due_stages, start_accept_clock
from gridcore.roster import RosterError, parse_roster
from gridcore.ticket import Location, Reporter, Ticket, TicketStatus
from gridcore.workdays import (
    add_office_time,
    add_workdays,
    calendar_gaps,
    is_workday,
    next_office_moment,
    parse_office_hours,
    within_office_hours,
)

pytestmark = pytest.mark.memory

TZ = "Asia/Shanghai"
SH = ZoneInfo(TZ)
OFFICE = parse_office_hours("08:30-12:00,14:00-17:30", TZ)
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def at(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SH)


def test_the_2026_calendar_is_what_the_tests_assume():
    assert all(chinese_calendar.is_holiday(date(2026, 10, d)) for d in range(1, 8))
    assert chinese_calendar.is_workday(date(2026, 10, 10))  # Saturday, 调休
    assert chinese_calendar.is_workday(date(2026, 9, 20))  # Sunday, 调休
    assert date(2026, 10, 10).weekday() == 5 and date(2026, 10, 9).weekday() == 4


def test_a_ticket_filed_the_day_before_national_day_is_due_after_it():
    # Wednesday 9月30日 10:00: 10月1日-7日 off, then Thursday 8, Friday 9, make-up Saturday 10.
    assert add_workdays(at(9, 30, 10), 3, TZ) == at(10, 10, 10)


def test_the_friday_before_a_make_up_saturday_counts_that_saturday():
    # Friday 10月9日 15:00: Saturday 10 (调休), Monday 12, Tuesday 13 — not Wednesday 14.
    assert add_workdays(at(10, 9, 15), 3, TZ) == at(10, 13, 15)


def test_an_ordinary_friday_is_due_wednesday_same_time():
    assert add_workdays(at(11, 20, 15), 3, TZ) == at(11, 25, 15)


def test_filed_on_a_day_off_counts_from_the_next_working_day_to_its_end():
    # A holiday: Thursday 8 is day 1, Friday 9 day 2, the make-up Saturday 10 day 3, due at its end.
    assert add_workdays(at(10, 3, 9), 3, TZ) == at(10, 10, 23, 59) + timedelta(seconds=59)
    # An ordinary Saturday: Monday is day 1, due at the end of Wednesday.
    assert add_workdays(at(11, 21, 9), 3, TZ) == at(11, 25, 23, 59) + timedelta(seconds=59)


def test_the_deadline_is_in_local_time_whatever_zone_the_moment_comes_in():
    utc = at(10, 9, 15).astimezone(ZoneInfo("UTC"))
    assert add_workdays(utc, 3, TZ) == at(10, 13, 15)


def test_office_hours_with_a_lunch_break():
    assert within_office_hours(at(10, 12, 9), OFFICE)
    assert not within_office_hours(at(10, 12, 12, 30), OFFICE)  # lunch
    assert not within_office_hours(at(10, 3, 9), OFFICE)  # a holiday
    assert within_office_hours(at(10, 10, 9), OFFICE)  # the make-up Saturday
    assert next_office_moment(at(10, 12, 12, 30), OFFICE) == at(10, 12, 14)
    assert next_office_moment(at(9, 30, 20), OFFICE) == at(10, 8, 8, 30)  # over the holiday
    assert add_office_time(at(10, 12, 11), timedelta(hours=2), OFFICE) == at(10, 12, 15)
    assert add_office_time(at(10, 12, 15), -timedelta(hours=2), OFFICE) == at(10, 12, 11)
    assert add_office_time(at(10, 12, 16), timedelta(hours=1, minutes=30), OFFICE) == at(10, 12, 17, 30)


@pytest.mark.parametrize("text", ["8:30", "17:30-08:30", "08:30-12:00,11:00-17:30", "25:00-26:00",
                                  "08:00-09:00,10:00-11:00,12:00-13:00"])
def test_office_hours_that_do_not_make_sense_are_refused(text):
    with pytest.raises(ValueError):
        parse_office_hours(text, TZ)


def assigned(filed: datetime, policy: ReminderPolicy, urgent: bool = False) -> Ticket:
    ticket = Ticket.file(number="XK-1", community_code="XK", category_code="env",
                         feedback_deadline=timedelta(days=3), description="楼道堆物", location=Location("3"),
                         reporter=Reporter(5001, 5001), at=filed, urgent=urgent)
    ticket.status = TicketStatus.ASSIGNED
    start_accept_clock(ticket, filed, policy)
    return ticket


def test_a_ticket_filed_at_20_has_its_acceptance_counted_from_the_next_working_morning():
    policy = ReminderPolicy(office_hours=parse_office_hours("08:30-17:30", TZ))
    ticket = assigned(at(11, 24, 20), policy)  # Tuesday evening, 4 h to accept
    assert ticket.accept_due_at == at(11, 25, 12, 30)
    assert due_stages(ticket, at(11, 25, 10, 29), policy)[0] == []
    assert due_stages(ticket, at(11, 25, 10, 30), policy)[0] == [Stage.ACCEPT_REMINDER]  # half of it
    assert due_stages(ticket, at(11, 25, 12, 30), policy)[0] == [Stage.ACCEPT_OVERDUE]
    friday = assigned(at(11, 20, 20), policy)
    assert friday.accept_due_at == at(11, 23, 12, 30)  # the weekend does not count


def test_an_urgent_ticket_runs_on_the_clock_and_no_office_hours_is_the_clock():
    policy = ReminderPolicy(office_hours=parse_office_hours("08:30-17:30", TZ))
    assert assigned(at(11, 24, 20), policy, urgent=True).accept_due_at == at(11, 24, 21)
    assert assigned(at(11, 24, 20), ReminderPolicy()).accept_due_at == at(11, 25, 0)


def test_a_year_past_the_calendar_skips_weekends_and_warns_once(caplog):
    beyond = 2099
    assert calendar_gaps(date(beyond, 1, 1)) == [beyond, beyond + 1]
    assert calendar_gaps(date(2025, 6, 1)) == []
    with caplog.at_level(logging.WARNING, logger="gridcore.workdays"):
        # Friday 2099-01-02 15:00 → Wednesday 7th: Saturday and Sunday skipped, nothing else known.
        assert add_workdays(at(1, 2, 15, year=beyond), 3, TZ) == at(1, 7, 15, year=beyond)
        assert add_workdays(at(1, 9, 15, year=beyond), 3, TZ) == at(1, 14, 15, year=beyond)
        assert is_workday(date(beyond, 1, 1))  # 元旦, but the calendar cannot say
    warnings = [r for r in caplog.records if str(beyond) in r.getMessage()]
    assert len(warnings) == 1


def example(name: str = "roster.yaml") -> Community:
    return parse_roster((EXAMPLES / name).read_text(encoding="utf-8"), name)


def test_the_examples_promise_three_working_days_and_emergencies_keep_the_clock():
    for name in ("roster.yaml", "cuihu.yaml"):
        community = example(name)
        for category in community.categories:
            if category.emergency or category.code == "fire":
                assert category.feedback_workdays is None
            else:
                assert category.feedback_workdays == 3, category.code
        assert community.reminders.office_hours is None


ROSTER = """\
community: {code: XK, name: 兴康社区%s}
grids: [{code: "1", name: 第一网格}]
buildings: [{code: "3", name: 3号楼, grid: "1"}]
staff: [{name: 王芳, role: grid_worker, grid: "1", telegram_user_id: 1001}]
categories: [{code: env, name: 环境卫生%s}]
"""


def test_a_roster_gives_working_days_and_office_hours():
    community = parse_roster(ROSTER % (', office_hours: "08:30-12:00,14:00-17:30"',
                                       ", feedback_workdays: 2"), "r.yaml")
    assert community.reminders.office_hours == OFFICE
    category = community.category("env")
    assert category is not None and category.feedback_due(at(10, 9, 15), TZ) == at(10, 12, 15)


def test_an_old_roster_keeps_the_clock():
    community = parse_roster(ROSTER % ("", ", feedback_days: 3"), "r.yaml")
    category = community.category("env")
    assert category is not None and category.feedback_workdays is None
    assert category.feedback_due(at(9, 30, 10), TZ) == at(10, 3, 10)  # through the holiday, as before
    assert community.reminders == ReminderPolicy()


@pytest.mark.parametrize(("community", "category", "says"), [
    (', office_hours: "9-5"', "", "office_hours"),
    ("", ", feedback_workdays: 3, feedback_days: 3", "not both"),
    ("", ", feedback_workdays: 0", "feedback_workdays"),
])
def test_roster_problems(community, category, says):
    with pytest.raises(RosterError) as problem:
        parse_roster(ROSTER % (community, category), "r.yaml")
    assert says in str(problem.value)


def test_roster_check_warns_when_the_calendar_does_not_cover_this_year_or_the_next(tmp_path):
    _, warnings = read_roster_checked(EXAMPLES / "roster.yaml", today=date(2099, 3, 1))
    gaps = [w for w in warnings if "chinese-calendar" in str(w)]
    assert len(gaps) == 2 and "2099" in str(gaps[0]) and "2100" in str(gaps[1])
    _, covered = read_roster_checked(EXAMPLES / "roster.yaml", today=date(2025, 3, 1))
    assert not [w for w in covered if "chinese-calendar" in str(w)]
    clock_only = tmp_path / "clock.yaml"
    clock_only.write_text(ROSTER % ("", ", feedback_days: 3"), encoding="utf-8")
    _, none = read_roster_checked(clock_only, today=date(2099, 3, 1))
    assert not [w for w in none if "chinese-calendar" in str(w)]


async def test_working_days_and_office_hours_survive_storage(uow_factory):
    community = parse_roster(ROSTER % (', office_hours: "08:30-12:00,14:00-17:30"',
                                       ", feedback_workdays: 2"), "r.yaml")
    async with uow_factory() as uow:
        await uow.roster.upsert(community)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.roster.get("XK") == community
    plain = replace(community, reminders=ReminderPolicy(),
                    categories=(Category("env", "环境卫生", feedback_deadline=timedelta(days=3)),))
    async with uow_factory() as uow:
        await uow.roster.upsert(plain)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.roster.get("XK") == plain


def test_the_promise_residents_read_says_working_days_when_a_category_counts_them():
    from gridcore.posters import FeedbackPromise, feedback_promise

    xinkang = example()
    assert feedback_promise(xinkang) == FeedbackPromise(3, True)
    old = parse_roster(ROSTER % ("", ", feedback_days: 3"), "r.yaml")
    assert feedback_promise(old) == FeedbackPromise(3, False)  # "3 天", as before
    slow = replace(xinkang, categories=(*xinkang.categories,
                                        Category("green", "绿化", feedback_deadline=timedelta(days=5))))
    assert feedback_promise(slow) == FeedbackPromise(5, True)  # 5 calendar days end within 5 working days


async def test_a_report_filed_the_evening_before_national_day_through_the_bot(uow_factory):
    """The real path (dialog → Ticket.file → dispatch): feedback over the holiday to the make-up
    Saturday, and acceptance counted in office hours from the first working morning after it."""
    from dialog_support import FakeClock, ResidentChat, example_community, make_conversations, tickets_of

    community = example_community()
    office = replace(community.reminders, office_hours=parse_office_hours("08:30-17:30", TZ))
    async with uow_factory() as uow:
        await uow.roster.upsert(replace(community, reminders=office))
        await uow.commit()
    bot = make_conversations(uow_factory, FakeClock(at(9, 30, 20).astimezone(ZoneInfo("UTC"))))
    chat = ResidentChat(bot)
    await chat.send("3号楼2单元楼道灯坏了一个星期了")
    await chat.presses("是的", "跳过", "没有照片", "实名反映", "确认提交")
    [ticket] = await tickets_of(uow_factory, 5001)
    assert ticket.feedback_due_at == at(9, 30, 20).replace(month=10, day=10)  # Thu 8, Fri 9, Sat 10 (调休)
    assert ticket.accept_due_at == at(10, 8, 12, 30)  # 4 office hours from 08:30 on 10月8日
    assert "10月10日 20:00" in chat.last_texts()
