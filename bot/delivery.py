"""The outbox sender: delivers queued messages after their transaction committed.

Order: the store hands out at most one row per chat at a time, the oldest first (see
storage.outbox_store), so a chat's messages go out in order; different chats go out concurrently,
on up to `workers` deliveries at once.

Pace: every Bot API call waits for room in Telegram's flood limits (bot.ratelimit.Pacer).

Failures, by what Telegram answered:
* 429 — the row is retried after retry_after (mark_failed(retry_after=...)) and the chat (or, when
  several chats hit it, everything) is paused that long;
* 5xx, timeouts, connection errors, 401/404/409 (a misconfiguration that may be fixed) and
  anything unexpected — retried with exponential back-off and jitter (bot.ratelimit.Backoff);
* permanent — 403 (bot blocked, user deactivated, kicked), 400 (chat not found, bad HTML, ...),
  413, a group migrated to a supergroup: the row is marked failed, then
  `on_permanent_failure(row, error)` is called once.
  Not failures: "message is not modified" on an edit (done), "message to edit not found" (or an
  edit of a message without text) — the text is sent as a new message instead.

Rows queued by this process's own units of work can skip the claim: see bot.handoff.

A row that needs several calls (photos, then the text) remembers, in this process, which calls
went through, so a retry does not send its photos again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramRetryAfter,
)
from aiogram.types import FSInputFile, InputMediaPhoto

from bot.handoff import HandedOff
from bot.outage import is_database_unavailable
from bot.ratelimit import Backoff, Pacer, Paused, RateLimits
from bot.telegram_session import (
    EditMessageReplyMarkupQuietly,
    EditMessageTextQuietly,
    SendMessageForId,
    call_json,
)
from gridcore.messages import Button, OutgoingMessage
from storage.outbox_store import OutboxStore, PendingMessage

__all__ = [
    "TELEGRAM_LIMITS", "Backoff", "OutboxSender", "PermanentFailureHook", "RateLimits", "deliver",
    "is_permanent", "keyboard_json",
]

log = logging.getLogger(__name__)
PermanentFailureHook = Callable[[PendingMessage, str], Awaitable[None]]
Pace = Callable[[str], Awaitable[None]]  # awaited before each Bot API call: "send" or "edit"
TELEGRAM_LIMITS = RateLimits(margin_s=0.1)  # Telegram's numbers, with room for a late arrival
DEFAULT_BACKOFF = Backoff()
_PARTIAL_KEPT = 1024
HANDED_ROOM = 512  # rows handed straight to this sender at commit, at most, not yet settled
STOP_GRACE = 3.0  # seconds a call under way at a stop may take to come back
FILE_PREFIX = "file:"  # a photo given as a local path, uploaded (see media)
_SEND_INSTEAD = ("message to edit not found", "there is no text in the message to edit")


def keyboard_json(rows: Sequence[Sequence[Button]]) -> dict[str, Any] | None:
    """A message's buttons as the Bot API's inline keyboard (JSON)."""
    if not rows:
        return None
    return {"inline_keyboard": [
        [{"text": b.text, "url": b.url} if b.url else {"text": b.text, "callback_data": b.data} for b in row]
        for row in rows
    ]}


def reply_markup_json(message: OutgoingMessage) -> dict[str, Any] | None:
    """A new message's reply_markup: its inline buttons, else its reply keyboard (or taking one away)."""
    if message.buttons:
        return keyboard_json(message.buttons)
    if message.reply_keyboard:
        rows = [[{"text": b.text, "request_contact": True} if b.request_contact else {"text": b.text}
                 for b in row] for row in message.reply_keyboard]
        return {"keyboard": rows,
                "resize_keyboard": True, "one_time_keyboard": True}
    if message.remove_reply_keyboard:
        return {"remove_keyboard": True}
    return None


def is_permanent(error: BaseException) -> bool:
    """Will sending this again never work? 403, 400, 413, and a group that became a supergroup
    (the error names the new chat id; the row's chat is gone)."""
    return isinstance(error, TelegramForbiddenError | TelegramBadRequest | TelegramEntityTooLarge
                      | TelegramMigrateToChat)


async def _no_pace(kind: str) -> None:
    return None


