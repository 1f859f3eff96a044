"""End to end over HTTP (the real bot polling the sandbox), on both databases: a voice note as a report,
delivered to the grid worker with sendVoice; an emergency filed at once, a detail sent after it
forwarded; the share-contact keyboard shown and taken away."""

from __future__ import annotations

import asyncio

import pytest
from dialog_support import load_example
from e2e_support import Resident, live, roster_sandbox

WORKER_GRID_1, WORKER_GRID_2, LEADER_GRID_2, STAFF_GROUP = 1011, 1012, 1022, -1001000000001


@pytest.fixture
async def live_bot(engine, uow_factory):
    await load_example(uow_factory)
    async with live(engine, sandbox=roster_sandbox()) as (client, server):
        yield client, server


async def wait_for(client, chat_id: int, kind: str, timeout: float = 10):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        found = [m for m in await client.bot_messages(chat_id) if m.kind == kind]
        if found:
            return found
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"no {kind} in {chat_id}:\n{await client.transcript(chat_id)}")
        await asyncio.sleep(0.05)


async def test_a_voice_note_is_a_report_and_reaches_the_worker_as_a_voice(live_bot, uow_factory):
    client, _ = live_bot
    resident = Resident(client, 5001)
    await client.send_voice(5001, duration=7)
    [sent] = [m for m in await client.messages(5001) if m.kind == "voice"]
    file_id = sent.raw["voice"]["file_id"]
    await resident.expect("请选择问题类别")  # no text: the category by buttons
    await resident.tap_when("环境卫生")
    await resident.expect("哪栋楼")
    await resident.say("3号楼")
    await resident.tap_when("2单元")
    await resident.tap_when("跳过")
    await resident.tap_when("没有照片")
    await resident.tap_when("实名反映")
    offer = await resident.expect("留个电话")
    assert "网格员" in offer
    [chat] = [c for c in await client.chats(5001) if c["id"] == 5001]
    keyboard = chat["reply_keyboard"]["keyboard"]
    assert any(b.get("request_contact") for row in keyboard for b in row)  # Telegram's share-contact button
    summary = await resident.expect("请核对")
    assert "语音留言" in summary
    await client.send_contact(5001, "+86 139 0000 1111")
    await resident.expect("已记下您的电话 139****1111")
    [chat] = [c for c in await client.chats(5001) if c["id"] == 5001]
    assert chat["reply_keyboard"] is None  # taken away with the answer
    await resident.expect("请核对")
    await resident.tap_when("确认提交")
    await resident.expect("已提交")

    async with uow_factory() as uow:
        [ticket] = await uow.tickets.for_resident(5001)
    assert ticket.voice == file_id and ticket.reporter.phone == "13900001111"
    [voice] = await wait_for(client, WORKER_GRID_1, "voice")
    assert voice.raw["voice"]["file_id"] == file_id
    assert not [m for m in await client.bot_messages(STAFF_GROUP) if m.kind == "voice"]


async def test_an_emergency_is_filed_at_once_and_a_detail_after_it_reaches_the_worker(live_bot, uow_factory):
    client, _ = live_bot
    resident = Resident(client, 5002)
    await resident.say("8号楼1单元着火了，好多烟")
    await resident.expect("立即拨打")
    await resident.expect("已提交")
    worker = Resident(client, WORKER_GRID_2)
    await worker.expect("紧急")
    await Resident(client, LEADER_GRID_2).expect("抄送")
    await Resident(client, STAFF_GROUP).expect("紧急工单")
    await resident.say("火是从三楼厨房烧起来的")
    await resident.expect("已补充")
    update = await worker.expect("居民补充")
    assert "三楼厨房" in update
