"""The two example rosters as `make run` loads them: 兴康社区 (numbered buildings) and 翠湖社区 (estates
with their own 1栋…N栋, old buildings, shops, garages) in one street office, 信江街道. What the issue's
"done when" asks of them, as a resident and a street office's staff member live it."""

from __future__ import annotations

import re

import pytest
from dialog_support import FakeClock, ResidentChat, World, make_conversations, tickets_of

from bot.roster_files import read_roster

pytestmark = pytest.mark.memory

STREET_STAFF = 9001  # examples/cuihu.yaml: 周文斌, street_staff
NUMBER = re.compile(r"[A-Z]+-\d{8}-\d{4}")


@pytest.fixture
async def street(uow_factory):
    async with uow_factory() as uow:
        for path in ("examples/roster.yaml", "examples/cuihu.yaml"):
            await uow.roster.upsert(read_roster(path))
        await uow.commit()
    bot = make_conversations(uow_factory, FakeClock())
    world = World()
    return bot, world, lambda user_id, name: ResidentChat(bot, user_id, name, world=world)


def buttons(chat: ResidentChat) -> list[str]:
    return [b.text for m in chat.last.messages if m.chat_id == chat.chat_id for row in m.buttons for b in row]


async def finish(chat: ResidentChat) -> str:
    """From the detail question (asked unless the text said where: "门口", "楼道") to the filed message:
    returns the ticket number."""
    if "几楼" in chat.last_text:
        await chat.press("跳过")
    await chat.presses("没有照片", "实名反映")
    assert "请核对" in chat.last_texts()
    await chat.press("确认提交")
    number = NUMBER.search(chat.last_texts())
    assert number and "已提交" in chat.last_texts()
    return number.group(0)


async def test_an_ambiguous_building_is_asked_by_estate_and_the_home_is_offered_back(street, uow_factory):
    _, _, chat = street
    resident = chat(7001, "王大爷")
    await resident.send("5栋门口垃圾好几天没人清了")
    assert "哪个社区" in resident.last_text and set(buttons(resident)) >= {"兴康社区", "翠湖社区"}
    await resident.press("翠湖社区")
    assert "环境卫生" in resident.last_texts()
    await resident.press("是的")
    asked = buttons(resident)
    assert "好几个小区都有" in resident.last_text
    assert {"雅悦花园5栋", "蔚蓝香廷5栋"} <= set(asked)
    await resident.press("蔚蓝香廷5栋")
    await resident.press("1单元")
    await resident.presses("跳过", "没有照片", "实名反映")
    review = resident.last_texts()
    assert "<b>位置</b>：蔚蓝香廷5栋1单元\n<b>照片</b>" in review  # the estate named, lines apart
    await resident.press("确认提交")
    number = NUMBER.search(resident.last_texts()).group(0)
    assert number.startswith("CH-")
    [ticket] = await tickets_of(uow_factory, 7001)
    assert (ticket.community_code, ticket.location.unit) == ("CH", "1")
    assert "是您家吗" in resident.last_text
    await resident.press("是，记住")

    await resident.send("楼道的灯又坏了，晚上看不见")  # no community question, no place typed
    said = resident.last_texts()
    assert "哪个社区" not in said
    await resident.press("是的")
    assert "蔚蓝香廷5栋1单元" in resident.last_text and "还是" in resident.last_text
    assert {"是", "换一个地方"} <= set(buttons(resident))


async def test_a_typed_estate_and_building_need_no_question(street, uow_factory):
    _, _, chat = street
    resident = chat(7002, "李阿姨")
    await resident.send("雅悦12栋2单元门口堆了很多杂物")
    await resident.press("翠湖社区")
    await resident.press("是的")
    assert "照片" in resident.last_text  # estate, building, unit and spot were all in the text
    number = await finish(resident)
    [ticket] = await tickets_of(uow_factory, 7002)
    location = ticket.location
    assert (location.building_code, location.unit, location.detail) == ("YY12", "2", "单元门口")
    assert number.startswith("CH-")


async def test_the_street_office_sees_both_communities(street, uow_factory):
    _, _, chat = street
    in_xk, in_ch = chat(7003, "赵大姐"), chat(7004, "钱师傅")
    await in_xk.send("3号楼2单元楼道堆放杂物")
    await in_xk.press("兴康社区")
    await in_xk.press("是的")
    xk_number = await finish(in_xk)
    await in_ch.send("雅悦12栋2单元楼道堆放杂物")
    await in_ch.press("翠湖社区")
    await in_ch.press("是的")
    ch_number = await finish(in_ch)
    street_staff = chat(STREET_STAFF, "周文斌")
    for number in (xk_number, ch_number):
        await street_staff.send(f"/ticket {number}")
        assert number in street_staff.last_text and "没有找到" not in street_staff.last_text
    await street_staff.send("/help")
    assert "街道" in street_staff.last_text
