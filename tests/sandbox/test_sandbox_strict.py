"""Telegram's rules the sandbox enforces, seen through aiogram's exceptions."""

from __future__ import annotations

import aiohttp
import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup
from sandbox_test_constants import NEIGHBOUR, RESIDENT, TOKEN

from sandbox import SandboxClient, SandboxServer
from sandbox.images import make_png


@pytest.fixture
async def started(client: SandboxClient) -> int:
    await client.send_text(RESIDENT, "/start")
    return RESIDENT


def one_button(data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="按钮", callback_data=data)]])


async def test_text_length_limits(bot: Bot, started: int) -> None:
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(started, "")
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(started, "  \n ")
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(started, "<b></b>", parse_mode="HTML")
    assert len((await bot.send_message(started, "网" * 4096)).text) == 4096
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(started, "网" * 4097)
    # The limit is after entity parsing: markup does not count.
    assert (await bot.send_message(started, "<b>" + "格" * 4096 + "</b>", parse_mode="HTML")).text
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(started, "&amp;" * 4097, parse_mode="HTML")
    trimmed = await bot.send_message(started, "  <b>好</b>  ", parse_mode="HTML")
    assert trimmed.text == "好" and trimmed.entities[0].offset == 0


async def test_caption_limit(bot: Bot, started: int) -> None:
    photo = BufferedInputFile(make_png(), "p.png")
    with pytest.raises(TelegramBadRequest, match="message caption is too long"):
        await bot.send_photo(started, photo, caption="字" * 1025)
    assert (
        await bot.send_photo(started, photo, caption="<i>" + "字" * 1024 + "</i>", parse_mode="HTML")
    ).caption


async def test_callback_data_limits(bot: Bot, started: int) -> None:
    assert await bot.send_message(started, "ok", reply_markup=one_button("x" * 64))
    assert await bot.send_message(started, "ok", reply_markup=one_button("网" * 21))  # 63 bytes
    for bad in ("x" * 65, "网" * 22, ""):  # 22 CJK characters are 66 bytes of UTF-8
        with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
            await bot.send_message(started, "bad", reply_markup=one_button(bad))
    with pytest.raises(TelegramBadRequest, match="BUTTON_URL_INVALID"):
        await bot.send_message(
            started,
            "bad",
            reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[[InlineKeyboardButton(text="链接", url="javascript:alert(1)")]]
            ),
        )


def grid_of(rows: int, per_row: int, *, text: str = "楼", data: str = "d") -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[
        [InlineKeyboardButton(text=f"{text}{r}-{c}", callback_data=f"{data}{r}:{c}") for c in range(per_row)]
        for r in range(rows)
    ])


async def test_inline_keyboard_size_limits(bot: Bot, started: int) -> None:
    # At the limits: 100 buttons, 8 to a row.
    assert await bot.send_message(started, "ok", reply_markup=grid_of(10, 8))
    assert await bot.send_message(started, "ok", reply_markup=grid_of(25, 4))
    sent = await bot.send_message(started, "ok", reply_markup=grid_of(1, 8))
    # One past: a 101st button, a 9th in a row — on a new message and on an edit alike.
    for too_long in (grid_of(101, 1), grid_of(1, 9), grid_of(34, 3)):
        with pytest.raises(TelegramBadRequest, match="reply markup is too long"):
            await bot.send_message(started, "bad", reply_markup=too_long)
        with pytest.raises(TelegramBadRequest, match="reply markup is too long"):
            await bot.edit_message_reply_markup(chat_id=started, message_id=sent.message_id,
                                                reply_markup=too_long)
    # ~10 kB of markup is too long even with few buttons: 60 buttons of 40 CJK characters (~120 bytes
    # each, with 60-byte data) are ~12 kB.
    with pytest.raises(TelegramBadRequest, match="reply markup is too long"):
        await bot.send_message(started, "bad", reply_markup=grid_of(20, 3, text="网" * 40, data="x" * 55))
    # ... and the same count with short labels is fine.
    assert await bot.send_message(started, "ok", reply_markup=grid_of(20, 3))


async def test_a_too_wide_keyboard_in_telegrams_words(server: SandboxServer, started: int) -> None:
    row = [{"text": f"{n}号楼", "callback_data": f"b:{n}"} for n in range(9)]
    body = {"chat_id": started, "text": "哪栋楼？", "reply_markup": {"inline_keyboard": [row]}}
    async with aiohttp.ClientSession() as http, http.post(
            f"{server.base_url}/bot{TOKEN}/sendMessage", json=body) as resp:
        assert resp.status == 400
        assert await resp.json() == {"ok": False, "error_code": 400,
                                     "description": "Bad Request: reply markup is too long"}


async def test_inline_button_text_must_be_non_empty(bot: Bot, started: int) -> None:
    empty = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="", callback_data="x")]])
    with pytest.raises(TelegramBadRequest, match="button text must be non-empty"):
        await bot.send_message(started, "bad", reply_markup=empty)


