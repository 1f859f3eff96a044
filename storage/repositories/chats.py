"""ConversationRepository and ResidentRepository."""

from __future__ import annotations

from dataclasses import replace
from functools import cache
from typing import Any

from sqlalchemy import Table, bindparam, func, literal, select, true

from gridcore.conversation import Conversation, Resident
from storage.direct import direct
from storage.models import ConversationRow, ProcessedUpdateRow, ResidentRow
from storage.repositories._sql import Clock, SessionConnection, upsert, utc_now
from storage.repositories.closing import CONVERSATION, RESIDENT

conversations: Table = ConversationRow.__table__  # type: ignore[assignment]
residents: Table = ResidentRow.__table__  # type: ignore[assignment]
processed_updates: Table = ProcessedUpdateRow.__table__  # type: ignore[assignment]

CONVERSATION_COLUMNS = CONVERSATION.columns[1:]  # besides the key
RESIDENT_COLUMNS = RESIDENT.columns[1:]
_conversation_of_chat = direct(select(conversations).where(conversations.c.chat_id == bindparam("chat_id")))
_resident_of_user = direct(select(residents).where(residents.c.user_id == bindparam("user_id")))


@cache
def _begin_update() -> Any:
    """PostgreSQL: has the update been recorded, the chat's conversation and the sender's resident row, and
    an outbox id for the reply, in one statement run by itself (storage.repositories.closing says why)."""
    update_id = bindparam("update_id", type_=processed_updates.c.update_id.type)
    seen = select(processed_updates.c.update_id).where(processed_updates.c.update_id == update_id).exists()
    reserved = func.nextval(func.pg_get_serial_sequence("outbox", "id")).label("reserved")
    conversation = _conversation_of_chat.subquery("conversation")
    resident = _resident_of_user.subquery("resident")
    one = select(literal(1).label("one")).subquery("one")
    return direct(
        select(seen.label("seen"), reserved,
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
    """PostgreSQL: False for an update recorded already; else the two rows go to their repositories, and
    the update's record and an outbox id to the closing writes (the record is written with the commit).
    None elsewhere: the caller records the update and the repositories read when asked."""
    closing = db.closing
    if dialect_name != "postgresql" or closing is None:
        return None
    row = (await db.execute(_begin_update(), {"update_id": update_id, "chat_id": chat_id, "user_id": user_id},
                            begin=False)).one()
    if row.seen:
        return False
    conversations.preload(chat_id, _conversation_from(row, "c_") if row.c_chat_id is not None else None)
    residents.preload(user_id, _resident_from(row, "r_") if row.r_user_id is not None else None)
    closing.update = {"update_id": update_id, "at": clock()}
    closing.reserved_id = row.reserved
    return True


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
        """Insert or replace; stamps updated_at with the clock when the dialog left it unset. On PostgreSQL
        the write is held to go with the update's record (storage.repositories.closing)."""
        if conversation.updated_at is None:
            conversation.updated_at = self._clock()
        values = {
            "chat_id": conversation.chat_id,
            "user_id": conversation.user_id,
            "dialog": conversation.dialog,
            "step": conversation.step,
            "turn": conversation.turn,
            "data": dict(conversation.data),
            "prompts": list(conversation.prompts),
            "updated_at": conversation.updated_at,
        }
        closing = self._db.closing
        if closing is not None and closing.hold_upsert(CONVERSATION, values):
            return
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
        closing = self._db.closing  # PostgreSQL: held to go with the update's record
        if closing is None or not closing.hold_upsert(RESIDENT, values):
            await self._db.execute(upsert(self._dialect, residents, "user_id", RESIDENT_COLUMNS), values)
        self._known[resident.user_id] = replace(resident)
