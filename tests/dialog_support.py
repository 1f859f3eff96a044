"""Drive the channel-neutral conversations the way a resident would, without any network."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from bot.delivery import inline_keyboard
from gridcore.community import Community
from gridcore.messages import OutgoingMessage
from gridcore.roster import parse_roster
from handlers.app import Conversations, Handled
from handlers.inputs import Incoming, InputKind, Sender
from handlers.texts import Texts
from sandbox.html_check import parse_html
from sandbox.markup import check_inline_keyboard

EXAMPLE_ROSTER = Path(__file__).resolve().parents[1] / "examples" / "roster.yaml"
_update_ids = itertools.count(1)


@cache
def example_community() -> Community:
    """The example roster (parsed once: a Community is immutable)."""
    return parse_roster(EXAMPLE_ROSTER.read_text(encoding="utf-8"), str(EXAMPLE_ROSTER))


class FakeClock:
    def __init__(self, now: datetime = datetime(2026, 11, 22, 1, 30, tzinfo=UTC)) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


async def load_example(uow_factory) -> Community:
    community = example_community()
    async with uow_factory() as uow:
        await uow.roster.upsert(community)
        await uow.commit()
    return community


def make_conversations(uow_factory, clock: FakeClock | None = None) -> Conversations:
    return Conversations(uow_factory, Texts(), clock=clock or FakeClock(), bot_username="gridbot_test_bot")


def wire(markup: BaseModel | None) -> dict[str, Any] | None:
    """An aiogram object as the Bot API receives it (aiogram leaves out the fields that are None)."""
    return None if markup is None else markup.model_dump(mode="json", exclude_none=True)


def assert_telegram_accepts(message: OutgoingMessage) -> None:
    """What Telegram would refuse with a 400: bad HTML, empty or over-long text, bad callback data."""
    if message.text:
        plain, _ = parse_html(message.text)
        assert 1 <= len(plain.strip()) <= 4096, message.text[:200]
    for row in message.buttons:
        for button in row:
            assert button.text.strip(), message.text
            assert button.url or 1 <= len(button.data.encode()) <= 64, button
    if message.buttons:  # the keyboard as a whole: 100 buttons, 8 to a row, ~10 kB (the sandbox's rules)
        check_inline_keyboard(wire(inline_keyboard(message.buttons))["inline_keyboard"])


class World:
    """Every chat's messages, as the bot sent them (in order)."""

    def __init__(self) -> None:
        self.inbox: defaultdict[int, list[OutgoingMessage]] = defaultdict(list)

    def group_texts(self) -> list[str]:
        return [m.text for chat_id, messages in self.inbox.items() if chat_id < 0 for m in messages if m.text]


class ResidentChat:
    """One person in a chat (their private chat by default, or a group): sends inputs and reads what
    the bot sent to that chat. Chats sharing a World see each other's messages arrive (cards, notices)."""

    def __init__(self, conversations: Conversations, user_id: int = 5001, name: str = "张阿姨", *,
                 world: World | None = None, chat_id: int | None = None) -> None:
        self.conversations = conversations
        self.sender = Sender(user_id, name)
        self.user_id = user_id
        self.chat_id = user_id if chat_id is None else chat_id
        self.world = world or World()
        self.last: Handled | None = None
        self.last_incoming: Incoming | None = None
        self._message_ids = itertools.count(1)

    @property
    def received(self) -> list[OutgoingMessage]:
        return self.world.inbox[self.chat_id]

    @received.setter
    def received(self, messages: list[OutgoingMessage]) -> None:
        self.world.inbox[self.chat_id] = messages

    async def _handle(self, incoming: Incoming) -> Handled:
        self.last_incoming = incoming
        self.last = await self.conversations.handle(incoming)
        for message in self.last.messages:
            assert_telegram_accepts(message)
            self.world.inbox[message.chat_id].append(message)
        return self.last

    def _incoming(self, kind: InputKind, **fields) -> Incoming:
        return Incoming(next(_update_ids), self.chat_id, self.sender, kind, is_private=self.chat_id > 0,
                        message_id=next(self._message_ids), **fields)

    async def send(self, text: str) -> Handled:
        return await self._handle(Incoming.parse_text(
            next(_update_ids), self.chat_id, self.sender, text, is_private=self.chat_id > 0,
            message_id=next(self._message_ids)))

    async def photo(self, file_id: str = "photo-1", caption: str = "") -> Handled:
        return await self._handle(self._incoming(InputKind.PHOTO, photo_file_id=file_id, text=caption))

    async def voice(self, file_id: str = "voice-1", caption: str = "") -> Handled:
        return await self._handle(self._incoming(InputKind.VOICE, voice_file_id=file_id, text=caption,
                                                 what="voice"))

    async def unsupported(self, what: str = "sticker") -> Handled:
        return await self._handle(self._incoming(InputKind.UNSUPPORTED, what=what))

    async def contact(self, phone: str, owner: int | None = None) -> Handled:
        owner = self.user_id if owner is None else owner
        return await self._handle(self._incoming(InputKind.CONTACT, phone=phone, contact_user_id=owner))

    async def edited(self) -> Handled:
        return await self._handle(self._incoming(InputKind.EDITED))

    async def press_data(self, data: str) -> Handled:
        return await self._handle(self._incoming(InputKind.BUTTON, button_data=data))

    def button(self, label: str) -> str:
        """The data of the newest button whose text contains `label`."""
        for message in reversed(self.received):
            for row in message.buttons:
                for button in row:
                    if label in button.text:
                        return button.data
        raise AssertionError(f"no button {label!r}; last texts: {self.texts[-3:]}")

    async def press(self, label: str) -> Handled:
        return await self.press_data(self.button(label))

    async def presses(self, *labels: str) -> Handled | None:
        """Press buttons one after another, each on the newest message that has it."""
        for label in labels:
            await self.press(label)
        return self.last

    @property
    def texts(self) -> list[str]:
        return [m.text for m in self.received if m.text]

    @property
    def last_message(self) -> OutgoingMessage:
        """The newest message with text (not counting edits that only take buttons away)."""
        return next(m for m in reversed(self.received) if m.text)

    @property
    def last_text(self) -> str:
        return self.texts[-1]

    def last_texts(self, handled: Handled | None = None) -> str:
        handled = handled or self.last
        assert handled is not None
        return "\n".join(m.text for m in handled.messages if m.text)


async def tickets_of(uow_factory, user_id: int) -> list:
    """A resident's tickets, newest first (as /my lists them)."""
    async with uow_factory() as uow:
        return list(await uow.tickets.for_resident(user_id))


async def example_world(uow_factory) -> tuple[World, Callable[..., ResidentChat]]:
    """The example roster loaded and one bot on a fake clock; `chat(user_id, name, chat_id=None)` opens a
    chat with it (a person's private chat, or a group when chat_id is given) in one shared world."""
    await load_example(uow_factory)
    bot = make_conversations(uow_factory, FakeClock())
    world = World()

    def chat(user_id: int, name: str, chat_id: int | None = None) -> ResidentChat:
        return ResidentChat(bot, user_id, name, world=world, chat_id=chat_id)

    return world, chat
