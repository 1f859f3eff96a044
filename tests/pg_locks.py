"""PostgreSQL: wait until another session of the same database is blocked on a lock (pg_stat_activity).

A test that holds a lock in one transaction and starts a second one that must wait uses it to know the
second really waits, instead of sleeping and hoping."""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

_WAITING = text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock' AND wait_event = :kind")


async def until_waiting(engine: AsyncEngine, kind: str, timeout: float = 10.0) -> None:
    """Return once a session waits for a lock of `kind` (pg_stat_activity.wait_event): "advisory" for an
    advisory lock, "transactionid" for a row another transaction changed and has not committed yet."""
    async with asyncio.timeout(timeout):
        while True:
            async with engine.connect() as connection:
                if await connection.scalar(_WAITING, {"kind": kind}):
                    return
            await asyncio.sleep(0.01)
