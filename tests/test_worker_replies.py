"""常用回复 in the chat: 办结 and one reply tap resolve a ticket (the resident gets that text); 进展 and a
reply send it; typing still works (and still asks for photos); an older question's reply does nothing."""

from __future__ import annotations

from dataclasses import replace

import pytest
from dialog_support import example_world

from gridcore.community import Replies
from gridcore.ticket import Action, TicketStatus
from tests.test_worker_loop import RESIDENT, WORKER_1, file_light_report, ticket

pytestmark = pytest.mark.memory

# examples/roster.yaml, 公共设施 (the light report's category)
FIXED = "已修好，可以正常使用了"
ON_IT = "已报物业维修，预计明天处理"


@pytest.fixture
async def world(uow_factory):
    return await example_world(uow_factory)


async def accepted(chat):
    resident, worker = chat(RESIDENT, "张阿姨"), chat(WORKER_1, "王芳")
    await file_light_report(resident)
    await worker.press("签收")
    return resident, worker


async def test_resolve_takes_two_taps_and_the_resident_gets_the_reply(world, uow_factory):
    _, chat = world
    resident, worker = await accepted(chat)
    await worker.press("办结")
    question = worker.received[-1]
    assert "点选常用回复，或直接输入" in question.text
    labels = [row[0].text for row in question.buttons]
    assert labels[:3] == [FIXED, "已由物业维修完毕", "已报相关部门，维修已完成"] and labels[-1] == "取消"
    assert all(len(row) == 1 for row in question.buttons)  # one per row: thumbs on a phone

    await worker.press(FIXED)
    assert FIXED in worker.last_text and "已办结" in worker.last_text
    result = [m for m in resident.received if "处理结果" in m.text][-1]
    assert FIXED in result.text and result.photos == ()
    assert "是否有人联系您" in resident.last_text
    done = await ticket(uow_factory)
    assert done.status is TicketStatus.RESOLVED
    async with uow_factory() as uow:
        ledger = await uow.tickets.ledger(done.number)
    assert ledger[-1].action is Action.RESOLVE


async def test_a_progress_reply_is_sent(world, uow_factory):
    _, chat = world
    resident, worker = await accepted(chat)
    await worker.press("进展")
    assert "点选常用回复，或直接输入" in worker.last_text
    await worker.press(ON_IT)
    assert "进展已记录" in worker.last_text and ON_IT in worker.last_text
    assert ON_IT in resident.last_text
    current = await ticket(uow_factory)
    async with uow_factory() as uow:
        ledger = await uow.tickets.ledger(current.number)
    assert ledger[-1].action is Action.PROGRESS and current.status is TicketStatus.ACCEPTED


async def test_typing_still_works_and_a_typed_result_still_asks_for_photos(world, uow_factory):
    _, chat = world
    resident, worker = await accepted(chat)
    await worker.press("进展")
    await worker.send("电工下午到")
    assert "电工下午到" in resident.last_text
    await worker.press("办结")
    await worker.send("换了新灯")
    assert "照片" in worker.last_text and FIXED not in str(worker.received[-1].buttons)
    await worker.photo("after-1")
    await worker.press("照片发完了")
    result = [m for m in resident.received if "处理结果" in m.text][-1]
    assert "换了新灯" in result.text and result.photos == ("after-1",)


async def test_a_reply_of_an_older_question_does_nothing(world, uow_factory):
    _, chat = world
    resident, worker = await accepted(chat)
    await worker.press("办结")
    old_reply = worker.button(FIXED)
    await worker.press("取消")
    await worker.press("进展")
    handled = await worker.press_data(old_reply)  # the 办结 question's reply, pressed after it was left
    assert handled.callback_alert and not handled.messages
    assert (await ticket(uow_factory)).status is TicketStatus.ACCEPTED
    assert not [m for m in resident.received if FIXED in m.text]
    forged = worker.button(ON_IT).rsplit(":", 1)[0] + ":t99"  # this question's turn, no such reply
    assert (await worker.press_data(forged)).messages == []
    await worker.press(ON_IT)  # the question is still open
    assert ON_IT in resident.last_text


async def test_long_replies_show_whole_in_the_question_and_fit_telegram(world, uow_factory):
    long_text = "已联系物业和供电所到现场排查线路，" * 11  # 187 characters: past a button's width
    async with uow_factory() as uow:
        community = await uow.roster.get("XK")
        facility = community.category("facility")
        longer = replace(facility, replies=Replies(resolve=tuple(f"{i}{long_text}" for i in range(8))))
        categories = tuple(longer if c.code == "facility" else c for c in community.categories)
        await uow.roster.upsert(replace(community, categories=categories))
        await uow.commit()
    _, chat = world
    resident, worker = await accepted(chat)
    await worker.press("办结")
    question = worker.received[-1]
    assert f"8. 7{long_text}" in question.text and len(question.text) < 4096
    assert question.buttons[7][0].text.startswith("8. 7已联系") and len(question.buttons[7][0].text) <= 32
    await worker.press("8. 7已联系")
    result = [m for m in resident.received if "处理结果" in m.text][-1]
    assert f"7{long_text}" in result.text
