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


async def deliver(bot: Bot, message: OutgoingMessage, store: OutboxStore) -> list[int]:
    """Send one outbox message; returns the Telegram message ids it produced."""
    chat = message.chat_id
    clear_of = message.clear_keyboard_of
    if message.clear_keyboard_of_outbox is not None:
        # The chat's rows go out in order, so the row named here was settled before this one.
        clear_of = last(await store.sent_message_ids(message.clear_keyboard_of_outbox))
        if clear_of is None:
            return []  # that message never reached the chat: no buttons to take away
    if clear_of is not None:
        try:
            await bot.edit_message_reply_markup(chat_id=chat, message_id=clear_of, reply_markup=None)
        except TelegramBadRequest as error:  # already without buttons, or gone: nothing left to do
            log.debug("clearing keyboard of %s in %s: %s", clear_of, chat, error)
        return []
    markup = keyboard(message.buttons)
    edit_of = message.edit_message_id
    if message.edit_outbox_id is not None:
        edit_of = last(await store.sent_message_ids(message.edit_outbox_id))
    if edit_of is not None:
        try:
            await bot.edit_message_text(text=message.text, chat_id=chat, message_id=edit_of,
                                        reply_markup=markup)
        except TelegramBadRequest as error:
            if "not modified" not in str(error):
                raise
        return [edit_of]
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


def last(ids: Sequence[int]) -> int | None:
    """The message that carries the text and buttons is the last one a row produced (photos come first)."""
    return ids[-1] if ids else None


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
        # The bookkeeping after a send is shielded: a stop (SIGTERM) mid-way must not leave a
        # delivered message unmarked, or it would go out again once its lease ran out.
        try:
            ids = await deliver(self._bot, row.message, self._store)
        except TelegramRetryAfter as error:
            await asyncio.shield(self._store.mark_failed(row.id, str(error), permanent=False,
                                                         retry_after=error.retry_after))
        except PERMANENT as error:
            log.warning("outbox %s to chat %s failed for good: %s", row.id, row.chat_id, error)
            await asyncio.shield(self._store.mark_failed(row.id, str(error), permanent=True))
        except Exception as error:
            log.warning("outbox %s to chat %s failed, will retry: %s", row.id, row.chat_id, error)
            backoff = min(2 ** row.attempts, 30) / 10
            await asyncio.shield(self._store.mark_failed(row.id, str(error), permanent=False,
                                                         retry_after=backoff))
        else:
            await asyncio.shield(self._store.mark_sent(row.id, ids))
