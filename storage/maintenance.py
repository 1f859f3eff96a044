"""Housekeeping the scheduler may run now and then: the update log and sent outbox rows only grow."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import OUTBOX_SENT, OutboxRow, ProcessedUpdateRow


@dataclass(frozen=True)
class Pruned:
    updates: int
    outbox: int


async def prune(engine: AsyncEngine, *, updates_before: datetime, sent_before: datetime | None = None
                ) -> Pruned:
    """Forget update ids recorded before `updates_before` (Telegram redelivers for at most a day)
    and, if `sent_before` is given, delete outbox rows sent before it. Pending and failed rows are kept."""
    async with engine.begin() as connection:
        updates = await connection.execute(
            delete(ProcessedUpdateRow).where(ProcessedUpdateRow.at < updates_before)
        )
        sent_count = 0
        if sent_before is not None:
            sent = await connection.execute(
                delete(OutboxRow).where(OutboxRow.status == OUTBOX_SENT, OutboxRow.sent_at < sent_before)
            )
            sent_count = sent.rowcount
    return Pruned(updates=updates.rowcount, outbox=sent_count)


async def last_update_id(engine: AsyncEngine) -> int | None:
    """The highest update id recorded, e.g. to start a fresh local sandbox's numbering after it."""
    async with engine.begin() as connection:
        return await connection.scalar(select(func.max(ProcessedUpdateRow.update_id)))
