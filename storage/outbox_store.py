"""The outbox as the sender sees it: claim pending rows, then mark them sent or failed.

Each call is its own short transaction (independent of any SqlUnitOfWork).

claim() leases rows: it sets `claimed_until = now + lease` so a parallel sender (or the next
batch) skips them; a crashed sender's rows come back once the lease runs out (at-least-once
delivery). Per chat, only the oldest pending row is ever claimable, and only when no older row
of that chat is leased, so a chat's messages go out in order and one at a time. On PostgreSQL the
claim locks with FOR UPDATE SKIP LOCKED, so parallel senders never claim the same row.
"In order" is the order of commits: when two transactions queue rows for one chat at once (two
residents' filings, each sending the same worker a card), the rows of whichever commits first can go
out first, and on PostgreSQL that need not be the one with the lower ids. Rows of one transaction, and
of one resident's updates (handled one at a time), keep their order.

mark_sent() commits in groups: the rows marked while one group's transaction runs are written
together in the next one (on PostgreSQL one UPDATE ... FROM unnest(...), outside a transaction; on
SQLite an executemany), and each call returns only once its row's mark is committed. A chat's next row
is claimable only after that commit, as before.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Sequence
from datetime import timedelta
from functools import cache
from typing import Protocol

from sqlalchemy import Integer, Table, Update, and_, bindparam, exists, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import json_dumps
from storage.direct import DirectConnection, direct, watched
from storage.models import OUTBOX_FAILED, OUTBOX_PENDING, OUTBOX_SENT, OutboxRow
from storage.repositories._sql import Clock, utc_now
from storage.repositories.outbox import PendingMessage, decode_message

__all__ = ["Handoff", "HandoffReceiver", "OutboxStore", "PendingMessage"]
outbox: Table = OutboxRow.__table__  # type: ignore[assignment]
SENT_KEPT = 4096


# Built once, executed with parameters: building them cost more than running them (storage.repositories._sql).
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


_mark_sent = (
    update(outbox)
    .where(outbox.c.id == bindparam("row_id"))
    .values(status=OUTBOX_SENT, sent_at=bindparam("now", type_=outbox.c.sent_at.type), claimed_until=None,
            sent_message_ids=bindparam("ids", type_=outbox.c.sent_message_ids.type))
)


# The same for a whole group, as one statement: the ids and their message ids as two arrays. Run on
# the driver's connection (storage.direct), outside a transaction (it is atomic by itself).
_mark_sent_postgresql = direct(text(
    "UPDATE outbox SET status = :sent, sent_at = :now, claimed_until = NULL,"
    " sent_message_ids = CAST(sent.message_ids AS JSON)"
    " FROM unnest(CAST(:row_ids AS BIGINT[]), CAST(:message_ids AS TEXT[])) AS sent(id, message_ids)"
    " WHERE outbox.id = sent.id"
).bindparams(bindparam("now", type_=outbox.c.sent_at.type)))


class HandoffReceiver(Protocol):
    """This process's sender, as the units of work see it (bot.handoff.HandedOff)."""

    def admits(self, chat_id: int) -> tuple[int, frozenset[int]] | None: ...

    def take(self, rows: list[PendingMessage], epochs: dict[int, int], unleased_chats: set[int]) -> None: ...


class Handoff:
    """Connects the units of work of a process to its own sender (storage.repositories.outbox.SqlOutbox).

    Rows inserted leased (`lease`, the same as the store's) are this sender's from the start: if the
    process dies, the lease runs out and any sender claims them, as with a claimed row."""

    def __init__(self, lease: timedelta = timedelta(seconds=60)) -> None:
        self.lease = lease
        self.receiver: HandoffReceiver | None = None

    def admits(self, chat_id: int) -> tuple[int, frozenset[int]] | None:
        return self.receiver.admits(chat_id) if self.receiver is not None else None

    def committed(self, leased: list[PendingMessage], epochs: dict[int, int],
                  unleased_chats: set[int]) -> None:
        if self.receiver is not None:
            self.receiver.take(leased, epochs, unleased_chats)


