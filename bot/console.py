"""The staff console (web/) in the bot process: an aiohttp site beside polling or the webhook.

    async with console_site(settings, engine, conversations, bot, clock):  # nothing when it is "off"
        ...                         # polling / webhook; the site is stopped cleanly on the way out

Changes made in the console go through the bot's own Conversations (so through its outbox); reads use
their own units of work on the same engine. Files (photos, voice notes) are fetched from Telegram
with aiogram's public Bot.download.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from aiogram import Bot
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.settings import Settings
from handlers.app import Conversations
from handlers.clock import Clock
from storage.uow import uow_factory
from web.app import console_app
from web.state import ConsoleConfig, FetchFile

log = logging.getLogger(__name__)


def telegram_files(bot: Bot) -> FetchFile:
    """A Telegram file's bytes by its file id (getFile, then the download), for the console."""

    async def fetch(file_id: str) -> bytes:
        downloaded = await bot.download(file_id)
        if downloaded is None:  # only when a destination is given; none is
            raise OSError("Telegram returned no file")
        return downloaded.read()

    return fetch


@contextlib.asynccontextmanager
async def console_site(settings: Settings, engine: AsyncEngine, conversations: Conversations, bot: Bot,
                       clock: Clock) -> AsyncIterator[str | None]:
    """Serve the console on CONSOLE_LISTEN while the bot runs; yields its address (None when it is off
    or its port is taken). `clock`: the conversations' own, so a link's 10 minutes agree."""
    if not settings.console_enabled:
        yield None
        return
    config = ConsoleConfig(uow_factory(engine), conversations, settings.console_address, telegram_files(bot),
                           clock=clock, community_code=settings.community)
    runner = web.AppRunner(console_app(config), access_log=None)  # URLs carry login tokens
    await runner.setup()
    host, port = settings.console_host_port
    try:
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError as error:  # the port is taken: the bot still serves the chat
            log.error("staff console NOT started: cannot listen on %s:%s (%s); set CONSOLE_LISTEN",
                      host, port, error.strerror or error)
            yield None
            return
        log.info("staff console at %s (staff get a login link by sending /console to the bot)",
                 settings.console_address)
        yield settings.console_address
    finally:
        await runner.cleanup()
