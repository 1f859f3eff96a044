"""Sweeps and delivery failures, at the conversation layer on both databases."""

from __future__ import annotations

from functools import partial

import pytest
from dialog_support import FakeClock, ResidentChat, World, load_example, make_conversations

from gridcore.ticket import Action, TicketStatus
from handlers import upkeep

pytestmark = pytest.mark.memory

RESIDENT, WORKER_1, STAFF_GROUP = 5001, 1011, -1001000000001


@pytest.fixture
async def loop(uow_factory):
    await load_example(uow_factory)
    clock = FakeClock()
    bot = make_conversations(uow_factory, clock)
    world = World()
    resident = ResidentChat(bot, RESIDENT, "张阿姨", world=world)
    worker = ResidentChat(bot, WORKER_1, "王芳", world=world)
    await resident.send("3号楼2单元楼道灯坏了一个星期了")
    await resident.presses("是的", "跳过", "没有照片", "实名反映", "确认提交")
    return bot, clock, world, resident, worker


async def current(uow_factory):
    async with uow_factory() as uow:
        ticket = (await uow.tickets.for_resident(RESIDENT))[0]
        return ticket, [e.action for e in await uow.tickets.ledger(ticket.number)]


async def test_an_unrated_ticket_closes_after_rating_days_and_only_then(loop, uow_factory):
    bot, clock, _world, resident, worker = loop
    await worker.presses("签收", "办结")
    await worker.send("已修好")
    await worker.press("没有照片")
    clock.advance(days=6, hours=23)
    await bot.system(upkeep.close_unrated)
    assert (await current(uow_factory))[0].status is TicketStatus.RESOLVED
    clock.advance(hours=2)
    sent = await bot.system(upkeep.close_unrated)
    assert await bot.system(upkeep.close_unrated) == []  # a second sweep finds nothing more to do
    ticket, ledger = await current(uow_factory)
    assert ticket.status is TicketStatus.CLOSED and ledger.count(Action.CLOSE) == 1
    assert any("未评价" in m.text for m in sent if m.chat_id == RESIDENT)
    await resident.presses("有人联系了")  # a rating button after the close changes nothing
    assert resident.last.callback_alert


async def test_a_worker_who_blocked_the_bot_does_not_silently_miss_the_ticket(loop, uow_factory):
    bot, _clock, _world, _resident, _worker = loop
    ticket, _ = await current(uow_factory)
    sent = await bot.system(partial(upkeep.delivery_failed, chat_id=WORKER_1, ticket_number=ticket.number,
                                    error="Forbidden: bot was blocked by the user"))
    _, ledger = await current(uow_factory)
    assert Action.DELIVERY_FAILED in ledger
    staff_texts = [m.text for m in sent if m.chat_id == STAFF_GROUP]
    assert any("王芳" in t and "重新指派" in t for t in staff_texts)
    assert any("待指派" in t and "发不到经办人" in t for t in staff_texts)
    assert not any("张阿姨" in t for t in staff_texts)


async def test_the_unreachable_handlers_ticket_can_be_assigned_again(loop, uow_factory):
    bot, _clock, world, _resident, _worker = loop
    ticket, _ = await current(uow_factory)
    await bot.system(partial(upkeep.delivery_failed, chat_id=WORKER_1, ticket_number=ticket.number,
                             error="Forbidden: bot was blocked by the user"))
    moved, ledger = await current(uow_factory)
    assert moved.status is TicketStatus.TRANSFERRED and ledger[-1] is Action.TRANSFER
    group = ResidentChat(bot, 1001, "李建国", world=world, chat_id=STAFF_GROUP)
    await group.press_data(f"w:assign:{moved.id}")
    await group.press("马国庆")  # the grid leader takes it on
    assigned, _ = await current(uow_factory)
    assert (assigned.status, assigned.assignee) == (TicketStatus.ASSIGNED, 1021)
