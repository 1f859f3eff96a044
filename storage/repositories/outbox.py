"""Outbox (messages written in the update's transaction) and UpdateLog (update_id de-duplication)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Table,
    all_,
    bindparam,
    case,
    column,
    exists,
    func,
    insert,
    literal,
    select,
)
from sqlalchemy.dialects import postgresql

from gridcore.messages import Button, OutgoingMessage
from storage.direct import direct
from storage.models import OUTBOX_PENDING, OutboxRow, ProcessedUpdateRow
from storage.repositories._sql import Clock, SessionConnection, dialect_insert, utc_now

outbox: Table = OutboxRow.__table__  # type: ignore[assignment]
processed_updates: Table = ProcessedUpdateRow.__table__  # type: ignore[assignment]

PAYLOAD_VERSION = 1
Written = Callable[[int, datetime | None], None]  # told a row's id and claimed_until once it is written

_other_pending = outbox.alias("other_pending")
ROW_KEYS = ("chat_id", "payload", "ticket_number", "created_at")  # given per row, with "id" if reserved


@cache
def claimed_if_alone(dialect_name: str) -> Any:
    """A new row's claimed_until: `lease_until` (leased to this process's sender) only if every other
    pending row of the chat ("chat_id") is one the sender holds already ("held", a list of ids); else
    NULL. The check is part of the INSERT, not a SELECT before it: one statement (on PostgreSQL, one round
    trip) less per update. The held ids are one array parameter, not an IN list, so the statement is
    compiled once (storage.direct)."""
    held: Any
    if dialect_name == "postgresql":
        held = _other_pending.c.id != all_(bindparam("held", type_=postgresql.ARRAY(BigInteger)))
    else:
        held = _other_pending.c.id.not_in(
            select(column("value")).select_from(func.json_each(bindparam("held", type_=JSON))))
    return case(
        (~exists().where(_other_pending.c.chat_id == bindparam("chat_id", type_=outbox.c.chat_id.type),
                         _other_pending.c.status == OUTBOX_PENDING, held),
         bindparam("lease_until", type_=outbox.c.claimed_until.type)),
        else_=None,
    )


def row_insert(dialect_name: str, leased_if_alone: bool, with_id: bool, *where: Any) -> Any:
    """INSERT of one pending row from parameters (ROW_KEYS, "id" if with_id, and "claimed_until", or
    leased_if_alone: see claimed_if_alone), only if `where` holds; RETURNING id, claimed_until."""
    keys = ("id", *ROW_KEYS) if with_id else ROW_KEYS
    claimed_until = (claimed_if_alone(dialect_name) if leased_if_alone
                     else bindparam("claimed_until", type_=outbox.c.claimed_until.type))
    values = select(*[bindparam(key, type_=outbox.c[key].type) for key in keys],
                    literal(OUTBOX_PENDING), literal(0), claimed_until).where(*where)
    return (insert(outbox).from_select([*keys, "status", "attempts", "claimed_until"], values)
            .returning(outbox.c.id, outbox.c.claimed_until))


@cache
def insert_row(dialect_name: str, leased_if_alone: bool, with_id: bool = False) -> Any:
    """row_insert() built once, run on the driver's connection (storage.repositories._sql says why)."""
    return direct(row_insert(dialect_name, leased_if_alone, with_id))


@cache
def _record_update(dialect_name: str) -> Any:
    # ON CONFLICT DO NOTHING: a repeat inserts nothing and leaves the transaction usable.
    return direct(dialect_insert(dialect_name, processed_updates)
                  .on_conflict_do_nothing(index_elements=[processed_updates.c.update_id])
                  .returning(processed_updates.c.update_id))