async def deliver(bot: Bot, message: OutgoingMessage, store: OutboxStore, *, pace: Pace | None = None,
                  done: list[list[int]] | None = None) -> list[int]:
    """Send one outbox message; returns the Telegram message ids it produced.

    `pace` is awaited before every call. `done` holds the ids of the calls of this message that
    already went through (kept by the caller across retries): those calls are skipped."""
    pace = pace or _no_pace
    chat = message.chat_id
    clears = message.clear_keyboard_of is not None or message.clear_keyboard_of_outbox is not None
    if clears and not (message.text or message.photos or message.voice):
        await clear_keyboard(bot, message, store, pace)
        return []
    markup = keyboard_json(message.buttons)
    edit_of = message.edit_message_id
    if message.edit_outbox_id is not None:
        edit_of = last(await store.sent_message_ids(message.edit_outbox_id))
        if edit_of is None:
            # That message never reached the chat (given up, or pruned): there is nothing to keep up
            # to date, and sending the new state now would only add a stray copy.
            return []
    if edit_of is not None:
        await pace("edit")
        try:
            await call_json(bot, EditMessageTextQuietly, with_markup(
                {"chat_id": chat, "message_id": edit_of, "text": message.text}, markup))
            return [edit_of]
        except TelegramBadRequest as error:
            if "not modified" in error.message:
                return [edit_of]
            if not any(reason in error.message for reason in _SEND_INSTEAD):
                raise
            log.info("message %s in %s cannot be edited (%s); sending it anew", edit_of, chat, error.message)
    steps = done if done is not None else []
    ids = [i for step in steps for i in step]
    step = 0

    async def call(send: Callable[[], Awaitable[list[int]]], kind: str | None = "send") -> None:
        nonlocal step
        if step >= len(steps):
            if kind is not None:
                await pace(kind)
            sent = await send()
            steps.append(sent)
            ids.extend(sent)
        step += 1

    async def one_photo(photo: str) -> list[int]:
        return [(await bot.send_photo(chat, media(photo))).message_id]

    async def album(batch: Sequence[str]) -> list[int]:
        sent = await bot.send_media_group(chat, [InputMediaPhoto(media=media(p)) for p in batch])
        return [m.message_id for m in sent]

    async def voice(file_id: str) -> list[int]:
        return [(await bot.send_voice(chat, file_id)).message_id]

    async def text() -> list[int]:
        body = with_markup({"chat_id": chat, "text": message.text}, reply_markup_json(message))
        return [(await call_json(bot, SendMessageForId, body))["message_id"]]

    async def clear() -> list[int]:
        await clear_keyboard(bot, message, store, pace)
        return []

    if message.voice:
        await call(lambda: voice(message.voice or ""))
    for start in range(0, len(message.photos), 10):
        batch = message.photos[start : start + 10]
        await call(lambda batch=batch: one_photo(batch[0]) if len(batch) == 1 else album(batch))
    if message.text:
        await call(text)
    if clears:  # a new question taking the last one's buttons away, once it is there
        await call(clear, kind=None)  # paced as an edit, when there is one to make
    return ids


async def clear_keyboard(bot: Bot, message: OutgoingMessage, store: OutboxStore, pace: Pace) -> None:
    """Take the buttons off the earlier message the row names, if it reached the chat."""
    clear_of = message.clear_keyboard_of
    if message.clear_keyboard_of_outbox is not None:
        # The chat's rows go out in order, so the row named here was settled before this one.
        clear_of = last(await store.sent_message_ids(message.clear_keyboard_of_outbox))
    if clear_of is None:
        return  # that message never reached the chat: no buttons to take away
    chat = message.chat_id
    await pace("edit")
    try:  # no reply_markup: the buttons go
        await call_json(bot, EditMessageReplyMarkupQuietly, {"chat_id": chat, "message_id": clear_of})
    except TelegramBadRequest as error:  # already without buttons, or gone: nothing left to do
        log.debug("clearing keyboard of %s in %s: %s", clear_of, chat, error)


def with_markup(body: dict[str, Any], markup: dict[str, Any] | None) -> dict[str, Any]:
    if markup is not None:
        body["reply_markup"] = markup
    return body


