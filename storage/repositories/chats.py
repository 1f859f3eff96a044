"""ConversationRepository and ResidentRepository."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import Table, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from gridcore.conversation import Conversation, Resident
from storage.models import ConversationRow, ResidentRow
from storage.repositories._sql import Clock, upsert, utc_now

conversations: Table = ConversationRow.__table__  # type: ignore[assignment]
residents: Table = ResidentRow.__table__  # type: ignore[assignment]

# The columns besides the key: an upsert replaces them all.
CONVERSATION_COLUMNS = ("user_id", "dialog", "step", "turn", "data", "prompts", "updated_at")
RESIDENT_COLUMNS = ("chat_id", "display_name", "username", "phone", "home_building_code", "community_code",
                    "home_unit", "home_room", "home_offered")
_conversation_of_chat = select(conversations).where(conversations.c.chat_id == bindparam("chat_id"))
_resident_of_user = select(residents).where(residents.c.user_id == bindparam("user_id"))


def _conversation_from(row: Any) -> Conversation:
    return Conversation(chat_id=row.chat_id, user_id=row.user_id, dialog=row.dialog, step=row.step,
                        turn=row.turn, data=dict(row.data), prompts=list(row.prompts),
                        updated_at=row.updated_at)


def _resident_from(row: Any) -> Resident:
    return Resident(user_id=row.user_id, **{name: getattr(row, name) for name in RESIDENT_COLUMNS})


class SqlConversationRepository:
    def __init__(self, session: AsyncSession, dialect_name: str, clock: Clock = utc_now) -> None:
        self._session = session
        self._dialect = dialect_name
        self._clock = clock

    async def get(self, chat_id: int) -> Conversation | None:
        row = (await self._session.execute(_conversation_of_chat, {"chat_id": chat_id})).first()
        return _conversation_from(row) if row is not None else None

    async def save(self, conversation: Conversation) -> None:
        """Insert or replace; stamps updated_at with the clock when the dialog left it unset."""
        if conversation.updated_at is None:
            conversation.updated_at = self._clock()
        await self._session.execute(upsert(self._dialect, conversations, "chat_id", CONVERSATION_COLUMNS), {
            "chat_id": conversation.chat_id,
            "user_id": conversation.user_id,
            "dialog": conversation.dialog,
            "step": conversation.step,
            "turn": conversation.turn,
            "data": dict(conversation.data),
            "prompts": list(conversation.prompts),
            "updated_at": conversation.updated_at,
        })


class SqlResidentRepository:
    def __init__(self, session: AsyncSession, dialect_name: str) -> None:
        self._session = session
        self._dialect = dialect_name
        # What this unit of work read or wrote (None: no such resident); a step often asks twice.
        self._known: dict[int, Resident | None] = {}

    async def get(self, user_id: int) -> Resident | None:
        if user_id not in self._known:
            row = (await self._session.execute(_resident_of_user, {"user_id": user_id})).first()
            self._known[user_id] = _resident_from(row) if row is not None else None
        known = self._known[user_id]
        return replace(known) if known is not None else None  # a copy: the caller may change it

    async def save(self, resident: Resident) -> None:
        self._known.pop(resident.user_id, None)  # unknown if the write fails
        await self._session.execute(upsert(self._dialect, residents, "user_id", RESIDENT_COLUMNS), {
            "user_id": resident.user_id,
            **{name: getattr(resident, name) for name in RESIDENT_COLUMNS},
        })
        self._known[resident.user_id] = replace(resident)
