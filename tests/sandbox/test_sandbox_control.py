"""The control API, the web page and the webhook delivery."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import aiohttp
import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramConflictError
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiohttp import web
from sandbox_test_constants import RESIDENT

from sandbox import SandboxClient, SandboxControlError, SandboxServer, SandboxTimeout, load_personas


def keyboard(data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="签收", callback_data=data)]])


async def test_pressing_a_button_the_message_lacks_needs_force(bot: Bot, client: SandboxClient) -> None:
    await client.send_text(RESIDENT, "/start")
    sent = await bot.send_message(RESIDENT, "工单", reply_markup=keyboard("accept:1"))
    with pytest.raises(SandboxControlError, match="no button"):
        await client.press(RESIDENT, sent.message_id, "accept:2")
    with pytest.raises(SandboxControlError, match="no message"):
        await client.press(RESIDENT, 999, "accept:1")
    forged = await client.press(RESIDENT, sent.message_id, "accept:2", force=True)
    await bot.delete_message(RESIDENT, sent.message_id)
    stale = await client.press(RESIDENT, sent.message_id, "accept:1", force=True)
    updates = await bot.get_updates()
    queries = [u.callback_query for u in updates if u.callback_query]
    assert [q.id for q in queries] == [forged, stale]
    assert queries[0].data == "accept:2" and queries[0].message.text == "工单"
    from aiogram.types import InaccessibleMessage

    assert isinstance(queries[1].message, InaccessibleMessage)  # as Telegram sends it
    again = await bot.send_message(RESIDENT, "再来", reply_markup=keyboard("accept:3"))
    by_label = await client.press_text(RESIDENT, again.message_id, "签收")
    assert (await bot.get_updates(offset=updates[-1].update_id + 1))[0].callback_query.id == by_label


async def test_wait_for_bot_messages_times_out_with_a_transcript(bot: Bot, client: SandboxClient) -> None:
    await client.send_text(RESIDENT, "楼道灯坏了")
    await bot.send_message(RESIDENT, "请发送照片", reply_markup=keyboard("skip"))
    with pytest.raises(SandboxTimeout) as info:
        await client.wait_for_bot_messages(RESIDENT, 2, timeout=0.3)
    text = str(info.value)
    assert "found 1" in text and "user 10001: 楼道灯坏了" in text and "bot: 请发送照片" in text
    assert "签收→skip" in text

    async def later() -> None:
        await asyncio.sleep(0.1)
        await bot.send_message(RESIDENT, "已收到")

    task = asyncio.create_task(later())
    found = await client.wait_for_bot_messages(RESIDENT, 2, timeout=2)
    await task
    assert [m.text for m in found] == ["请发送照片", "已收到"]


async def test_reset_keeps_update_ids_growing(bot: Bot, client: SandboxClient) -> None:
    first = await client.send_text(RESIDENT, "一")
    await client.reset()
    assert await client.messages(RESIDENT) == []
    assert await bot.get_updates() == []
    second = await client.send_text(RESIDENT, "二")
    assert second["update_id"] > first["update_id"]
    personas = await client.personas()
    assert [p["id"] for p in personas["personas"]] == [10001, 10002]


async def test_users_groups_and_membership(client: SandboxClient) -> None:
    await client.add_user(555, "新居民", username="newbie")
    group = await client.create_group("3栋楼栋群", [RESIDENT, 555])
    with pytest.raises(SandboxControlError, match="not a member"):
        await client.send_text(10002, "我也来", chat_id=group)
    await client.send_text(555, "大家好", chat_id=group)
    chats = await client.chats(555)
    assert {c["id"] for c in chats} == {group}
    [message] = await client.messages(group)
    assert message.sender_id == 555 and message.text == "大家好"
    with pytest.raises(SandboxControlError, match="deep link payload"):
        await client.open_deep_link(RESIDENT, "有中文")
    await client.block(RESIDENT)
    with pytest.raises(SandboxControlError, match="blocked the bot"):
        await client.send_text(RESIDENT, "hi")


async def test_web_page_and_static_files(server: SandboxServer, client: SandboxClient) -> None:
    sent = await client.send_photo(RESIDENT)
    [message] = await client.messages(RESIDENT)
    async with aiohttp.ClientSession() as http:
        async with http.get(server.base_url + "/") as resp:
            page = await resp.text()
            assert resp.status == 200 and "网格通" in page and "/static/app.js" in page
        async with http.get(server.base_url + "/static/app.js") as resp:
            script = await resp.text()
            assert resp.status == 200 and "/control/" in script and "innerHTML" not in script
        async with http.get(server.base_url + message.photo["url"]) as resp:
            assert resp.status == 200 and (await resp.read()).startswith(b"\x89PNG")
        async with http.get(f"{server.base_url}/control/poll", params={"since": "0", "timeout": "0"}) as resp:
            assert (await resp.json())["result"]["version"] > 0
    assert sent["message_id"] == message.message_id
    # the page reserves a photo's box from these, so the chat stays scrolled to the newest message
    assert message.photo["width"] > 0 and message.photo["height"] > 0


def test_web_page_is_self_contained() -> None:
    """No external resources, no HTML built from strings, and every control route the page calls exists."""
    static = Path(__file__).parents[2] / "sandbox" / "static"
    page = (static / "index.html").read_text(encoding="utf-8")
    script = (static / "app.js").read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page + script)
    assert "@import" not in page and "url(" not in page
    assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(", script)
    routes = set(re.findall(r'api\("(?:GET|POST)", "([a-z_]+)', script))
    assert {"personas", "send_text", "press", "deep_link", "info", "poll", "callback_answers"} <= routes
    # what a resident can send from the page: text, a photo (caption = the text box), a voice note
    assert {"send_photo", "send_voice"} <= routes and 'id="b-voice"' in page and '$("b-voice")' in script
    doc = (Path(__file__).parents[2] / "sandbox" / "control.py").read_text(encoding="utf-8")
    assert all(f"/control/{route}" in doc for route in routes)


def test_load_personas(tmp_path: Path) -> None:
    yaml_file = tmp_path / "personas.yaml"
    yaml_file.write_text("personas:\n  - {id: 1, name: 张阿姨, role_label: 居民}\n", encoding="utf-8")
    assert load_personas(yaml_file) == [{"id": 1, "name": "张阿姨", "role_label": "居民"}]
    json_file = tmp_path / "personas.json"
    json_file.write_text(json.dumps([{"id": 2, "name": "王网格员"}], ensure_ascii=False), encoding="utf-8")
    assert load_personas(json_file)[0]["name"] == "王网格员"


async def test_webhook_delivery_with_secret_and_redelivery(bot: Bot, client: SandboxClient) -> None:
    received: list[dict] = []
    secrets: list[str | None] = []
    attempts = 0

    async def hook(request: web.Request) -> web.Response:
        nonlocal attempts
        attempts += 1
        secrets.append(request.headers.get("X-Telegram-Bot-Api-Secret-Token"))
        if attempts == 1:
            return web.Response(status=500)  # the first delivery fails; the sandbox must retry
        received.append(await request.json())
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        await client.send_text(RESIDENT, "旧消息")
        assert await bot.set_webhook(
            f"http://127.0.0.1:{port}/hook", secret_token="s3cr3t_-", drop_pending_updates=True
        )
        with pytest.raises(TelegramConflictError, match="webhook is active"):
            await bot.get_updates()
        await client.send_text(RESIDENT, "一楼堆放杂物")
        await client.send_text(RESIDENT, "楼道都堵了")
        for _ in range(100):
            if len(received) == 2:
                break
            await asyncio.sleep(0.02)
        assert [u["message"]["text"] for u in received] == ["一楼堆放杂物", "楼道都堵了"]
        assert set(secrets) == {"s3cr3t_-"} and attempts == 3
        assert received[0]["update_id"] < received[1]["update_id"]
        info = await bot.get_webhook_info()
        assert info.url.endswith("/hook") and info.pending_update_count == 0
        assert "500" in (info.last_error_message or "")
        assert await bot.delete_webhook()
        await client.send_text(RESIDENT, "回到轮询")
        assert [u.message.text for u in await bot.get_updates()] == ["回到轮询"]
    finally:
        await runner.cleanup()


async def test_webhook_reply_can_carry_a_method(bot: Bot, client: SandboxClient) -> None:
    async def hook(request: web.Request) -> web.Response:
        update = await request.json()
        chat_id = update["message"]["chat"]["id"]
        return web.json_response({"method": "sendMessage", "chat_id": chat_id, "text": "已收到您的反映"})

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        await bot.set_webhook(f"http://127.0.0.1:{runner.addresses[0][1]}/hook")
        await client.send_text(RESIDENT, "车库地面破损")
        [reply] = await client.wait_for_bot_messages(RESIDENT, 1, timeout=3)
        assert reply.text == "已收到您的反映"
        await bot.delete_webhook()
    finally:
        await runner.cleanup()


async def test_timestamps_and_listeners_for_reply_latency(bot: Bot, server: SandboxServer,
                                                          client: SandboxClient) -> None:
    stored = []
    server.sandbox.message_listeners.append(stored.append)
    sent = await client.send_text(RESIDENT, "楼道灯坏了")
    queued_at = server.sandbox.enqueued_at[sent["update_id"]]
    reply = await bot.send_message(RESIDENT, "收到")
    assert [(m.from_bot, m.message_id) for m in stored] == [(False, sent["message_id"]),
                                                            (True, reply.message_id)]
    assert queued_at <= stored[1].stored_at
    assert stored[0].stored_at <= queued_at  # the person's message is stored, then its update queued
