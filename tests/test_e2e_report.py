"""End to end: the real aiogram bot polls the local Bot API sandbox over HTTP, on both databases."""

from __future__ import annotations

import asyncio

import pytest
from dialog_support import load_example
from e2e_support import Resident, live


@pytest.fixture
async def live_bot(engine, uow_factory):
    """The sandbox, and the real bot polling it, with the example community loaded."""
    await load_example(uow_factory)
    async with live(engine) as (client, server):
        yield client, server


async def test_a_resident_reports_a_problem_end_to_end(live_bot, uow_factory):
    client, server = live_bot
    resident = Resident(client, 5001)
    await client.open_deep_link(5001, "b_3")
    await resident.expect("已记下您在 3号楼")
    await resident.say("一楼堆放杂物，楼道都堵了")
    await resident.expect("环境卫生")
    await resident.tap_when("是的")
    await resident.expect("哪个单元")  # the building came from the stairwell QR code
    await client.send_sticker(5001)
    await resident.expect("表情贴纸")
    await resident.say("楼" * 4096)  # the longest a Telegram message can be
    await resident.expect("这个单元")
    await resident.tap_when("2单元")
    await resident.expect("有照片")  # "一楼" in the first message: no floor question
    await client.send_photo(5001)
    await resident.expect("第 1 张")
    await resident.tap_when("照片发完了")
    await resident.expect("实名还是匿名")
    await resident.tap_when("实名反映")
    summary = await resident.expect("请核对")
    assert "3号楼2单元 一楼" in summary and "1 张" in summary
    await resident.tap_when("确认提交")
    filed = await resident.expect("已提交")
    assert "XK-20261122-0001" in filed

    async with uow_factory() as uow:
        [ticket] = await uow.tickets.for_resident(5001)
    assert ticket.number == "XK-20261122-0001" and len(ticket.photos) == 1
    # The photo id the bot stored is one the sandbox knows.
    assert ticket.photos[0] in server.sandbox.files

    await resident.say("/my")
    await resident.expect("XK-20261122-0001")
    await resident.tap_when("XK-20261122-0001")
    await resident.expect("提交反映")
    # The bot registered everyone's command menu (staff chats the sandbox does not know were refused).
    [menu] = [m for m in (await client.info())["commands"] if m["scope"] == "type=default"]
    assert {c["command"] for c in menu["commands"]} == {"report", "my", "home", "phone", "cancel", "help"}


async def test_stale_button_and_cancel_over_http(live_bot, uow_factory):
    client, _ = live_bot
    resident = Resident(client, 5002)
    await resident.say("5栋门口垃圾桶满了没人清")
    await resident.expect("环境卫生")
    first = (await client.bot_messages(5002))[-1]
    await resident.tap_when("是的")
    await resident.expect("哪个单元")
    # The first question's keyboard was taken away; a press forged on it is refused with an alert.
    await client.press(5002, first.raw["message_id"], first.button_data("选其他类别") if first.buttons
                       else "r:1:other", force=True)
    for _ in range(100):
        answers = [a for a in await client.callback_answers() if a.get("show_alert")]
        if answers:
            break
        await asyncio.sleep(0.05)
    assert answers and "失效" in answers[-1]["text"]
    await resident.say("/cancel")
    await resident.expect("已取消")
    # Every question's keyboard is taken away once the dialog moves on or ends.
    for _ in range(200):
        live = [m.text for m in await client.bot_messages(5002) if m.buttons]
        if not live:
            break
        await asyncio.sleep(0.05)
    assert live == []
    async with uow_factory() as uow:
        assert list(await uow.tickets.for_resident(5002)) == []
