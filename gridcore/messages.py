"""Channel-neutral outgoing messages: what the bot wants to say, before any channel sends it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Button:
    text: str
    data: str = ""  # callback data, 1–64 bytes
    url: str = ""  # a link button instead of a callback
    request_contact: bool = False  # in a reply keyboard: the button shares the person's own phone number


@dataclass(frozen=True)
class OutgoingMessage:
    """One message to deliver. Storage keeps it as an outbox row until a sender delivers it.

    `text` is already rendered (Telegram HTML subset). `photos` are file ids, sent before the text
    (a `voice` note before them).
    An earlier message can be changed instead of sending a new one, named either by its Telegram
    message id (known from a button press) or by the outbox row that sent it (known in the same
    transaction that queued it; the sender looks the Telegram id up when it gets there):
    `edit_message_id` / `edit_outbox_id` replace its text and buttons;
    `clear_keyboard_of` / `clear_keyboard_of_outbox` only take its buttons away: alone, or after a new
    message (text, photos) is sent, as a dialog's next question retires the last one's buttons in the
    same row (one outbox row and one delivery instead of two).
    """

    chat_id: int
    text: str = ""
    buttons: tuple[tuple[Button, ...], ...] = ()
    photos: tuple[str, ...] = ()
    edit_message_id: int | None = None
    edit_outbox_id: int | None = None
    clear_keyboard_of: int | None = None
    clear_keyboard_of_outbox: int | None = None
    ticket_number: str | None = None
    # A keyboard under the chat's input field (buttons that send their text, or share a contact); a new
    # message only, and never with inline `buttons` (one reply_markup per message). remove_reply_keyboard
    # takes a shown one away.
    reply_keyboard: tuple[tuple[Button, ...], ...] = ()
    remove_reply_keyboard: bool = False
    voice: str | None = None  # a voice note's file id, sent before the photos and the text
