"""What a simulated person does: each action stores a user message and queues an update."""

from __future__ import annotations

import copy
import re
import time
from typing import Any

from sandbox.html_check import utf16_len
from sandbox.images import make_png, make_voice
from sandbox.models import Chat, ControlError, StoredMessage, User
from sandbox.state import Sandbox

__all__ = [
    "block",
    "create_group",
    "edit_text",
    "ensure_user",
    "open_deep_link",
    "press",
    "send_contact",
    "send_location",
    "send_photo",
    "send_sticker",
    "send_text",
    "send_voice",
]

DEEP_LINK_PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def ensure_user(sb: Sandbox, user_id: Any) -> User:
    try:
        uid = int(user_id)
    except (TypeError, ValueError):
        raise ControlError(f"user_id must be an integer, got {user_id!r}") from None
    if uid <= 0:
        raise ControlError("user ids are positive integers")
    return sb.get_user(uid) or sb.add_user(uid, f"居民{uid}")


def _chat(sb: Sandbox, user: User, chat_id: Any) -> Chat:
    if chat_id in (None, "", user.id, str(user.id)):
        if user.blocked:
            raise ControlError(f"user {user.id} has blocked the bot; unblock first", 409)
        return sb.private_chat(user)
    chat = sb.chats.get(int(chat_id))
    if chat is None or chat.type == "private":
        raise ControlError(f"no group chat {chat_id}", 404)
    if user.id not in chat.member_ids:
        raise ControlError(f"user {user.id} is not a member of chat {chat_id}", 403)
    return chat


def _post(
    sb: Sandbox, user_id: Any, chat_id: Any, content: dict[str, Any], reply_to: Any = None
) -> dict[str, Any]:
    user = ensure_user(sb, user_id)
    chat = _chat(sb, user, chat_id)
    if reply_to:
        target = sb.find_message(chat, reply_to)
        if target is None:
            raise ControlError(f"no message {reply_to} in chat {chat.id}", 404)
        content["reply_to_message"] = {k: v for k, v in target.data.items() if k != "reply_to_message"}
    stored = sb.add_message(chat, from_bot=False, sender=user.to_api(), content=content)
    update_id = sb.enqueue("message", copy.deepcopy(stored.data))
    return {"chat_id": chat.id, "message_id": stored.message_id, "update_id": update_id}


def _text_entities(text: str, bot_username: str) -> list[dict[str, Any]]:
    entities = []
    match = re.match(r"/[A-Za-z0-9_]{1,64}(@[A-Za-z0-9_]{3,32})?", text)
    if match and (match.group(1) is None or match.group(1)[1:].lower() == bot_username.lower()):
        entities.append({"type": "bot_command", "offset": 0, "length": utf16_len(match.group(0))})
    return entities


def send_text(
    sb: Sandbox, user_id: Any, text: str, chat_id: Any = None, reply_to: Any = None
) -> dict[str, Any]:
    text = (text or "").strip()
    if not text:
        raise ControlError("text is empty")
    if utf16_len(text) > 4096:
        raise ControlError("text is longer than 4096 characters")
    content: dict[str, Any] = {"text": text}
    entities = _text_entities(text, sb.bot_username)
    if entities:
        content["entities"] = entities
    return _post(sb, user_id, chat_id, content, reply_to)


def open_deep_link(sb: Sandbox, user_id: Any, payload: str) -> dict[str, Any]:
    if not DEEP_LINK_PAYLOAD.match(payload or ""):
        raise ControlError("a deep link payload is 1-64 characters of A-Z, a-z, 0-9, _ and -")
    return send_text(sb, user_id, f"/start {payload}")


def _buttons(stored: StoredMessage) -> list[dict[str, Any]]:
    rows = (stored.data.get("reply_markup") or {}).get("inline_keyboard") or []
    return [button for row in rows for button in row]


def press(
    sb: Sandbox,
    user_id: Any,
    message_id: Any,
    data: str | None = None,
    chat_id: Any = None,
    *,
    text: str | None = None,
    force: bool = False,
) -> dict[str, Any]:
    """Press an inline button (by callback data, or by its label with ``text``)."""
    user = ensure_user(sb, user_id)
    chat = _chat(sb, user, chat_id)
    stored = sb.find_message(chat, message_id)
    if data is None and text is not None and stored is not None:
        data = next((b.get("callback_data") for b in _buttons(stored) if b.get("text") == text), None)
    if data is None:
        raise ControlError(f"no button {text!r} on message {message_id} in chat {chat.id}", 404)
    if not force:
        if stored is None:
            raise ControlError(f"no message {message_id} in chat {chat.id}", 404)
        if not stored.from_bot or data not in [b.get("callback_data") for b in _buttons(stored)]:
            raise ControlError(f"message {message_id} has no button with callback_data {data!r}", 404)
    if stored is not None:
        message = copy.deepcopy(stored.data)
    else:  # Telegram's InaccessibleMessage
        message = {"chat": chat.to_api(), "message_id": int(message_id), "date": 0}
    query_id = sb.new_callback_id()
    sb.callback_queries[query_id] = {
        "user_id": user.id,
        "chat_id": chat.id,
        "message_id": int(message_id),
        "data": data,
        "answered": False,
        "at": time.time(),
    }
    payload = {
        "id": query_id,
        "from": user.to_api(),
        "message": message,
        "chat_instance": str(abs(chat.id) * 31 + 7_000_000_000_000_000),
        "data": data,
    }
    update_id = sb.enqueue("callback_query", payload)
    return {"callback_query_id": query_id, "update_id": update_id, "chat_id": chat.id}


