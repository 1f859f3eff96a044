"""The closed loop at the conversation layer, on both databases: file → card → accept → progress →
resolve → rate; reopen; transfer; escalation; 共办 and 联办 routing; no grid; authorization."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from dialog_support import (
    EXAMPLE_ROSTER,
    FakeClock,
    ResidentChat,
    World,
    example_world,
    make_conversations,
)

from gridcore.roster import parse_roster
from gridcore.ticket import Action, TicketStatus

pytestmark = pytest.mark.memory

RESIDENT, WORKER_1, WORKER_2, LEADER_1, STAFF, PARTNER = 5001, 1011, 1012, 1021, 1001, 1041
STAFF_GROUP = -1001000000001


@pytest.fixture
async def world(uow_factory):
    return await example_world(uow_factory)


async def ticket(uow_factory, user_id=RESIDENT):
    async with uow_factory() as uow:
        return (await uow.tickets.for_resident(user_id))[0]


async def file_light_report(resident: ResidentChat, phone: str | None = "13812345678") -> None:
    """公共设施 (共办 with 物业公司) at 3号楼2单元: grid 1."""
    if phone:
        await resident.contact(phone)
    await resident.send("3号楼2单元楼道灯坏了一个星期了")
    await resident.presses("是的", "跳过", "没有照片", "实名反映", "确认提交")


async def test_the_whole_loop_closes_with_a_satisfied_rating(world, uow_factory):
    world, chat = world
    resident, worker, partner = chat(RESIDENT, "张阿姨"), chat(WORKER_1, "王芳"), chat(PARTNER, "钱经理")
    await file_light_report(resident)
    card = worker.last_text
    assert "新工单" in card and "XK-20261122-0001" in card and "共办" in card
    assert "张阿姨 138****5678" in card and "13812345678" not in card
    assert "工单抄送" in partner.last_text and not partner.last_message.buttons  # 共办: a copy

    await worker.press("签收")
    assert "王** 签收" in resident.last_text
    assert "处理中" in worker.last_text  # the card, edited in place
    await worker.press("进展")
    await worker.send("已联系电工，明天上午来换灯")
    assert "明天上午来换灯" in resident.last_text
    await worker.press("办结")
    await worker.send("已更换新灯泡，楼道恢复照明")
    await worker.photo("after-1")
    await worker.press("照片发完了")
    result = [m for m in resident.received if "处理结果" in m.text][-1]
    assert "恢复照明" in result.text and result.photos == ("after-1",)
    assert "是否有人联系您" in resident.last_text

    await resident.presses("有人联系了", "已解决", "满意")
    assert "谢谢您的评价" in resident.last_text
    done = await ticket(uow_factory)
    assert done.status is TicketStatus.CLOSED and done.rating.satisfaction == "satisfied"
    async with uow_factory() as uow:
        ledger = [e.action for e in await uow.tickets.ledger(done.number)]
    assert ledger == [Action.SUBMIT, Action.ASSIGN, Action.ACCEPT, Action.PROGRESS, Action.RESOLVE,
                      Action.RATE, Action.CLOSE]
    assert "已关闭" in worker.last_text


async def test_unsatisfied_reopens_to_the_same_worker_and_tells_the_leader(world, uow_factory):
    world, chat = world
    resident, worker, leader = chat(RESIDENT, "张阿姨"), chat(WORKER_1, "王芳"), chat(LEADER_1, "马国庆")
    await file_light_report(resident)
    await worker.press("签收")
    await worker.press("办结")
    await worker.send("换好了")
    await worker.press("没有照片")
    await resident.presses("没人联系", "未解决", "不满意")
    assert "哪里还没解决好" in resident.last_text
    await resident.send("灯还是不亮")
    assert "重新交给网格员" in resident.last_text
    assert "不满意" in leader.last_text and "灯还是不亮" in leader.last_text
    newest_card = next(m for m in reversed(worker.received) if m.buttons)
    assert "重办工单" in newest_card.text and "签收" in str(newest_card.buttons)
    assert "已重新派单" in worker.last_text  # the old card, edited: no buttons any more
    reopened = await ticket(uow_factory)
    assert reopened.status is TicketStatus.ASSIGNED and reopened.assignee == WORKER_1
    # Reopened on Sunday 11月22日: a new promise of 3 working days, Monday being day 1.
    assert reopened.feedback_due_at == datetime(2026, 11, 25, 23, 59, 59, tzinfo=ZoneInfo("Asia/Shanghai"))
    await resident.press_data(resident.button("满意"))  # an old rating button: refused
    assert resident.last.callback_alert


async def test_who_may_press_what(world, uow_factory):
    world, chat = world
    resident, worker = chat(RESIDENT, "张阿姨"), chat(WORKER_1, "王芳")
    other_grid, staff = chat(WORKER_2, "刘洋"), chat(STAFF, "李建国")
    await file_light_report(resident)
    accept = worker.button("签收")
    for intruder in (resident, other_grid):
        await intruder.press_data(accept)
        assert intruder.last.callback_alert and "没有权限" in intruder.last.callback_answer
    reveal = worker.button("联系居民")
    await staff.press_data(reveal)  # the phone: the handler only, not even staff
    assert "没有权限" in staff.last.callback_answer
    for forged in ("w:accept:999999", "w:nonsense:1", "w:accept:abc", "w:"):
        await worker.press_data(forged)
        assert worker.last.callback_alert
    assert (await ticket(uow_factory)).status is TicketStatus.ASSIGNED
    await worker.press_data(accept)
    await worker.press_data(accept)  # stale: already accepted
    assert "处理中" in worker.last.callback_answer
    await worker.press_data(reveal)
    [shown] = worker.last.messages  # the number: a message in the handler's private chat
    assert shown.chat_id == WORKER_1 and "+8613812345678" in shown.text
    assert "13812345678" not in worker.last.callback_answer
    async with uow_factory() as uow:
        ledger = await uow.tickets.ledger((await ticket(uow_factory)).number)
    assert [e.action for e in ledger].count(Action.REVEAL_CONTACT) == 1
    assert all("13812345678" not in m.text for chat_messages in world.inbox.values() for m in chat_messages
               if m.chat_id != RESIDENT and m is not shown)


async def test_transfer_to_another_grid(world, uow_factory):
    world, chat = world
    resident, worker, other = chat(RESIDENT, "张阿姨"), chat(WORKER_1, "王芳"), chat(WORKER_2, "刘洋")
    await file_light_report(resident)
    await worker.press("转派")
    await worker.press("第二网格")
    await worker.send("这栋楼去年划到第二网格了")
    assert "已转派给 刘洋" in worker.last_text
    moved = await ticket(uow_factory)
    assert (moved.assignee, moved.grid_code, moved.status) == (WORKER_2, "2", TicketStatus.ASSIGNED)
    assert "新工单" in other.last_text
    old_card = [m for m in worker.received if m.edit_outbox_id][-1]  # edited in place
    assert "刘洋" in old_card.text and not old_card.buttons  # handed on: the story stays, the buttons go


@pytest.mark.parametrize("typed", ["刘洋", "刘 洋。", "黄秀英"])  # grid 2's worker, spaced, its leader
async def test_a_transfer_takes_the_typed_name_of_another_grids_worker(world, uow_factory, typed):
    """The picker offers other grids by name; typing a person of such a grid means that grid (whose own
    rule picks the handler: its worker on duty)."""
    world, chat = world
    resident, worker = chat(RESIDENT, "张阿姨"), chat(WORKER_1, "王芳")
    await file_light_report(resident)
    await worker.press("转派")
    assert "直接输入姓名" in worker.last_text
    await worker.send(typed)
    assert "没有找到" not in worker.texts[-2] and "原因" in worker.last_text
    await worker.send("这栋楼去年划到第二网格了")
    moved = await ticket(uow_factory)
    assert (moved.assignee, moved.grid_code) == (WORKER_2, "2")


async def test_a_typed_name_nobody_may_receive_is_not_taken(world, uow_factory):
    world, chat = world
    resident, worker = chat(RESIDENT, "张阿姨"), chat(WORKER_1, "王芳")
    await file_light_report(resident)
    await worker.press("转派")
    for typed in ("徐长海", "钱经理", "李建国", "王芳"):  # building leader, partner, staff, the handler
        await worker.send(typed)
        assert f"没有找到「{typed}」" in worker.texts[-2] and "转给谁" in worker.last_text
    assert (await ticket(uow_factory)).assignee == WORKER_1


async def test_escalation_and_coordinated_and_no_grid_go_to_community_staff(world, uow_factory):
    world, chat = world
    resident, worker = chat(RESIDENT, "张阿姨"), chat(WORKER_1, "王芳")
    group = chat(STAFF, "李建国", chat_id=STAFF_GROUP)
    await file_light_report(resident)
    await worker.press("上报社区")
    await worker.send("需要社区协调物业公司维修资金")
    assert "待指派" in group.last_text and "上报社区" in group.last_text
    assert "已上报社区" in resident.last_text
    await group.press("指派")
    await group.press("王芳")
    assert "已指派给 王芳" in group.last_text
    assert (await ticket(uow_factory)).status is TicketStatus.ASSIGNED

    neighbour = chat(5002, "李叔")  # 治安 is 联办: straight to the staff group
    await neighbour.send("5号楼门禁坏了，外面的人随便进")
    await neighbour.presses("是的", "1单元", "跳过", "没有照片", "实名反映", "确认提交")
    assert "联办" in group.last_text and "待指派" in group.last_text

    public = chat(5003, "王姐")  # a public area belongs to no grid
    await public.send("/report")
    await public.press("环境卫生")
    await public.send("广场上垃圾没人清")  # 广场: the public area, taken from the text
    await public.presses("没有照片", "实名反映", "确认提交")
    assert "不属于任何网格" in group.last_text

    # No resident's name or phone in any group message.
    for text in world.group_texts():
        assert not re.search(r"1[3-9]\d{9}|1[3-9]\d\*{4}\d{4}", text), text
        for name in ("张阿姨", "李叔", "王姐"):
            assert name not in text, text


async def test_a_worker_mid_report_keeps_their_draft(world, uow_factory):
    world, chat = world
    resident, worker = chat(RESIDENT, "张阿姨"), chat(WORKER_1, "王芳")
    await file_light_report(resident)
    await worker.send("楼下自行车棚顶漏雨")  # the worker, as a resident, starts a report of their own
    await worker.press("签收")
    await worker.press("进展")
    await worker.send("电工明天来")
    assert "进展已记录" in worker.texts[-2]
    assert "漏雨" in worker.last_text or "对吗" in worker.last_text  # their report's question is back


def test_group_cards_mask_phones_and_the_reporters_name_in_what_residents_wrote():
    from handlers.cards import for_group

    text = "我是张阿姨，电话 138 1234 5678，也可以打13900001111"
    assert for_group(text, "张阿姨") == "我是张**，电话 138****5678，也可以打139****1111"


async def test_a_wrong_input_in_a_task_is_answered_not_a_crash(world, uow_factory):
    """Found by the fuzzer: `photos=` went to ctx.say (the message's photos), not to the template, so
    a sticker instead of a progress note, or a photo instead of a rating reason, raised; and a text at
    the result photos step got no answer at all."""
    world, chat = world
    resident, worker = chat(RESIDENT, "张阿姨"), chat(WORKER_1, "王芳")
    await file_light_report(resident)
    await worker.press("签收")
    await worker.press("进展")
    await worker.unsupported("sticker")
    assert "请用文字回复（500 字以内）。" in worker.texts[-2] and "处理进展" in worker.last_text
    await worker.send("/cancel")
    await worker.press("办结")
    await worker.send("换好了")
    await worker.unsupported("voice")
    assert "这一步请发处理后的照片" in worker.texts[-2]
    await worker.send("5单元")  # a text at the photos step: it was dropped without a word
    assert "这一步请发处理后的照片" in worker.texts[-2] and "没有照片" in str(worker.last_message.buttons)
    await worker.press("没有照片")
    await resident.presses("没人联系", "未解决", "不满意")
    await resident.photo("why-1")
    assert "请用文字回复" in resident.texts[-2] and "哪里还没解决好" in resident.last_text


async def test_assigning_in_a_grid_with_nobody_to_receive_says_so(uow_factory):
    """A picker with no one to offer says that nobody can take it (not a bare question without buttons:
    in Jinja `none` is the literal None, so the context's flag is named `nobody`)."""
    roster = EXAMPLE_ROSTER.read_text(encoding="utf-8")
    for name in ("王芳", "马国庆"):  # grid 1's worker and leader on leave
        roster = roster.replace(f"{{name: {name}, ", f"{{name: {name}, away: true, ")
    async with uow_factory() as uow:
        await uow.roster.upsert(parse_roster(roster, "roster.yaml"))
        await uow.commit()
    bot = make_conversations(uow_factory, FakeClock())
    world = World()
    resident = ResidentChat(bot, RESIDENT, "张阿姨", world=world)
    staff = ResidentChat(bot, STAFF, "李建国", world=world, chat_id=STAFF_GROUP)
    await file_light_report(resident)
    assert "待指派" in staff.last_text
    await staff.press("指派")
    assert "没有可指派的人" in staff.last_text and not staff.last_message.buttons
