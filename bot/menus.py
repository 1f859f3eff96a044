"""Command menus: everyone's (the default scope) and a staff member's own (a per-chat scope).

What each role is offered is decided in handlers.menus; this only tells Telegram, through aiogram's
public API (setMyCommands with BotCommandScopeChat). A chat Telegram does not know yet (a staff member
who never wrote to the bot) is refused with a 400; their menu is set when the invite binds them, or at
the next start.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest, TelegramForbiddenError
from aiogram.types import BotCommand, BotCommandScopeChat

log = logging.getLogger(__name__)


def bot_commands(menu: Sequence[tuple[str, str]]) -> list[BotCommand]:
    return [BotCommand(command=name, description=description) for name, description in menu]


async def set_chat_menu(bot: Bot, chat_id: int, menu: Sequence[tuple[str, str]]) -> bool:
    """One chat's own menu; False (logged) when Telegram refuses it. A passing failure (network,
    5xx, 429) is raised, for the caller to retry or give up."""
    try:
        await bot.set_my_commands(bot_commands(menu), scope=BotCommandScopeChat(chat_id=chat_id))
    except (TelegramBadRequest, TelegramForbiddenError) as error:
        log.info("command menu of a staff chat not set: %s", error.message)
        return False
    return True


async def set_chat_menus(bot: Bot, menus: Mapping[int, Sequence[tuple[str, str]]]) -> int:
    """Every chat's own menu, one after another, each tried once (a just-bound staff member's, after
    the update committed: a failure costs only the menu, which the next start sets); returns how
    many Telegram took."""
    done = 0
    for chat_id, menu in menus.items():
        try:
            done += await set_chat_menu(bot, chat_id, menu)
        except (TelegramAPIError, OSError) as error:
            log.warning("command menu of a staff chat not set: %s", type(error).__name__)
    return done
