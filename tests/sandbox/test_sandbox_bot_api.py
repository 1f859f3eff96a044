"""The sandbox driven by a real aiogram Bot: the Bot API methods the bot uses, round trips included."""

from __future__ import annotations

import asyncio
import io
import time

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramConflictError
from aiogram.types import (
    BotCommand,
    BotCommandScopeChat,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from sandbox_test_constants import BOT_ID, NEIGHBOUR, RESIDENT

from sandbox import SandboxClient, SandboxServer
from sandbox.images import make_png


def keyboard(*pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=t, callback_data=d) for t, d in pairs]]
    )


async def test_get_me(bot: Bot) -> None:
    me = await bot.get_me()
    assert me.id == BOT_ID
    assert me.is_bot
    assert me.username == "gridbot_sandbox_bot"


async def test_get_updates_offset_confirms_earlier_updates(bot: Bot, client: SandboxClient) -> None:
    for text in ("一楼堆放杂物", "楼道都堵了", "/start"):
        await client.send_text(RESIDENT, text)
    updates = await bot.get_updates()
    assert [u.message.text for u in updates] == ["一楼堆放杂物", "楼道都堵了", "/start"]
    ids = [u.update_id for u in updates]
    assert ids == sorted(ids) and len(set(ids)) == 3
    assert updates[0].message.chat.id == RESIDENT and updates[0].message.chat.type == "private"
    assert updates[0].message.from_user.language_code == "zh-hans"
    assert updates[2].message.entities[0].type == "bot_command"
    # Unconfirmed updates are returned again; an offset confirms everything below it.
    assert [u.update_id for u in await bot.get_updates()] == ids
    assert [u.update_id for u in await bot.get_updates(offset=ids[1])] == ids[1:]
    assert [u.update_id for u in await bot.get_updates(limit=1)] == ids[1:2]
    assert await bot.get_updates(offset=ids[2] + 1) == []
    assert await bot.get_updates() == []  # confirmed ones are gone for good


async def test_get_updates_negative_offset_keeps_only_the_last(bot: Bot, client: SandboxClient) -> None:
    for n in range(4):
        await client.send_text(RESIDENT, f"第{n}条")
    last = await bot.get_updates(offset=-1)
    assert [u.message.text for u in last] == ["第3条"]
    assert [u.message.text for u in await bot.get_updates()] == ["第3条"]


async def test_long_poll_returns_when_an_update_arrives(bot: Bot, client: SandboxClient) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == []
    assert time.monotonic() - started >= 0.9

    poll = asyncio.create_task(bot.get_updates(timeout=1))
    await asyncio.sleep(0.05)
    started = time.monotonic()
    await client.send_text(RESIDENT, "你好")
    updates = await poll
    assert time.monotonic() - started < 0.5
    assert [u.message.text for u in updates] == ["你好"]


async def test_a_second_get_updates_terminates_the_first(bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=1))
    await asyncio.sleep(0.05)
    second = asyncio.create_task(bot.get_updates(timeout=0))
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates"):
        await first
    assert await second == []


async def test_allowed_updates_filters_and_persists(bot: Bot, client: SandboxClient) -> None:
    await client.send_text(RESIDENT, "/start")
    [update] = await bot.get_updates()
    sent = await bot.send_message(RESIDENT, "请选择", reply_markup=keyboard(("是", "yes")))
    await client.send_text(RESIDENT, "文字消息")
    await client.press(RESIDENT, sent.message_id, "yes")
    updates = await bot.get_updates(offset=update.update_id + 1, allowed_updates=["callback_query"])
    assert [u.callback_query.data for u in updates] == ["yes"]
    await client.send_text(RESIDENT, "又一条")
    assert await bot.get_updates(offset=updates[-1].update_id + 1) == []  # the setting persists
    await client.send_text(RESIDENT, "第三条")
    assert [u.message.text for u in await bot.get_updates(allowed_updates=[])] == ["第三条"]


async def test_callback_round_trip(bot: Bot, client: SandboxClient) -> None:
    await client.send_text(RESIDENT, "/start")
    sent = await bot.send_message(
        RESIDENT,
        "<b>确认提交？</b>",
        parse_mode="HTML",
        reply_markup=keyboard(("确认", "t:1:ok"), ("取消", "t:1:no")),
    )
    assert sent.reply_markup.inline_keyboard[0][0].callback_data == "t:1:ok"
    assert sent.from_user.id == BOT_ID and sent.chat.id == RESIDENT
    [shown] = await client.wait_for_bot_messages(RESIDENT, 1)
    assert shown.text == "确认提交？" and shown.html == "<b>确认提交？</b>"
    assert shown.button_texts == ["确认", "取消"] and shown.button_data("取消") == "t:1:no"

    query_id = await client.press(RESIDENT, sent.message_id, "t:1:ok")
    updates = await bot.get_updates()
    query = updates[-1].callback_query
    assert query.id == query_id and query.data == "t:1:ok" and query.from_user.id == RESIDENT
    assert query.message.message_id == sent.message_id and query.message.text == "确认提交？"
    assert await bot.answer_callback_query(query.id, text="已提交", show_alert=True)
    [answer] = await client.callback_answers()
    assert answer["text"] == "已提交" and answer["show_alert"] and answer["data"] == "t:1:ok"
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(query.id)
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query("123")


