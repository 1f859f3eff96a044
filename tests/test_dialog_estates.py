"""The report dialog in a community with estates (小区), on SQLite, PostgreSQL and in memory: a typed place
with its estate, the question which estate a shared building name means, navigation estate → building →
unit by buttons (paged) and by typed answers, the remembered home (offered after a first report, asked
back, /home) and a stairwell QR code winning over the home for one report."""

from __future__ import annotations

import pytest
from dialog_support import FakeClock, ResidentChat, example_community, make_conversations, tickets_of
from estate_roster import with_estates

from gridcore.messages import OutgoingMessage

pytestmark = pytest.mark.memory

NEXT = "下一页"


@pytest.fixture
async def bot(uow_factory):
    async with uow_factory() as uow:
        await uow.roster.upsert(with_estates(example_community()))
        await uow.commit()
    return make_conversations(uow_factory, FakeClock())


def question(chat: ResidentChat) -> OutgoingMessage:
    return next(m for m in reversed(chat.received) if m.buttons)


def labels(message: OutgoingMessage) -> list[str]:
    return [b.text for row in message.buttons for b in row]


async def finish(chat: ResidentChat) -> str:
    """From the detail question on: skipped, no photos, named, the summary confirmed; the summary's text."""
    if "几楼" in chat.last_text:
        await chat.press("跳过")
    await chat.press("没有照片")
    await chat.press("实名反映")
    summary = chat.last_text
    assert "请核对" in summary
    await chat.press("确认提交")
    assert "已提交" in chat.last_texts()  # (a home offer may follow in its own message)
    return summary


async def location(uow_factory, user_id: int = 5001) -> tuple[str | None, str | None]:
    ticket = (await tickets_of(uow_factory, user_id))[0]
    return ticket.location.building_code, ticket.location.unit


async def resident(uow_factory, user_id: int = 5001):
    async with uow_factory() as uow:
        return await uow.residents.get(user_id)


async def test_a_typed_place_with_its_estate_asks_nothing_more_of_the_place(bot, uow_factory):
    chat = ResidentChat(bot)
    await chat.send("雅悦花园12栋3单元楼道灯坏了一个星期了")
    await chat.press("是的")
    assert "几楼" in chat.last_text  # estate, building and unit from the text
    summary = await finish(chat)
    assert "雅悦花园12栋3单元" in summary
    assert await location(uow_factory) == ("yy12", "3")


async def test_an_alias_and_a_garage_of_an_estate(bot, uow_factory):
    chat = ResidentChat(bot)
    await chat.send("蔚蓝香廷小区8号车库路面破损严重")
    await chat.press("是的")
    summary = await finish(chat)
    assert "蔚蓝香廷小区8号车库" in summary and await location(uow_factory) == ("wlG8", None)
    assert "是您家吗" not in chat.last_text  # a garage is no home: nothing offered


async def test_a_building_several_estates_have_is_asked_back_with_just_those(bot, uow_factory):
    chat = ResidentChat(bot)
    await chat.send("5栋2单元门口垃圾桶满了没人清")
    await chat.press("是的")
    assert "好几个小区都有" in chat.last_text
    shown = labels(question(chat))
    assert {"雅悦花园5栋", "蔚蓝香廷小区5栋", "翠湖花园5栋", "5号楼"} <= set(shown)
    assert not any("12栋" in label for label in shown)
    await chat.send("翠湖")  # the estate typed picks its 5栋; the unit typed at first is kept
    assert "几楼" in chat.last_text or "照片" in chat.last_text
    await finish(chat)
    assert await location(uow_factory) == ("ch5", "2")


async def test_the_estate_button_and_none_of_these(bot, uow_factory):
    chat = ResidentChat(bot)
    await chat.send("5栋门口垃圾桶满了没人清")
    await chat.press("是的")
    await chat.press("蔚蓝香廷小区5栋")
    assert "哪个单元" in chat.last_text and "蔚蓝香廷小区5栋" in chat.last_text
    await chat.press("1单元")
    await finish(chat)
    assert await location(uow_factory) == ("wl5", "1")
    other = ResidentChat(bot, 5002, "李叔")
    await other.send("5栋门口垃圾桶满了没人清")
    await other.press("是的")
    await other.press("都不是")
    assert "哪个小区" in other.last_text


