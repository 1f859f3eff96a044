"""Everything one update's handling needs, passed explicitly (no globals)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from gridcore.community import Community
from gridcore.conversation import Conversation
from gridcore.messages import Button, OutgoingMessage
from gridcore.ports import UnitOfWork
from gridcore.redact import redact
from gridcore.triage import Suggestion
from handlers.inputs import Incoming
from handlers.texts import Texts

Keyboard = Sequence[Sequence[Button]]
DIALOG_BUTTON = "r:"  # callback data of a dialog question's buttons: r:<turn>:<value>
STASH = "_stashed"  # conversation.data key of a dialog interrupted by a short task


class Suggester(Protocol):
    """The category suggestion of a report's first words (handlers.triage.Triage)."""

    async def suggest(self, ctx: Context, text: str) -> Suggestion: ...


@dataclass
class Context:
    uow: UnitOfWork
    incoming: Incoming
    community: Community
    conversation: Conversation
    texts: Texts
    now: datetime
    bot_username: str = ""
    console_url: str = ""  # the staff console's address (CONSOLE_URL); "" when it is off
    # The category suggestion (handlers.triage.Triage); None: the roster's keywords alone.
    triage: Suggester | None = None
    callback_answer: str | None = None
    callback_alert: bool = False
    sent: list[OutgoingMessage] = field(default_factory=list)
    # Outbox ids of dialog questions whose buttons go: each rides on this chat's next new message, and
    # finish() queues the rest on their own (one outbox row and one delivery fewer per dialog step).
    retiring: list[int] = field(default_factory=list)
    # Command menus to set after the commit (chat id -> (command, description)...): a staff member
    # just bound by an invite (handlers.menus; the bot sets them, bot.menus).
    menus: dict[int, list[tuple[str, str]]] = field(default_factory=dict)

    @property
    def chat_id(self) -> int:
        return self.incoming.chat_id

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.community.timezone)

    def local(self, at: datetime) -> datetime:
        return at.astimezone(self.tz)

    async def say(self, template: str, /, *, buttons: Keyboard = (), photos: Sequence[str] = (),
                  ticket_number: str | None = None, reply_keyboard: Keyboard = (),
                  remove_reply_keyboard: bool = False, **context: Any) -> int:
        """Queue a message to this chat (an outbox row in the same transaction); returns its outbox id.

        A message that asks a dialog question (its buttons carry the turn) becomes the only live
        question: the buttons of earlier ones are taken away right after it.
        """
        message = OutgoingMessage(
            chat_id=self.chat_id,
            text=self.texts.render(template, **context),
            buttons=tuple(tuple(row) for row in buttons),
            photos=tuple(photos),
            ticket_number=ticket_number,
            reply_keyboard=tuple(tuple(row) for row in reply_keyboard),
            remove_reply_keyboard=remove_reply_keyboard,
        )
        asks = any(button.data.startswith(DIALOG_BUTTON) for row in message.buttons for button in row)
        if asks:
            self.retire_prompts()  # the earlier question's buttons go once this one is there
        outbox_id = await self._queue(message)
        if asks:
            self.conversation.prompts.append(outbox_id)
        return outbox_id

    async def tell(self, chat_id: int, template: str, /, *, buttons: Keyboard = (),
                   photos: Sequence[str] = (), edit_outbox_id: int | None = None,
                   edit_message_id: int | None = None, ticket_number: str | None = None,
                   voice: str | None = None, **context: Any) -> int:
        """Queue a message to another chat (a worker, a staff group, a resident); returns its outbox id."""
        return await self._queue(OutgoingMessage(
            chat_id=chat_id, text=self.texts.render(template, **context),
            buttons=tuple(tuple(row) for row in buttons), photos=tuple(photos),
            edit_outbox_id=edit_outbox_id, edit_message_id=edit_message_id, ticket_number=ticket_number,
            voice=voice))

    def retire_prompts(self) -> None:
        """Take the buttons off every live dialog question (the dialog moved on or ended): with this
        chat's next new message, or by finish()."""
        self.retiring.extend(self.conversation.prompts)
        self.conversation.prompts = []

    async def finish(self) -> None:
        """Before the commit: the questions no message took along get their buttons taken away now."""
        while self.retiring:
            outbox_id = self.retiring.pop(0)
            await self._queue(OutgoingMessage(chat_id=self.chat_id, clear_keyboard_of_outbox=outbox_id))

    async def end_dialog(self) -> None:
        """End the dialog under way; a dialog it interrupted (see begin_task) comes back."""
        self.retire_prompts()
        stashed = self.conversation.data.get(STASH)
        self.conversation.reset()
        if stashed:
            self.conversation.dialog = stashed["dialog"]
            self.conversation.step = stashed["step"]
            self.conversation.data = stashed["data"]

    def begin_task(self, dialog: str, step: str, data: dict[str, Any]) -> None:
        """Start a short dialog (a worker's note, a rating reason). A report the person was filling in
        is kept aside and comes back when the task ends, so nothing they typed is lost."""
        conversation = self.conversation
        stash = conversation.data.get(STASH)
        if conversation.dialog is not None and conversation.dialog != dialog and stash is None:
            stash = {"dialog": conversation.dialog, "step": conversation.step, "data": conversation.data}
        conversation.dialog, conversation.step = dialog, step
        conversation.turn += 1
        conversation.data = {**data, STASH: stash} if stash else dict(data)

    @property
    def sender_id(self) -> int:
        return self.incoming.sender.user_id

    async def _queue(self, message: OutgoingMessage) -> int:
        if message.chat_id < 0 and message.text and message.ticket_number:
            # Whatever goes to a group chat about a ticket passes the core redactor once more, as a
            # whole: a template that shows a resident's phone, ID or chat id there by mistake still
            # shows it masked. (Staff's own posts, e.g. announcements with the office's number, do not.)
            message = replace(message, text=redact(message.text))
        if (self.retiring and message.chat_id == self.chat_id and (message.text or message.photos)
                and message.edit_message_id is None and message.edit_outbox_id is None
                and message.clear_keyboard_of is None and message.clear_keyboard_of_outbox is None):
            message = replace(message, clear_keyboard_of_outbox=self.retiring.pop(0))
        self.sent.append(message)
        return await self.uow.outbox.add(message)

    def dialog_data(self, value: str) -> str:
        """Callback data for a button of the question asked now; it goes stale with the next question."""
        return f"{DIALOG_BUTTON}{self.conversation.turn}:{value}"

    def dialog_press(self) -> str | None:
        """The value of a pressed dialog button (r:<turn>:<value>) of the question asked now; None for
        a button of an older question or a forged one, which is answered as stale and does nothing."""
        pressed = self.incoming.button_data
        turn, _, value = pressed.removeprefix(DIALOG_BUTTON).partition(":")
        if not pressed.startswith(DIALOG_BUTTON) or turn != str(self.conversation.turn):
            self.answer(self.label("stale_button"), alert=True)
            return None
        self.answer("")
        return value

    def answer(self, text: str, *, alert: bool = False) -> None:
        self.callback_answer = text
        self.callback_alert = alert

    def label(self, name: str, /, **context: Any) -> str:
        return self.texts.label(name, **context)
