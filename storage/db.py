"""Engine creation and programmatic migrations. Nothing happens at import time.

SQLite (``sqlite+aiosqlite:///...``), through SQLAlchemy's aiosqlite dialect as shipped:
- WAL journal, foreign keys on, a busy timeout for other processes' writes (a CLI command beside the bot);
- every transaction starts with ``BEGIN IMMEDIATE``: SQLAlchemy emits it (the "begin" event), the driver
  emits none (``isolation_level = None`` at connect), as SQLAlchemy's SQLite documentation describes under
  "Enabling Non-Legacy SQLite Transactional Modes". A transaction holds the write lock from its first
  statement, so writers are serialised up front instead of failing half-way with SQLITE_BUSY, and reads
  inside a transaction are repeatable;
- a file database has ONE pooled connection (pool_size=1, max_overflow=0): every transaction takes the
  write lock first anyway, so a second connection could only wait inside SQLite's busy handler. A
  transaction waits for the connection in the pool's queue instead (up to SQLITE_POOL_TIMEOUT_S).
  Consequence: don't open a second transaction on the same SQLite engine while one is open in the same
  task — it waits for the pool timeout and fails.

PostgreSQL (``postgresql+asyncpg://...``): SQLAlchemy's default pool, READ COMMITTED.

Every engine writes JSON as readable UTF-8 (json_dumps) and keeps statement parameters (what residents
wrote) out of logs and error messages (hide_parameters).
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from enum import Enum
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from storage.migrations import upgrade

DEFAULT_URL = "sqlite+aiosqlite:///./gridbot.db"
SQLITE_BUSY_TIMEOUT_MS = 30_000  # another process (a CLI command, a migration) holding the write lock
SQLITE_POOL_TIMEOUT_S = 60  # how long a transaction may queue for the one connection


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def json_dumps(value: Any) -> str:
    """The JSON serialiser of every engine: UTF-8 text kept readable, datetimes as ISO strings."""
    return json.dumps(value, ensure_ascii=False, default=_json_default)


def create_engine(url: str = DEFAULT_URL, **kwargs: Any) -> AsyncEngine:
    """An async engine for `url` (sqlite+aiosqlite:///... or postgresql+asyncpg://...)."""
    parsed = make_url(url)
    kwargs.setdefault("json_serializer", json_dumps)
    kwargs.setdefault("hide_parameters", True)
    if parsed.get_backend_name() != "sqlite":
        return create_async_engine(url, **kwargs)
    in_memory = parsed.database in (None, "", ":memory:")
    if not in_memory and "poolclass" not in kwargs:
        kwargs.setdefault("pool_size", 1)
        kwargs.setdefault("max_overflow", 0)
        kwargs.setdefault("pool_timeout", SQLITE_POOL_TIMEOUT_S)
    # The driver's own wait for a lock, used while connecting (the WAL pragma), before busy_timeout is set.
    kwargs.setdefault("connect_args", {}).setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
    engine = create_async_engine(url, **kwargs)
    _configure_sqlite(engine, in_memory=in_memory)
    return engine


def _configure_sqlite(engine: AsyncEngine, *, in_memory: bool) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # the driver emits no BEGIN; _on_begin does
        cursor = dbapi_connection.cursor()
        try:
            if not in_memory:
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")  # with WAL: a commit survives a crash of the bot
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


async def migrate(url_or_engine: str | AsyncEngine, revision: str = "head") -> None:
    """Upgrade the database to `revision` (head by default). Safe to call on every start."""
    if not isinstance(url_or_engine, str):
        await upgrade(url_or_engine, revision)
        return
    engine = create_engine(url_or_engine)
    try:
        await upgrade(engine, revision)
    finally:
        await engine.dispose()
