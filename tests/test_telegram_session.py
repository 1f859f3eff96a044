"""bot.telegram_session.GridSession against the sandbox: JSON bodies, multipart for uploads, aiogram's
errors unchanged, and the Response[T] classes kept instead of rebuilt for every answer."""

from __future__ import annotations

import gc
import socket
import weakref
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import EditMessageReplyMarkup, EditMessageText, Response, SendMessage
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.telegram_session import GridSession, SendMessageForId, call_json
from sandbox.client import SandboxClient
from sandbox.server import SandboxServer

TOKEN = "7000000002:grid_session_test_token"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082")


@pytest.fixture
async def sandbox() -> AsyncIterator[tuple[Bot, GridSession, SandboxClient]]:
    async with SandboxServer() as server, SandboxClient(server.base_url) as client:
        session = GridSession(api=TelegramAPIServer.from_base(server.base_url))
        bot = Bot(TOKEN, session=session, default=DefaultBotProperties(parse_mode="HTML"))
        forms: list[str] = []
        build_form_data = session.build_form_data

        def counting(bot: Bot, method: object) -> object:
            forms.append(type(method).__name__)
            return build_form_data(bot, method)

        session.build_form_data = counting  # type: ignore[method-assign]
        session.forms = forms  # type: ignore[attr-defined]
        await client.send_text(5001, "/start")
        try:
            yield bot, session, client
        finally:
            await session.close()


async def test_a_message_with_buttons_goes_as_json_and_arrives_whole(sandbox):
    bot, session, client = sandbox
    button = InlineKeyboardButton(text="确认", callback_data="c:yes")
    keyboard = InlineKeyboardMarkup(inline_keyboard=[[button]])
    sent = await bot.send_message(5001, "<b>一楼</b>堆放杂物", reply_markup=keyboard)
    edited = await bot.edit_message_reply_markup(chat_id=5001, message_id=sent.message_id, reply_markup=None)
    [stored] = await client.bot_messages(5001)
    assert isinstance(sent, Message) and stored.message_id == sent.message_id
    # the default parse_mode (HTML) was applied
    assert stored.text == "一楼堆放杂物" and stored.html == "<b>一楼</b>堆放杂物"
    assert stored.edited and not stored.buttons and edited is not None
    assert session.forms == []  # nothing went out as multipart


async def test_an_upload_still_goes_as_multipart(sandbox):
    bot, session, client = sandbox
    await bot.send_photo(5001, BufferedInputFile(PNG, "chart.png"), caption="本周小结")
    [stored] = await client.bot_messages(5001)
    assert stored.photo and stored.text == "本周小结"
    assert session.forms == ["SendPhoto"]


async def test_telegrams_refusals_are_aiograms_exceptions(sandbox):
    bot, _session, client = sandbox
    with pytest.raises(TelegramBadRequest):
        await bot.send_message(5001, "<b>未闭合")
    await client.set_faults(rate_429=1.0, retry_after=7)
    with pytest.raises(TelegramRetryAfter) as refused:
        await bot.send_message(5001, "稍后")
    assert refused.value.retry_after == 7


async def test_the_answer_class_is_kept_between_calls(sandbox):
    bot, _session, _client = sandbox
    await bot.send_message(5001, "第一条")
    kept = weakref.ref(Response[Message])
    gc.collect()
    assert kept() is not None  # pydantic's cache finds it; no schema is generated per answer


async def test_the_senders_methods_read_only_the_message_id(sandbox):
    from bot.telegram_session import EditMessageReplyMarkupQuietly, EditMessageTextQuietly, SendMessageForId

    bot, _session, client = sandbox
    button = InlineKeyboardButton(text="确认", callback_data="c:yes")
    sent = await bot(SendMessageForId(chat_id=5001, text="<b>请确认</b>",
                                      reply_markup=InlineKeyboardMarkup(inline_keyboard=[[button]])))
    await bot(EditMessageTextQuietly(chat_id=5001, message_id=sent.message_id, text="已确认",
                                     reply_markup=InlineKeyboardMarkup(inline_keyboard=[[button]])))
    await bot(EditMessageReplyMarkupQuietly(chat_id=5001, message_id=sent.message_id, reply_markup=None))
    [stored] = await client.bot_messages(5001)
    assert stored.message_id == sent.message_id and not isinstance(sent, Message)
    assert stored.text == "已确认" and stored.edited and not stored.buttons
    with pytest.raises(TelegramBadRequest):  # refusals are aiogram's exceptions here too
        await bot(EditMessageReplyMarkupQuietly(chat_id=5001, message_id=9999, reply_markup=None))


