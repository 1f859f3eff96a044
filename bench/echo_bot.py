"""A bare aiogram 3 echo bot: the yardstick for bench.inbound (what polling plus one reply costs).

Dispatcher + start_polling, no database, no templates. Every message is answered with its text
and one inline button; a press of that button is answered with answerCallbackQuery and a new
message (with the button again), so a benchmark can drive the same mix of texts and presses as the
real report dialog.

    BOT_TOKEN=... TELEGRAM_API_URL=http://127.0.0.1:PORT python -m bench.echo_bot

Logs READY once it is about to poll (bench.harness.BotProcess(command=..., ready_marker=READY)).
"""

from __future__ import annotations

import asyncio
import logging
import os

from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

READY = "echo bot ready"
log = logging.getLogger("bench.echo_bot")
BUTTON = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="再来", callback_data="echo")]])


def make_router() -> Router:
    router = Router(name="echo")

    @router.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "?", reply_markup=BUTTON)

    @router.callback_query()
    async def pressed(query: CallbackQuery, bot: Bot) -> None:
        await query.answer()
        chat_id = query.message.chat.id if query.message is not None else query.from_user.id
        await bot.send_message(chat_id, query.data or "?", reply_markup=BUTTON)

    return router


async def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    session = AiohttpSession(api=TelegramAPIServer.from_base(os.environ["TELEGRAM_API_URL"].rstrip("/")))
    bot = Bot(os.environ["BOT_TOKEN"], session=session)
    dispatcher = Dispatcher()
    dispatcher.include_router(make_router())

    @dispatcher.startup()
    async def ready() -> None:
        log.info(READY)

    await dispatcher.start_polling(bot, handle_signals=True, close_bot_session=True)


if __name__ == "__main__":
    asyncio.run(main())
