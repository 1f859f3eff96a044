"""Issue 16, on both databases: who may receive a ticket (forged 转派/指派 targets), a reopened ticket's
card, and a worker on a phone (the phone as a tappable message, headers that follow the state,
pickers that retire and echo, the card's buttons on a ticket opened from /tasks or /ticket)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from dialog_support import (
    FakeClock,
    ResidentChat,
    World,
    example_community,
    example_world,
    make_conversations,
)

from gridcore.authorization import Act, may_receive
from gridcore.community import Role
from gridcore.ticket import Action, Location, Reporter, Ticket, TicketStatus

pytestmark = pytest.mark.memory

RESIDENT, WORKER_1, WORKER_2, LEADER_1, LEADER_2, STAFF, PARTNER = 5001, 1011, 1012, 1021, 1022, 1001, 1041
BUILDING_LEADER_1, WORKER_3A, WORKER_3B = 1031, 1013, 1014
STAFF_GROUP, GRID_GROUP_1 = -1001000000001, -1001000000011


@pytest.fixture
async def world(uow_factory):
    return await example_world(uow_factory)


async def only_ticket(uow_factory) -> Ticket:
    async with uow_factory() as uow:
        return (await uow.tickets.for_resident(RESIDENT))[0]


async def ledger(uow_factory, number: str) -> list[Action]:
    async with uow_factory() as uow:
        return [e.action for e in await uow.tickets.ledger(number)]


async def file_light_report(resident: ResidentChat, phone: str | None = "13812345678") -> None:
    """公共设施 at 3号楼2单元: grid 1, 王芳."""
    if phone:
        await resident.contact(phone)
    await resident.send("3号楼2单元楼道灯坏了一个星期了")
    await resident.presses("是的", "跳过", "没有照片", "实名反映", "确认提交")


# --- who may receive a ticket -------------------------------------------------------------------


def grid_ticket(grid: str | None, assignee: int | None) -> Ticket:
    ticket = Ticket.file(number="XK-1", community_code="XK", category_code="env",
                         feedback_deadline=timedelta(days=3), description="楼道堆放杂物",
                         location=Location("3"), reporter=Reporter(RESIDENT, RESIDENT),
                         at=FakeClock().now, grid_code=grid)
    ticket.assignee = assignee
    return ticket


def test_may_receive_the_matrix():
    community = example_community()
    person = {p.telegram_user_id: p for p in community.staff if p.telegram_user_id}
    own = grid_ticket("1", WORKER_1)
    # Volunteers, partners, community staff and strangers never handle a ticket, whoever hands it on.
    for presser in (WORKER_1, LEADER_1, STAFF):
        for act in (Act.ASSIGN, Act.TRANSFER):
            for target in (BUILDING_LEADER_1, PARTNER, STAFF):
                assert not may_receive(community, presser, own, person[target], act), (presser, act, target)
    # A grid leader assigns within their grid only; a leader of another grid not at all.
    assert may_receive(community, LEADER_1, own, person[LEADER_1])
    assert not may_receive(community, LEADER_1, own, person[WORKER_2])
    assert not may_receive(community, LEADER_2, own, person[WORKER_2])
    assert not may_receive(community, WORKER_1, own, person[WORKER_1])  # a worker does not assign
    # Community staff: within the ticket's grid; a ticket in no grid, any grid's worker or leader.
    assert may_receive(community, STAFF, own, person[WORKER_1])
    assert not may_receive(community, STAFF, own, person[WORKER_3A])
    assert may_receive(community, STAFF, grid_ticket(None, None), person[WORKER_3A])
    # Transfer: another worker of the grid; another grid only to the one its rule picks.
    third = grid_ticket("3", WORKER_3A)
    assert may_receive(community, WORKER_3A, third, person[WORKER_3B], Act.TRANSFER)
    assert not may_receive(community, WORKER_3A, third, person[WORKER_3A], Act.TRANSFER)  # itself
    assert not may_receive(community, WORKER_3A, third, person[LEADER_1], Act.TRANSFER)
    assert may_receive(community, WORKER_1, own, person[WORKER_3A], Act.TRANSFER, {})  # on duty in grid 3
    busy = {WORKER_3A: 5}
    assert not may_receive(community, WORKER_1, own, person[WORKER_3A], Act.TRANSFER, busy)
    assert may_receive(community, WORKER_1, own, person[WORKER_3B], Act.TRANSFER, busy)
    # Someone who may not transfer at all hands it to nobody.
    assert not may_receive(community, WORKER_2, own, person[WORKER_2], Act.TRANSFER)
    away = next(p for p in community.staff if p.telegram_user_id == WORKER_3B)
    gone = replace(away, away=True)
    assert not may_receive(replace(community, staff=(*community.staff, gone)), WORKER_3A, third, gone,
                           Act.TRANSFER)
    assert all(p.role is not Role.BUILDING_LEADER for p in community.staff
               if may_receive(community, STAFF, grid_ticket(None, None), p))


async def test_forged_transfer_targets_change_nothing(world, uow_factory):
    world, chat = world
    resident, worker = chat(RESIDENT, "张阿姨"), chat(WORKER_1, "王芳")
    volunteer, partner = chat(BUILDING_LEADER_1, "徐长海"), chat(PARTNER, "钱经理")
    await file_light_report(resident)
    await worker.press("转派")
    picker = worker.last_message
    offered = [b.data for row in picker.buttons for b in row]
    assert offered and all(":u1031" not in d and ":u1041" not in d for d in offered)
    ticket_id = (await only_ticket(uow_factory)).id
    # Another grid's people only as that grid's rule picks them: not 孙丽 (张敏 is on duty in grid 3),
    # not grid 2's leader (its worker is on duty).
    forged = ("u1031", "u1041", "u1001", "u1014", "u1022", "u5001", "u1011", "u", "g1", "g99", "gx", "x")
    for target in forged:
        await worker.press_data(f"w:tt:{ticket_id}:{target}")
        assert worker.last.callback_alert and "没有权限" in worker.last.callback_answer, target
        assert not worker.last.messages, target
        await worker.send("随便写个理由")  # no task was started: this is no transfer reason
    moved = await only_ticket(uow_factory)
    assert (moved.status, moved.assignee, moved.grid_code) == (TicketStatus.ASSIGNED, WORKER_1, "1")
    assert Action.TRANSFER not in await ledger(uow_factory, moved.number)
    # And so the volunteer and the partner cannot take it and read the phone.
    for intruder in (volunteer, partner):
        await intruder.press_data(f"w:accept:{ticket_id}")
        assert "没有权限" in intruder.last.callback_answer
        await intruder.press_data(f"w:reveal:{ticket_id}")
        assert "没有权限" in intruder.last.callback_answer and not intruder.last.messages


async def test_forged_assign_targets_change_nothing(world, uow_factory):
    world, chat = world
    resident, worker = chat(RESIDENT, "张阿姨"), chat(WORKER_1, "王芳")
    leader, other_leader = chat(LEADER_1, "马国庆"), chat(LEADER_2, "黄秀英")
    group = chat(STAFF, "李建国", chat_id=STAFF_GROUP)
    await file_light_report(resident)
    await worker.press("上报社区")
    await worker.send("需要社区协调")
    ticket_id = (await only_ticket(uow_factory)).id
    await other_leader.press_data(f"w:assign:{ticket_id}")  # another grid's leader
    assert "没有权限" in other_leader.last.callback_answer
    await leader.press_data(f"w:assign:{ticket_id}")
    names = [b.text for row in leader.last_message.buttons for b in row if b.text != "取消"]
    assert names == ["王芳", "马国庆"]  # the grid's worker and leader, nobody else
    for forged, presser in ((1012, leader), (1022, leader), (1031, leader), (1041, leader), (5001, leader),
                            (1013, group), (1031, group), (1001, group), (999, group)):
        await presser.press_data(f"w:to:{ticket_id}:{forged}")
        assert presser.last.callback_alert and "没有权限" in presser.last.callback_answer, forged
    await other_leader.press_data(f"w:to:{ticket_id}:1012")
    assert "没有权限" in other_leader.last.callback_answer
    still = await only_ticket(uow_factory)
    assert (still.status, still.assignee) == (TicketStatus.ESCALATED, WORKER_1)
    await leader.press("马国庆")  # a real pick works
    assert (await only_ticket(uow_factory)).assignee == LEADER_1


# --- a reopened ticket --------------------------------------------------------------------------


async def resolve(worker: ResidentChat, note: str = "换好了") -> None:
    await worker.press("签收")
    await worker.press("办结")
    await worker.send(note)
    await worker.press("没有照片")


async def test_a_reopened_ticket_says_which_round_and_why(world, uow_factory):
    world, chat = world
    resident, worker = chat(RESIDENT, "张阿姨"), chat(WORKER_1, "王芳")
    await file_light_report(resident)
    first = worker.last_text
    assert "新工单" in first and "重办" not in first and "第" not in first.split("\n")[0]
    await resolve(worker)
    await resident.presses("没人联系", "未解决", "不满意")
    await resident.send("灯还是不亮，晚上漆黑一片")
    card = next(m for m in reversed(worker.received) if m.buttons and "签收" in str(m.buttons))
    assert "重办工单" in card.text and "第2次办理" in card.text and "灯还是不亮，晚上漆黑一片" in card.text
    assert "新工单" not in card.text
    await resolve(worker, "换了新的灯座")
    await resident.presses("有人联系了", "部分解决", "不满意")
    await resident.press("不想说明")
    card = next(m for m in reversed(worker.received) if m.buttons and "签收" in str(m.buttons))
    assert "第3次办理" in card.text and "未说明原因" in card.text and "漆黑一片" not in card.text
    await worker.press("签收")
    edited = worker.received[-1] if worker.received[-1].edit_outbox_id else next(
        m for m in reversed(worker.received) if m.edit_outbox_id)
    assert "已签收" in edited.text and "第3次办理" in edited.text


# --- a worker on a phone ------------------------------------------------------------------------


async def test_the_phone_arrives_as_a_message_to_the_handler_only(world, uow_factory):
    world, chat = world
    resident, worker = chat(RESIDENT, "张阿姨"), chat(WORKER_1, "王芳")
    await file_light_report(resident, "138-1234-5678")
    reveal = worker.button("联系居民")
    in_group = chat(WORKER_1, "王芳", chat_id=GRID_GROUP_1)  # the same button, pressed from a group
    await in_group.press_data(reveal)
    [message] = in_group.last.messages
    assert message.chat_id == WORKER_1 and not world.inbox[GRID_GROUP_1]
    line = [ln for ln in message.text.split("\n") if "8613812345678" in ln]
    assert line == ["+8613812345678"]  # alone on its line, no tags around it: Telegram links it
    assert "13812345678" not in (in_group.last.callback_answer or "")
    number = (await only_ticket(uow_factory)).number
    assert (await ledger(uow_factory, number)).count(Action.REVEAL_CONTACT) == 1


async def test_no_phone_nothing_is_sent_or_recorded(world, uow_factory):
    world, chat = world
    resident, worker = chat(RESIDENT, "张阿姨"), chat(WORKER_1, "王芳")
    await file_light_report(resident, None)
    await worker.press("联系居民")
    assert worker.last.callback_alert and "没有留电话" in worker.last.callback_answer
    assert not worker.last.messages
    assert Action.REVEAL_CONTACT not in await ledger(uow_factory, (await only_ticket(uow_factory)).number)


@pytest.mark.parametrize("typed, dial", [
    ("13812345678", "+8613812345678"), ("+86 138 1234 5678", "+8613812345678"),
    ("8613812345678", "+8613812345678"), ("021-55556666", "+862155556666"),
    ("１３８１２３４５６７８", "+8613812345678"), ("+85291234567", "+85291234567"),
])
def test_a_number_as_telegram_links_it(typed, dial):
    from gridcore.phones import dialable

    assert dialable(typed) == dial


async def test_card_headers_follow_the_state(world, uow_factory):
    world, chat = world
    resident, worker = chat(RESIDENT, "张阿姨"), chat(WORKER_1, "王芳")
    group = chat(STAFF, "李建国", chat_id=STAFF_GROUP)

    def header(message) -> str:
        return message.text.split("\n")[0]

    await file_light_report(resident)
    card = worker.last_message
    assert "新工单" in header(card)
    await worker.press("签收")
    [edit] = [m for m in worker.last.messages if m.edit_outbox_id and m.chat_id == WORKER_1]
    assert "已签收" in header(edit) and "新工单" not in edit.text
    await worker.press("办结")
    await worker.send("换好了")
    await worker.press("没有照片")
    [edit] = [m for m in worker.last.messages if m.edit_outbox_id and m.chat_id == WORKER_1]
    assert "已办结" in header(edit) and not edit.buttons

    neighbour = chat(5002, "李叔")  # 联办: the staff group assigns
    await neighbour.send("5号楼门禁坏了，外面的人随便进")
    await neighbour.presses("是的", "1单元", "跳过", "没有照片", "实名反映", "确认提交")
    assert "待指派" in header(group.last_message)
    await group.press("指派")
    await group.press("刘洋")
    edits = [m for m in group.last.messages if m.edit_outbox_id and m.chat_id == STAFF_GROUP]
    assert edits and "已指派" in header(edits[0]) and "刘洋" in header(edits[0]) and not edits[0].buttons


async def test_pickers_echo_the_choice_and_retire(world, uow_factory):
    world, chat = world
    resident, worker = chat(RESIDENT, "张阿姨"), chat(WORKER_1, "王芳")
    group = chat(STAFF, "李建国", chat_id=STAFF_GROUP)
    await file_light_report(resident)
    await worker.press("转派")
    await worker.press("第二网格")
    [echo] = [m for m in worker.last.messages if m.edit_message_id is not None]
    assert "✔ 转派给 第二网格" in echo.text and not echo.buttons  # the picker, its buttons gone
    await worker.send("这栋楼划到第二网格了")
    assert "已转派给 刘洋" in worker.last_text

    other = chat(WORKER_2, "刘洋")
    await other.press("上报社区")
    await other.send("需要社区协调")
    await group.press("指派")
    await group.press("刘洋")
    [echo] = [m for m in group.last.messages if m.edit_message_id is not None]
    assert "✔ 指派给 刘洋" in echo.text and not echo.buttons

    # A picker left unused goes when a task moves on: 转派 shown, then 进展 chosen instead.
    await other.press("签收")
    await other.press("转派")
    picker_sent = len(other.received) - 1
    await other.press("进展")
    cleared = [m for m in other.last.messages if m.clear_keyboard_of_outbox is not None]
    assert cleared and other.received[picker_sent].buttons and "转给谁" in other.received[picker_sent].text


async def test_a_ticket_opened_from_tasks_or_ticket_carries_its_buttons(world, uow_factory):
    world, chat = world
    resident, worker, leader = chat(RESIDENT, "张阿姨"), chat(WORKER_1, "王芳"), chat(LEADER_1, "马国庆")
    await file_light_report(resident)
    number = (await only_ticket(uow_factory)).number
    await worker.send("/tasks")
    await worker.press(number)
    shown = worker.last_message
    assert "处理经过" in shown.text
    labels = [b.text for row in shown.buttons for b in row]
    assert labels == ["签收", "转派", "上报社区", "联系居民", "改类别", "调整等级"]
    await worker.press_data(shown.buttons[0][0].data)
    assert (await only_ticket(uow_factory)).status is TicketStatus.ACCEPTED
    await worker.send(f"/ticket {number}")
    assert [b.text for row in worker.last_message.buttons for b in row] == [
        "进展", "办结", "转派", "上报社区", "联系居民", "改类别", "调整等级"]

    await leader.send(f"/ticket {number}")  # the leader's card of a ticket being handled: 调整等级 only
    assert "处理经过" in leader.last_text
    assert [b.text for row in leader.last_message.buttons for b in row] == ["调整等级"]
    await worker.press("上报社区")
    await worker.send("需要社区协调")
    await leader.send(f"/ticket {number}")
    assert [b.text for row in leader.last_message.buttons for b in row] == ["指派", "改类别", "调整等级"]
    await resident.send(f"/ticket {number}")  # the resident's own timeline: no staff buttons
    assert not any("w:" in b.data for row in resident.last_message.buttons for b in row)


async def test_a_grid_with_nobody_to_take_it_is_said_so(uow_factory):
    community = example_community()
    away = replace(community, staff=tuple(replace(p, away=p.grid_code == "7" and p.role is not Role.RESIDENT)
                                          for p in community.staff))
    async with uow_factory() as uow:
        await uow.roster.upsert(away)
        await uow.commit()
    bot, world = make_conversations(uow_factory, FakeClock()), World()
    resident, worker = ResidentChat(bot, RESIDENT, "张阿姨", world=world), ResidentChat(bot, WORKER_1, "王芳",
                                                                                       world=world)
    await file_light_report(resident)
    await worker.press("转派")
    await worker.press("第七网格")
    assert worker.last.callback_alert and "第七网格现在没有" in worker.last.callback_answer
    assert (await only_ticket(uow_factory)).assignee == WORKER_1 and not worker.last.messages
