"""Channel-neutral outgoing messages: what the bot wants to say, before any channel sends it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Button:
    text: str
    data: str = ""  # callback data, 1–64 bytes
    url: str = ""  # a link button instead of a callback


@dataclass(frozen=True)
class OutgoingMessage:
    """One message to deliver. Storage keeps it as an outbox row until a sender delivers it.

    `text` is already rendered (Telegram HTML subset). `photos` are file ids; with photos the
    text becomes the caption of the first one (or a separate message when too long).
    `edit_message_id` turns the message into an edit of one the bot sent earlier.
    `clear_keyboard_of` removes the buttons of an earlier message instead of sending anything.
    """

    chat_id: int
    text: str = ""
    buttons: tuple[tuple[Button, ...], ...] = ()
    photos: tuple[str, ...] = ()
    edit_message_id: int | None = None
    clear_keyboard_of: int | None = None
    ticket_number: str | None = None