def media(photo: str) -> str | FSInputFile:
    """A Telegram file id, or "file:<path>" for a file on this machine (a summary chart), uploaded."""
    return FSInputFile(photo.removeprefix(FILE_PREFIX)) if photo.startswith(FILE_PREFIX) else photo


def last(ids: Sequence[int]) -> int | None:
    """The message that carries the text and buttons is the last one a row produced (photos come first)."""
    return ids[-1] if ids else None


class OutboxSender:
    """Claims pending outbox rows and delivers them: in order per chat, chats concurrently."""

    def __init__(self, bot: Bot, store: OutboxStore, *, batch: int = 50, idle_seconds: float = 1.0,
                 workers: int = 16, limits: RateLimits | None = TELEGRAM_LIMITS,
                 backoff: Backoff = DEFAULT_BACKOFF,
                 on_permanent_failure: PermanentFailureHook | None = None, max_pause: float = 10.0,
                 rng: random.Random | None = None,
                 stop_grace: float = STOP_GRACE) -> None:
        """`limits=None` sends as fast as it can (tests only); `workers` deliveries run at once.
        A claimed row waits at most `max_pause` seconds for a 429 pause to end; a longer one puts
        it back (its lease must not run out while it waits, or another sender would send it too).
        When stopped, calls already made get `stop_grace` seconds to come back (see run())."""
        self._bot = bot
        self._store = store
        self._batch = batch
        self._idle = idle_seconds
        self._workers = max(1, workers)
        self._pacer = Pacer(limits)
        self._backoff = backoff
        self._on_permanent_failure = on_permanent_failure
        self._max_pause = max_pause
        self._rng = rng or random.Random()
        self._stop_grace = stop_grace
        self._wake = asyncio.Event()
        self._partial: dict[int, list[list[int]]] = {}  # row id -> ids of the calls that went through
        self._settling: set[asyncio.Task[None]] = set()
        # Handed rows run one chat each, and the claimed ones with them; at Telegram's 30 messages/s
        # the last of HANDED_ROOM goes out within ~17 s, inside the 60 s lease. Under a burst the room
        # fills up, and every row past it costs a claim transaction instead.
        self._handed = HandedOff(self._send, self._release, self._wake.set, room=HANDED_ROOM)
        self.notified_by_commits = False  # woken by wake() after each commit

    def wake(self) -> None:
        """Called after a transaction that queued messages commits."""
        self._wake.set()

    async def run(self) -> None:
        """Deliver until cancelled, keeping up to `workers` deliveries in flight."""
        active: set[int] = set()  # claimed rows not settled yet

        def finished(row_id: int) -> None:
            active.discard(row_id)
            self._wake.set()  # a slot is free, and the chat's next row may be claimable now

        self._handed.running = True
        try:
            while True:
                self._wake.clear()
                free = self._workers - len(active)  # handed rows have their own room (bot.handoff)
                if free > 0:
                    try:
                        claimed = await self._store.claim(min(free, self._batch))
                    except Exception:  # the database may be away for a moment; keep the sender alive
                        log.exception("outbox sender failed to claim; retrying")
                        claimed = []
                    for row in claimed:
                        # Delivered as a handed row is, so the chat's next rows can be handed behind it.
                        active.add(row.id)
                        self._handed.adopt(row, partial(finished, row.id))
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for returns a wake-up that comes in
                # the same turn as a cancellation and drops the cancellation (the sender never stopped).
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._idle):
                        await self._wake.wait()
        finally:
            # Stopping (SIGTERM): no new call starts, and a call already made gets a moment to come back.
            # Cut short, it may have been applied without its answer, and would go out again (at least
            # once) after its lease; the rows not yet started are put back at once (bot.handoff).
            self._handed.running = False
            stopping = set(self._handed.tasks)
            if stopping:
                await asyncio.wait(stopping, timeout=self._stop_grace)
            for task in stopping:
                task.cancel()
            await asyncio.gather(*stopping, return_exceptions=True)
            await self.settle()

    async def send_pending(self) -> int:
        """One pass: deliver what is claimable now (up to `batch` rows, `workers` at once).
        Returns how many rows were settled (sent, failed, or put back for a retry)."""
        pending = await self._store.claim(self._batch)
        slots = asyncio.Semaphore(self._workers)

        async def one(row: PendingMessage) -> None:
            async with slots:
                await self._send(row)

        await asyncio.gather(*(one(row) for row in pending))
        return len(pending)

    async def settle(self, timeout: float = 10.0) -> None:
        """Wait (a while: the database may be away) for the bookkeeping of stopped deliveries."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while self._settling:
                    await asyncio.gather(*self._settling, return_exceptions=True)

    async def _send(self, row: PendingMessage) -> bool:
        """Deliver one row and record the outcome; True when it was sent."""
        while len(self._partial) >= _PARTIAL_KEPT:  # rows another sender finished linger here
            del self._partial[next(iter(self._partial))]
        steps = self._partial.setdefault(row.id, [])
        try:
            ids = await deliver(self._bot, row.message, self._store, done=steps, pace=lambda kind:
                                self._pacer.acquire(row.chat_id, kind, max_pause=self._max_pause))
        except Paused as paused:
            await self._book(partial(self._store.mark_failed, row.id, str(paused), permanent=False,
                                     retry_after=paused.remaining))
            return False
        except TelegramRetryAfter as error:
            log.info("outbox %s to chat %s: 429, retry after %ss", row.id, row.chat_id, error.retry_after)
            self._pacer.penalize(row.chat_id, error.retry_after)
            await self._book(partial(self._store.mark_failed, row.id, _describe(error), permanent=False,
                                     retry_after=error.retry_after))
            return False
        except Exception as error:
            if is_permanent(error):
                await self._give_up(row, _describe(error))
                return False
            delay = self._backoff.delay(row.attempts, self._rng)
            log.warning("outbox %s to chat %s failed (attempt %s), retrying in %.1fs: %s",
                        row.id, row.chat_id, row.attempts + 1, delay, _describe(error))
            await self._book(partial(self._store.mark_failed, row.id, _describe(error), permanent=False,
                                     retry_after=delay))
            return False
        self._partial.pop(row.id, None)
        await self._book(partial(self._store.mark_sent, row.id, ids))
        return True

    async def _release(self, ids: list[int]) -> None:
        await self._book(partial(self._store.release, ids))

    async def _give_up(self, row: PendingMessage, error: str) -> None:
        log.warning("outbox %s to chat %s failed for good: %s", row.id, row.chat_id, error)
        self._partial.pop(row.id, None)
        await self._book(partial(self._store.mark_failed, row.id, error, permanent=True))
        if self._on_permanent_failure is not None:
            # Shielded like the bookkeeping: a stop right after the row was marked failed must not
            # lose the report of it (run() waits for it).
            await self._book(partial(self._report_failure, self._on_permanent_failure, row, error))

    @staticmethod
    async def _report_failure(hook: PermanentFailureHook, row: PendingMessage, error: str) -> None:
        try:
            await hook(row, error)
        except Exception:  # the row is settled; a failing hook must not put it back
            log.exception("on_permanent_failure for outbox %s failed", row.id)

    async def _book(self, bookkeeping: Callable[[], Awaitable[None]]) -> None:
        # Shielded: a stop (SIGTERM) mid-way must not leave a delivered message unmarked, or it
        # would go out again once its lease ran out. run() waits for these before it returns.
        task = asyncio.ensure_future(_until_recorded(bookkeeping))
        self._settling.add(task)
        task.add_done_callback(self._settling.discard)
        await asyncio.shield(task)


async def _until_recorded(bookkeeping: Callable[[], Awaitable[None]], max_delay: float = 5.0) -> None:
    """Record a delivery's outcome, retrying while the database is away: a sent message left unmarked
    would hold up its chat until the lease ran out, then go out twice."""
    delay = 0.2
    while True:
        try:
            await bookkeeping()
            return
        except Exception as error:
            if not is_database_unavailable(error):
                raise
            log.warning("outbox bookkeeping waits for the database (%s)", type(error).__name__)
        await asyncio.sleep(delay)
        delay = min(delay * 2, max_delay)


def _describe(error: BaseException) -> str:
    if isinstance(error, TelegramAPIError):
        return error.message
    return f"{type(error).__name__}: {error}"
