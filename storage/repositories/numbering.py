"""A filing's ticket number, taken last: the day's counter, the ticket row and its messages at once.

Numbers are gap-free: the counter row (ticket_sequences) is taken in the filing's transaction, so a
filing that rolls back gives its number back. On PostgreSQL that row stays locked until the commit and
every other filing of the community waits for it, so the number is taken after everything else a filing
writes: the ticket goes in under a stand-in (gridcore.ticket.stand_in_number), its messages are rendered
with it, and one statement then takes the number and puts it on the ticket and in those messages. What
is left while the row is held is that statement, the conversation's save and the commit (a filing held
it for eight round trips before; bench/INBOUND.md, seventh round). SQLite runs one writer at a time
anyway, and takes the same steps as three statements.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import date

from sqlalchemy import Date, String, Table, bindparam, case, column, func, text, update

from gridcore.ticket import Ticket, format_ticket_number, ticket_number_prefix
from storage.direct import direct
from storage.models import OutboxRow, TicketRow
from storage.repositories._sql import SessionConnection

outbox: Table = OutboxRow.__table__  # type: ignore[assignment]
tickets: Table = TicketRow.__table__  # type: ignore[assignment]

# The number is formatted as format_ticket_number does (its prefix, then the sequence with at least four
# digits); a test holds the two together.
_take_number_postgresql = direct(text(
    "WITH taken AS ("
    " INSERT INTO ticket_sequences (community_code, day, last) VALUES (:community, :day, 1)"
    " ON CONFLICT (community_code, day) DO UPDATE SET last = ticket_sequences.last + 1 RETURNING last"
    "), numbered AS ("
    " SELECT CAST(:prefix AS TEXT) || lpad(CAST(last AS TEXT), greatest(4, length(CAST(last AS TEXT))), '0')"
    " AS number FROM taken"
    "), ticket AS ("
    " UPDATE tickets SET number = numbered.number FROM numbered WHERE tickets.id = :ticket_id"
    "), messages AS ("
    " UPDATE outbox SET"
    " payload = CAST(replace(CAST(outbox.payload AS TEXT), :stand_in, numbered.number) AS JSONB),"
    " ticket_number = CASE WHEN outbox.ticket_number = :stand_in_column THEN numbered.number"
    " ELSE outbox.ticket_number END"
    " FROM numbered WHERE outbox.id = ANY(CAST(:outbox_ids AS BIGINT[]))"
    ") SELECT number FROM numbered"
).bindparams(bindparam("day", type_=Date())).columns(column("number", String)))
_renumber_ticket = direct(update(tickets).where(tickets.c.id == bindparam("ticket_id"))
                          .values(number=bindparam("number")))


async def take_number(db: SessionConnection, dialect_name: str, ticket: Ticket, day: date,
                      outbox_ids: Sequence[int], next_sequence: Callable[[str, date], Awaitable[int]]) -> str:
    """The day's next number for a ticket stored under its stand-in, put on the ticket row and in the
    outbox rows `outbox_ids` (this unit of work's messages that show the stand-in). `next_sequence` is
    the repository's (SQLite). Returns the number; the caller updates what it holds in memory."""
    assert ticket.id is not None
    stand_in = ticket.number
    community = ticket.community_code
    if dialect_name == "postgresql":
        result = await db.execute(_take_number_postgresql, {
            "community": community, "day": day, "prefix": ticket_number_prefix(community, day),
            "ticket_id": ticket.id, "stand_in": stand_in, "stand_in_column": stand_in,
            "outbox_ids": list(outbox_ids),
        })
        return str(result.scalar_one())
    number = format_ticket_number(community, day, await next_sequence(community, day))
    await db.execute(_renumber_ticket, {"ticket_id": ticket.id, "number": number})
    if outbox_ids:
        await db.execute(update(outbox).where(outbox.c.id.in_(list(outbox_ids))).values(
            payload=func.replace(outbox.c.payload, stand_in, number),
            ticket_number=case((outbox.c.ticket_number == stand_in, number), else_=outbox.c.ticket_number)))
    return number
