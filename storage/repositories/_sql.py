"""Small helpers shared by the repositories."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import Executable, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from storage.direct import DirectConnection, direct, is_direct, watched

if TYPE_CHECKING:
    from storage.repositories.closing import ClosingWrites

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def dialect_insert(dialect_name: str, table: Table) -> Any:
    """INSERT with ON CONFLICT support for the running backend (sqlite or postgresql)."""
    if dialect_name == "postgresql":
        return postgresql.insert(table)
    if dialect_name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"gridbot storage supports sqlite and postgresql, not {dialect_name}")


# Statements of the per-update path are built once and executed with parameters: building a new
# INSERT ... ON CONFLICT per call cost more CPU than SQLAlchemy's execution of it (bench/INBOUND.md).
@cache
def upsert(dialect_name: str, table: Table, key: str, columns: tuple[str, ...]) -> Any:
    """INSERT (key, *columns) ... ON CONFLICT (key) DO UPDATE SET each of `columns` to the new value;
    executed with one parameter per column. Other columns keep what they had."""
    stmt = dialect_insert(dialect_name, table)
    return direct(stmt.on_conflict_do_update(index_elements=[table.c[key]],
                                             set_={name: stmt.excluded[name] for name in columns}))


class SessionConnection:
    """The session's transaction as a Core connection, for the repositories that run only Core
    statements: the ORM session's bookkeeping around each statement cost about a fifth of a
    statement's CPU (bench/INBOUND.md). Same transaction as the session; after a commit the next
    statement starts a new one, as the session would. The roster keeps its ORM rows on the session.

    Statements marked with storage.direct.direct() run on the driver's connection underneath, in the
    same transaction (storage.direct says why and what they return)."""

    def __init__(self, session: AsyncSession, closing: ClosingWrites | None = None) -> None:
        self._session = session
        self._connection: AsyncConnection | None = None
        self._direct: DirectConnection | None = None
        # PostgreSQL: writes held back to go with the update's record (storage.repositories.closing);
        # any other statement writes them first, so every statement sees what came before it.
        self.closing = closing

    async def _current(self) -> AsyncConnection:
        connection = self._connection
        if connection is None or connection.closed:
            connection = self._connection = await self._session.connection()
            self._direct = None if watched(connection) else DirectConnection(connection)
        return connection

    async def execute(self, statement: Executable, parameters: Any = None, *, begin: bool = True) -> Any:
        """Run a statement in the unit of work's transaction. begin=False (a direct statement on
        PostgreSQL): if no statement began the transaction yet, run it by itself (an implicit
        transaction of its own) rather than send BEGIN first."""
        await self.write_held()
        return await self._run(statement, parameters, begin=begin)

    async def write_held(self) -> None:
        if self.closing is not None and self.closing.holds_writes:
            await self.closing.write_held(self._run)

    async def close_update(self) -> bool:
        """The held writes and the update's record (storage.repositories.closing); False: a repeat."""
        assert self.closing is not None
        return await self.closing.close(self._run_by_itself)

    async def _run(self, statement: Executable, parameters: Any = None, *, begin: bool = True) -> Any:
        connection = await self._current()
        direct = self._direct
        if direct is not None and is_direct(statement):
            return await direct.execute(statement, parameters, begin=begin)
        return await connection.execute(statement, parameters)

    async def _run_by_itself(self, statement: Executable, parameters: Any = None) -> Any:
        return await self._run(statement, parameters, begin=False)

    async def scalar(self, statement: Executable, parameters: Any = None) -> Any:
        return (await self.execute(statement, parameters)).scalar()

    async def scalars(self, statement: Executable, parameters: Any = None) -> Any:
        return (await self.execute(statement, parameters)).scalars()
