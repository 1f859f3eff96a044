"""ConversationRepository and ResidentRepository."""

from __future__ import annotations

from dataclasses import replace
from functools import cache
from typing import Any

from sqlalchemy import Table, bindparam, literal, select, true
from sqlalchemy.dialects import postgresql

from gridcore.conversation import Conversation, Resident
from storage.direct import direct
from storage.models import ConversationRow, ProcessedUpdateRow, ResidentRow
from storage.repositories._sql import Clock, SessionConnection, upsert, utc_now

conversations: Table = ConversationRow.__table__  # type: ignore[assignment]
residents: Table = ResidentRow.__table__  # type: ignore[assignment]
processed_updates: Table = ProcessedUpdateRow.__table__  # type: ignore[assignment]

CONVERSATION_COLUMNS = ("user_id", "dialog", "step", "turn", "data", "prompts", "updated_at")
RESIDENT_COLUMNS = ("chat_id", "display_name", "username", "phone", "home_building_code")
_conversation_of_chat = direct(select(conversations).where(conversations.c.chat_id == bindparam("chat_id")))
_resident_of_user = direct(select(residents).where(residents.c.user_id == bindparam("user_id")))


@cache
def _begin_update() -> Any:
    """PostgreSQL: record the update id and read the chat's conversation and the sender's resident row,
    in one statement (one round trip instead of three; each cost the bot ~0.1 ms, bench/INBOUND.md)."""
    recorded = (postgresql.insert(processed_updates)
                .values(update_id=bindparam("update_id", type_=processed_updates.c.update_id.type),
                        at=bindparam("at", type_=processed_updates.c.at.type))
                .on_conflict_do_nothing(index_elements=[processed_updates.c.update_id])
                .returning(processed_updates.c.update_id).cte("recorded"))
    conversation = _conversation_of_chat.subquery("conversation")
    resident = _resident_of_user.subquery("resident")
    one = select(literal(1).label("one")).subquery("one")
    return direct(
        select(select(recorded.c.update_id).scalar_subquery().label("recorded"),
               *[column.label(f"c_{column.name}") for column in conversation.c],
               *[column.label(f"r_{column.name}") for column in resident.c])
        .select_from(one.outerjoin(conversation, true()).outerjoin(resident, true())))


def _values(row: Any, prefix: str, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(row, prefix + name) for name in names}


def _conversation_from(row: Any, prefix: str = "") -> Conversation:
    values = _values(row, prefix, ("chat_id", *CONVERSATION_COLUMNS))
    return Conversation(**{**values, "data": dict(values["data"]), "prompts": list(values["prompts"])})


def _resident_from(row: Any, prefix: str = "") -> Resident:
    return Resident(**_values(row, prefix, ("user_id", *RESIDENT_COLUMNS)))


async def begin_update(db: SessionConnection, dialect_name: str, clock: Clock, update_id: int, chat_id: int,
                       user_id: int, conversations: SqlConversationRepository,
                       residents: SqlResidentRepository) -> bool | None:
    """PostgreSQL: the update recorded (False: a repeat) and the two rows handed to their repositories.
    None elsewhere: the caller records the update and the repositories read when asked."""
    if dialect_name != "postgresql":
        return None
    row = (await db.execute(_begin_update(), {"update_id": update_id, "at": clock(), "chat_id": chat_id,
                                              "user_id": user_id})).one()
    conversations.preload(chat_id, _conversation_from(row, "c_") if row.c_chat_id is not None else None)
    residents.preload(user_id, _resident_from(row, "r_") if row.r_user_id is not None else None)
    return row.recorded is not None


class SqlConversationRepository:
    def __init__(self, db: SessionConnection, dialect_name: str, clock: Clock = utc_now) -> None:
        self._db = db
        self._dialect = dialect_name
        self._clock = clock
        self._preloaded: dict[int, Conversation | None] = {}  # read with the update's first statement

    def preload(self, chat_id: int, conversation: Conversation | None) -> None:
        self._preloaded[chat_id] = conversation

    async def get(self, chat_id: int) -> Conversation | None:
        if chat_id in self._preloaded:  # once: a later get() reads what was saved since
            return self._preloaded.pop(chat_id)
        row = (await self._db.execute(_conversation_of_chat, {"chat_id": chat_id})).first()
        return _conversation_from(row) if row is not None else None

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

    def preload(self, user_id: int, resident: Resident | None) -> None:
        self._known[user_id] = replace(resident) if resident is not None else None

    async def _read(self, user_id: int) -> Resident | None:
        row = (await self._db.execute(_resident_of_user, {"user_id": user_id})).first()
        return _resident_from(row) if row is not None else None

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
