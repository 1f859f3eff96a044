"""Everything one update's handling needs, passed explicitly (no globals)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from gridcore.community import Community
from gridcore.conversation import Conversation
from gridcore.messages import Button, OutgoingMessage
from gridcore.ports import UnitOfWork
from handlers.inputs import Incoming
from handlers.texts import Texts

Keyboard = Sequence[Sequence[Button]]
DIALOG_BUTTON = "r:"  # callback data of a dialog question's buttons: r:<turn>:<value>


@dataclass
class Context:
    uow: UnitOfWork
    incoming: Incoming
    community: Community
    conversation: Conversation
    texts: Texts
    now: datetime
    bot_username: str = ""
    callback_answer: str | None = None
    callback_alert: bool = False
    sent: list[OutgoingMessage] = field(default_factory=list)

    @property
    def chat_id(self) -> int:
        return self.incoming.chat_id

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.community.timezone)

    def local(self, at: datetime) -> datetime:
        return at.astimezone(self.tz)

    async def say(self, template: str, *, buttons: Keyboard = (), photos: Sequence[str] = (),
                  ticket_number: str | None = None, **context: Any) -> int:
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
        )
        outbox_id = await self._queue(message)
        if any(button.data.startswith(DIALOG_BUTTON) for row in message.buttons for button in row):
            await self.retire_prompts()
            self.conversation.prompts.append(outbox_id)
        return outbox_id

    async def retire_prompts(self) -> None:
        """Take the buttons off every live dialog question (the dialog moved on or ended)."""
        for outbox_id in self.conversation.prompts:
            await self._queue(OutgoingMessage(chat_id=self.chat_id, clear_keyboard_of_outbox=outbox_id))
        self.conversation.prompts = []

    async def end_dialog(self) -> None:
        await self.retire_prompts()
        self.conversation.reset()

    async def _queue(self, message: OutgoingMessage) -> int:
        self.sent.append(message)
        return await self.uow.outbox.add(message)

    def answer(self, text: str, *, alert: bool = False) -> None:
        self.callback_answer = text
        self.callback_alert = alert

    def label(self, name: str, **context: Any) -> str:
        return self.texts.label(name, **context)