class OutboxStore:
    def __init__(self, engine: AsyncEngine, *, lease: timedelta = timedelta(seconds=60),
                 clock: Clock = utc_now) -> None:
        self._engine = engine
        self._lease = lease
        self._clock = clock
        # Rows this store marked sent, newest last: a sent row never changes again, and the next row of
        # its chat (clearing its keyboard) asks for its message ids at once; no transaction for that.
        self._sent: OrderedDict[int, tuple[int, ...]] = OrderedDict()
        self._to_mark: list[tuple[int, tuple[int, ...], asyncio.Future[None]]] = []
        self._marking: asyncio.Task[None] | None = None

    async def claim(self, limit: int = 20) -> list[PendingMessage]:
        """Lease up to `limit` deliverable rows, oldest first, at most one per chat."""
        if limit < 1:
            return []
        now = self._clock()
        async with self._engine.begin() as connection:
            rows = (await connection.execute(_claim(connection.dialect.name),
                                             {"now": now, "until": now + self._lease, "n": limit})).all()
        return sorted(
            (PendingMessage(r.id, r.chat_id, decode_message(r.payload), r.attempts) for r in rows),
            key=lambda m: m.id,
        )

    async def mark_sent(self, id: int, message_ids: Sequence[int]) -> None:
        """Delivered: Telegram gave these message ids (several for an album or a split text).
        Returns once the row is marked in a committed transaction (shared with other rows marked
        meanwhile); raises LookupError for a row that does not exist."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._to_mark.append((id, tuple(message_ids), done))
        if self._marking is None or self._marking.done():
            self._marking = asyncio.create_task(self._mark_queued())
        await done

    async def _mark_queued(self) -> None:
        """Group commit: write what was queued, then what was queued meanwhile, until nothing is."""
        while self._to_mark:
            group, self._to_mark = self._to_mark, []
            try:
                missing = await self._mark_group({id: ids for id, ids, _ in group})
            except BaseException as error:
                for _, _, done in group:
                    if done.done():
                        continue
                    if isinstance(error, asyncio.CancelledError):
                        done.cancel()
                    else:
                        done.set_exception(error)
                if not isinstance(error, Exception):
                    raise
                continue
            for id, ids, done in group:
                if id in missing:
                    if not done.done():
                        done.set_exception(LookupError(f"outbox row {id} does not exist"))
                    continue
                self._sent[id] = ids
                if not done.done():
                    done.set_result(None)
            while len(self._sent) > SENT_KEPT:
                self._sent.popitem(last=False)

    async def _mark_group(self, group: dict[int, tuple[int, ...]]) -> set[int]:
        """Mark the rows sent in one transaction; returns the ids of rows that do not exist."""
        now = self._clock()
        if self._engine.dialect.name == "postgresql":
            # One statement, so one round trip with no BEGIN and COMMIT around it (it is atomic by itself);
            # on PostgreSQL each round trip costs more CPU than the statement (bench/INBOUND.md, fifth round).
            async with self._engine.connect() as connection:
                autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
                parameters = {
                    "row_ids": list(group), "message_ids": [json_dumps(list(ids)) for ids in group.values()],
                    "now": now, "sent": OUTBOX_SENT,
                }
                if watched(autocommit):  # a test's fault injection sees every statement
                    result = await autocommit.execute(_mark_sent_postgresql, parameters)
                else:
                    result = await DirectConnection(autocommit).execute(_mark_sent_postgresql, parameters)
                if result.rowcount == len(group):
                    return set()
                found = await autocommit.scalars(select(outbox.c.id).where(outbox.c.id.in_(list(group))))
                return set(group) - set(found)
        params = [{"row_id": id, "ids": list(ids), "now": now} for id, ids in group.items()]
        async with self._engine.begin() as connection:
            result = await connection.execute(_mark_sent, params)
            if result.rowcount == len(group) and connection.dialect.supports_sane_multi_rowcount:
                return set()
            found = await connection.scalars(select(outbox.c.id).where(outbox.c.id.in_(list(group))))
            return set(group) - set(found)

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

    async def release(self, ids: Sequence[int]) -> None:
        """Give leased rows back unsent (claimable at once); rows no longer pending are left alone."""
        if not ids:
            return
        async with self._engine.begin() as connection:
            await connection.execute(
                update(outbox).where(outbox.c.id.in_(list(ids)), outbox.c.status == OUTBOX_PENDING)
                .values(claimed_until=None)
            )

    async def sent_message_ids(self, id: int) -> list[int]:
        """The Telegram message ids a delivered row produced; empty when it was not delivered."""
        known = self._sent.get(id)
        if known is not None:
            return list(known)
        async with self._engine.begin() as connection:
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

    async def _update(self, id: int, **values: object) -> None:
        async with self._engine.begin() as connection:
            result = await connection.execute(update(outbox).where(outbox.c.id == id).values(**values))
        if result.rowcount != 1:
            raise LookupError(f"outbox row {id} does not exist")
