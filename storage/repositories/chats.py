"""ConversationRepository and ResidentRepository."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import Table, bindparam, select

from gridcore.conversation import Conversation, Resident
from storage.direct import direct
from storage.models import ConversationRow, ResidentRow
from storage.repositories._sql import Clock, SessionConnection, upsert, utc_now

conversations: Table = ConversationRow.__table__  # type: ignore[assignment]
residents: Table = ResidentRow.__table__  # type: ignore[assignment]

CONVERSATION_COLUMNS = ("user_id", "dialog", "step", "turn", "data", "prompts", "updated_at")
RESIDENT_COLUMNS = ("chat_id", "display_name", "username", "phone", "home_building_code")
_conversation_of_chat = direct(select(conversations).where(conversations.c.chat_id == bindparam("chat_id")))
_resident_of_user = direct(select(residents).where(residents.c.user_id == bindparam("user_id")))


class SqlConversationRepository:
    def __init__(self, db: SessionConnection, dialect_name: str, clock: Clock = utc_now) -> None:
        self._db = db
        self._dialect = dialect_name
        self._clock = clock

    async def get(self, chat_id: int) -> Conversation | None:
        row = (await self._db.execute(_conversation_of_chat, {"chat_id": chat_id})).first()
        if row is None:
            return None
        return Conversation(
            chat_id=row.chat_id,
            user_id=row.user_id,
            dialog=row.dialog,
            step=row.step,
            turn=row.turn,
            data=dict(row.data),
            prompts=list(row.prompts),
            updated_at=row.updated_at,
        )

    async def save(self, conversation: Conversation) -> None:
        """Insert or replace; stamps updated_at with the clock when the dialog left it unset."""
        if conversation.updated_at is None:
            conversation.updated_at = self._clock()
        values = {
            "chat_id": conversation.chat_id,
            "user_id": conversation.user_id,
            "dialog": conversation.dialog,
            "step": conversation.step,
            "turn": conversation.turn,
            "data": conversation.data,
            "prompts": list(conversation.prompts),
            "updated_at": conversation.updated_at,
        }
        stmt = upsert(self._dialect, conversations, "chat_id", CONVERSATION_COLUMNS)
        await self._db.execute(stmt, values)


class SqlResidentRepository:
    def __init__(self, db: SessionConnection, dialect_name: str) -> None:
        self._db = db
        self._dialect = dialect_name
        # What this unit of work read or wrote (None: no such resident); a step often asks twice.
        self._known: dict[int, Resident | None] = {}

    async def get(self, user_id: int) -> Resident | None:
        if user_id in self._known:
            known = self._known[user_id]
            return replace(known) if known is not None else None
        resident = await self._read(user_id)
        self._known[user_id] = replace(resident) if resident is not None else None
        return resident

    async def _read(self, user_id: int) -> Resident | None:
        row = (await self._db.execute(_resident_of_user, {"user_id": user_id})).first()
        if row is None:
            return None
        return Resident(
            user_id=row.user_id,
            chat_id=row.chat_id,
            display_name=row.display_name,
            username=row.username,
            phone=row.phone,
            home_building_code=row.home_building_code,
        )

    async def save(self, resident: Resident) -> None:
        values = {
            "user_id": resident.user_id,
            "chat_id": resident.chat_id,
            "display_name": resident.display_name,
            "username": resident.username,
            "phone": resident.phone,
            "home_building_code": resident.home_building_code,
        }
        self._known.pop(resident.user_id, None)
        await self._db.execute(upsert(self._dialect, residents, "user_id", RESIDENT_COLUMNS), values)
        self._known[resident.user_id] = replace(resident)
