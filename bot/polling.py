"""Long polling that confirms an update only after its transaction committed.

aiogram's own polling confirms updates as it hands them out; ours moves the offset past an update
only once it was handled, so an update that failed (database away, crash) is fetched again. A repeat
of one that did commit is recognised by its update_id and does nothing.

An update that fails because the database is away (bot.outage) is retried for as long as the outage
lasts, never skipped; only other errors (a bug in handling that one update) count towards
MAX_ATTEMPTS, after which it is logged and left behind so it cannot block every later update.
"""

from __future__ import annotations

import asyncio
import logging

from aiogram import Bot, Dispatcher
from aiogram.types import Update

from bot.outage import is_database_unavailable

log = logging.getLogger(__name__)
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
# Updates of one batch handled at once on PostgreSQL (Settings.update_concurrency overrides it): a few
# overlap their database round trips, while a whole backlog at once would queue on the ticket-number row
# lock and hold every pooled connection, starving the outbox sender. SQLite takes the whole batch
# (getUpdates hands out at most 100): its one writer serves transactions in turn.
UPDATE_CONCURRENCY = 4
WHOLE_BATCH = 100
MAX_ATTEMPTS = 5  # an update that fails this often is a bug, not an outage: log it and move on
MAX_DELAY = 10.0  # seconds between tries of getUpdates or of failed updates, at most
OUTAGE_DELAY = 5.0  # at most, while the database is away: back soon after it is
_sleep = asyncio.sleep  # tests make the waits instant


async def poll(bot: Bot, dispatcher: Dispatcher, *, timeout: int = 25, concurrency: int = UPDATE_CONCURRENCY,
               **workflow: object) -> None:
    slots = asyncio.Semaphore(concurrency)

    async def handle(update: Update) -> object:
        async with slots:  # taken in the batch's order: per chat, updates still start in order
            return await dispatcher.feed_update(bot, update, **workflow)

    offset: int | None = None
    delay = 0.5
    attempts: dict[int, int] = {}
    while True:
        try:
            updates = await bot.get_updates(offset=offset, timeout=timeout, allowed_updates=ALLOWED_UPDATES,
                                            request_timeout=timeout + 10)
        except Exception as error:
            log.warning("getUpdates failed (%s); retrying in %.1fs", type(error).__name__, delay)
            await _sleep(delay)
            delay = min(delay * 2, MAX_DELAY)
            continue
        if not updates:
            delay = 0.5
            continue
        results = await asyncio.gather(*(handle(update) for update in updates), return_exceptions=True)
        failed = []
        outage = False
        for update, result in zip(updates, results, strict=True):
            if not isinstance(result, BaseException):
                attempts.pop(update.update_id, None)
                continue
            if is_database_unavailable(result):
                # Not the update's fault: it waits (unacknowledged) until the database is back.
                outage = True
                failed.append(update.update_id)
                log.warning("update %s waits for the database (%s)", update.update_id, type(result).__name__)
                continue
            attempts[update.update_id] = tries = attempts.get(update.update_id, 0) + 1
            log.error("update %s failed (try %d): %s: %s", update.update_id, tries,
                      type(result).__name__, result, exc_info=result)
            if tries < MAX_ATTEMPTS:
                failed.append(update.update_id)
            else:
                attempts.pop(update.update_id)
        if failed:
            offset = min(failed)  # fetch it again; the ones after it that committed are recognised
            await _sleep(delay)
            delay = min(delay * 2, OUTAGE_DELAY if outage else MAX_DELAY)
        else:
            offset = updates[-1].update_id + 1
            delay = 0.5
