"""The staff console (web/) in the bot process: an aiohttp site beside polling or the webhook.

    async with console_site(app):   # CONSOLE_LISTEN; nothing when it is "off"
        ...                         # polling / webhook; the site is stopped cleanly on the way out

Changes made in the console go through the bot's own Conversations (so through its outbox); reads use
their own units of work on the same engine. Files (photos, voice notes) are fetched from Telegram
with aiogram's public Bot.download.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from aiogram import Bot
from aiohttp import web

from storage.uow import uow_factory
from web.app import console_app
from web.state import ConsoleConfig, FetchFile

if TYPE_CHECKING:
    from bot.runtime import BotApp

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
async def console_site(app: BotApp) -> AsyncIterator[str | None]:
    """Serve the console while the bot runs; yields its address (None when CONSOLE_LISTEN is off)."""
    settings = app.settings
    if not settings.console_enabled:
        yield None
        return
    config = ConsoleConfig(uow_factory(app.engine), app.conversations, settings.console_address,
                           telegram_files(app.bot), community_code=settings.community)
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
