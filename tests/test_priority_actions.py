"""调整等级 (issue 20) end to end, on SQLite, PostgreSQL and the in-memory unit of work: from the card
(button → level → typed reason) and from the console (a select and a reason); a 重大 category's filing;
the ledger line and the export's 紧急程度; the roster's levels stored and read back. A refused change —
a resident, another grid's worker, a forged pick, a blank reason — changes nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from console_support import STAFF, WORKER_1, WORKER_2, csrf, file_ticket, log_in, stored
from dialog_support import (
    FakeClock,
    ResidentChat,
    World,
    example_community,
    example_world,
    load_example,
    make_conversations,
)
from ledger_support import filed as ledger_filed
from test_ledger import CUIHU
from test_worker_loop import LEADER_1, RESIDENT, STAFF_GROUP, file_light_report, ticket

from gridcore.deadlines import ReminderPolicy
from gridcore.ledger import ticket_line
from gridcore.ticket import Action, TicketStatus, Urgency
from handlers import upkeep
from handlers.ledgers import TICKET_COLUMNS, LedgerTexts
from handlers.texts import Texts
from storage.repositories.roster_rows import policy_from_json, policy_json

pytestmark = pytest.mark.memory
pytest_plugins = ["console_fixtures"]

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # a Monday, 09:00 in Shanghai
STREET_GROUP = -1001000000900  # 信江街道's group in the example roster
REASON = "涉及整栋楼用电安全"


@pytest.fixture
async def world(uow_factory):
    return await example_world(uow_factory)


async def ledger(uow_factory, number: str):
    async with uow_factory() as uow:
        return list(await uow.tickets.ledger(number))


def buttons(message) -> list[str]:
    return [b.text for row in message.buttons for b in row]


async def test_the_worker_raises_a_ticket_to_major_from_the_card(world, uow_factory):
    world, chat = world
    resident, worker = chat(RESIDENT, "张阿姨"), chat(WORKER_1, "王芳")
    await file_light_report(resident)  # 公共设施, 一般: no leader copy, no staff card
    filed = await ticket(uow_factory)
    assert filed.urgency is Urgency.NORMAL and not world.inbox[LEADER_1] and not world.inbox[STAFF_GROUP]
    heard = len(resident.received)

    await worker.press("调整等级")
    picker = worker.last_message
    assert "调整为哪个等级" in picker.text and buttons(picker) == ["紧急", "重大", "取消"]
    await worker.press("重大")
    assert "原因" in worker.last_text and "必填" in worker.last_text
    handled = await worker.send(REASON)
    now = await ticket(uow_factory)
    assert now.urgency is Urgency.MAJOR and now.status is TicketStatus.ASSIGNED
    # The example world's clock stands still: "now" is the moment of filing.
    assert now.feedback_due_at == filed.created_at + timedelta(hours=12)
    assert now.accept_due_at == filed.created_at + timedelta(minutes=30)
    assert "已调整为「重大」" in worker.last_text
    event = (await ledger(uow_factory, filed.number))[-1]
    assert (event.action, event.actor) == (Action.SET_PRIORITY, f"staff:{WORKER_1}")
    assert dict(event.details) == {"from": "normal", "to": "major", "reason": REASON}
    card = next(m for m in handled.messages if m.chat_id == WORKER_1 and m.edit_outbox_id is not None)
    assert "重大" in card.text  # the card edited in place
    copy = world.inbox[LEADER_1][-1]  # 紧急/重大: the grid leader's copy, as on filing
    assert "抄送" in copy.text and "重大" in copy.text and "调整等级" in buttons(copy)
    assert "重大工单" in world.inbox[STAFF_GROUP][-1].text  # the community staff's card
    assert "重大事项" in world.inbox[STREET_GROUP][-1].text  # the street is told
    assert REASON not in world.inbox[STREET_GROUP][-1].text
    assert len(resident.received) == heard  # the resident is not told
    await resident.send(f"/ticket {filed.number}")  # nor does their own timeline show it
    assert filed.number in resident.last_text and "调整等级" not in resident.last_text
    assert REASON not in resident.last_text

    await worker.send(f"/ticket {filed.number}")
    assert "等级：<b>重大</b>" in worker.last_message.text
    assert f"一般 → 重大：{REASON}" in worker.last_text  # the ledger line


async def test_refused_changes_change_nothing(world, uow_factory):
    world, chat = world
    resident, worker, other = chat(RESIDENT, "张阿姨"), chat(WORKER_1, "王芳"), chat(WORKER_2, "刘洋")
    await file_light_report(resident)
    filed = await ticket(uow_factory)
    before = len(await ledger(uow_factory, filed.number))
    for presser, data, refusal in (
            (resident, f"w:priority:{filed.id}", "没有权限"),  # the resident
            (other, f"w:priority:{filed.id}", "没有权限"),  # another grid's worker
            (other, f"w:pl:{filed.id}:major", "没有权限"),  # a forged pick
            (worker, f"w:pl:{filed.id}:normal", "没有这个等级"),  # not offered: it is 一般 already
            (worker, f"w:pl:{filed.id}:urgentest", "没有这个等级")):
        handled = await presser.press_data(data)
        assert handled.callback_alert and refusal in (handled.callback_answer or ""), data
    await worker.press("调整等级")
    await worker.press("紧急")
    await worker.send("   ")  # a blank reason is asked again
    assert "请" in worker.last_text
    await worker.press("取消")
    now = await ticket(uow_factory)
    assert now.urgency is Urgency.NORMAL and now.feedback_due_at == filed.feedback_due_at
    assert len(await ledger(uow_factory, filed.number)) == before
    assert not world.inbox[LEADER_1] and not world.inbox[STREET_GROUP]


async def test_the_leader_lowers_an_urgent_ticket_from_the_copy(world, uow_factory):
    world, chat = world
    resident, leader, worker = chat(RESIDENT, "张阿姨"), chat(LEADER_1, "马国庆"), chat(WORKER_1, "王芳")
    await resident.contact("13812345678")
    await resident.send("3号楼2单元楼道里有人飞线充电")  # 消防安全: 紧急 in the example roster
    await resident.presses("是的", "跳过", "没有照片", "实名反映", "确认提交")
    filed = await ticket(uow_factory)
    assert filed.urgency is Urgency.URGENT and filed.feedback_due_at == filed.created_at + timedelta(hours=24)
    assert "抄送" in world.inbox[LEADER_1][-1].text and "紧急工单" in world.inbox[STAFF_GROUP][-1].text
    assert not world.inbox[STREET_GROUP]  # 紧急 does not reach the street
    await leader.press_data(f"w:priority:{filed.id}")
    await leader.send("一般")  # a typed level is taken as the button
    await leader.send("已核实，只是一个插线板")
    now = await ticket(uow_factory)
    assert now.urgency is Urgency.NORMAL
    assert now.feedback_due_at == filed.created_at + timedelta(hours=24)  # the category's own 24 h
    assert "马国庆" in worker.last_text and "一般" in worker.last_text  # the handler hears who changed it
    assert "已核实" in worker.last_text


async def test_a_major_category_is_filed_major_and_tells_the_street(world, uow_factory):
    world, chat = world
    community = example_community()
    fire = replace(community.category("fire"), priority=Urgency.MAJOR)
    async with uow_factory() as uow:
        await uow.roster.upsert(replace(community, categories=tuple(
            fire if c.code == "fire" else c for c in community.categories)))
        await uow.commit()
    resident = chat(RESIDENT, "张阿姨")
    await resident.contact("13812345678")
    await resident.send("3号楼2单元楼道里有人飞线充电")
    await resident.presses("是的", "跳过", "没有照片", "实名反映", "确认提交")
    filed = await ticket(uow_factory)
    assert filed.urgency is Urgency.MAJOR and "（重大）" in resident.last_texts()
    assert filed.feedback_due_at == filed.created_at + timedelta(hours=12)
    assert filed.accept_due_at == filed.created_at + timedelta(minutes=30)
    assert "重大工单" in world.inbox[STAFF_GROUP][-1].text and "抄送" in world.inbox[LEADER_1][-1].text
    street = world.inbox[STREET_GROUP][-1].text
    assert "重大事项" in street and filed.number in street and "飞线" not in street


async def test_the_console_form_sets_the_level_through_the_same_use_case(console, client, uow_factory):
    filed = await file_ticket(uow_factory, console.clock, "XK-20261122-0001", assignee=WORKER_1)  # env
    await log_in(client, console.chat(WORKER_1, "王芳"))
    page = await (await client.get(f"/console/tickets/{filed.number}")).text()
    assert f'action="/console/tickets/{filed.number}/priority"' in page
    assert '<option value="major">重大</option>' in page and '<option value="normal">' not in page
    assert "<dt>等级</dt><dd>一般</dd>" in page
    listed = await (await client.get("/console/tickets")).text()
    assert '<td data-label="等级">一般</td>' in listed
    token = await csrf(client)
    url = f"/console/tickets/{filed.number}/priority"
    blank = await client.post(url, data={"csrf": token, "priority": "major"})
    assert "请写上内容" in await blank.text()
    unknown = await client.post(url, data={"csrf": token, "priority": "nope", "reason": REASON})
    assert "没有这个等级" in await unknown.text()
    done = await client.post(url, data={"csrf": token, "priority": "major", "reason": REASON})
    shown = await done.text()
    assert "已调整等级" in shown and f"一般 → 重大：{REASON}" in shown  # the flash, the timeline's line
    now = await stored(uow_factory, filed.number)
    assert now.urgency is Urgency.MAJOR and now.feedback_due_at == console.clock.now + timedelta(hours=12)
    listed = await (await client.get("/console/tickets")).text()
    assert '<td data-label="等级">重大</td>' in listed
    other = await file_ticket(uow_factory, console.clock, "XK-20261122-0002", assignee=WORKER_1)  # 一般
    majors = await (await client.get("/console/tickets?level=major")).text()  # the 等级 filter
    assert filed.number in majors and other.number not in majors
    assert '<option value="major" selected>重大</option>' in majors
    normals = await (await client.get("/console/tickets?level=normal")).text()
    assert other.number in normals and f">{filed.number}<" not in normals

    await log_in(client, console.chat(WORKER_2, "刘洋"))  # another grid's worker: not even the page
    refused = await client.post(url, data={"csrf": await csrf(client), "priority": "normal", "reason": "x"})
    assert refused.status == 403 and (await stored(uow_factory, filed.number)).urgency is Urgency.MAJOR

    await log_in(client, console.chat(STAFF, "李建国"))  # community staff may change it too
    back = await client.post(url, data={"csrf": await csrf(client), "priority": "normal", "reason": "误判"})
    assert "已调整等级" in await back.text()
    lowered = await stored(uow_factory, filed.number)
    env = example_community().category("env")  # 3 个工作日, counted from filing (a Sunday: Wednesday night)
    assert env is not None and lowered.urgency is Urgency.NORMAL
    assert lowered.feedback_due_at == env.feedback_due(filed.created_at, "Asia/Shanghai")


@pytest.mark.parametrize(("level", "shown"), [(Urgency.NORMAL, "一般"), (Urgency.URGENT, "紧急"),
                                              (Urgency.MAJOR, "重大")])
def test_the_ledger_export_says_the_level(level: Urgency, shown: str) -> None:
    filed = ledger_filed(CUIHU, "CH-20261201-0002", "facility")
    filed.urgency = level
    line = ticket_line(filed, filed.new_events, CUIHU, full=True, now=filed.created_at)
    cells = LedgerTexts(Texts()).ticket_row(line, ZoneInfo("Asia/Shanghai"))
    row = dict(zip(TICKET_COLUMNS, cells, strict=True))
    assert row["urgency"] == shown


async def test_the_roster_levels_are_stored_and_read_back(uow_factory):
    community = example_community()
    policy = replace(community.reminders, accept_within_major=timedelta(minutes=15),
                     feedback_within_urgent=timedelta(hours=6))
    changed = replace(community, reminders=policy, categories=tuple(
        replace(c, priority=Urgency.MAJOR) if c.code == "env" else c for c in community.categories))
    async with uow_factory() as uow:
        await uow.roster.upsert(changed)
        await uow.commit()
    async with uow_factory() as uow:
        read = await uow.roster.get("XK")
    assert read is not None
    assert {c.code: c.priority for c in read.categories}["env"] is Urgency.MAJOR
    assert {c.code: c.priority for c in read.categories}["fire"] is Urgency.URGENT
    assert read.reminders == policy


def test_a_policy_stored_before_levels_reads_with_their_defaults() -> None:
    old = {k: v for k, v in policy_json(ReminderPolicy()).items()
           if k not in ("urgent_feedback", "major_accept", "major_feedback")}
    assert policy_from_json(old) == ReminderPolicy()


async def test_a_raised_tickets_reminders_and_supervision_follow_its_level(uow_factory):
    """The sweep reads the stored clocks: a ticket raised to 重大 at filing is reminded a quarter hour
    later, supervised by the leader at half an hour and when its 12 h deadline passes, and by community
    staff 12 h (half of staff_after) after that."""
    await load_example(uow_factory)
    clock = FakeClock(T0)
    bot = make_conversations(uow_factory, clock)
    world = World()
    resident, worker = ResidentChat(bot, RESIDENT, "张阿姨", world=world), ResidentChat(
        bot, WORKER_1, "王芳", world=world)
    await file_light_report(resident)
    await worker.press("调整等级")
    await worker.press("重大")
    await worker.send(REASON)

    async def sweep() -> list:
        return await bot.system(upkeep.send_reminders)

    def to(sent: list, chat_id: int) -> list[str]:
        return [m.text for m in sent if m.chat_id == chat_id]

    clock.advance(minutes=14)
    assert await sweep() == []
    clock.advance(minutes=1)
    assert "还没有签收" in to(await sweep(), WORKER_1)[0]  # half of 重大's 30 min
    clock.advance(minutes=15)
    assert "仍未签收" in to(await sweep(), LEADER_1)[0]
    await worker.press("签收")
    clock.advance(hours=11, minutes=30)  # 12 h after the raise: the feedback deadline
    sent = await sweep()
    assert "仍未办结" in to(sent, LEADER_1)[0]
    clock.advance(hours=11, minutes=59)
    assert to(await sweep(), STAFF_GROUP) == []
    clock.advance(minutes=1)  # half of staff_after (24 h)
    assert "请社区协调" in to(await sweep(), STAFF_GROUP)[0]
