"""Turn a Telegram update into the channel-neutral Incoming the conversations understand."""

from __future__ import annotations

from aiogram.types import CallbackQuery, Message, Update, User

from handlers.inputs import Incoming, InputKind, Sender

# Message content types we don't read, by the attribute aiogram gives them.
UNSUPPORTED = ("sticker", "video", "video_note", "audio", "document", "animation", "poll",
               "dice", "game", "venue", "story")


def sender_of(user: User | None, fallback_id: int) -> Sender:
    if user is None:
        return Sender(fallback_id)
    name = " ".join(part for part in (user.first_name, user.last_name) if part)
    return Sender(user.id, name, user.username)


def to_incoming(update: Update) -> Incoming | None:
    """None for update kinds a conversation has nothing to say to (chat member changes, ...)."""
    if update.message is not None:
        return from_message(update.update_id, update.message)
    if update.edited_message is not None:
        message = update.edited_message
        return Incoming(update.update_id, message.chat.id, sender_of(message.from_user, message.chat.id),
                        InputKind.EDITED, is_private=message.chat.type == "private",
                        message_id=message.message_id)
    if update.callback_query is not None:
        return from_callback(update.update_id, update.callback_query)
    return None


def from_message(update_id: int, message: Message) -> Incoming:
    chat_id = message.chat.id
    common = {"is_private": message.chat.type == "private", "message_id": message.message_id}
    sender = sender_of(message.from_user, chat_id)
    if message.text is not None:
        return Incoming.parse_text(update_id, chat_id, sender, message.text, **common)
    if message.photo:
        largest = max(message.photo, key=lambda p: p.width * p.height)
        return Incoming(update_id, chat_id, sender, InputKind.PHOTO, text=message.caption or "",
                        photo_file_id=largest.file_id, **common)
    if message.voice is not None:
        return Incoming(update_id, chat_id, sender, InputKind.VOICE, text=message.caption or "",
                        voice_file_id=message.voice.file_id, what="voice", **common)
    if message.contact is not None:
        contact = message.contact
        return Incoming(update_id, chat_id, sender, InputKind.CONTACT, phone=contact.phone_number,
                        contact_user_id=contact.user_id, what="contact", **common)
    if message.location is not None and message.venue is None:
        return Incoming(update_id, chat_id, sender, InputKind.LOCATION, what="location", **common)
    what = next((name for name in UNSUPPORTED if getattr(message, name, None) is not None), "other")
    return Incoming(update_id, chat_id, sender, InputKind.UNSUPPORTED, what=what, **common)


def from_callback(update_id: int, query: CallbackQuery) -> Incoming:
    message = query.message
    chat_id = message.chat.id if message is not None else query.from_user.id
    is_private = message is None or message.chat.type == "private"
    return Incoming(update_id, chat_id, sender_of(query.from_user, chat_id), InputKind.BUTTON,
                    button_data=query.data or "", is_private=is_private,
                    message_id=message.message_id if message is not None else None)
