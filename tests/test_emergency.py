"""Emergencies are filed at once and go to the grid's worker, its leader and the staff group; what the
resident sends next is added to the ticket (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from dialog_support import FakeClock, ResidentChat, World, load_example, make_conversations

from gridcore.ticket import Action, TicketStatus, Urgency

pytestmark = pytest.mark.memory

WORKER_GRID_2, LEADER_GRID_2, STAFF_GROUP = 1012, 1022, -1001000000001


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
async def bot(uow_factory, clock):
    await load_example(uow_factory)
    return make_conversations(uow_factory, clock)


async def only_ticket(uow_factory, user_id=5001):
    async with uow_factory() as uow:
        [ticket] = list(await uow.tickets.for_resident(user_id))
        return ticket, list(await uow.tickets.ledger(ticket.number))


def buttons_of(message) -> list[str]:
    return [b.text for row in message.buttons for b in row]


async def test_an_emergency_whose_place_is_known_is_filed_at_once_to_worker_leader_and_staff(
        bot, uow_factory):
    world = World()
    chat = ResidentChat(bot, world=world)
    await chat.send("8号楼2单元302室煤气味很重，快来人")
    texts = chat.texts
    assert "立即拨打" in texts[0] and "已提交" in texts[1] and "30 分钟内" in texts[2]
    assert not any(b for m in chat.received for row in m.buttons for b in row)  # nothing asked
    ticket, ledger = await only_ticket(uow_factory)
    assert ticket.urgency is Urgency.URGENT and ticket.status is TicketStatus.ASSIGNED
    assert ticket.assignee == WORKER_GRID_2  # 紧急险情 is 联办, but someone must go now
    location = ticket.location
    assert (location.building_code, location.unit, location.detail) == ("8", "2", "302室")
    assert [e.action for e in ledger] == [Action.SUBMIT, Action.ASSIGN]
    [card] = world.inbox[WORKER_GRID_2]
    assert "签收" in " ".join(buttons_of(card)) and "8号楼" in card.text
    [copy] = world.inbox[LEADER_GRID_2]
    assert "抄送" in copy.text and "紧急" in copy.text
    # The leader supervises (hands it on, up, or sets its level); the worker's acts stay theirs.
    assert buttons_of(copy) == ["转派", "上报社区", "调整等级"]
    leader = ResidentChat(bot, LEADER_GRID_2, "网格长", world=world)
    await leader.press_data(next(b.data for row in copy.buttons for b in row if b.text == "转派"))
    assert not leader.last.callback_alert and "转" in leader.last_text  # the picker, in the leader's chat
    [staff] = world.inbox[STAFF_GROUP]
    assert "紧急工单" in staff.text and "待指派" not in staff.text and not staff.buttons


async def test_an_emergency_without_a_place_asks_where_once(bot, uow_factory):
    world = World()
    chat = ResidentChat(bot, world=world)
    await chat.send("有人晕倒了，在楼道里")
    assert "立即拨打" in chat.texts[0] and "位置" in chat.texts[-2] and "哪栋楼" in chat.last_text
    await chat.send("不清楚")
    assert "已提交" in chat.texts[-2]
    ticket, _ = await only_ticket(uow_factory)
    assert ticket.urgency is Urgency.URGENT and ticket.location.building_code is None
    assert ticket.location.detail == "楼道里"
    [staff] = world.inbox[STAFF_GROUP]  # no grid: the staff assign it
    assert "指派" in " ".join(buttons_of(staff))


@pytest.mark.parametrize(("typed", "code", "worker"), [("就在十二幢楼下", "12", (1013, 1014)),
                                                     ("五栋楼道里", "5", (WORKER_GRID_2,))])
async def test_a_building_written_in_chinese_numerals_answers_the_place_question(
        bot, uow_factory, typed, code, worker):
    """"十二幢楼下" is under building 12, not "twelve buildings": the grid's worker gets it at once."""
    world = World()
    chat = ResidentChat(bot, world=world)
    await chat.send("楼下有煤气味很大")
    await chat.send(typed)
    assert "已提交" in chat.texts[-2]
    ticket, _ = await only_ticket(uow_factory)
    assert ticket.location.building_code == code and ticket.assignee in worker
    assert any("新工单" in m.text for m in world.inbox[ticket.assignee])


async def test_a_typed_place_that_is_no_building_is_kept_and_the_ticket_filed(bot, uow_factory):
    chat = ResidentChat(bot)
    await chat.send("着火了！！")
    await chat.send("菜市场对面那排平房")
    assert "已提交" in chat.texts[-2]
    ticket, _ = await only_ticket(uow_factory)
    assert ticket.location.building_code is None and ticket.location.detail == "菜市场对面那排平房"


async def test_details_sent_after_filing_are_added_and_forwarded_until_the_window_ends(
        bot, uow_factory, clock):
    world = World()
    chat = ResidentChat(bot, world=world)
    await chat.send("5号楼1单元着火了，冒烟很大")
    world.inbox[WORKER_GRID_2].clear()
    await chat.send("现在烟更大了，3楼也有烟")
    assert "已补充" in chat.last_text
    await chat.photo("smoke-1", caption="楼道照片")
    await chat.send("🔥🔥")  # shows no words: not an update
    assert "文字、照片或语音" in chat.last_text
    ticket, ledger = await only_ticket(uow_factory)
    updates = [e for e in ledger if e.action is Action.RESIDENT_UPDATE]
    assert [u.details["text"] for u in updates] == ["现在烟更大了，3楼也有烟", "楼道照片"]
    assert ticket.photos == ("smoke-1",)
    forwarded = world.inbox[WORKER_GRID_2]
    assert "3楼也有烟" in forwarded[0].text and forwarded[1].photos == ("smoke-1",)
    assert not world.group_texts() or all("3楼也有烟" not in t for t in world.group_texts())

    clock.advance(minutes=31)  # the window is over: a message is a new report again
    await chat.send("另外小区门口的路灯坏了")
    assert "公共设施" in chat.last_text
    _, ledger = await only_ticket(uow_factory)
    assert len([e for e in ledger if e.action is Action.RESIDENT_UPDATE]) == 2


async def test_cancel_ends_the_follow_up_window(bot, uow_factory):
    chat = ResidentChat(bot)
    await chat.send("3号楼电梯困人了，有人被困电梯")
    handled = await chat.press_data("r:1:yes")  # a button from before the filing: stale, nothing added
    assert handled.callback_alert
    await chat.send("/cancel")
    assert "结束补充" in chat.last_text
    await chat.send("3号楼楼道灯坏了")
    assert "公共设施" in chat.last_text
    ticket, ledger = await only_ticket(uow_factory)
    assert ticket.status is TicketStatus.ASSIGNED  # the ticket itself goes on
    assert Action.RESIDENT_UPDATE not in [e.action for e in ledger]
