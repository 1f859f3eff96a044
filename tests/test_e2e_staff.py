"""End to end over HTTP with the example roster's people and groups: reopening, escalation and
assignment from the staff group, 联办 and no-grid routing, a worker who blocked the bot, forged presses."""

from __future__ import annotations

import asyncio
import re

import pytest
from dialog_support import load_example
from e2e_support import Resident, live, roster_sandbox

from gridcore.ticket import Action, TicketStatus

RESIDENT, NEIGHBOUR, WORKER, LEADER, STAFF = 5001, 5002, 1011, 1021, 1001
STAFF_GROUP = -1001000000001


@pytest.fixture
async def town(engine, uow_factory):
    await load_example(uow_factory)
    async with live(engine, sandbox=roster_sandbox()) as (client, _):
        yield client


async def file(resident: Resident, text: str, *taps: str) -> None:
    await resident.say(text)
    await resident.expect("对吗")
    for label in ("是的", *taps, "没有照片", "实名反映", "确认提交"):

        await resident.tap_when(label)
    await resident.expect("已提交")


async def ledger(uow_factory, user_id=RESIDENT):
    async with uow_factory() as uow:
        ticket = (await uow.tickets.for_resident(user_id))[0]
        return ticket, [e.action for e in await uow.tickets.ledger(ticket.number)]


async def test_unsatisfied_rating_reopens_to_the_worker_and_tells_the_leader(town, uow_factory):
    client = town
    resident, worker, leader = Resident(client, RESIDENT), Resident(client, WORKER), Resident(client, LEADER)
    await file(resident, "3号楼2单元楼道灯坏了一个星期了", "跳过")
    await worker.expect("新工单")
    await worker.tap_when("签收")
    await worker.tap_when("办结")
    await worker.expect("处理结果")
    await worker.say("换好了")
    await worker.tap_when("没有照片")
    for label in ("没人联系", "未解决", "不满意"):
        await resident.tap_when(label)
    await resident.expect("哪里还没解决好")
    await resident.say("灯还是不亮")
    await resident.expect("重新交给网格员")
    assert "灯还是不亮" in await leader.expect("不满意")
    assert "灯还是不亮" in await worker.expect("重办工单（第2次办理）")
    ticket, actions = await ledger(uow_factory)
    assert ticket.status is TicketStatus.ASSIGNED and actions[-2:] == [Action.REOPEN, Action.ASSIGN]


async def test_staff_group_assigns_escalated_coordinated_and_gridless_tickets(town, uow_factory):
    client = town
    resident, worker = Resident(client, RESIDENT), Resident(client, WORKER)
    group = Resident(client, STAFF, chat_id=STAFF_GROUP)
    await file(resident, "3号楼2单元楼道灯坏了一个星期了", "跳过")
    await worker.expect("新工单")
    await worker.tap_when("上报社区")
    await worker.expect("为什么要把")
    await worker.say("需要社区协调维修资金")
    await group.expect("网格上报社区")
    await group.tap_when("指派")
    await group.expect("指派给谁")
    await group.tap_when("王芳")
    await group.expect("已指派给 王芳")
    await worker.expect("新工单")

    neighbour = Resident(client, NEIGHBOUR)
    await file(neighbour, "5号楼门禁坏了，外面的人随便进，我电话13900001111", "1单元", "跳过")
    await group.expect("联办事项")
    # Nothing personal reaches the group: no names, no phone numbers (not even inside descriptions).
    for message in await client.bot_messages(STAFF_GROUP):
        assert not re.search(r"1[3-9]\\d{9}", message.text), message.text
        assert "张阿姨" not in message.text and "李叔" not in message.text


async def test_a_worker_who_blocked_the_bot_and_presses_that_are_not_theirs(town, uow_factory):
    client = town
    resident, worker = Resident(client, RESIDENT), Resident(client, WORKER)
    group = Resident(client, STAFF, chat_id=STAFF_GROUP)
    await client.block(WORKER)
    await file(resident, "3号楼2单元楼道灯坏了一个星期了", "跳过")
    await group.expect("发不到 王芳")
    await group.expect("消息发不到经办人")
    _, actions = await ledger(uow_factory)
    assert Action.DELIVERY_FAILED in actions

    await client.block(WORKER, blocked=False)
    await group.tap_when("指派")
    await group.tap_when("王芳")
    await worker.expect("新工单")
    cards = [m for m in await client.bot_messages(WORKER) if "XK-20261122-0001" in m.text]
    assert len(cards) == 1  # the card that never arrived is not sent later as a stray copy
    card = cards[0]
    accept = card.button_data("签收")
    # Nobody can press a button in someone else's chat; a modified client can still send any
    # callback data from its own chat. Each of these is refused and changes nothing.
    for presser in (RESIDENT, 1012):
        own = (await client.bot_messages(presser))[-1] if await client.bot_messages(presser) else None
        if own is None:
            await client.send_text(presser, "/help")
            await Resident(client, presser).expect("怎么用")
            own = (await client.bot_messages(presser))[-1]
        await client.press(presser, own.raw["message_id"], accept, force=True)
    await client.press(WORKER, card.raw["message_id"], "w:accept:99999", force=True)
    await client.press(WORKER, card.raw["message_id"], "garbage", force=True)
    for _ in range(200):
        alerts = [a for a in await client.callback_answers() if a.get("show_alert")]
        if len(alerts) >= 4:
            break
        await asyncio.sleep(0.05)
    assert len(alerts) >= 4
    ticket, _ = await ledger(uow_factory)
    assert ticket.status is TicketStatus.ASSIGNED  # none of those presses changed anything


async def test_joint_copy_transfer_to_another_grid_and_a_place_in_no_grid(town, uow_factory):
    client = town
    resident, worker, other = Resident(client, RESIDENT), Resident(client, WORKER), Resident(client, 1012)
    partner, group = Resident(client, 1041), Resident(client, STAFF, chat_id=STAFF_GROUP)
    await file(resident, "3号楼2单元楼道灯坏了一个星期了", "跳过")
    await partner.expect("工单抄送")  # 公共设施 is 共办 with 物业公司: its contact gets a copy
    await worker.expect("新工单")
    await worker.tap_when("转派")
    await worker.tap_when("第二网格")
    await worker.expect("转派")
    await worker.say("这栋楼划到第二网格了")
    await worker.expect("已转派给 刘洋")
    await other.expect("新工单")
    ticket, _ = await ledger(uow_factory)
    assert (ticket.assignee, ticket.grid_code) == (1012, "2")

    neighbour = Resident(client, NEIGHBOUR)
    await neighbour.say("/report")
    await neighbour.tap_when("环境卫生")
    await neighbour.expect("描述")
    await neighbour.say("中心广场垃圾没人清")  # 广场: the public area, taken from the text
    await neighbour.expect("有照片")
    for label in ("没有照片", "实名反映", "确认提交"):
        await neighbour.tap_when(label)
    await group.expect("不属于任何网格")
