"""Scheduled announcements (居民议事日, 逢四说事, 日排查, 周研判, 进度公示): on their dates in the community
time zone, once each, never when disabled, and no personal data in group posts. Controllable clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from dialog_support import FakeClock, assert_telegram_accepts, example_community, make_conversations

from gridcore.community import Announcement, AnnouncementKind, AnnouncementTarget
from gridcore.roster import RosterError, parse_roster
from gridcore.ticket import Action, Location, Reporter, Ticket
from handlers import announcements

pytestmark = pytest.mark.memory

SHANGHAI = ZoneInfo("Asia/Shanghai")
K = AnnouncementKind
FOURS = Announcement(K.FOURS, time(9, 0), days=(4, 14, 24), targets=(AnnouncementTarget.GRIDS,))
GRID_GROUPS = {-1001000000010 - i for i in range(1, 8)}
PUBLIC = -1001000000002
T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai
RESIDENT, WORKER, OTHER_WORKER, LEADER = 5001, 1011, 1012, 1021


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


# --- the pure schedule --------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (local(2026, 12, 13, 9, 0), []),
        (local(2026, 12, 14, 8, 59), []),
        (local(2026, 12, 14, 9, 0), [local(2026, 12, 14, 9, 0)]),
        (local(2026, 12, 14, 14, 59), [local(2026, 12, 14, 9, 0)]),  # catching up after downtime
        (local(2026, 12, 14, 15, 0), []),  # too late: CATCH_UP is over
        (local(2026, 12, 4, 9, 30), [local(2026, 12, 4, 9, 0)]),
        (local(2026, 12, 24, 9, 0), [local(2026, 12, 24, 9, 0)]),
    ],
)
def test_fours_are_due_on_the_4th_14th_24th_local_time(now, expected):
    assert [o.at for o in announcements.due([FOURS], now)] == expected


def test_weekdays_every_day_disabled_and_over_midnight():
    friday = Announcement(K.WEEKLY_REVIEW, time(16, 0), weekdays=(5,))
    assert announcements.due([friday], local(2026, 11, 27, 16, 0))  # a Friday
    assert not announcements.due([friday], local(2026, 11, 26, 16, 0))
    daily = Announcement(K.DAILY_PATROL, time(23, 30))
    late = announcements.due([daily], local(2026, 11, 27, 1, 0))
    assert [o.at for o in late] == [local(2026, 11, 26, 23, 30)]
    assert announcements.due([replace(FOURS, enabled=False)], local(2026, 12, 14, 9, 0)) == []
    monthly = Announcement(K.COUNCIL_DAY, time(9, 0), days=(31,))
    assert not announcements.due([monthly], local(2026, 11, 30, 9, 0))  # November has no 31st


# --- sending, once ------------------------------------------------------------------------------

async def setup(uow_factory, *items: Announcement):
    community = replace(example_community(), announcements=items)
    async with uow_factory() as uow:
        await uow.roster.upsert(community)
        await uow.commit()
    clock = FakeClock(T0)
    return make_conversations(uow_factory, clock), clock


async def sweep(bot) -> list:
    sent = await bot.system(announcements.send_due)
    for message in sent:
        assert_telegram_accepts(message)
    return sent


async def test_fours_fire_at_0900_shanghai_on_the_14th_once(uow_factory):
    bot, clock = await setup(uow_factory, FOURS)
    clock.now = datetime(2026, 12, 13, 1, 0, tzinfo=UTC)
    assert await sweep(bot) == []
    clock.now = datetime(2026, 12, 14, 0, 59, tzinfo=UTC)
    assert await sweep(bot) == []
    clock.now = datetime(2026, 12, 14, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    sent = await sweep(bot)
    assert {m.chat_id for m in sent} == GRID_GROUPS and len(sent) == 7
    assert all("逢四说事" in m.text for m in sent)
    assert "第一网格" in next(m.text for m in sent if m.chat_id == -1001000000011)
    assert await sweep(bot) == []  # a second sweep
    restarted = make_conversations(uow_factory, clock)  # a restart, or another process
    assert await sweep(restarted) == []
    clock.advance(hours=3)
    assert await sweep(bot) == []


async def test_two_processes_racing_send_each_occurrence_once(uow_factory, database_url):
    import asyncio

    from storage.db import create_engine
    from storage.uow import uow_factory as make_uow_factory

    bot, clock = await setup(uow_factory, FOURS)
    clock.now = datetime(2026, 12, 14, 1, 0, tzinfo=UTC)
    other_engine = create_engine(database_url)
    try:
        other = make_conversations(make_uow_factory(other_engine), clock)
        first, second = await asyncio.gather(sweep(bot), sweep(other))
    finally:
        await other_engine.dispose()
    assert sorted(m.chat_id for m in first + second) == sorted(GRID_GROUPS)


async def test_one_missed_while_down_goes_out_once_when_back(uow_factory):
    bot, clock = await setup(uow_factory, FOURS)
    clock.now = datetime(2026, 12, 4, 4, 0, tzinfo=UTC)  # back at 12:00 local
    assert len(await sweep(bot)) == 7
    assert await sweep(bot) == []


async def test_disabled_announcements_never_fire(uow_factory):
    off = [replace(FOURS, enabled=False), Announcement(K.DAILY_PATROL, time(9, 0), enabled=False)]
    bot, clock = await setup(uow_factory, *off)
    for day in range(1, 32):
        clock.now = datetime(2026, 12, day, 1, 0, tzinfo=UTC)
        assert await sweep(bot) == []


async def test_no_announcements_configured_sends_nothing(uow_factory):
    bot, clock = await setup(uow_factory)
    clock.now = datetime(2026, 12, 14, 1, 0, tzinfo=UTC)
    assert await sweep(bot) == []


async def test_the_roster_announcements_survive_storage(uow_factory):
    community = example_community()
    assert community.announcements and community.public_chat_id == PUBLIC
    async with uow_factory() as uow:
        await uow.roster.upsert(community)
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.roster.get("XK")
    assert stored is not None
    assert stored.announcements == community.announcements and stored.public_chat_id == PUBLIC


# --- what each says -----------------------------------------------------------------------------

async def file_ticket(bot, uow_factory, number: str = "XK-20261123-0001") -> str:
    """A ticket in 3号楼 (第一网格) assigned to 王芳, filed at T0, its feedback due three days later."""
    ticket = Ticket.file(number=number, community_code="XK", category_code="env",
                         feedback_deadline=timedelta(days=3), description="一楼堆放杂物，楼道都堵了",
                         location=Location("3", "2"), at=T0, grid_code="1",
                         reporter=Reporter(RESIDENT, RESIDENT, "张阿姨", "13912345678"))
    ticket.apply(Action.ASSIGN, actor="system", at=T0, assignee=WORKER)
    async with uow_factory() as uow:
        await uow.tickets.add(ticket)
        await uow.commit()
    return number


async def test_daily_patrol_lists_that_workers_open_tickets(uow_factory):
    patrol = Announcement(K.DAILY_PATROL, time(8, 30), checklist=("楼道堆物和消防通道", "独居老人探访"))
    bot, clock = await setup(uow_factory, patrol)
    number = await file_ticket(bot, uow_factory)
    clock.now = datetime(2026, 11, 24, 0, 30, tzinfo=UTC)  # 08:30 local
    sent = await sweep(bot)
    mine = [m.text for m in sent if m.chat_id == WORKER]
    assert len(mine) == 1
    assert number in mine[0] and "楼道堆物和消防通道" in mine[0] and "3号楼" in mine[0]
    assert "11月26日 09:00" in mine[0]  # the feedback deadline, local time
    other = [m.text for m in sent if m.chat_id == OTHER_WORKER]
    assert len(other) == 1 and number not in other[0] and "没有未办结" in other[0]
    assert all(m.chat_id > 0 for m in sent)  # privately only
    assert await sweep(bot) == []


async def test_weekly_review_lists_the_grids_overdue_tickets(uow_factory):
    review = Announcement(K.WEEKLY_REVIEW, time(16, 0), weekdays=(5,))
    bot, clock = await setup(uow_factory, review)
    number = await file_ticket(bot, uow_factory)
    clock.now = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)  # Friday 16:00 local, a day past the deadline
    sent = await sweep(bot)
    text = next(m.text for m in sent if m.chat_id == LEADER)
    assert "周研判" in text and "第一网格" in text and "超期 <b>1</b>" in text
    assert number in text and "已超期" in text
    other_leader = next(m.text for m in sent if m.chat_id == 1022)
    assert number not in other_leader and "未办结工单 <b>0</b>" in other_leader
    assert await sweep(bot) == []


async def test_progress_board_counts_last_months_resolved_with_no_personal_data(uow_factory):
    board = Announcement(K.PROGRESS_BOARD, time(10, 0), days=(1,), targets=(AnnouncementTarget.PUBLIC,))
    council = Announcement(K.COUNCIL_DAY, time(10, 0), days=(1,),
                           targets=(AnnouncementTarget.GRIDS, AnnouncementTarget.PUBLIC), note="议事厅见")
    bot, clock = await setup(uow_factory, board, council)
    number = await file_ticket(bot, uow_factory)
    async with uow_factory() as uow:
        ticket = await uow.tickets.get(number)
        ticket.apply(Action.ACCEPT, actor="1011", at=T0 + timedelta(hours=1))
        ticket.apply(Action.RESOLVE, actor="1011", at=T0 + timedelta(days=1), note="已清理")
        await uow.tickets.save(ticket)
        await uow.commit()
    clock.now = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # 1 December, 10:00 local
    sent = await sweep(bot)
    public = [m.text for m in sent if m.chat_id == PUBLIC]
    board_text = next(t for t in public if "进度公示" in t)
    assert "2026年11月" in board_text and "<b>1</b> 件" in board_text
    assert "环境卫生 1 件" in board_text and "3号楼 1 件" in board_text
    assert any("议事厅见" in t for t in public)
    group_texts = [m.text for m in sent if m.chat_id < 0]
    assert len(group_texts) == 9  # the board, and the council day to the public group and 7 grid groups
    for text in group_texts:
        for personal in ("张阿姨", "13912345678", "1391", "5678", "堆放杂物", number, "王芳", "13800001011"):
            assert personal not in text, (personal, text)
    clock.now = datetime(2027, 1, 1, 2, 0, tzinfo=UTC)
    january = [m.text for m in await sweep(bot) if m.chat_id == PUBLIC and "进度公示" in m.text]
    assert len(january) == 1 and "<b>0</b> 件" in january[0]  # nothing resolved in December


# --- the roster section -------------------------------------------------------------------------

ROSTER = """\
community: {code: XK, name: 兴康社区}
grids:
  - {code: "1", name: 第一网格}
