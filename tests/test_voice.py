"""Voice notes and captions in the report dialog; the voice kept on the ticket and sent with the card
(SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from dialog_support import FakeClock, ResidentChat, World, load_example, make_conversations, tickets_of

from gridcore.messages import Button, OutgoingMessage
from storage.repositories.outbox import decode_message, encode_message

pytestmark = pytest.mark.memory

WORKER_GRID_1, LEADER_GRID_1, STAFF_GROUP = 1011, 1021, -1001000000001


@pytest.fixture
async def bot(uow_factory):
    await load_example(uow_factory)
    return make_conversations(uow_factory, FakeClock())




async def test_a_voice_note_starts_a_report_and_goes_to_the_worker_with_the_card(bot, uow_factory):
    world = World()
    chat = ResidentChat(bot, world=world)
    await chat.voice("AwACvoice-42")
    assert "请选择问题类别" in chat.last_text  # no words to guess from: buttons
    await chat.press("环境卫生")
    assert "哪栋楼" in chat.last_text  # the voice is the description
    await chat.send("3号楼")
    await chat.presses("2单元", "跳过", "没有照片", "匿名反映")
    assert "语音留言" in chat.last_text
    await chat.press("确认提交")
    [ticket] = await tickets_of(uow_factory, 5001)
    assert ticket.voice == "AwACvoice-42" and "语音留言" in ticket.description
    [card] = [m for m in world.inbox[WORKER_GRID_1] if "新工单" in m.text]
    assert card.voice == "AwACvoice-42" and "语音" in card.text
    assert all(m.voice is None for m in world.inbox[STAFF_GROUP])  # a resident's own voice: no group


async def test_a_voice_note_at_the_description_step_with_a_caption(bot, uow_factory):
    chat = ResidentChat(bot)
    await chat.send("/report")
    await chat.press("环境卫生")
    await chat.voice("AwACvoice-7", caption="楼道很脏")
    assert "哪栋楼" in chat.last_text
    await chat.send("5号楼")
    await chat.presses("1单元", "跳过", "没有照片", "匿名反映")
    assert "楼道很脏 （语音留言）" in chat.last_text
    await chat.press("确认提交")
    [ticket] = await tickets_of(uow_factory, 5001)
    assert (ticket.voice, ticket.description) == ("AwACvoice-7", "楼道很脏")


async def test_a_voice_note_at_another_step_is_politely_refused(bot, uow_factory):
    chat = ResidentChat(bot)
    await chat.send("3号楼2单元楼道灯坏了一个星期了")
    await chat.voice()
    assert "语音" in chat.texts[-2] and "公共设施" in chat.last_text
    await chat.presses("是的", "跳过", "没有照片", "匿名反映", "确认提交")
    [ticket] = await tickets_of(uow_factory, 5001)
    assert ticket.voice is None


async def test_a_caption_at_the_photo_step_is_kept(bot, uow_factory):
    chat = ResidentChat(bot)
    await chat.send("3号楼2单元楼道灯坏了一个星期了")
    await chat.presses("是的", "跳过")
    await chat.photo("p1", caption="灯罩也掉下来了")
    assert "说明已加到问题描述里" in chat.last_text
    await chat.photo("p2", caption="灯罩也掉下来了")  # the same words again: not twice
    await chat.photo("p3", caption="🙂")
    await chat.presses("照片发完了", "匿名反映")
    assert "灯罩也掉下来了" in chat.last_text
    await chat.press("确认提交")
    [ticket] = await tickets_of(uow_factory, 5001)
    assert ticket.description == "3号楼2单元楼道灯坏了一个星期了\n灯罩也掉下来了"
    assert ticket.photos == ("p1", "p2", "p3")


def test_the_outbox_keeps_voice_and_reply_keyboards():
    keyboard = ((Button("分享", request_contact=True),), (Button("不留"),))
    message = OutgoingMessage(5001, "hi", voice="AwAC1", reply_keyboard=keyboard)
    assert decode_message(encode_message(message)) == message
    removed = OutgoingMessage(5001, "ok", remove_reply_keyboard=True)
    assert decode_message(encode_message(removed)) == removed
    plain = OutgoingMessage(5001, "plain")
    assert not {"voice", "reply_keyboard", "remove_reply_keyboard"} & set(encode_message(plain))
