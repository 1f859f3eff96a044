"""ConversationRepository and ResidentRepository."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from gridcore.conversation import Conversation, Resident
from storage.models import ConversationRow, ResidentRow
from storage.repositories._sql import Clock, dialect_insert, utc_now

conversations: Table = ConversationRow.__table__  # type: ignore[assignment]
residents: Table = ResidentRow.__table__  # type: ignore[assignment]


class SqlConversationRepository:
    def __init__(self, session: AsyncSession, dialect_name: str, clock: Clock = utc_now) -> None:
        self._session = session
        self._dialect = dialect_name
        self._clock = clock

    async def get(self, chat_id: int) -> Conversation | None:
        stmt = select(conversations).where(conversations.c.chat_id == chat_id)
        row = (await self._session.execute(stmt)).first()
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
            "user_id": conversation.user_id,
            "dialog": conversation.dialog,
            "step": conversation.step,
            "turn": conversation.turn,
            "data": conversation.data,
            "prompts": list(conversation.prompts),
            "updated_at": conversation.updated_at,
        }
        stmt = dialect_insert(self._dialect, conversations).values(chat_id=conversation.chat_id, **values)
        stmt = stmt.on_conflict_do_update(index_elements=[conversations.c.chat_id], set_=values)
        await self._session.execute(stmt)


class SqlResidentRepository:
    def __init__(self, session: AsyncSession, dialect_name: str) -> None:
        self._session = session
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
        stmt = select(residents).where(residents.c.user_id == user_id)
        row = (await self._session.execute(stmt)).first()
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
            "chat_id": resident.chat_id,
            "display_name": resident.display_name,
            "username": resident.username,
            "phone": resident.phone,
            "home_building_code": resident.home_building_code,
        }
        stmt = dialect_insert(self._dialect, residents).values(user_id=resident.user_id, **values)
        stmt = stmt.on_conflict_do_update(index_elements=[residents.c.user_id], set_=values)
        self._known.pop(resident.user_id, None)
        await self._session.execute(stmt)
        self._known[resident.user_id] = replace(resident)