buildings:
  - {code: "1", name: 1号楼, grid: "1"}
staff:
  - {name: 王芳, role: grid_worker, grid: "1", telegram_user_id: 1011}
categories:
  - {code: env, name: 环境卫生}
"""


def problems(section: str) -> list[str]:
    with pytest.raises(RosterError) as caught:
        parse_roster(ROSTER + section, "r.yaml")
    return [str(p) for p in caught.value.problems]


def test_a_roster_without_the_section_has_no_announcements():
    assert parse_roster(ROSTER, "r.yaml").announcements == ()


def test_roster_announcement_entries_are_validated_with_line_numbers():
    found = problems("""\
announcements:
  - kind: 逢五说事
    schedule: {days: [4], time: "09:00"}
  - kind: 逢四说事
    schedule: {days: [4, 32], time: "25:00"}
  - kind: 日排查
    schedule: {time: "08:30", weekday: [1]}
    targets: [grids]
  - kind: 进度公示
    schedule: {days: [1], weekdays: [1], time: "10:00"}
    enabled: maybe
    colour: red
""")
    assert found == [
        'r.yaml:11: announcement #1: kind "逢五说事" is not one of '
        "居民议事日, 逢四说事, 日排查, 周研判, 进度公示",
        'r.yaml:14: announcement "逢四说事" (#2) schedule time must be a time of day like "09:00" '
        "(24-hour, community time zone)",
        'r.yaml:14: each of announcement "逢四说事" (#2) schedule days must be 1-31',
        'r.yaml:16: announcement "日排查" (#3) schedule: unknown key "weekday" (did you mean "weekdays"?)',
        'r.yaml:17: announcement "日排查" (#3) goes to people privately and takes no targets',
        'r.yaml:18: announcement "进度公示" (#4) goes to the public group: set community "public_chat_id"',
        'r.yaml:19: announcement "进度公示" (#4) schedule: give days (of the month) or weekdays, not both',
        'r.yaml:20: announcement "进度公示" (#4) enabled must be true or false',
        'r.yaml:21: announcement #4: unknown key "colour"',
    ]
