"""The outbox sender: delivers queued messages after their transaction committed.

This issue needs delivery to work; Telegram's rate limits and careful retries come with issue 3.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, InputMediaPhoto

from gridcore.messages import Button, OutgoingMessage
from storage.outbox_store import OutboxStore, PendingMessage

log = logging.getLogger(__name__)
PERMANENT = (TelegramForbiddenError, TelegramNotFound, TelegramUnauthorizedError, TelegramBadRequest)


def keyboard(rows: Sequence[Sequence[Button]]) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return InlineKeyboardMarkup(inline_keyboard=[
        [InlineKeyboardButton(text=b.text, url=b.url) if b.url else
         InlineKeyboardButton(text=b.text, callback_data=b.data) for b in row]
        for row in rows
    ])


async def deliver(bot: Bot, message: OutgoingMessage) -> list[int]:
    """Send one outbox message; returns the Telegram message ids it produced."""
    chat = message.chat_id
    if message.clear_keyboard_of is not None:
        try:
            await bot.edit_message_reply_markup(chat_id=chat, message_id=message.clear_keyboard_of,
                                                reply_markup=None)
        except TelegramBadRequest as error:  # already without buttons, or gone: nothing left to do
            log.debug("clearing keyboard of %s in %s: %s", message.clear_keyboard_of, chat, error)
        return []
    markup = keyboard(message.buttons)
    if message.edit_message_id is not None:
        await bot.edit_message_text(text=message.text, chat_id=chat, message_id=message.edit_message_id,
                                    reply_markup=markup)
        return [message.edit_message_id]
    ids: list[int] = []
    if len(message.photos) == 1:
        ids.append((await bot.send_photo(chat, message.photos[0])).message_id)
    elif message.photos:
        for start in range(0, len(message.photos), 10):
            batch = message.photos[start : start + 10]
            if len(batch) == 1:
                ids.append((await bot.send_photo(chat, batch[0])).message_id)
            else:
                sent = await bot.send_media_group(chat, [InputMediaPhoto(media=p) for p in batch])
                ids.extend(m.message_id for m in sent)
    if message.text:
        ids.append((await bot.send_message(chat, message.text, reply_markup=markup)).message_id)
    return ids


class OutboxSender:
    """Claims pending outbox rows and delivers them, oldest first per chat."""

    def __init__(self, bot: Bot, store: OutboxStore, *, batch: int = 50, idle_seconds: float = 1.0) -> None:
        self._bot = bot
        self._store = store
        self._batch = batch
        self._idle = idle_seconds
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Called after a transaction that queued messages commits."""
        self._wake.set()

    async def run(self) -> None:
        while True:
            try:
                sent = await self.send_pending()
            except Exception:  # the database may be away for a moment; keep the sender alive
                log.exception("outbox sender failed; retrying")
                sent = 0
            if sent == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._idle)
                self._wake.clear()

    async def send_pending(self) -> int:
        """One pass: deliver what is pending now. Returns how many rows were settled."""
        pending = await self._store.claim(self._batch)
        await asyncio.gather(*(self._send(row) for row in pending))
        return len(pending)

    async def _send(self, row: PendingMessage) -> None:
        try:
            ids = await deliver(self._bot, row.message)
        except TelegramRetryAfter as error:
            await asyncio.sleep(min(error.retry_after, 30))
            await self._store.mark_failed(row.id, str(error), permanent=False)
        except PERMANENT as error:
            log.warning("outbox %s to chat %s failed for good: %s", row.id, row.chat_id, error)
            await self._store.mark_failed(row.id, str(error), permanent=True)
        except Exception as error:
            log.warning("outbox %s to chat %s failed, will retry: %s", row.id, row.chat_id, error)
            await asyncio.sleep(min(2 ** row.attempts, 30) / 10)
            await self._store.mark_failed(row.id, str(error), permanent=False)
        else:
            await self._store.mark_sent(row.id, ids)
