"""What a resident sent, whatever the channel: the one input type the conversations understand."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from enum import StrEnum


class InputKind(StrEnum):
    TEXT = "text"
    COMMAND = "command"
    BUTTON = "button"
    PHOTO = "photo"
    VOICE = "voice"  # a voice note: taken as a report's description
    LOCATION = "location"
    CONTACT = "contact"
    EDITED = "edited"  # an edited message: never changes what was already taken
    UNSUPPORTED = "unsupported"  # sticker, video, audio, document, ...


@dataclass(frozen=True)
class Sender:
    user_id: int
    display_name: str = ""
    username: str | None = None


@dataclass(frozen=True)
class Incoming:
    update_id: int
    chat_id: int
    sender: Sender
    kind: InputKind
    text: str = ""  # message text, or the caption of a photo or voice note
    command: str = ""  # "start" for "/start b_3"
    args: str = ""  # "b_3"
    button_data: str = ""
    photo_file_id: str = ""
    voice_file_id: str = ""
    phone: str = ""  # a shared contact
    contact_user_id: int | None = None  # whose contact it is (their own, when it equals the sender)
    what: str = ""  # for UNSUPPORTED: "sticker", "voice", ...
    is_private: bool = True
    message_id: int | None = None

    def without_nul(self) -> Incoming:
        """The same input without U+0000 anywhere: PostgreSQL cannot store it in text or JSON (the update
        would fail for good), and no one means to send it."""
        changes = {f.name: value.replace("\x00", "") for f in fields(self)
                   if isinstance(value := getattr(self, f.name), str) and "\x00" in value}
        sender = self.sender
        if "\x00" in sender.display_name or "\x00" in (sender.username or ""):
            username = sender.username.replace("\x00", "") if sender.username else None
            changes["sender"] = replace(sender, display_name=sender.display_name.replace("\x00", ""),
                                        username=username)
        return replace(self, **changes) if changes else self

    @classmethod
    def parse_text(cls, update_id: int, chat_id: int, sender: Sender, text: str, **kw) -> Incoming:
        """Text starting with / is a command (with an optional @botname suffix, as Telegram sends it)."""
        if text.startswith("/") and len(text) > 1:
            head, _, args = text.partition(" ")
            command = head[1:].split("@", 1)[0].lower()
            if command.isascii() and command.replace("_", "").isalnum():
                return cls(update_id, chat_id, sender, InputKind.COMMAND, text=text, command=command,
                           args=args.strip(), **kw)
        return cls(update_id, chat_id, sender, InputKind.TEXT, text=text, **kw)