if TYPE_CHECKING:
    from storage.outbox_store import Handoff


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
    """Queues messages in the unit of work's transaction.

    With a `handoff` (storage.outbox_store.Handoff), the rows of a chat whose pending rows (if any)
    are all held by this process's sender are inserted already leased to it and handed over once
    the transaction commits, without a claim transaction (bot.handoff says how order is kept)."""

    def __init__(self, db: SessionConnection, dialect_name: str, clock: Clock = utc_now,
                 handoff: Handoff | None = None) -> None:
        self._db = db
        self._dialect = dialect_name
        self._clock = clock
        self._handoff = handoff
        self._epochs: dict[int, int | None] = {}  # per chat, decided at its first row: None = not leased
        self._leased: list[PendingMessage] = []
        self._unleased: set[int] = set()
        self._queued: list[tuple[int, OutgoingMessage]] = []  # every row of this unit of work

    async def add(self, message: OutgoingMessage) -> int:
        closing = self._db.closing
        if closing is not None and closing.row is not None:
            await self._db.write_held()  # a chat's rows are decided in order (the lease, below)
        now = self._clock()
        chat = message.chat_id
        row = {"chat_id": chat, "payload": encode_message(message), "ticket_number": message.ticket_number,
               "created_at": now}
        leased_if_alone, written = self._lease(row, now)
        if closing is not None and (reserved := closing.take_id()) is not None:
            # PostgreSQL: written with the update's record (storage.repositories.closing)
            self._queued.append((reserved, message))
            closing.hold_row({**row, "id": reserved}, leased_if_alone,
                             lambda claimed_until: written(reserved, claimed_until))
            return reserved
        inserted = (await self._db.execute(insert_row(self._dialect, leased_if_alone), row)).one()
        self._queued.append((inserted.id, message))
        written(inserted.id, inserted.claimed_until)
        return int(inserted.id)

    def _lease(self, row: dict[str, Any], now: datetime) -> tuple[bool, Written]:
        """Whether the row goes to this process's sender, decided at the chat's first row of the unit of
        work: leased if the sender admits the chat and holds every other pending row of it (checked by the
        INSERT: leased_if_alone), and the chat's later rows as that one. Adds the lease's parameters to
        `row`; returns leased_if_alone, and what to call with the row's id and claimed_until once written."""
        chat, handoff = row["chat_id"], self._handoff
        if handoff is not None and chat not in self._epochs:
            ticket = handoff.admits(chat)
            if ticket is not None:
                row.update(held=sorted(ticket[1]), lease_until=now + handoff.lease)

                def first_written(id: int, claimed_until: datetime | None) -> None:
                    self._epochs[chat] = ticket[0] if claimed_until is not None else None
                    self._written(id, chat, claimed_until is not None)

                return True, first_written
            self._epochs[chat] = None
        leased = handoff is not None and self._epochs.get(chat) is not None
        row["claimed_until"] = now + handoff.lease if handoff is not None and leased else None
        return False, lambda id, claimed_until: self._written(id, chat, claimed_until is not None)

    def _written(self, id: int, chat: int, leased: bool) -> None:
        if leased:  # the message as it is now (a held row's stand-in number may have been replaced)
            message = next(message for queued, message in reversed(self._queued) if queued == id)
            self._leased.append(PendingMessage(id, chat, message, 0))
        else:
            self._unleased.add(chat)

    def showing(self, old: str) -> list[int]:
        """The rows queued in this unit of work whose message shows `old` (a ticket's stand-in number)."""
        return [id for id, message in self._queued if message.shows(old)]

    def replaced(self, old: str, new: str) -> None:
        """The rows' stored payloads had `old` replaced by `new`: so do the copies handed to the sender."""
        self._queued = [(id, message.replacing(old, new)) for id, message in self._queued]
        self._leased = [PendingMessage(row.id, row.chat_id, row.message.replacing(old, new), row.attempts)
                        for row in self._leased]

    def committed(self) -> None:
        """After the commit: the leased rows go to the sender; it hears of the others too."""
        if self._handoff is not None and (self._leased or self._unleased):
            epochs = {chat: epoch for chat, epoch in self._epochs.items() if epoch is not None}
            self._handoff.committed(self._leased, epochs, self._unleased)
        self._leased, self._unleased, self._epochs, self._queued = [], set(), {}, []


class SqlUpdateLog:
    def __init__(self, db: SessionConnection, dialect_name: str, clock: Clock = utc_now) -> None:
        self._db = db
        self._dialect = dialect_name
        self._clock = clock

    async def record(self, update_id: int) -> bool:
        parameters = {"update_id": update_id, "at": self._clock()}
        result = await self._db.execute(_record_update(self._dialect), parameters)
        return result.scalar_one_or_none() is not None