def send_photo(sb: Sandbox, user_id: Any, caption: str | None = None, chat_id: Any = None) -> dict[str, Any]:
    seed = len(sb.files) + int(user_id)
    small = make_png(40, 30, seed)
    big = make_png(320, 240, seed)
    sizes = []
    for data, (w, h) in ((small, (40, 30)), (big, (320, 240))):
        sizes.append(
            sb.add_file("photo", data, ext="png", mime_type="image/png", width=w, height=h).photo_size()
        )
    content: dict[str, Any] = {"photo": sizes}
    if caption:
        content["caption"] = caption
    return _post(sb, user_id, chat_id, content)


def send_sticker(sb: Sandbox, user_id: Any, emoji: str = "👍", chat_id: Any = None) -> dict[str, Any]:
    stored = sb.add_file(
        "sticker", make_png(128, 128, 7), ext="png", mime_type="image/png", width=128, height=128
    )
    sticker = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
        "emoji": emoji,
        "set_name": "GridbotSandbox",
        "file_size": len(stored.data),
    }
    return _post(sb, user_id, chat_id, {"sticker": sticker})


def send_voice(sb: Sandbox, user_id: Any, duration: int = 3, chat_id: Any = None) -> dict[str, Any]:
    stored = sb.add_file("voice", make_voice(duration), ext="oga", mime_type="audio/ogg")
    voice = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "duration": int(duration),
        "mime_type": "audio/ogg",
        "file_size": len(stored.data),
    }
    return _post(sb, user_id, chat_id, {"voice": voice})


def send_location(
    sb: Sandbox, user_id: Any, latitude: float = 31.2304, longitude: float = 121.4737, chat_id: Any = None
) -> dict[str, Any]:
    return _post(
        sb, user_id, chat_id, {"location": {"latitude": float(latitude), "longitude": float(longitude)}}
    )


def send_contact(
    sb: Sandbox, user_id: Any, phone_number: str | None = None, chat_id: Any = None
) -> dict[str, Any]:
    user = ensure_user(sb, user_id)
    contact: dict[str, Any] = {
        "phone_number": phone_number or f"86138{user.id % 10**8:08d}",
        "first_name": user.first_name,
        "user_id": user.id,
    }
    if user.last_name:
        contact["last_name"] = user.last_name
    return _post(sb, user_id, chat_id, {"contact": contact})


def edit_text(sb: Sandbox, user_id: Any, message_id: Any, text: str, chat_id: Any = None) -> dict[str, Any]:
    user = ensure_user(sb, user_id)
    chat = _chat(sb, user, chat_id)
    stored = sb.find_message(chat, message_id)
    if stored is None or stored.from_bot or stored.sender_id != user.id or "text" not in stored.data:
        raise ControlError(f"user {user.id} has no text message {message_id} in chat {chat.id}", 404)
    text = (text or "").strip()
    if not text or text == stored.data["text"]:
        raise ControlError("the new text is empty or unchanged")
    stored.data["text"] = text
    entities = _text_entities(text, sb.bot_username)
    if entities:
        stored.data["entities"] = entities
    else:
        stored.data.pop("entities", None)
    stored.data["edit_date"] = int(time.time())
    stored.edited = True
    update_id = sb.enqueue("edited_message", copy.deepcopy(stored.data))
    return {"chat_id": chat.id, "message_id": stored.message_id, "update_id": update_id}


def create_group(sb: Sandbox, title: str, member_ids: list[Any], chat_id: Any = None) -> dict[str, Any]:
    if not title:
        raise ControlError("a group needs a title")
    members = [ensure_user(sb, m).id for m in member_ids]
    try:
        wanted = int(chat_id) if chat_id is not None else None
        return {"chat_id": sb.create_group(title, members, chat_id=wanted).id}
    except ValueError as error:
        raise ControlError(str(error)) from error


def block(sb: Sandbox, user_id: Any, blocked: bool = True) -> dict[str, Any]:
    """Block/unblock the bot; the bot gets a my_chat_member update if the chat exists."""
    user = ensure_user(sb, user_id)
    if user.blocked == blocked:
        return {"blocked": blocked, "update_id": None}
    user.blocked = blocked
    chat = sb.chats.get(user.id)
    update_id = None
    if chat is not None:
        bot = sb.bot_user()
        old, new = ({"status": "member", "user": bot}, {"status": "kicked", "user": bot, "until_date": 0})
        if not blocked:
            old, new = new, old
        update_id = sb.enqueue(
            "my_chat_member",
            {
                "chat": chat.to_api(),
                "from": user.to_api(),
                "date": int(time.time()),
                "old_chat_member": old,
                "new_chat_member": new,
            },
        )
    sb.bump()
    return {"blocked": blocked, "update_id": update_id}