async def test_edit_message_text_and_markup(bot: Bot, client: SandboxClient) -> None:
    await client.send_text(RESIDENT, "/start")
    sent = await bot.send_message(RESIDENT, "工单 #1 待签收", reply_markup=keyboard(("签收", "accept:1")))
    edited = await bot.edit_message_text(
        "工单 #1 <i>已签收</i>",
        chat_id=RESIDENT,
        message_id=sent.message_id,
        parse_mode="HTML",
        reply_markup=keyboard(("办结", "resolve:1")),
    )
    assert edited.text == "工单 #1 已签收" and edited.edit_date is not None
    assert edited.entities[0].type == "italic"
    [shown] = await client.bot_messages(RESIDENT)
    assert shown.edited and shown.button_texts == ["办结"] and shown.html == "工单 #1 <i>已签收</i>"
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            "工单 #1 <i>已签收</i>",
            chat_id=RESIDENT,
            message_id=sent.message_id,
            parse_mode="HTML",
            reply_markup=keyboard(("办结", "resolve:1")),
        )
    # Like Telegram, editing the text without reply_markup drops the inline keyboard.
    again = await bot.edit_message_text("工单 #1 已签收", chat_id=RESIDENT, message_id=sent.message_id)
    assert again.reply_markup is None
    with_kb = await bot.edit_message_reply_markup(
        chat_id=RESIDENT, message_id=sent.message_id, reply_markup=keyboard(("评价", "rate:1"))
    )
    assert with_kb.reply_markup.inline_keyboard[0][0].text == "评价"
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(
            chat_id=RESIDENT, message_id=sent.message_id, reply_markup=keyboard(("评价", "rate:1"))
        )
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=RESIDENT, message_id=999)


async def test_delete_message_and_reply_keyboards(bot: Bot, client: SandboxClient) -> None:
    await client.send_text(RESIDENT, "/start")
    kb = ReplyKeyboardMarkup(keyboard=[[KeyboardButton(text="📱 分享手机号", request_contact=True)]])
    sent = await bot.send_message(RESIDENT, "请分享手机号", reply_markup=kb)
    assert sent.reply_markup is None  # reply keyboards are not part of the Message object
    [chat] = await client.chats(RESIDENT)
    assert chat["reply_keyboard"]["keyboard"][0][0]["request_contact"] is True
    await bot.send_message(RESIDENT, "谢谢", reply_markup=ReplyKeyboardRemove())
    [chat] = await client.chats(RESIDENT)
    assert chat["reply_keyboard"] is None
    assert await bot.delete_message(RESIDENT, sent.message_id)
    messages = await client.messages(RESIDENT)
    assert [m.deleted for m in messages] == [False, True, False]
    assert len(await client.bot_messages(RESIDENT)) == 1
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(RESIDENT, sent.message_id)


async def test_send_photo_by_upload_and_by_file_id_then_download(bot: Bot, client: SandboxClient) -> None:
    await client.send_text(RESIDENT, "/start")
    png = make_png(80, 60, seed=3)
    first = await bot.send_photo(
        RESIDENT, BufferedInputFile(png, "scene.png"), caption="<b>现场照片</b>", parse_mode="HTML"
    )
    size = first.photo[-1]
    assert (size.width, size.height) == (80, 60) and first.caption == "现场照片"
    second = await bot.send_photo(RESIDENT, size.file_id, caption="再发一次")
    assert second.photo[-1].file_id == size.file_id
    file = await bot.get_file(size.file_id)
    assert file.file_size == len(png)
    buffer = io.BytesIO()
    await bot.download_file(file.file_path, buffer)
    assert buffer.getvalue() == png
    with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
        await bot.send_photo(RESIDENT, "AgACnot-a-real-file-id")
    with pytest.raises(TelegramBadRequest, match="IMAGE_PROCESS_FAILED"):
        await bot.send_photo(RESIDENT, BufferedInputFile(b"not an image", "x.jpg"))
    [shown, _] = await client.bot_messages(RESIDENT)
    assert shown.kind == "photo" and shown.photo["url"].startswith("/control/files/")


async def test_send_media_group(bot: Bot, client: SandboxClient) -> None:
    await client.send_text(RESIDENT, "/start")
    uploaded = await bot.send_photo(RESIDENT, BufferedInputFile(make_png(), "a.png"))
    album = await bot.send_media_group(
        RESIDENT,
        [
            InputMediaPhoto(media=BufferedInputFile(make_png(seed=1), "1.png"), caption="办结前"),
            InputMediaPhoto(
                media=BufferedInputFile(make_png(seed=2), "2.png"), caption="<i>办结后</i>", parse_mode="HTML"
            ),
            InputMediaPhoto(media=uploaded.photo[-1].file_id),
        ],
    )
    assert len(album) == 3 and len({m.media_group_id for m in album}) == 1
    assert [m.caption for m in album] == ["办结前", "办结后", None]
    assert album[2].photo[-1].file_id == uploaded.photo[-1].file_id
    with pytest.raises(TelegramBadRequest, match="2-10"):
        await bot.send_media_group(RESIDENT, [InputMediaPhoto(media=uploaded.photo[-1].file_id)])


