"""实名 reports and the resident's phone: offered with Telegram's share-contact button, typed in any common
format, skipped, remembered, changed or removed (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from dialog_support import FakeClock, ResidentChat, World, load_example, make_conversations, tickets_of

pytestmark = pytest.mark.memory


@pytest.fixture
async def bot(uow_factory):
    await load_example(uow_factory)
    return make_conversations(uow_factory, FakeClock())




async def stored_phone(uow_factory, user_id=5001):
    async with uow_factory() as uow:
        resident = await uow.residents.get(user_id)
    return resident.phone if resident else None


async def up_to_named(chat: ResidentChat, text: str = "3号楼2单元楼道灯坏了一个星期了") -> None:
    await chat.send(text)
    await chat.presses("是的", "跳过", "没有照片", "实名反映")


def offer_of(chat: ResidentChat):
    return next(m for m in reversed(chat.received) if m.reply_keyboard)


async def test_named_without_a_phone_is_offered_the_share_button_and_a_typed_number_is_kept(bot, uow_factory):
    world = World()
    chat = ResidentChat(bot, world=world)
    await up_to_named(chat)
    offer = offer_of(chat)
    assert "留个电话" in offer.text and "只有处理您这张工单的网格员能看到完整号码" in offer.text
    share = [b for row in offer.reply_keyboard for b in row if b.request_contact]
    assert share and not offer.buttons  # one reply_markup per message: no inline buttons with it
    assert "请核对" in chat.last_text and "未留电话" in chat.last_text  # 确认提交 works without an answer
    await chat.send("+86 139-0000-1111")
    saved = chat.received[-2]
    assert "139****1111" in saved.text and saved.remove_reply_keyboard
    assert "电话 139****1111" in chat.last_text and "请核对" in chat.last_text
    await chat.press("确认提交")
    [ticket] = await tickets_of(uow_factory, 5001)
    assert ticket.reporter.phone == "13900001111"
    card = next(m for m in world.inbox[ticket.assignee] if "新工单" in m.text)
    assert "139****1111" in card.text and "13900001111" not in card.text  # masked until revealed
    assert all("1111" not in text for text in world.group_texts())

    await up_to_named(chat, "5号楼1单元门口垃圾桶满了没人清")  # the next report: remembered, not asked
    assert "留个电话" not in chat.texts[-2] and "139****1111" in chat.last_text
    await chat.press("确认提交")
    assert [t.reporter.phone for t in await tickets_of(uow_factory, 5001)] == ["13900001111", "13900001111"]


async def test_a_wrong_number_is_refused_and_skipping_files_without_one(bot, uow_factory):
    chat = ResidentChat(bot)
    await up_to_named(chat)
    await chat.send("12345")
    assert "不是一个电话号码" in chat.last_text and chat.last_message.reply_keyboard  # asked again
    await chat.send("不留电话")
    assert "这次不留电话" in chat.texts[-2] and chat.received[-2].remove_reply_keyboard
    await chat.press("确认提交")
    filed = next(m for m in chat.last.messages if "已提交" in m.text)  # (the home offer comes after)
    assert "已提交" in filed.text and filed.remove_reply_keyboard
    [ticket] = await tickets_of(uow_factory, 5001)
    assert ticket.reporter.phone is None and await stored_phone(uow_factory) is None


async def test_a_shared_contact_answers_the_offer(bot, uow_factory):
    chat = ResidentChat(bot)
    await up_to_named(chat)
    await chat.contact("13900000000", owner=777)  # someone else's card
    assert "本人" in chat.last_text and await stored_phone(uow_factory) is None
    await chat.contact("8613812345678")
    assert "138****5678" in chat.texts[-2] and chat.received[-2].remove_reply_keyboard
    await chat.press("确认提交")
    [ticket] = await tickets_of(uow_factory, 5001)
    assert ticket.reporter.phone == "13812345678"


async def test_anonymous_reports_are_not_offered_and_carry_no_phone(bot, uow_factory):
    chat = ResidentChat(bot)
    await chat.send("/phone 13812345678")
    await chat.send("3号楼2单元楼道灯坏了一个星期了")
    await chat.presses("是的", "跳过", "没有照片", "匿名反映")
    assert not any(m.reply_keyboard for m in chat.received)
    await chat.press("确认提交")
    [ticket] = await tickets_of(uow_factory, 5001)
    assert ticket.reporter.anonymous and ticket.reporter.phone is None


async def test_the_phone_is_changed_or_removed_from_the_summary(bot, uow_factory):
    chat = ResidentChat(bot)
    await chat.send("/phone 13812345678")
    await up_to_named(chat)
    await chat.presses("修改", "联系电话")
    offer = offer_of(chat)
    assert "138****5678" in offer.text
    await chat.send("０２１－６６６６ ８８８８")  # full-width digits and a dash
    assert await stored_phone(uow_factory) == "021-66668888"
    await chat.presses("修改", "联系电话")
    await chat.send("不留电话")
    assert "未留电话" in chat.last_text and await stored_phone(uow_factory) is None
    await chat.press("确认提交")
    [ticket] = await tickets_of(uow_factory, 5001)
    assert ticket.reporter.phone is None


async def test_the_phone_command_shows_changes_and_removes_it(bot, uow_factory):
    chat = ResidentChat(bot)
    await chat.send("/phone")
    assert "还没有留电话" in chat.last_text
    await chat.send("/phone 137 5555 6666")
    assert "137****6666" in chat.last_text and await stored_phone(uow_factory) == "13755556666"
    await chat.send("/phone")
    assert "137****6666" in chat.last_text and "13755556666" not in chat.last_text
    await chat.send("/phone 12")
    assert "不是一个电话号码" in chat.last_text and await stored_phone(uow_factory) == "13755556666"
    await chat.send("/phone 删除")
    assert "已删除" in chat.last_text and await stored_phone(uow_factory) is None
