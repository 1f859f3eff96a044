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
                  ticket_number: str | None = None, **context: Any) -> None:
        """Queue a message to this chat (an outbox row in the same transaction)."""
        text = self.texts.render(template, **context)
        message = OutgoingMessage(
            chat_id=self.chat_id,
            text=text,
            buttons=tuple(tuple(row) for row in buttons),
            photos=tuple(photos),
            ticket_number=ticket_number,
        )
        self.sent.append(message)
        await self.uow.outbox.add(message)

    async def clear_pressed_keyboard(self) -> None:
        """Take the buttons off the message whose button was just pressed, so it can't be pressed twice."""
        if self.incoming.message_id is not None:
            message = OutgoingMessage(chat_id=self.chat_id, clear_keyboard_of=self.incoming.message_id)
            self.sent.append(message)
            await self.uow.outbox.add(message)

    def answer(self, text: str, *, alert: bool = False) -> None:
        self.callback_answer = text
        self.callback_alert = alert

    def label(self, name: str, **context: Any) -> str:
        return self.texts.label(name, **context)