async def test_user_media_arrives_as_updates_aiogram_parses(bot: Bot, client: SandboxClient) -> None:
    await client.send_photo(RESIDENT, caption="车库地面破损")
    await client.send_sticker(RESIDENT)
    await client.send_voice(RESIDENT, duration=4)
    await client.send_location(RESIDENT, 30.5, 114.3)
    await client.send_contact(RESIDENT)
    sent = await client.send_text(RESIDENT, "写错了")
    await client.edit_text(RESIDENT, sent["message_id"], "改正后的内容")
    await client.open_deep_link(RESIDENT, "grid-7_b3")
    updates = await bot.get_updates()
    photo = updates[0].message
    assert photo.caption == "车库地面破损" and photo.photo[-1].width == 320
    assert updates[1].message.sticker.emoji == "👍"
    assert updates[2].message.voice.duration == 4
    assert updates[3].message.location.latitude == 30.5
    assert updates[4].message.contact.user_id == RESIDENT
    assert updates[6].edited_message.text == "改正后的内容"
    deep = updates[7].message
    assert deep.text == "/start grid-7_b3"
    assert (deep.entities[0].type, deep.entities[0].offset, deep.entities[0].length) == ("bot_command", 0, 6)
    file = await bot.get_file(photo.photo[-1].file_id)
    buffer = io.BytesIO()
    await bot.download_file(file.file_path, buffer)
    assert buffer.getvalue().startswith(b"\x89PNG")


async def test_commands_and_chat_action(bot: Bot, client: SandboxClient) -> None:
    commands = [
        BotCommand(command="start", description="开始"),
        BotCommand(command="report", description="反映问题"),
    ]
    assert await bot.set_my_commands(commands)
    assert [c.command for c in await bot.get_my_commands()] == ["start", "report"]
    scoped = BotCommandScopeChat(chat_id=RESIDENT)
    with pytest.raises(TelegramBadRequest, match="chat not found"):  # not started: Telegram knows no chat
        await bot.set_my_commands(commands[:1], scope=scoped, language_code="zh")
    await client.send_text(RESIDENT, "/start")
    assert await bot.set_my_commands(commands[:1], scope=scoped, language_code="zh")
    assert [c.command for c in await bot.get_my_commands(scope=scoped, language_code="zh")] == ["start"]
    assert await bot.delete_my_commands()
    assert await bot.get_my_commands() == []
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Bad-Command", description="x")])
    assert await bot.send_chat_action(RESIDENT, "typing")
    [chat] = await client.chats(RESIDENT)
    assert chat["chat_action"] == "typing"


async def test_group_chat(bot: Bot, client: SandboxClient) -> None:
    group_id = await client.create_group("第一网格工作群", [RESIDENT, NEIGHBOUR])
    assert str(group_id).startswith("-100")
    await client.send_text(NEIGHBOUR, "/report@gridbot_sandbox_bot", chat_id=group_id)
    [update] = await bot.get_updates()
    assert update.message.chat.type == "supergroup" and update.message.chat.title == "第一网格工作群"
    assert update.message.entities[0].type == "bot_command"
    reply = await bot.send_message(group_id, "收到", reply_to_message_id=update.message.message_id)
    assert reply.reply_to_message.message_id == update.message.message_id
    messages = await client.messages(group_id)
    assert [(m.from_bot, m.text) for m in messages] == [
        (False, "/report@gridbot_sandbox_bot"),
        (True, "收到"),
    ]
    chat = await bot.get_chat(group_id)
    assert chat.title == "第一网格工作群"


async def test_blocked_user_gives_forbidden_and_my_chat_member(bot: Bot, client: SandboxClient) -> None:
    from aiogram.exceptions import TelegramForbiddenError

    await client.send_text(RESIDENT, "/start")
    await client.block(RESIDENT)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(RESIDENT, "您的工单已办结")
    updates = await bot.get_updates()
    member = updates[-1].my_chat_member
    assert member.new_chat_member.status == "kicked" and member.from_user.id == RESIDENT
    await client.block(RESIDENT, blocked=False)
    assert (await bot.send_message(RESIDENT, "您的工单已办结")).text == "您的工单已办结"


async def test_tokens_are_checked(server: SandboxServer) -> None:
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.exceptions import TelegramUnauthorizedError

    session = AiohttpSession(api=TelegramAPIServer.from_base(server.base_url))
    bad = Bot("123:short", session=session)
    try:
        with pytest.raises(TelegramUnauthorizedError):
            await bad.get_me()
    finally:
        await session.close()
