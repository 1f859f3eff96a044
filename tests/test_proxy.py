"""A building leader files for a neighbour (代办), at the conversation layer, on both databases."""

from __future__ import annotations

import pytest
from dialog_support import FakeClock, ResidentChat, World, load_example, make_conversations

from gridcore.ticket import Action
from handlers.proxy import parse_neighbour

pytestmark = pytest.mark.memory

LEADER, WORKER_1, RESIDENT, WORKER_2 = 1031, 1011, 5001, 1012  # 徐长海: 楼栋长 of 3号楼 (grid 1)


@pytest.fixture
async def world(uow_factory):
    await load_example(uow_factory)
    bot = make_conversations(uow_factory, FakeClock())
    world = World()

    def chat(user_id: int, name: str) -> ResidentChat:
        return ResidentChat(bot, user_id, name, world=world)

    return chat


async def only_ticket(uow_factory, user_id=LEADER):
    async with uow_factory() as uow:
        tickets = await uow.tickets.for_resident(user_id)
        assert len(tickets) == 1
        return tickets[0], await uow.tickets.ledger(tickets[0].number)


async def proxy_report(leader: ResidentChat, neighbour: str | None) -> None:
    """/proxy for a neighbour in 3号楼 2单元: stairwell junk (环境卫生, 自办, grid 1)."""
    await leader.send("/proxy")
    assert "代邻居反映" in leader.last_text and "姓名和电话" in leader.last_text
    if neighbour is None:
        await leader.press("匿名")
    else:
        await leader.send(neighbour)
    await leader.press("环境卫生")
    await leader.send("楼道里堆满了纸箱，老人下楼不方便")
    assert "3号楼的哪个单元" in leader.last_text  # the building is the leader's, pre-filled
    await leader.presses("2单元", "跳过", "没有照片")


async def test_a_building_leader_files_for_a_named_neighbour(world, uow_factory):
    leader, worker = world(LEADER, "徐长海"), world(WORKER_1, "王芳")
    await proxy_report(leader, "王大爷 13800001111")
    summary = leader.last_text
    assert "代 王大爷 反映" in summary and "3号楼2单元" in summary  # no 实名/匿名 question was asked
    assert not any("实名反映" in b.text for row in leader.last_message.buttons for b in row)
    await leader.press("确认提交")
    assert "已提交" in leader.last_text

    ticket, ledger = await only_ticket(uow_factory)
    reporter = ticket.reporter
    assert (reporter.display_name, reporter.phone, reporter.anonymous) == ("王大爷", "13800001111", False)
    assert (reporter.user_id, reporter.chat_id, ticket.filed_by) == (LEADER, LEADER, LEADER)
    assert (ticket.location.building_code, ticket.location.unit) == ("3", "2")
    submit = ledger[0]
    assert submit.action is Action.SUBMIT and submit.actor == f"resident:{LEADER}"
    assert submit.details["filed_by"] == LEADER and submit.details["on_behalf"] is True

    card = worker.last_text
    assert "新工单" in card and "王大爷 138****1111" in card and "楼栋长代办" in card
    assert "13800001111" not in card and "徐长海" not in card
    await worker.send(f"/ticket {ticket.number}")
    assert "王大爷 138****1111" in worker.last_text and "楼栋长徐长海代办" in worker.last_text

    await worker.press("签收")  # updates go to the leader, who relays them
    assert "签收" in leader.last_text and ticket.number in leader.last_text
    await worker.press("联系居民")
    assert "+8613800001111" in worker.last_text  # a message in the worker's own chat: tap to call
    await leader.send("/my")
    assert ticket.number in leader.last_text


async def test_an_anonymous_neighbour(world, uow_factory):
    leader, worker = world(LEADER, "徐长海"), world(WORKER_1, "王芳")
    await proxy_report(leader, None)
    assert "代 匿名邻居 反映" in leader.last_text
    await leader.press("修改")
    await leader.press("邻居姓名电话")  # changing who it is for asks the neighbour line again
    assert "姓名和电话" in leader.last_text
    await leader.press("匿名")
    await leader.press("确认提交")
    ticket, ledger = await only_ticket(uow_factory)
    assert ticket.reporter.anonymous and ticket.reporter.display_name == "" and ticket.reporter.phone is None
    assert ticket.filed_by == LEADER and ledger[0].details["on_behalf"] is True
    assert ledger[0].details["anonymous"] is True
    assert "反映人</b>：匿名" in worker.last_text and "徐长海" not in worker.last_text


async def test_what_the_neighbour_line_accepts(world, uow_factory):
    leader = world(LEADER, "徐长海")
    await leader.send("/proxy")
    for wrong in ("13800001111", "王大爷 12345", "王大爷 13800001111 13900002222"):
        await leader.send(wrong)
        assert "没看懂邻居的姓名和电话" in leader.texts[-2] and "姓名和电话" in leader.last_text, wrong
    await leader.send("李奶奶")  # no phone: fine, the leader relays
    assert "请选择问题类别" in leader.last_text
    assert parse_neighbour("王大爷 13800001111") == ("王大爷", "13800001111")
    assert parse_neighbour("姓名：王大爷，电话：0531-88886666") == ("王大爷", "053188886666")
    assert parse_neighbour("王大爷,+86 13800001111") == ("王大爷", "13800001111")
    assert parse_neighbour("王大爷 138-0000-1111") == ("王大爷", "13800001111")
    assert parse_neighbour("") is None


async def test_proxy_is_for_building_leaders_only(world, uow_factory):
    for user_id, name in ((RESIDENT, "张阿姨"), (WORKER_1, "王芳")):
        someone = world(user_id, name)
        await someone.send("/proxy")
        assert "楼栋长" in someone.last_text and not someone.last_message.buttons, name
        await someone.send("楼道灯坏了")  # and they report for themselves as usual, not on behalf
        assert "代邻居" not in someone.last_text
    async with uow_factory() as uow:
        assert await uow.tickets.for_resident(RESIDENT) == []


async def test_a_leader_mid_report_keeps_it(world, uow_factory):
    leader = world(LEADER, "徐长海")
    await leader.send("3号楼楼道灯坏了")
    question = leader.last_text
    await leader.send("/proxy")  # the report under way comes back instead of being lost
    assert leader.last_text == question and "代邻居" not in leader.last_text
