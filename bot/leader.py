"""Which process of a deployment sends and runs the periodic jobs: the one holding the lead.

Several bot processes may share one PostgreSQL (webhook replicas). Each of them handles updates, but
only one may send: Telegram's limit of ~30 messages/s is for the bot as a whole, and the pacing of
bot.ratelimit lives in one process. The lead is a PostgreSQL session-level advisory lock, held on a
connection of its own (outside the pool: closing it releases the lock). The other processes stand by and
try to take the lead every `retry_every` seconds; when the leader dies (even kill -9) PostgreSQL ends its
session, the lock is released and a standby takes over within that time. The leader checks its
connection every `check_every` seconds and steps down if it is lost (the database restarted: the lock
went with the session).

The lead connection also LISTENs on OUTBOX_CHANNEL: units of work on PostgreSQL send NOTIFY with their
outbox rows, delivered at their commit, so the sender wakes whichever process queued the message.

SQLite is one process by construction: that process always leads, and commits wake its sender directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from storage.outbox_store import OUTBOX_CHANNEL

__all__ = ["LEAD_LOCK", "Leadership"]

log = logging.getLogger(__name__)
# The advisory lock's key (two int4: class and object). Other advisory locks of the project use other
# class ids, so they never meet this one.
LEAD_LOCK = (0x67726964, 1)  # "grid", the lead


class Leadership:
    def __init__(self, engine: AsyncEngine, *, on_notify: Callable[[], None] | None = None,
                 retry_every: float = 2.0, check_every: float = 5.0) -> None:
        self._engine = engine
        self._on_notify = on_notify
        self._retry_every = retry_every
        self._check_every = check_every
        self.leading = asyncio.Event()  # set while this process holds the lead

    async def run(self, lead: Callable[[], Awaitable[None]]) -> None:
        """Run `lead()` whenever this process holds the lead, standing by otherwise; until cancelled.
        If `lead()` returns or raises, the lead is given up and taken again (by whichever process)."""
        if self._engine.dialect.name != "postgresql":
            self.leading.set()
            await lead()
            return
        # Its own engine without a pool: the lock's session ends when its connection is closed.
        lead_engine = create_async_engine(self._engine.url, poolclass=NullPool)
        try:
            while True:
                try:
                    await self._lead_once(lead_engine, lead)
                except (OperationalError, DBAPIError, OSError) as error:
                    log.warning("the lead connection failed (%s); standing by", type(error).__name__)
                self.leading.clear()
                await asyncio.sleep(self._retry_every)
        finally:
            self.leading.clear()
            await lead_engine.dispose()

    async def _lead_once(self, lead_engine: AsyncEngine, lead: Callable[[], Awaitable[None]]) -> None:
        async with lead_engine.connect() as connection:
            taken = await connection.scalar(select(func.pg_try_advisory_lock(*LEAD_LOCK)))
            await connection.commit()
            if not taken:
                return
            await self._listen(connection)
            log.info("this process leads: it sends the outbox and runs the periodic jobs")
            self.leading.set()
            work = asyncio.create_task(lead())
            try:
                while not work.done():
                    await asyncio.wait({work}, timeout=self._check_every)
                    if not work.done():
                        await connection.execute(text("SELECT 1"))  # still ours?
                        await connection.commit()
                if work.exception() is not None:
                    log.error("the leader's work stopped", exc_info=work.exception())
            finally:
                self.leading.clear()
                work.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await work
                log.info("this process gave up the lead")

    async def _listen(self, connection: AsyncConnection) -> None:
        if self._on_notify is None:
            return
        on_notify = self._on_notify

        def notified(*_: Any) -> None:
            on_notify()

        raw = await connection.get_raw_connection()
        await raw.driver_connection.add_listener(OUTBOX_CHANNEL, notified)  # asyncpg's LISTEN
