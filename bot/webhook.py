"""The webhook listener: Telegram POSTs each update here; it is answered once the update is handled.

Only a request carrying the secret token (X-Telegram-Bot-Api-Secret-Token, compared in constant time)
is read; any other gets a 401 and changes nothing. A request gets its 200 only after the update's
transaction committed, however long that takes; if handling fails it gets a 500 and Telegram delivers
the update again. A redelivery of an update that did commit is recognised by its update_id (the
conversations record it in the same transaction) and does nothing twice.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable

from aiogram import Bot, Dispatcher
from aiogram.types import Update
from aiohttp import web

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def webhook_handler(dispatcher: Dispatcher, bot: Bot, secret: str
                    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """An aiohttp handler feeding Telegram's webhook requests to `dispatcher`."""
    expected = secret.encode()

    async def handle(request: web.Request) -> web.StreamResponse:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, expected):
            return web.Response(status=401, text="Unauthorized")
        try:
            update = Update.model_validate(await request.json(), context={"bot": bot})
        except ValueError as error:  # not JSON, or not an update (pydantic's ValidationError is a ValueError)
            log.warning("webhook request is not an update: %s", type(error).__name__)
            return web.Response(status=400, text="Bad Request")
        try:
            await dispatcher.feed_update(bot, update)
        except Exception:
            log.exception("update %s failed; Telegram will deliver it again", update.update_id)
            return web.Response(status=500, text="Internal Server Error")
        return web.Response(status=200)

    return handle
