"""End to end with a 400-building roster: the real bot polls the sandbox, which refuses any keyboard
Telegram would (100 buttons, 8 to a row, ~10 kB, callback data 1–64 bytes). The resident pages, picks,
types, files; no message is refused on the way."""

from __future__ import annotations

import asyncio

import pytest
from big_roster import WORKER_IDS_FROM, BigRoster, load_big
from e2e_support import Resident, live

from bot.sandbox_world import groups_for, personas_for
from sandbox.client import ChatMessage
from sandbox.server import Sandbox
from storage.models import OUTBOX_FAILED
from storage.outbox_store import OutboxStore

ROSTER = BigRoster()
RESIDENT = 5001


@pytest.fixture
async def big_bot(engine, uow_factory):
    community = await load_big(uow_factory, ROSTER)
    sandbox = Sandbox(personas_for(community), groups=groups_for(community), personas_started=True)
    async with live(engine, sandbox=sandbox) as (client, server):
        yield client, server
    assert await OutboxStore(engine).peek(status=OUTBOX_FAILED) == []  # nothing refused (no 400)


async def question(resident: Resident) -> ChatMessage:
    """The newest bot message with buttons in the resident's chat."""
    for message in reversed(await resident.client.bot_messages(resident.chat_id)):
        if message.buttons:
            return message
    raise AssertionError("no question with buttons")


async def page_to(resident: Resident, label: str) -> int:
    """Press 下一页 on the question until it shows `label` (the question's message is edited)."""
    for turned in range(40):
        asked = await question(resident)
        if label in asked.button_texts:
            return turned
        await resident.client.press(resident.user_id, asked.message_id, asked.button_data("下一页"))
        for _ in range(200):
            now = await question(resident)
            if now.message_id == asked.message_id and now.button_texts != asked.button_texts:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError(await resident.client.transcript(resident.chat_id))
    raise AssertionError(f"no page shows {label!r}")


async def test_a_resident_pages_and_types_through_a_huge_roster(big_bot, uow_factory):
    client, _ = big_bot
    resident = Resident(client, RESIDENT)
    await resident.say("灯坏了好几天了")
    await resident.expect("类别")
    assert await page_to(resident, ROSTER.category_name(33)) >= 2
    await resident.tap(ROSTER.category_name(33))
    await resident.expect("哪栋楼")
    assert await page_to(resident, ROSTER.building_name(250)) >= 5
    await resident.tap(ROSTER.building_name(250))
    await resident.expect("哪个单元")
    await resident.say("30单元")  # typed, though the buttons are there
    await resident.expect("几楼")
    await resident.tap_when("跳过")
    await resident.expect("有照片")
    await resident.tap_when("没有照片")
    await resident.expect("实名还是匿名")
    await resident.tap_when("实名反映")
    await resident.expect("请核对")
    await resident.tap_when("确认提交")
    await resident.expect("已提交")

    # A second report: the building typed at the paged question, a long unit picked by its button.
    await resident.say("灯又坏了")
    await resident.expect("类别")
    await resident.say(ROSTER.category_name(9))
    await resident.expect("哪栋楼")
    await resident.say(ROSTER.building_name(3))
    await resident.expect("哪个单元")
    await page_to(resident, f"{ROSTER.unit_name(3, 30)}单元")
    await resident.tap(f"{ROSTER.unit_name(3, 30)}单元")
    await resident.expect("几楼")
    async with uow_factory() as uow:
        tickets = await uow.tickets.for_resident(RESIDENT)
    assert [(t.location.building_code, t.location.unit, t.category_code) for t in tickets] == [
        (ROSTER.building_code(250), "30", ROSTER.category_code(33))]


async def test_a_worker_pages_to_whom_to_transfer_to(big_bot, uow_factory):
    client, _ = big_bot
    resident = Resident(client, RESIDENT)
    await resident.say(f"{ROSTER.building_name(0)}的灯坏了好几天了")  # building 0 is in the big grid
    await resident.expect("类别")
    await resident.say(ROSTER.category_name(1))
    await resident.expect("哪个单元")
    for step, label in (("几楼", "不在单元内"), ("有照片", "跳过"), ("实名还是匿名", "没有照片"),
                        ("请核对", "实名反映"), ("已提交", "确认提交")):
        await resident.tap_when(label)
        await resident.expect(step)
    async with uow_factory() as uow:
        [ticket] = await uow.tickets.for_resident(RESIDENT)
    worker = Resident(client, ticket.assignee)
    await worker.expect("新工单")
    await worker.tap_when("转派")
    await worker.expect("转给谁")
    wanted = 57 if ticket.assignee != WORKER_IDS_FROM + 57 else 56
    assert await page_to(worker, ROSTER.worker_name(wanted)) >= 2
    await worker.tap(ROSTER.worker_name(wanted))
    await worker.expect("原因")
    await worker.say("换人处理")
    await Resident(client, WORKER_IDS_FROM + wanted).expect("新工单")