async def test_navigation_by_buttons_pages_through_a_big_estate(bot, uow_factory):
    chat = ResidentChat(bot)
    await chat.send("楼道灯坏了好几天了")
    await chat.press("是的")
    assert "哪个小区" in chat.last_text
    estates = labels(question(chat))
    assert {"雅悦花园", "蔚蓝香廷小区", "翠湖花园"} <= set(estates) and "其他楼栋（不属于小区）" in estates
    await chat.press("雅悦花园")
    assert "雅悦花园哪栋楼" in chat.last_text
    first = question(chat)
    assert "1栋" in labels(first) and "第 1/" in first.text and "3号楼" not in labels(first)
    for _ in range(5):
        if "65栋" in labels(question(chat)):
            break
        await chat.press_data(next(b.data for row in question(chat).buttons for b in row if NEXT in b.text))
    assert "65栋" in labels(question(chat))
    await chat.press("65栋")
    await chat.press("3单元")
    summary = await finish(chat)
    assert "雅悦花园65栋3单元" in summary and await location(uow_factory) == ("yy65", "3")


async def test_buildings_of_no_estate_and_going_back_to_the_estates(bot, uow_factory):
    chat = ResidentChat(bot)
    await chat.send("楼道灯坏了好几天了")
    await chat.press("是的")
    await chat.press("其他楼栋")
    shown = labels(question(chat))
    assert "3号楼" in shown and "沿街商铺3号" in shown and "1栋" not in shown
    await chat.press("换个小区")
    assert "哪个小区" in chat.last_text
    await chat.press("小区公共区域")
    assert "具体在小区哪里" in chat.last_text


async def test_a_typed_answer_at_each_step(bot, uow_factory):
    chat = ResidentChat(bot)
    await chat.send("楼道灯坏了好几天了")
    await chat.press("是的")
    await chat.send("雅悦12栋")  # at the estate question: estate and building at once
    assert "哪个单元" in chat.last_text and "雅悦花园12栋" in chat.last_text
    await chat.send("2")
    await finish(chat)
    assert await location(uow_factory) == ("yy12", "2")
    other = ResidentChat(bot, 5002, "李叔")
    await other.send("楼道灯坏了好几天了")
    await other.press("是的")
    await other.send("不知道哪个")
    assert "没有找到" in other.texts[-2] and "哪个小区" in other.last_text  # asked again, nothing changed
    await other.send("翠湖花园小区")
    assert "翠湖花园哪栋楼" in other.last_text
    await other.send("三栋")
    await other.send("1单元")
    await finish(other)
    assert await location(uow_factory, 5002) == ("ch3", "1")


async def test_the_home_is_offered_after_the_first_report_and_asked_back(bot, uow_factory):
    chat = ResidentChat(bot)
    await chat.send("雅悦花园3栋2单元302室门口堆满了杂物")
    await chat.press("是的")
    await finish(chat)
    assert "雅悦花园3栋2单元302室" in chat.last_text and "是您家吗" in chat.last_text
    await chat.press("是，记住")
    assert "已记住" in chat.last_text
    saved = await resident(uow_factory)
    assert (saved.home_building_code, saved.home_unit, saved.home_room, saved.home_offered) == (
        "yy3", "2", "302", True)
    await chat.send("楼道灯坏了好几天了")
    await chat.press("是的")
    assert "还是 <b>雅悦花园3栋2单元302室</b> 吗" in chat.last_text
    await chat.press("是")
    await finish(chat)
    assert "是您家吗" not in chat.last_text  # offered once
    assert await location(uow_factory) == ("yy3", "2")
    await chat.send("楼道灯坏了好几天了")
    await chat.press("是的")
    await chat.press("换一个地方")
    assert "哪个小区" in chat.last_text
    await chat.send("蔚蓝香廷12栋1单元")
    await finish(chat)
    assert await location(uow_factory) == ("wl12", "1")


async def test_declining_the_offer_marks_it_offered_and_a_text_after_it_starts_a_report(bot, uow_factory):
    chat = ResidentChat(bot)
    await chat.send("雅悦花园3栋2单元楼道灯坏了")
    await chat.press("是的")
    await finish(chat)
    await chat.press("不用")
    saved = await resident(uow_factory)
    assert saved.home_offered and saved.home_building_code is None
    other = ResidentChat(bot, 5002, "李叔")
    await other.send("雅悦花园4栋1单元楼道灯坏了")
    await other.press("是的")
    await finish(other)
    await other.send("楼下噪音太大了，晚上睡不着")  # the offer left unanswered: a new report starts
    assert "噪音" in other.last_text or "类别" in other.last_text
    assert (await resident(uow_factory, 5002)).home_building_code is None


