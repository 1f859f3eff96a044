"""The outbox as the sender sees it: claim pending rows, then mark them sent or failed.

Each call is its own short transaction, independent of any unit of work.

claim() leases rows: it sets `claimed_until = now + lease`, so a parallel sender (another process, or
this one's next batch) skips them; a crashed sender's rows come back once the lease runs out
(at-least-once delivery). Per chat only the head of its queue (its oldest pending row) is claimable, and
only while not leased, so a chat's messages go out in order, one at a time. On PostgreSQL the claim
locks the rows it takes with FOR UPDATE SKIP LOCKED: two senders claiming at once never take the same row.
"In order" is the order of commits: when two transactions queue rows for one chat at once (two residents'
filings, each sending the same worker a card), either may commit first and go out first. Rows of one
transaction, and of one chat's updates (applied one at a time), keep their order.

On PostgreSQL a transaction that queued rows NOTIFYs OUTBOX_CHANNEL, delivered at its commit: a sender
LISTENing there (in whichever process sends) claims at once; everywhere else it polls.
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from functools import cache
from typing import Any

from sqlalchemy import Integer, Table, Update, and_, bindparam, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.models import OUTBOX_FAILED, OUTBOX_PENDING, OUTBOX_SENT, OutboxRow
from storage.repositories._sql import Clock, utc_now
from storage.repositories.outbox import OUTBOX_CHANNEL, PendingMessage, decode_message

__all__ = ["OUTBOX_CHANNEL", "OutboxStore", "PendingMessage"]
outbox: Table = OutboxRow.__table__  # type: ignore[assignment]
SENT_KEPT = 4096  # sent rows whose message ids this store remembers


@cache
def _claim(dialect_name: str) -> Update:
    older = outbox.alias("older")
    head_of_chat = ~exists().where(
        older.c.chat_id == outbox.c.chat_id,
        older.c.status == OUTBOX_PENDING,
        older.c.id < outbox.c.id,
    )
    now = bindparam("now", type_=outbox.c.claimed_until.type)
    candidates = (
        select(outbox.c.id)
        .where(outbox.c.status == OUTBOX_PENDING,
               or_(outbox.c.claimed_until.is_(None), outbox.c.claimed_until <= now),
               head_of_chat)
        .order_by(outbox.c.id)
        .limit(bindparam("n", type_=Integer))
    )
    if dialect_name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True, of=outbox)
    return (
        update(outbox)
        .where(outbox.c.id.in_(candidates))
        .values(claimed_until=bindparam("until", type_=outbox.c.claimed_until.type))
        .returning(outbox.c.id, outbox.c.chat_id, outbox.c.payload, outbox.c.attempts)
    )


class OutboxStore:
    def __init__(self, engine: AsyncEngine, *, lease: timedelta = timedelta(seconds=60),
                 clock: Clock = utc_now) -> None:
        self._engine = engine
        # PostgreSQL: each of the sender's writes is one statement, atomic by itself, so it runs in
        # autocommit (no BEGIN and COMMIT round trips); the claim's FOR UPDATE SKIP LOCKED holds within
        # that statement. SQLite keeps its transactions: BEGIN IMMEDIATE takes the write lock first.
        self._statements = (engine.execution_options(isolation_level="AUTOCOMMIT")
                            if engine.dialect.name == "postgresql" else None)
        self._lease = lease
        self._clock = clock
        # Message ids of rows this store marked sent, newest last. A sent row never changes again, and
        # the chat's next row (clearing its keyboard, editing it) usually asks for them at once.
        self._sent: OrderedDict[int, tuple[int, ...]] = OrderedDict()

    @contextlib.asynccontextmanager
    async def _one_statement(self) -> AsyncIterator[AsyncConnection]:
        """A connection for one statement (see __init__)."""
        if self._statements is not None:
            async with self._statements.connect() as connection:
                yield connection
        else:
            async with self._engine.begin() as connection:
                yield connection

    async def claim(self, limit: int = 20) -> list[PendingMessage]:
        """Lease up to `limit` deliverable rows, oldest first, at most one per chat."""
        if limit < 1:
            return []
        now = self._clock()
        async with self._one_statement() as connection:
            rows = (await connection.execute(_claim(connection.dialect.name),
                                             {"now": now, "until": now + self._lease, "n": limit})).all()
        return sorted(
            (PendingMessage(r.id, r.chat_id, decode_message(r.payload), r.attempts) for r in rows),
            key=lambda m: m.id,
        )

    async def mark_sent(self, id: int, message_ids: Sequence[int]) -> None:
        """Delivered: Telegram gave these message ids (several for an album or a split text). The chat's
        next row is claimable once this returns. LookupError for a row that does not exist."""
        ids = tuple(message_ids)
        await self._update(id, status=OUTBOX_SENT, sent_at=self._clock(), claimed_until=None,
                           sent_message_ids=list(ids))
        self._sent[id] = ids
        while len(self._sent) > SENT_KEPT:
            self._sent.popitem(last=False)

    async def mark_failed(
        self, id: int, error: str, permanent: bool, *, retry_after: float | None = None
    ) -> None:
        """permanent: the row is given up (status failed) and the chat's next row may go.
        Otherwise attempts += 1 and the row stays pending at the head of its chat, claimable again
        at once or, with `retry_after` seconds (a 429's retry_after, a back-off), after that."""
        retry_at = None
        if retry_after is not None and not permanent:
            retry_at = self._clock() + timedelta(seconds=retry_after)
        await self._update(
            id,
            status=OUTBOX_FAILED if permanent else OUTBOX_PENDING,
            attempts=outbox.c.attempts + 1,
            last_error=error,
            claimed_until=retry_at,
        )

    async def sent_message_ids(self, id: int) -> list[int]:
        """The Telegram message ids a delivered row produced; empty when it was not delivered."""
        known = self._sent.get(id)
        if known is not None:
            return list(known)
        async with self._one_statement() as connection:
            ids = await connection.scalar(
                select(outbox.c.sent_message_ids).where(outbox.c.id == id, outbox.c.status == OUTBOX_SENT)
            )
        return list(ids or [])

    async def pending_count(self) -> int:
        async with self._engine.begin() as connection:
            count = await connection.scalar(
                select(func.count()).select_from(outbox).where(outbox.c.status == OUTBOX_PENDING)
            )
        return int(count or 0)

    async def peek(self, chat_id: int | None = None, *, status: str = OUTBOX_PENDING) -> list[PendingMessage]:
        """Rows in `status` (oldest first) without claiming them — for tests and diagnostics."""
        conditions = [outbox.c.status == status]
        if chat_id is not None:
            conditions.append(outbox.c.chat_id == chat_id)
        async with self._engine.begin() as connection:
            rows = (
                await connection.execute(
                    select(outbox.c.id, outbox.c.chat_id, outbox.c.payload, outbox.c.attempts)
                    .where(and_(*conditions))
                    .order_by(outbox.c.id)
                )
            ).all()
        return [PendingMessage(r.id, r.chat_id, decode_message(r.payload), r.attempts) for r in rows]

    async def _update(self, id: int, **values: Any) -> None:
        async with self._one_statement() as connection:
            result = await connection.execute(update(outbox).where(outbox.c.id == id).values(**values))
        if result.rowcount != 1:
            raise LookupError(f"outbox row {id} does not exist")
