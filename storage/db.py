"""Engine creation and programmatic migrations.

Nothing happens at import time: an engine exists only once `create_engine()` is called.

SQLite: WAL journal, foreign keys on, a 5 s busy timeout, and every transaction starts with
``BEGIN IMMEDIATE`` (SQLAlchemy emits it, not the sqlite3 driver). Write transactions are therefore
serialised up front instead of failing half-way with SQLITE_BUSY; reads inside a transaction are
repeatable. Don't open a second transaction on the same SQLite file while one is open in the same
task — it would wait for the pool timeout and fail.

A file SQLite engine has ONE pooled connection: since every transaction takes the write lock
first anyway, a second connection could only wait for it inside SQLite's busy handler, which
polls with sleeps of up to 100 ms; under load the waiters slept while the lock was free (a
benchmark of 50 concurrent residents ran at ~30 updates/s). Waiting in the pool's queue instead
hands the connection over the moment it is returned, in FIFO order. Other processes (the CLI
beside a running bot) still meet the busy timeout.

SQLite statements run inline on the event loop's thread (``InlineSqliteConnection``): aiosqlite's
default hands every call (cursor, execute, fetch, close, commit) to its own thread and back, and those
hops cost about twice the statements themselves (bench/INBOUND.md, third round). The price: while
SQLite works, or waits in its busy handler for another process's write lock (a CLI command beside the
bot), the loop waits too. With one connection the statements run one at a time either way. SQLAlchemy's
adapter of that connection calls sqlite3 directly too (``_InlineSqliteCursor``): one trip out of
SQLAlchemy's greenlet per statement instead of three (bench/INBOUND.md, fifth round).

PostgreSQL (``postgresql+asyncpg://...``): a normal connection pool, READ COMMITTED.
"""

from __future__ import annotations

import collections
import json
import sqlite3
from datetime import date, datetime, timedelta
from enum import Enum
from functools import partial
from typing import Any

import aiosqlite
from sqlalchemy import event
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.util.concurrency import await_

DEFAULT_URL = "sqlite+aiosqlite:///./gridbot.db"
SQLITE_BUSY_TIMEOUT_MS = 5000
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


class InlineSqliteConnection(aiosqlite.Connection):
    """aiosqlite's connection, but each call runs at once on the caller's thread (see the module doc).
    Its worker thread only opens and closes the sqlite3 connection."""

    async def _execute(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)


class _InlineSqliteCursor(AsyncAdapt_aiosqlite_cursor):
    """SQLAlchemy's cursor for aiosqlite, calling the sqlite3 cursor directly. SQLAlchemy runs it in a
    greenlet and hands each call (open, execute, close) to the event loop as a coroutine: a greenlet
    switch there and back per call, and aiosqlite's wrappers around each. Here a statement takes one
    such trip, which SQLAlchemy's async API insists on (it checks that each execute awaited)."""

    __slots__ = ()
    _awaitable_cursor_close = False

    def _make_new_cursor(self, connection: Any) -> Any:
        try:
            return connection._conn.cursor()
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    def _aenter_cursor(self, cursor: Any) -> Any:
        return cursor

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        # One connection, and nothing here waits: no other statement can run in between (the base
        # class takes a lock for that).
        cursor = self._cursor
        result = cursor.execute(operation) if parameters is None else cursor.execute(operation, parameters)
        if cursor.description:
            self._rows = collections.deque(cursor.fetchall())
        return result

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> Any:
        return self._cursor.executemany(operation, seq_of_parameters)


class _InlineSqliteAdaptedConnection(AsyncAdapt_aiosqlite_connection):
    """SQLAlchemy's adapter of an InlineSqliteConnection: cursors, commits and rollbacks call sqlite3
    directly (see _InlineSqliteCursor); opening and closing still go through aiosqlite."""

    __slots__ = ()
    _cursor_cls = _InlineSqliteCursor

    def commit(self) -> None:
        try:
            self._connection._conn.commit()
        except Exception as error:
            self._handle_exception(error)

    def rollback(self) -> None:
        if self._connection._connection:
            try:
                self._connection._conn.rollback()
            except Exception as error:
                self._handle_exception(error)


class _InlineSqliteDbapi(AsyncAdapt_aiosqlite_dbapi):
    """The DBAPI SQLAlchemy's aiosqlite dialect is given (create_engine's `module`): the same, except
    that it adapts connections with _InlineSqliteAdaptedConnection."""

    def connect(self, *args: Any, **kwargs: Any) -> _InlineSqliteAdaptedConnection:
        connection = kwargs.pop("async_creator_fn")(*args, **kwargs)
        return _InlineSqliteAdaptedConnection(self, await_(connection))


def _inline_sqlite_creator(database: str) -> Any:
    async def connect() -> InlineSqliteConnection:
        connection = InlineSqliteConnection(partial(sqlite3.connect, database, check_same_thread=False),
                                            iter_chunk_size=64)
        connection._thread.daemon = True  # as SQLAlchemy does for aiosqlite: never hold up exit
        return await connection
    return connect


def create_engine(url: str = DEFAULT_URL, **kwargs: Any) -> AsyncEngine:
    """An async engine for `url` (sqlite+aiosqlite:///... or postgresql+asyncpg://...)."""
    parsed = make_url(url)
    kwargs.setdefault("json_serializer", json_dumps)
    # Statement parameters carry what residents wrote; keep them out of logs and error messages.
    kwargs.setdefault("hide_parameters", True)
    if parsed.get_backend_name() == "sqlite":
        in_memory = parsed.database in (None, "", ":memory:")
        if not in_memory and "poolclass" not in kwargs:
            kwargs.setdefault("pool_size", 1)
            kwargs.setdefault("max_overflow", 0)
            kwargs.setdefault("pool_timeout", SQLITE_POOL_TIMEOUT_S)
        database = ":memory:" if in_memory else parsed.database
        kwargs.setdefault("async_creator", _inline_sqlite_creator(database))
        kwargs.setdefault("module", _InlineSqliteDbapi(aiosqlite, sqlite3))
        engine = create_async_engine(url, **kwargs)
        _configure_sqlite(engine, in_memory=in_memory)
        return engine
    # No pre-ping: it cost a round trip (~0.3 ms of CPU) per transaction. A connection that died
    # (the server restarted) fails its next statement instead; SQLAlchemy then drops the pool's older
    # connections, and the work is retried as an outage (bot.outage; tests/test_reliability_outage.py).
    kwargs.setdefault("pool_pre_ping", False)
    return create_async_engine(url, **kwargs)


def _configure_sqlite(engine: AsyncEngine, *, in_memory: bool) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself (the driver's legacy mode skips BEGIN before SELECT/DDL).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            if not in_memory:
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


async def migrate(url_or_engine: str | AsyncEngine, revision: str = "head") -> None:
    """Upgrade the database to `revision` (head by default). Safe to call on every start."""
    from storage.migrations import upgrade

    await upgrade(url_or_engine, revision)