async def test_home_shows_changes_and_forgets(bot, uow_factory):
    chat = ResidentChat(bot)
    await chat.send("/home")
    assert "还没有记住" in chat.last_text
    await chat.press("设置")
    assert "您家在哪个小区" in chat.last_text and "小区公共区域" not in " ".join(labels(question(chat)))
    await chat.send("翠湖3栋")
    await chat.press("1单元")
    assert "已记住您家：" in chat.last_text and "翠湖花园3栋1单元" in chat.last_text
    await chat.send("/home")
    assert "翠湖花园3栋1单元" in chat.last_text
    await chat.press("修改")
    await chat.press("雅悦花园")
    await chat.send("20栋")
    await chat.press("不在单元内")
    saved = await resident(uow_factory)
    assert (saved.home_building_code, saved.home_unit) == ("yy20", None)
    await chat.send("/home")
    await chat.press("忘记")
    assert "已忘记" in chat.last_text
    saved = await resident(uow_factory)
    assert saved.home_building_code is None and saved.home_offered
    await chat.send("楼道灯坏了好几天了")
    await chat.press("是的")
    assert "哪个小区" in chat.last_text  # no home: no "还是 … 吗"


async def test_a_qr_code_wins_over_the_home_for_one_report(bot, uow_factory):
    chat = ResidentChat(bot)
    await chat.send("/home")
    await chat.press("设置")
    await chat.send("雅悦12栋")
    await chat.press("1单元")
    await chat.send("/start b-XK-wl7")
    assert "已记下您在 <b>蔚蓝香廷小区7栋</b>" in chat.last_text
    saved = await resident(uow_factory)
    assert saved.community_code == "XK" and saved.home_building_code == "yy12"  # the home stays
    await chat.send("楼道灯坏了好几天了")
    await chat.press("是的")
    assert "哪个单元" in chat.last_text and "蔚蓝香廷小区7栋" in chat.last_text  # no home question
    await chat.press("2单元")
    await finish(chat)
    assert await location(uow_factory) == ("wl7", "2")
    await chat.send("楼道灯坏了好几天了")  # the next report: the home again
    await chat.press("是的")
    assert "还是 <b>雅悦花园12栋1单元</b> 吗" in chat.last_text


async def test_report_or_a_qr_code_during_the_home_questions_leave_the_home_alone(bot, uow_factory):
    chat = ResidentChat(bot)
    await chat.send("雅悦花园3栋2单元楼道灯坏了")
    await chat.press("是的")
    await finish(chat)
    assert "是您家吗" in chat.last_text
    await chat.send("/report")  # the offer stands: a new report starts instead
    assert "问题类别" in chat.last_text
    await chat.send("/cancel")
    await chat.send("/home")
    await chat.press("设置")
    await chat.send("/start b-XK-wl7")  # a QR code while setting the home: the home is not set by it
    assert (await resident(uow_factory)).home_building_code is None
    await chat.send("楼道灯坏了好几天了")
    await chat.press("是的")
    assert "哪个单元" in chat.last_text and "蔚蓝香廷小区7栋" in chat.last_text


async def test_a_link_naming_another_community_is_kept_for_it_and_fills_nothing_here(bot, uow_factory):
    chat = ResidentChat(bot)
    await chat.send("/start b-OTHER-wl7")
    assert "没有找到" in chat.last_text
    assert (await resident(uow_factory)).community_code == "OTHER"


async def test_typed_answers_to_the_home_question(bot, uow_factory):
    chat = ResidentChat(bot)
    await chat.send("/home")
    await chat.press("设置")
    await chat.send("翠湖花园2栋")
    await chat.press("不在单元内")  # a home without a unit: not asked again each time
    await chat.send("楼道灯坏了好几天了")
    await chat.press("是的")
    assert "还是 <b>翠湖花园2栋</b> 吗" in chat.last_text
    await chat.send("是的")
    assert "几楼" in chat.last_text
    await chat.send("/cancel")
    await chat.send("楼道灯坏了好几天了")
    await chat.press("是的")
    await chat.send("雅悦花园7栋1单元")  # another place typed instead of 换一个地方
    assert "几楼" in chat.last_text
    await finish(chat)
    assert await location(uow_factory) == ("yy7", "1")
