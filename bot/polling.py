"""Long polling that confirms an update only after its transaction committed.

aiogram's own polling confirms updates as it hands them out; ours moves the offset past an update
only once it was handled, so an update that failed (database away, crash) is fetched again. A repeat
of one that did commit is recognised by its update_id and does nothing.
"""

from __future__ import annotations

import asyncio
import logging

from aiogram import Bot, Dispatcher

log = logging.getLogger(__name__)
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
MAX_ATTEMPTS = 5  # an update that fails this often is a bug, not an outage: log it and move on


async def poll(bot: Bot, dispatcher: Dispatcher, *, timeout: int = 25, **workflow: object) -> None:
    offset: int | None = None
    delay = 0.5
    attempts: dict[int, int] = {}
    while True:
        try:
            updates = await bot.get_updates(offset=offset, timeout=timeout, allowed_updates=ALLOWED_UPDATES,
                                            request_timeout=timeout + 10)
        except Exception as error:
            log.warning("getUpdates failed (%s); retrying in %.1fs", type(error).__name__, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10)
            continue
        if not updates:
            delay = 0.5
            continue
        results = await asyncio.gather(
            *(dispatcher.feed_update(bot, update, **workflow) for update in updates), return_exceptions=True
        )
        failed = []
        for update, result in zip(updates, results, strict=True):
            if isinstance(result, BaseException):
                attempts[update.update_id] = tries = attempts.get(update.update_id, 0) + 1
                log.error("update %s failed (try %d): %s: %s", update.update_id, tries,
                          type(result).__name__, result, exc_info=result)
                if tries < MAX_ATTEMPTS:
                    failed.append(update.update_id)
                else:
                    attempts.pop(update.update_id)
        if failed:
            offset = min(failed)  # fetch it again; the ones after it that committed are recognised
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10)
        else:
            offset = updates[-1].update_id + 1
            delay = 0.5
