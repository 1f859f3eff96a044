"""Outbox (messages written in the update's transaction) and UpdateLog (update_id de-duplication)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Integer, Table, bindparam, func, insert, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from gridcore.messages import Button, OutgoingMessage
from storage.models import OUTBOX_PENDING, OutboxRow, ProcessedUpdateRow
from storage.repositories._sql import Clock, dialect_insert, utc_now

outbox: Table = OutboxRow.__table__  # type: ignore[assignment]
processed_updates: Table = ProcessedUpdateRow.__table__  # type: ignore[assignment]

PAYLOAD_VERSION = 1
# PostgreSQL: a transaction that queued messages NOTIFYs this channel; PostgreSQL delivers the notification
# at its commit (never after a rollback), so the sending process, wherever it runs, wakes for the rows.
OUTBOX_CHANNEL = "gridbot_outbox"
_notify_sender = select(func.pg_notify(OUTBOX_CHANNEL, ""))

# A new row is pending, never tried, and claimable at once (the sender's lease, claimed_until, is unset).
_insert_row = (insert(outbox).values(status=OUTBOX_PENDING, attempts=0, claimed_until=None)
               .returning(outbox.c.id))


@cache
def _record_update(dialect_name: str) -> Any:
    # ON CONFLICT DO NOTHING: a repeat inserts nothing and leaves the transaction usable. On PostgreSQL a
    # second transaction inserting the same id waits for the first to end, then sees its row (a conflict).
    return (dialect_insert(dialect_name, processed_updates)
            .on_conflict_do_nothing(index_elements=[processed_updates.c.update_id])
            .returning(processed_updates.c.update_id))


_chat_locked = select(func.pg_advisory_xact_lock(bindparam("lock_class", type_=Integer),
                                                 bindparam("key", type_=Integer)).label("locked")).subquery()
_lock_and_record = (
    postgresql.insert(processed_updates)
    .from_select(["update_id", "at"],
                 select(bindparam("update_id", type_=processed_updates.c.update_id.type),
                        bindparam("at", type_=processed_updates.c.at.type)).select_from(_chat_locked))
    .on_conflict_do_nothing(index_elements=[processed_updates.c.update_id])
    .returning(processed_updates.c.update_id))


@dataclass(frozen=True)
class PendingMessage:
    id: int
    chat_id: int
    message: OutgoingMessage
    attempts: int  # failed attempts so far


def encode_message(message: OutgoingMessage) -> dict[str, Any]:
    """The JSON payload of an outbox row: every field of the OutgoingMessage, buttons included."""
    return {
        "v": PAYLOAD_VERSION,
        "chat_id": message.chat_id,
        "text": message.text,
        "buttons": [
            [{"text": b.text, "data": b.data, "url": b.url} for b in row] for row in message.buttons
        ],
        "photos": list(message.photos),
        "edit_message_id": message.edit_message_id,
        "edit_outbox_id": message.edit_outbox_id,
        "clear_keyboard_of": message.clear_keyboard_of,
        "clear_keyboard_of_outbox": message.clear_keyboard_of_outbox,
        "ticket_number": message.ticket_number,
        # Written only when used: the rows of every other message stay as they were.
        **({"reply_keyboard": [[{"text": b.text, "request_contact": b.request_contact} for b in row]
                               for row in message.reply_keyboard]} if message.reply_keyboard else {}),
        **({"remove_reply_keyboard": True} if message.remove_reply_keyboard else {}),
        **({"voice": message.voice} if message.voice else {}),
    }


def decode_message(payload: dict[str, Any]) -> OutgoingMessage:
    version = payload.get("v", PAYLOAD_VERSION)
    if version != PAYLOAD_VERSION:
        raise ValueError(f"outbox payload version {version} is not understood (expected {PAYLOAD_VERSION})")
    return OutgoingMessage(
        chat_id=payload["chat_id"],
        text=payload.get("text", ""),
        buttons=tuple(
            tuple(Button(b["text"], b.get("data", ""), b.get("url", "")) for b in row)
            for row in payload.get("buttons", ())
        ),
        photos=tuple(payload.get("photos", ())),
        edit_message_id=payload.get("edit_message_id"),
        edit_outbox_id=payload.get("edit_outbox_id"),
        clear_keyboard_of=payload.get("clear_keyboard_of"),
        clear_keyboard_of_outbox=payload.get("clear_keyboard_of_outbox"),
        ticket_number=payload.get("ticket_number"),
        reply_keyboard=tuple(
            tuple(Button(b["text"], request_contact=bool(b.get("request_contact"))) for b in row)
            for row in payload.get("reply_keyboard", ())
        ),
        remove_reply_keyboard=bool(payload.get("remove_reply_keyboard")),
        voice=payload.get("voice"),
    )


class SqlOutbox:
    """Queues messages in the unit of work's transaction: the sender sees them once it commits."""

    def __init__(self, session: AsyncSession, dialect_name: str, clock: Clock = utc_now, *,
                 notify: bool = True) -> None:
        self._session = session
        self._notifies = notify and dialect_name == "postgresql"
        self._clock = clock
        self._notified: object = None  # the transaction that NOTIFYed already (once is enough)

    async def add(self, message: OutgoingMessage) -> int:
        result = await self._session.execute(_insert_row, {
            "chat_id": message.chat_id, "payload": encode_message(message),
            "ticket_number": message.ticket_number, "created_at": self._clock()})
        if self._notifies:
            transaction = self._session.sync_session.get_transaction()
            if transaction is not self._notified:
                await self._session.execute(_notify_sender)
                self._notified = transaction
        return int(result.scalar_one())


class SqlUpdateLog:
    def __init__(self, session: AsyncSession, dialect_name: str, clock: Clock = utc_now) -> None:
        self._session = session
        self._dialect = dialect_name
        self._clock = clock

    async def record(self, update_id: int) -> bool:
        result = await self._session.execute(_record_update(self._dialect),
                                             {"update_id": update_id, "at": self._clock()})
        return result.scalar_one_or_none() is not None

    async def lock_chat_and_record(self, update_id: int, lock_class: int, key: int) -> bool:
        """PostgreSQL: take the chat's transaction lock, then record the update, in one statement (the
        INSERT reads its row from the lock's call, so the lock is held before the record is tried)."""
        result = await self._session.execute(_lock_and_record, {
            "update_id": update_id, "at": self._clock(), "lock_class": lock_class, "key": key})
        return result.scalar_one_or_none() is not None
