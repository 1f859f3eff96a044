"""The one aiogram Router: every update goes to the channel-neutral conversations."""

from __future__ import annotations

import asyncio
import logging
import weakref

from aiogram import Bot, Router
from aiogram.types import CallbackQuery, Message, Update

from bot.delivery import OutboxSender
from bot.menus import set_chat_menus
from bot.updates import to_incoming
from handlers.app import Conversations

log = logging.getLogger(__name__)


class ChatLocks:
    """Updates of one chat are handled one after another, in order; different chats run in parallel.

    A lock lives only while some update of its chat holds or awaits it, so idle chats cost nothing.
    """

    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()

    def __call__(self, chat_id: int) -> asyncio.Lock:
        lock = self._locks.get(chat_id)
        if lock is None:
            lock = self._locks[chat_id] = asyncio.Lock()
        return lock


_answering: set[asyncio.Task[None]] = set()  # answers under way (a reference keeps each task alive)


async def handle_update(update: Update, bot: Bot, conversations: Conversations, sender: OutboxSender,
                        chat_locks: ChatLocks) -> None:
    incoming = to_incoming(update)
    if incoming is None:
        return
    async with chat_locks(incoming.chat_id):
        handled = await conversations.handle(incoming)
    sender.wake()  # committed: what it queued can be claimed now
    if handled.menus:  # a staff member just bound: their own command menu (after the commit)
        await set_chat_menus(bot, handled.menus)
    query = update.callback_query
    if query is not None:
        # The press has been committed; now stop the button's spinner. A lost answer loses nothing,
        # so the update is done without waiting for it (polling fetches the next ones meanwhile).
        task = asyncio.create_task(answer(bot, query.id, handled.callback_answer or None,
                                          handled.callback_alert))
        _answering.add(task)
        task.add_done_callback(_answering.discard)


async def answer(bot: Bot, query_id: str, text: str | None, alert: bool) -> None:
    try:
        await bot.answer_callback_query(query_id, text=text, show_alert=alert)
    except Exception as error:
        log.debug("answerCallbackQuery failed: %s", error)


def make_router() -> Router:
    router = Router(name="gridbot")

    @router.message()
    async def on_message(message: Message, event_update: Update, bot: Bot, conversations: Conversations,
                         sender: OutboxSender, chat_locks: ChatLocks) -> None:
        await handle_update(event_update, bot, conversations, sender, chat_locks)

    @router.edited_message()
    async def on_edited(message: Message, event_update: Update, bot: Bot, conversations: Conversations,
                        sender: OutboxSender, chat_locks: ChatLocks) -> None:
        await handle_update(event_update, bot, conversations, sender, chat_locks)

    @router.callback_query()
    async def on_callback(query: CallbackQuery, event_update: Update, bot: Bot, conversations: Conversations,
                          sender: OutboxSender, chat_locks: ChatLocks) -> None:
        await handle_update(event_update, bot, conversations, sender, chat_locks)

    return router
