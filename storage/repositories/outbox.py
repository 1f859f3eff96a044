"""Outbox (messages written in the update's transaction) and UpdateLog (update_id de-duplication)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, BigInteger, Table, all_, bindparam, case, column, exists, func, insert, select
from sqlalchemy.dialects import postgresql

from gridcore.messages import Button, OutgoingMessage
from storage.direct import direct
from storage.models import OUTBOX_PENDING, OutboxRow, ProcessedUpdateRow
from storage.repositories._sql import Clock, SessionConnection, dialect_insert, utc_now

outbox: Table = OutboxRow.__table__  # type: ignore[assignment]
processed_updates: Table = ProcessedUpdateRow.__table__  # type: ignore[assignment]

PAYLOAD_VERSION = 1

# Built once, executed with parameters (storage.repositories._sql says why), on the driver's connection.
_insert_row = direct(insert(outbox).returning(outbox.c.id))
_other_pending = outbox.alias("other_pending")


@cache
def claimed_if_alone(dialect_name: str) -> Any:
    """A new row's claimed_until: `lease_until` (leased to this process's sender) only if every other
    pending row of the chat ("chat_id") is one the sender holds already ("held", a list of ids); else
    NULL. The held ids are one array parameter, not an IN list, so the statement is compiled once
    (storage.direct)."""
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


@cache
def _insert_row_leased_if_alone(dialect_name: str) -> Any:
    """A chat's first row in a unit of work, when this process's sender may take it: leased to the sender
    only if it holds every other pending row of the chat. The check is part of the INSERT, not a SELECT
    before it: one statement (on PostgreSQL, one round trip) less per update."""
    return direct(insert(outbox).values(
        chat_id=bindparam("chat_id", type_=outbox.c.chat_id.type),
        payload=bindparam("payload", type_=outbox.c.payload.type),
        ticket_number=bindparam("ticket_number", type_=outbox.c.ticket_number.type),
        created_at=bindparam("created_at", type_=outbox.c.created_at.type),
        status=OUTBOX_PENDING,
        attempts=0,
        claimed_until=claimed_if_alone(dialect_name),
    ).returning(outbox.c.id, outbox.c.claimed_until))


@cache
def _record_update(dialect_name: str) -> Any:
    # ON CONFLICT DO NOTHING: a repeat inserts nothing and leaves the transaction usable.
    return direct(dialect_insert(dialect_name, processed_updates)
                  .on_conflict_do_nothing(index_elements=[processed_updates.c.update_id])
                  .returning(processed_updates.c.update_id))

if TYPE_CHECKING:
    from storage.outbox_store import Handoff
    from storage.repositories.closing import ClosingWrites


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
        if closing is not None and (reserved := closing.take_id()) is not None:
            # PostgreSQL: written with the update's record (storage.repositories.closing)
            self._queued.append((reserved, message))
            self._hold({**row, "id": reserved}, now, closing)
            return reserved
        if self._handoff is not None and chat not in self._epochs:
            id, leased = await self._add_first_of_chat(row, now, self._handoff)
        else:  # no sender to hand rows to, or decided at the chat's first row
            leased = self._epochs.get(chat) is not None
            id = await self._insert(row, now + self._handoff.lease if leased and self._handoff else None)
        self._queued.append((id, message))
        self._written(id, chat, leased, message)
        return id

    def _hold(self, row: dict[str, Any], now: datetime, closing: ClosingWrites) -> None:
        """The row goes to the closing writes, decided as add() decides; told when it is written."""
        id, chat, handoff = row["id"], row["chat_id"], self._handoff
        ticket = handoff.admits(chat) if handoff is not None and chat not in self._epochs else None
        if handoff is not None and ticket is not None:
            epoch = ticket[0]

            def written_first(claimed_until: datetime | None) -> None:
                self._epochs[chat] = epoch if claimed_until is not None else None
                self._written(id, chat, claimed_until is not None)

            values = {**row, "held": sorted(ticket[1]), "lease_until": now + handoff.lease}
            closing.hold_row(values, True, written_first)
            return
        if handoff is not None and chat not in self._epochs:  # the sender does not admit the chat now
            self._epochs[chat] = None
        leased = self._epochs.get(chat) is not None
        claimed_until = now + handoff.lease if leased and handoff is not None else None
        closing.hold_row({**row, "claimed_until": claimed_until}, False,
                         lambda written: self._written(id, chat, written is not None))

    def _written(self, id: int, chat: int, leased: bool, message: OutgoingMessage | None = None) -> None:
        if leased:
            if message is None:  # a held row: as it is now (a ticket's number may have replaced its stand-in)
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

    async def _insert(self, row: dict[str, Any], claimed_until: datetime | None) -> int:
        values = {**row, "status": OUTBOX_PENDING, "attempts": 0, "claimed_until": claimed_until}
        return int((await self._db.execute(_insert_row, values)).scalar_one())

    async def _add_first_of_chat(self, row: dict[str, Any], now: datetime,
                                 handoff: Handoff) -> tuple[int, bool]:
        """The chat's first row of this unit of work: leased to this process's sender when the sender
        admits the chat and holds every other pending row of it. Returns the id, and whether it was."""
        chat = row["chat_id"]
        ticket = handoff.admits(chat)
        if ticket is None:
            id = await self._insert(row, None)
        else:
            inserted = (await self._db.execute(_insert_row_leased_if_alone(self._dialect), {
                **row, "held": sorted(ticket[1]), "lease_until": now + handoff.lease})).one()
            id = inserted.id
            if inserted.claimed_until is None:  # another row of the chat is pending elsewhere
                ticket = None
        self._epochs[chat] = ticket[0] if ticket is not None else None
        return id, ticket is not None

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
