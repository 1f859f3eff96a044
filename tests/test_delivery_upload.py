"""A chart made on disk reaches the chat: photos named "file:<path>" are uploaded."""

from __future__ import annotations

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bot.delivery import deliver
from gridcore.messages import OutgoingMessage
from handlers.summary import render_chart
from sandbox.client import SandboxClient
from sandbox.server import SandboxServer

TOKEN = "7000000001:upload_test_token"


async def test_a_local_png_is_uploaded_with_its_text(tmp_path, outbox_store):
    from test_summary import W47, at, make

    from gridcore.metrics import WeekTicket, summarize

    filed = WeekTicket.of(make(1, grid="1", category="env", building="3", created=at(17, 9)))
    chart = render_chart(summarize("XK", W47, [filed], None), tmp_path / "chart.png")  # empty: no chart
    assert chart is not None
    async with SandboxServer() as server, SandboxClient(server.base_url) as client:
        await client.send_text(5001, "/start")
        bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(server.base_url)))
        try:
            message = OutgoingMessage(5001, "本周小结", photos=(f"file:{chart}",))
            ids = await deliver(bot, message, outbox_store)
        finally:
            await bot.session.close()
        messages = await client.bot_messages(5001)
    assert len(ids) == 2 and messages[0].photo and messages[1].text == "本周小结"
