"""Deadlines that keep themselves: reminders and 督办 at the right moment, once, with a controllable
clock (no sleeping). The pure rules first, then the sweep on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from dialog_support import FakeClock, ResidentChat, World, load_example, make_conversations

from gridcore.deadlines import (
    ReminderPolicy,
    Stage,
    TimeLeft,
    due_stages,
    restart_clock,
    start_accept_clock,
    time_left,
)
from gridcore.ticket import Action, Location, Reporter, Ticket, TicketStatus
from handlers import upkeep

pytestmark = pytest.mark.memory

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
POLICY = ReminderPolicy()
RESIDENT, WORKER, LEADER, STAFF_GROUP = 5001, 1011, 1021, -1001000000001


def assigned(urgent: bool = False) -> Ticket:
    ticket = Ticket.file(number="XK-1", community_code="XK", category_code="env",
                         feedback_deadline=timedelta(days=3), description="楼道堆物", location=Location("3"),
                         reporter=Reporter(RESIDENT, RESIDENT), at=T0, urgent=urgent)
    ticket.status = TicketStatus.ASSIGNED
    start_accept_clock(ticket, T0, POLICY)
    return ticket


@pytest.mark.parametrize(
    ("after", "send"),
    [
        (timedelta(hours=1, minutes=59), []),
        (timedelta(hours=2), [Stage.ACCEPT_REMINDER]),
        (timedelta(hours=4), [Stage.ACCEPT_OVERDUE]),  # the reminder it overtook is skipped
        (timedelta(days=2), [Stage.ACCEPT_OVERDUE, Stage.FEEDBACK_24H]),
        (timedelta(days=3), [Stage.ACCEPT_OVERDUE, Stage.OVERDUE_LEADER]),
        (timedelta(days=4), [Stage.ACCEPT_OVERDUE, Stage.OVERDUE_LEADER, Stage.OVERDUE_STAFF]),
    ],
)
def test_which_stages_go_out_after_a_gap(after, send):
    assert due_stages(assigned(), T0 + after, POLICY)[0] == send


def test_urgent_accept_clock_and_done_stages_and_a_new_clock_on_reopen():
    urgent = assigned(urgent=True)
    assert due_stages(urgent, T0 + timedelta(minutes=30), POLICY)[0] == [Stage.ACCEPT_REMINDER]
    ticket = assigned()
    ticket.reminders = (Stage.ACCEPT_REMINDER, Stage.ACCEPT_OVERDUE)
    ticket.status = TicketStatus.ACCEPTED
    assert due_stages(ticket, T0 + timedelta(hours=5), POLICY) == ([], [])
    ticket.reminders = (*ticket.reminders, Stage.FEEDBACK_24H, Stage.FEEDBACK_4H, Stage.OVERDUE_LEADER)
    restart_clock(ticket, T0 + timedelta(days=5) + timedelta(days=3))
    assert ticket.feedback_due_at == T0 + timedelta(days=8)
    assert due_stages(ticket, T0 + timedelta(days=7), POLICY)[0] == [Stage.FEEDBACK_24H]
    ticket.status = TicketStatus.RESOLVED
    assert due_stages(ticket, T0 + timedelta(days=30), POLICY) == ([], [])  # feedback met


@pytest.mark.parametrize(
    ("before_due", "left"),
    [
        (timedelta(hours=24), TimeLeft(False, hours=24)),
        (timedelta(hours=4), TimeLeft(False, hours=4)),
        (timedelta(hours=2, minutes=3), TimeLeft(False, hours=2)),
        (timedelta(hours=1, minutes=40), TimeLeft(False, hours=1, minutes=30)),
        (timedelta(minutes=41), TimeLeft(False, minutes=40)),
        (timedelta(minutes=59), TimeLeft(False, hours=1)),
        (timedelta(minutes=3, seconds=10), TimeLeft(False, minutes=3)),
        (timedelta(seconds=5), TimeLeft(False, minutes=1)),
        (timedelta(hours=30, minutes=20), TimeLeft(False, hours=30)),
        (timedelta(days=2, hours=11, minutes=50), TimeLeft(False, days=2, hours=12)),
        (timedelta(days=2, hours=23, minutes=50), TimeLeft(False, days=3)),
        (-timedelta(hours=5, minutes=10), TimeLeft(True, hours=5)),
        (-timedelta(minutes=25), TimeLeft(True, minutes=25)),
    ],
)
def test_time_left_is_rounded_as_a_person_says_it(before_due, left):
    assert time_left(T0 + before_due, T0) == left


def test_time_left_in_words():
    from handlers.texts import Texts

    texts = Texts()
    ticket = assigned()
    due = T0 + timedelta(hours=4)

    def reminder(now: datetime, stage: str = "feedback_4h", unassigned: bool = False) -> str:
        return texts.render("reminder", ticket=ticket, stage=stage, due=due, left=time_left(due, now),
                            place="", unassigned=unassigned)

    assert "还剩约 2 小时）" in reminder(T0 + timedelta(hours=2))
    assert "还剩约 40 分钟）" in reminder(T0 + timedelta(hours=3, minutes=20))
    assert "还剩约 1 小时 30 分钟）" in reminder(T0 + timedelta(hours=2, minutes=31))
    assert "还剩约 2 天 6 小时" in reminder(T0 - timedelta(days=2, hours=2))
    assert "前签收（还剩约 15 分钟）" in reminder(T0 + timedelta(hours=3, minutes=45), "accept_reminder")
    assert "已超期约 3 小时）" in reminder(T0 + timedelta(hours=7))
    assert f"工单 <b>{ticket.number}</b> 需要在" in reminder(T0)  # the number stands apart from the words
    # Nobody handles it yet (the reminder goes to staff): /tasks would not list it; the card's 指派 does.
    assert "/tasks" in reminder(T0) and "/tasks" not in reminder(T0, unassigned=True)
    assert "指派" in reminder(T0, unassigned=True)
    supervise = texts.render("supervise", ticket=ticket, stage="overdue_leader", due=due, place="",
                             handler="王芳",
                             left=time_left(due, T0 + timedelta(days=2, hours=4)))
    assert "仍未办结，已超期约 2 天，经办人：王芳" in supervise


@pytest.fixture
async def filed(uow_factory):
    await load_example(uow_factory)
    clock = FakeClock(T0)
    bot = make_conversations(uow_factory, clock)
    world = World()
    resident = ResidentChat(bot, RESIDENT, "张阿姨", world=world)
    await resident.send("一楼堆放杂物，楼道都堵了")
    await resident.presses("是的")
    await resident.send("3号楼")
    await resident.presses("2单元", "跳过", "没有照片", "实名反映", "确认提交")
    return bot, clock, world


async def sweep(bot) -> list:
    return await bot.system(upkeep.send_reminders)


def to(sent, chat_id):
    return [m.text for m in sent if m.chat_id == chat_id]


async def test_reminders_and_supervision_each_once_at_their_moment(filed, uow_factory):
    bot, clock, world = filed
    clock.advance(hours=1, minutes=59)
    assert await sweep(bot) == []
    clock.advance(minutes=1)
    sent = await sweep(bot)
    assert len(to(sent, WORKER)) == 1 and "还没有签收" in to(sent, WORKER)[0]
    assert await sweep(bot) == []  # the same sweep again sends nothing twice
    clock.advance(hours=2)
    sent = await sweep(bot)
    assert "仍未签收" in to(sent, LEADER)[0] and to(sent, RESIDENT) == []

    worker = ResidentChat(bot, WORKER, "王芳", world=world)
    await worker.press("签收")
    clock.advance(days=1, hours=20)  # 24 h before feedback is due
    assert "还剩约 24 小时" in to(await sweep(bot), WORKER)[0]
    clock.advance(hours=22)  # the sweep ran 2 h late (the bot was down): it says what is really left
    assert "还剩约 2 小时" in to(await sweep(bot), WORKER)[0]
    clock.advance(hours=2)
    clock.advance(hours=4)
    sent = await sweep(bot)
    assert "仍未办结" in to(sent, LEADER)[0] and "网格长 马** 已经在督办" in to(sent, RESIDENT)[0]
    clock.advance(hours=24)
    sent = await sweep(bot)
    assert "请社区协调" in to(sent, STAFF_GROUP)[0] and "社区工作人员已经介入" in to(sent, RESIDENT)[0]
    assert all("张阿姨" not in text and "138" not in text for text in to(sent, STAFF_GROUP))
    assert await sweep(bot) == []
    async with uow_factory() as uow:
        ticket = (await uow.tickets.for_resident(RESIDENT))[0]
        ledger = [e.action for e in await uow.tickets.ledger(ticket.number)]
    assert ledger.count(Action.REMIND) == 3 and ledger.count(Action.SUPERVISE) == 3


async def test_a_stage_missed_while_down_goes_out_once_when_back(filed, uow_factory):
    bot, clock, _ = filed
    clock.advance(days=3, hours=1)  # the bot was down from filing until after the deadline
    sent = await sweep(bot)
    assert to(sent, WORKER) == []  # no stale "24 h before" reminders
    assert len(to(sent, LEADER)) == 2  # 督办: not accepted, and overdue
    assert "仍未办结，已超期约 1 小时" in to(sent, LEADER)[1]
    assert len(to(sent, RESIDENT)) == 1
    assert await sweep(bot) == []


async def test_two_sweepers_racing_send_each_stage_once(filed, database_url, backend):
    """Two processes (two engines) sweep at the same moment: every stage still goes out once."""
    import asyncio

    from storage.db import create_engine
    from storage.uow import uow_factory as make_uow_factory

    bot, clock, _ = filed
    other_engine = create_engine(database_url)
    try:
        other = make_conversations(make_uow_factory(other_engine), clock)
        clock.advance(days=4, hours=1)
        first, second = await asyncio.gather(sweep(bot), sweep(other))
    finally:
        await other_engine.dispose()
    sent = first + second
    assert len(to(sent, LEADER)) == 2 and len(to(sent, STAFF_GROUP)) == 1 and len(to(sent, RESIDENT)) == 2


async def test_a_ticket_one_sweeper_holds_is_skipped_by_the_other(filed, uow_factory, backend):
    if backend != "postgresql":
        pytest.skip("SQLite runs one write transaction at a time; there is no second sweeper to skip")
    _, clock, _ = filed
    clock.advance(days=4)
    async with uow_factory() as first:
        held = await first.tickets.due_for_reminders(clock.now)
        async with uow_factory() as second:
            assert len(held) == 1 and await second.tickets.due_for_reminders(clock.now) == []


def test_the_roster_sets_the_clocks_and_names_a_bad_line():
    from gridcore.roster import RosterError, parse_roster

    base = ('community: {code: XK, name: 兴康社区, accept_hours: 2, urgent_accept_hours: 1, '
            'reminder_hours: [12], staff_after_hours: 6}\n'
            'grids: [{code: "1", name: 一}]\nbuildings: [{code: "3", name: 3号楼, grid: "1"}]\n'
            'staff: []\ncategories: [{code: env, name: 环境卫生}]\n')
    policy = parse_roster(base, "r.yaml").reminders
    assert (policy.accept_within, policy.feedback_reminders, policy.staff_after) == (
        timedelta(hours=2), (timedelta(hours=12),), timedelta(hours=6))
    with pytest.raises(RosterError, match=r"r.yaml:1: .*reminder_hours"):
        parse_roster(base.replace("[12]", "[12, soon]"), "r.yaml")


async def test_a_community_policy_survives_storage_and_drives_the_sweep(uow_factory):
    import dataclasses

    from dialog_support import example_community

    community = example_community()
    community = dataclasses.replace(community, reminders=ReminderPolicy(accept_within=timedelta(hours=2)))
    async with uow_factory() as uow:
        await uow.roster.upsert(community)
        await uow.commit()
    async with uow_factory() as uow:
        assert (await uow.roster.get("XK")).reminders.accept_within == timedelta(hours=2)
    clock = FakeClock(T0)
    bot = make_conversations(uow_factory, clock)
    resident = ResidentChat(bot, RESIDENT, "张阿姨")
    await resident.send("3号楼2单元楼道灯坏了一个星期了")
    await resident.presses("是的", "跳过", "没有照片", "实名反映", "确认提交")
    clock.advance(hours=1)  # half of the community's 2 h acceptance time
    assert "还没有签收" in to(await sweep(bot), WORKER)[0]


async def test_the_sweeps_know_which_communities_have_work_due(filed, uow_factory):
    """A city's minute tick visits only the communities with a stage due or a rating overdue."""
    bot, clock, world = filed
    assert await bot.community_codes(with_work_due=True) == []  # filed now: nothing due yet
    clock.advance(hours=2)  # the 签收 reminder is due
    assert await bot.community_codes(with_work_due=True) == ["XK"]
    await sweep(bot)
    assert await bot.community_codes(with_work_due=True) == []
    worker = ResidentChat(bot, WORKER, "王芳", world=world)
    await worker.press("签收")
    await worker.press("办结")
    await worker.send("已清理")
    await worker.press("没有照片")
    async with uow_factory() as uow:
        [ticket] = await uow.tickets.for_resident(RESIDENT)
        assert ticket.status is TicketStatus.RESOLVED
        for code, days in (("XK", 6), ("XK", 8)):
            due = await uow.tickets.communities_due(clock.now + timedelta(days=days))
            # (the feedback stages are done or moot once resolved; the rating runs 7 days)
            assert (code in due) is (days > 7), (days, due)
