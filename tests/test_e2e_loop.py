"""End to end over HTTP: the whole closed loop between a resident and a grid worker in the sandbox."""

from __future__ import annotations

import pytest
from dialog_support import load_example
from e2e_support import Resident, live

from gridcore.ticket import TicketStatus

RESIDENT, WORKER = 5001, 1011  # 王芳 is grid 1's worker in examples/roster.yaml


@pytest.fixture
async def sandbox(engine, uow_factory):
    await load_example(uow_factory)
    async with live(engine) as (client, server):
        yield client, server


async def test_file_accept_progress_resolve_with_photo_rate_close(sandbox, uow_factory):
    client, _ = sandbox
    resident, worker = Resident(client, RESIDENT), Resident(client, WORKER)
    await worker.say("/start")  # Telegram only lets a bot write to people who started it
    await worker.expect("您好")
    await client.send_contact(RESIDENT, phone_number="13812345678")
    await resident.expect("已记下您的电话")
    await resident.say("3号楼2单元楼道灯坏了一个星期了")
    await resident.expect("公共设施")
    for label, reply in (("是的", "几楼"), ("跳过", "照片"), ("没有照片", "实名还是匿名"),
                         ("实名反映", "请核对"), ("确认提交", "已提交")):
        await resident.tap_when(label)
        await resident.expect(reply)

    card = await worker.expect("新工单")
    assert "138****5678" in card and "13812345678" not in card
    await worker.tap_when("签收")
    await resident.expect("王** 签收")
    await worker.tap_when("进展")
    await worker.expect("处理进展")
    await worker.say("电工明天上午来换灯")
    await resident.expect("电工明天上午来换灯")
    await worker.tap_when("办结")
    await worker.expect("处理结果")
    await worker.say("已换新灯，楼道亮了")
    await worker.expect("处理后的照片")
    await client.send_photo(WORKER)
    await worker.expect("已收到 1 张照片")
    await worker.tap_when("照片发完了")
    await resident.expect("楼道亮了")
    photos = [m for m in await client.bot_messages(RESIDENT) if m.photo]
    assert len(photos) == 1  # the worker's "after" photo reached the resident

    await resident.expect("是否有人联系您")
    await resident.tap_when("有人联系了")
    await resident.expect("问题是否解决")
    await resident.tap_when("已解决")
    await resident.expect("您是否满意")
    await resident.tap_when("满意")
    await resident.expect("谢谢您的评价")
    async with uow_factory() as uow:
        [ticket] = await uow.tickets.for_resident(RESIDENT)
    assert ticket.status is TicketStatus.CLOSED
    # The worker's card ends without buttons, showing the ticket closed.
    card = next(m for m in reversed(await client.bot_messages(WORKER)) if "XK-20261122-0001" in m.text
                and "公共设施" in m.text)
    assert "已办结" in card.text and "已关闭" in card.text and not card.buttons