async def test_post_json_sends_what_aiogram_would_and_returns_the_json(sandbox):
    bot, session, client = sandbox
    body = {"chat_id": 5001, "text": "<b>二楼</b>灯坏了",
            "reply_markup": {"inline_keyboard": [[{"text": "确认", "callback_data": "c:yes"}]]}}
    sent = await session.post_json(bot, SendMessage, body)
    [stored] = await client.bot_messages(5001)
    assert sent["message_id"] == stored.message_id and sent["chat"]["id"] == 5001
    assert stored.html == "<b>二楼</b>灯坏了" and stored.buttons  # the bot's parse_mode was added
    assert body == {"chat_id": 5001, "text": "<b>二楼</b>灯坏了",  # the caller's dict is left alone
                    "reply_markup": {"inline_keyboard": [[{"text": "确认", "callback_data": "c:yes"}]]}}
    cleared = await session.post_json(bot, EditMessageReplyMarkup,
                                      {"chat_id": 5001, "message_id": sent["message_id"]})
    assert cleared
    assert not (await client.bot_messages(5001))[0].buttons
    assert session.forms == []


@pytest.mark.parametrize("link_preview_is_disabled", [None, True])
async def test_post_json_adds_the_defaults_aiogram_adds(link_preview_is_disabled):
    session = GridSession()
    bot = Bot(TOKEN, session=session, default=DefaultBotProperties(
        parse_mode="HTML", link_preview_is_disabled=link_preview_is_disabled))
    given = {"chat_id": 1, "text": "x"}
    aiograms = session.json_body(bot, SendMessage(**given))
    assert aiograms is not None
    assert {**session._defaults_of(bot, SendMessage), **given} == aiograms
    assert aiograms["parse_mode"] == "HTML"


async def test_post_json_refusals_are_aiograms_exceptions(sandbox):
    bot, session, client = sandbox
    with pytest.raises(TelegramBadRequest):
        await session.post_json(bot, SendMessage, {"chat_id": 5001, "text": "<b>未闭合"})
    with pytest.raises(TelegramBadRequest, match="not modified"):
        sent = await session.post_json(bot, SendMessage, {"chat_id": 5001, "text": "同样"})
        await session.post_json(bot, EditMessageText, {"chat_id": 5001, "message_id": sent["message_id"],
                                                       "text": "同样"})
    await client.set_faults(rate_429=1.0, retry_after=7)
    with pytest.raises(TelegramRetryAfter) as refused:
        await session.post_json(bot, SendMessage, {"chat_id": 5001, "text": "稍后"})
    assert refused.value.retry_after == 7 and isinstance(refused.value.method, SendMessage)
    await client.set_faults(rate_500=1.0)
    with pytest.raises(TelegramServerError):
        await session.post_json(bot, SendMessage, {"chat_id": 5001, "text": "稍后"})


async def test_post_json_network_errors_are_aiograms():
    with socket.socket() as s:  # a port no one listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    session = GridSession(api=TelegramAPIServer.from_base(f"http://127.0.0.1:{port}"))
    bot = Bot(TOKEN, session=session)
    try:
        with pytest.raises(TelegramNetworkError):
            await session.post_json(bot, SendMessage, {"chat_id": 1, "text": "x"})
    finally:
        await session.close()


async def test_call_json_with_aiograms_own_session_answers_json_too():
    async with SandboxServer() as server, SandboxClient(server.base_url) as client:
        await client.send_text(5001, "/start")
        bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(server.base_url)))
        try:
            sent = await call_json(bot, SendMessageForId, {"chat_id": 5001, "text": "你好"})
            [stored] = await client.bot_messages(5001)
            assert sent["message_id"] == stored.message_id
        finally:
            await bot.session.close()
