"""Reply markup as Telegram checks it: inline keyboards (buttons, their actions and data, and the limits
on the whole keyboard — 100 buttons, 8 to a row, ~10 kB), reply keyboards and their removal."""

from __future__ import annotations

import json
import re
from typing import Any

from sandbox.api_support import Params
from sandbox.models import Chat, bad_request

MAX_INLINE_BUTTONS = 100
MAX_INLINE_ROW = 8
MAX_MARKUP_BYTES = 10_240  # "~10 kB" of reply markup
_INLINE_ACTIONS = (
    "callback_data",
    "url",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)


def check_markup(p: Params, *, inline_only: bool = False) -> tuple[Any, dict[str, Any] | None]:
    """(markup for the Message object or None, the raw markup) — validates like Telegram."""
    markup = p.json("reply_markup", error="can't parse reply keyboard markup JSON object")
    if markup is None:
        return None, None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        return check_inline_keyboard(markup["inline_keyboard"]), markup
    if inline_only:
        raise bad_request("inline keyboard expected")
    if "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise bad_request("can't parse reply keyboard markup JSON object")
        for row in rows:
            for button in row:
                text = (
                    button
                    if isinstance(button, str)
                    else button.get("text")
                    if isinstance(button, dict)
                    else None
                )
                if not text:
                    raise bad_request("keyboard button text must be non-empty")
        return None, markup
    if markup.get("remove_keyboard") or markup.get("force_reply"):
        return None, markup
    raise bad_request("can't parse reply keyboard markup JSON object")


def inline_markup_size(rows: Any) -> int:
    """The size Telegram's markup limit counts: the keyboard as compact JSON, UTF-8 bytes."""
    markup = {"inline_keyboard": rows}
    return len(json.dumps(markup, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass"))


def check_inline_keyboard(rows: Any) -> dict[str, Any] | None:
    """The keyboard as a Message shows it (empty rows dropped), or ApiError 400 as Telegram answers."""
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise bad_request("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise bad_request("can't parse inline keyboard button: Text must be a String")
            if not button["text"]:
                raise bad_request("inline keyboard button text must be non-empty")
            actions = [key for key in _INLINE_ACTIONS if key in button]
            if not actions:
                raise bad_request("text buttons are unallowed in the inline keyboard")
            if "callback_data" in button:
                data = button["callback_data"]
                if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= 64:
                    raise bad_request("BUTTON_DATA_INVALID")
            if "url" in button and not re.match(r"(?i)^(https?://|tg://)\S+$", str(button["url"])):
                raise bad_request("BUTTON_URL_INVALID")
    # Telegram's limits on the whole keyboard: 100 buttons, 8 to a row, ~10 kB; past any, one answer.
    too_many = sum(len(row) for row in rows) > MAX_INLINE_BUTTONS
    too_wide = any(len(row) > MAX_INLINE_ROW for row in rows)
    if too_many or too_wide or inline_markup_size(rows) > MAX_MARKUP_BYTES:
        raise bad_request("reply markup is too long")
    cleaned = [row for row in rows if row]
    return {"inline_keyboard": cleaned} if cleaned else None


def apply_chat_keyboard(chat: Chat, raw_markup: dict[str, Any] | None) -> None:
    if raw_markup is None:
        return
    if "keyboard" in raw_markup:
        chat.reply_keyboard = raw_markup
    elif raw_markup.get("remove_keyboard"):
        chat.reply_keyboard = None