@pytest.mark.parametrize(
    ("html", "wording"),
    [
        ("<div>x</div>", 'Unsupported start tag "div" at byte offset 0'),
        ("第一行<br>第二行", 'Unsupported start tag "br" at byte offset 9'),
        ("<b>未关闭", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("价格 < 100", 'Unsupported start tag "" at byte offset 7'),
        ("A & B", "Character '&' is reserved"),
        ("&nbsp;", 'Unsupported HTML entity "&nbsp;"'),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler"'),
        ("<b", "Unclosed start tag at byte offset 0"),
    ],
)
async def test_html_errors_are_400(bot: Bot, started: int, html: str, wording: str) -> None:
    with pytest.raises(TelegramBadRequest, match="can't parse entities") as info:
        await bot.send_message(started, html, parse_mode="HTML")
    assert wording in info.value.message


async def test_html_that_telegram_accepts(bot: Bot, started: int) -> None:
    html = (
        '<b>工单</b> <a href="https://example.org/t?a=1&amp;b=2">#12</a> '
        "&lt;3&gt; &quot;ok&quot; &#21150;&#x7ed3; "
        '<tg-spoiler>秘</tg-spoiler><span class="tg-spoiler">密</span>'
        "<blockquote expandable>引用</blockquote>"
        '<pre><code class="language-python">x = 1</code></pre>'
    )
    message = await bot.send_message(started, html, parse_mode="HTML")
    assert message.text == '工单 #12 <3> "ok" 办结 秘密引用x = 1'
    types = [e.type for e in message.entities]
    assert types == ["bold", "text_link", "spoiler", "spoiler", "expandable_blockquote", "pre"]
    assert message.entities[1].url == "https://example.org/t?a=1&b=2"
    assert message.entities[-1].language == "python"


async def test_unsupported_parse_mode(bot: Bot, started: int) -> None:
    with pytest.raises(TelegramBadRequest, match="unsupported parse_mode"):
        await bot.send_message(started, "*x*", parse_mode="MarkdownV2")


async def test_chat_not_found(bot: Bot, started: int) -> None:
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(999_999, "hi")
    with pytest.raises(TelegramBadRequest, match="chat not found"):  # a persona who never started the bot
        await bot.send_message(NEIGHBOUR, "hi")
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(-100123, "hi")


async def test_edit_rules(bot: Bot, client: SandboxClient, started: int) -> None:
    sent = await bot.send_message(started, "原文")
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("新", chat_id=started, message_id=sent.message_id + 50)
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text("原文", chat_id=started, message_id=sent.message_id)
    user_message = (await client.messages(started))[0]
    with pytest.raises(TelegramBadRequest, match="message can't be edited"):
        await bot.edit_message_text("新", chat_id=started, message_id=user_message.message_id)
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.edit_message_text("", chat_id=started, message_id=sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to be replied not found"):
        await bot.send_message(started, "回复", reply_to_message_id=777)


async def test_raw_http_shapes(server: SandboxServer, client: SandboxClient) -> None:
    await client.send_text(RESIDENT, "/start")
    base = f"{server.base_url}/bot{TOKEN}"
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/getMe") as resp:
            assert resp.status == 200 and (await resp.json())["result"]["is_bot"] is True
        async with http.post(f"{base}/noSuchMethod") as resp:
            assert resp.status == 404
            assert await resp.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
        async with http.get(f"{server.base_url}/botnot-a-token/getMe") as resp:
            assert resp.status == 401 and (await resp.json())["description"] == "Unauthorized"
        body = {
            "chat_id": RESIDENT,
            "text": "JSON 请求",
            "reply_markup": {"inline_keyboard": [[{"text": "好", "callback_data": "ok"}]]},
        }
        async with http.post(f"{base}/sendMessage", json=body) as resp:
            result = (await resp.json())["result"]
            assert (
                result["text"] == "JSON 请求"
                and result["reply_markup"]["inline_keyboard"][0][0]["text"] == "好"
            )
        async with http.post(f"{base}/SENDMESSAGE", data={"chat_id": str(RESIDENT), "text": "表单"}) as resp:
            assert (await resp.json())["result"]["text"] == "表单"
        async with http.get(f"{base}/sendMessage", params={"chat_id": "1", "text": "x"}) as resp:
            assert resp.status == 400
            assert await resp.json() == {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: chat not found",
            }


async def test_api_hooks_can_inject_telegram_errors(bot: Bot, server: SandboxServer, started: int) -> None:
    from typing import Any

    from aiogram.exceptions import TelegramRetryAfter

    from sandbox.models import ApiError

    async def flood(method: str, params: dict[str, Any]) -> None:
        if method == "sendmessage":
            raise ApiError(429, "Too Many Requests: retry after 3", {"retry_after": 3})

    server.sandbox.api_hooks.append(flood)
    with pytest.raises(TelegramRetryAfter) as info:
        await bot.send_message(started, "hi")
    assert info.value.retry_after == 3
    server.sandbox.api_hooks.clear()
    assert (await bot.send_message(started, "hi")).text == "hi"
