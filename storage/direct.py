"""Statements of the per-update path, run straight on the driver's connection.

SQLAlchemy builds and compiles each of them (once per dialect and set of parameter names, like its own
compiled cache), and its type processors turn values into parameters and columns into values, so what
goes in and comes out is what SQLAlchemy would have sent and returned. What is skipped is the rest of
an execution: the execution context, the result's metadata, events, and on the async engine a greenlet
switch there and back. That was 35–45 µs a statement on SQLite, against 2–6 µs for sqlite3's own call;
with about seven statements per update it was a fifth of the bot's CPU (bench/INBOUND.md, sixth round).

Only statements marked with `direct()` take this path (built once: module constants, or the result of a
cached builder), and only with one set of parameters or, without RETURNING, a list of them. A statement
that takes a list of values per call (an expanding IN) cannot be compiled once, and stays on SQLAlchemy.

Errors come out as SQLAlchemy's (sqlalchemy.exc.IntegrityError, OperationalError, ...) with the driver's
error as the cause, and without the parameters in the message, as the engines are configured.
"""

from __future__ import annotations

import re
import sqlite3
from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["DirectConnection", "DirectResult", "direct", "is_direct", "sql_of", "watched"]

T = TypeVar("T")
_MARKED: dict[int, object] = {}  # id -> the statement (kept alive, so the id is never reused)
_STATUS_COUNT = re.compile(r"(?:SELECT|UPDATE|DELETE|INSERT \d+) (\d+)")


def direct(statement: T) -> T:
    """Mark a statement that is built once, so that SessionConnection runs it on the driver's connection.
    Returns the statement itself."""
    _MARKED[id(statement)] = statement
    return statement


def is_direct(statement: object) -> bool:
    return id(statement) in _MARKED


def sql_of(statement: Any, dialect: Dialect, parameters: Mapping[str, Any]) -> tuple[str, list[Any]]:
    """The text and the driver's arguments a direct statement runs with (for EXPLAIN and tests)."""
    compiled = _compile(statement, dialect, tuple(parameters))
    return compiled.sql, compiled.arguments(parameters)


class _Compiled:
    """One statement for one dialect and one set of parameter names."""

    __slots__ = ("binds", "results", "returns_rows", "row", "sql")

    def __init__(self, statement: Any, dialect: Dialect, keys: Sequence[str], many: bool) -> None:
        # for_executemany: as SQLAlchemy, no implicit RETURNING of the primary key for a list of rows
        compiled = statement.compile(dialect=dialect, column_keys=list(keys), for_executemany=many)
        if compiled.positiontup is None:
            raise NotImplementedError(f"{dialect.name}: only positional parameter styles are run directly")
        if compiled.insert_prefetch or compiled.update_prefetch:
            raise NotImplementedError("column defaults computed in Python are left to SQLAlchemy")
        for bind in compiled.binds.values():
            if (bind.expanding or bind.literal_execute) and (bind.key in keys or bind.required):
                raise NotImplementedError(f"{bind.key}: a list given per call cannot be compiled once")
        # Lists fixed in the statement (IN (...) of constants) are rendered now, once; the given
        # parameters' values do not change the text, so none are needed for it.
        expanded = compiled.construct_expanded_state(dict.fromkeys(keys))
        processors = {**compiled._bind_processors, **expanded.processors}
        binds: list[tuple[str, Any, Callable[[Any], Any] | None]] = []
        for name in expanded.positiontup or ():
            bind = compiled.binds.get(name)
            if name in keys:
                default: Any = _GIVEN
            elif bind is not None and bind.callable is not None:
                default = bind.callable
            else:  # a value fixed in the statement, or one element of a fixed list
                default = _Constant(expanded.parameters[name])
            binds.append((name, default, processors.get(name)))
        self.binds = tuple(binds)
        self.sql: str = expanded.statement
        columns = compiled._result_columns
        self.returns_rows = bool(columns)
        self.row = namedtuple("Row", [column[0] for column in columns], rename=True)  # type: ignore[misc]
        self.results = tuple(column[3]._cached_result_processor(dialect, None) for column in columns)

    def arguments(self, parameters: Mapping[str, Any]) -> list[Any]:
        values = []
        for name, default, process in self.binds:
            value = parameters[name] if default is _GIVEN else default()
            values.append(process(value) if process is not None else value)
        return values

    def rows(self, raw: Sequence[Sequence[Any]]) -> list[Any]:
        row, results = self.row, self.results
        if not any(results):
            return [row(*values) for values in raw]
        return [row(*[value if process is None else process(value)
                      for process, value in zip(results, values, strict=True)]) for values in raw]


class _Given:
    pass


_GIVEN = _Given()


class _Constant:
    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __call__(self) -> Any:
        return self.value


_compiled: dict[tuple[int, str, tuple[str, ...], bool], _Compiled] = {}


def _compile(statement: Any, dialect: Dialect, keys: tuple[str, ...], many: bool = False) -> _Compiled:
    key = (id(statement), dialect.name, keys, many)
    found = _compiled.get(key)
    if found is None:
        found = _compiled[key] = _Compiled(statement, dialect, keys, many)
    return found


class DirectResult:
    """What the repositories read of a result: rows (attribute access by column name), one value, or the
    count of rows changed."""

    __slots__ = ("_rows", "rowcount")

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self._rows = rows
        self.rowcount = rowcount

    def __iter__(self) -> Iterator[Any]:
        return iter(self._rows)

    def all(self) -> list[Any]:
        return list(self._rows)

    def first(self) -> Any:
        return self._rows[0] if self._rows else None

    def one_or_none(self) -> Any:
        if len(self._rows) > 1:
            raise sa_exc.MultipleResultsFound("Multiple rows were found when one or none was required")
        return self.first()

    def one(self) -> Any:
        if not self._rows:
            raise sa_exc.NoResultFound("No row was found when one was required")
        return self.one_or_none()

    def scalar(self) -> Any:
        return self._rows[0][0] if self._rows else None

    def scalar_one(self) -> Any:
        return self.one()[0]

    def scalar_one_or_none(self) -> Any:
        row = self.one_or_none()
        return None if row is None else row[0]

    def scalars(self) -> DirectResult:
        return _Scalars([row[0] for row in self._rows], self.rowcount)


class _Scalars(DirectResult):
    """scalars(): the first column of each row, as the rows."""

    __slots__ = ()

    def scalar(self) -> Any:
        return self.first()

    def scalar_one(self) -> Any:
        return self.one()

    def scalar_one_or_none(self) -> Any:
        return self.one_or_none()


def watched(connection: AsyncConnection) -> bool:
    """Does something listen to statements on this connection (a test's fault injection, a tracer)?
    Then every statement goes through SQLAlchemy, where the listeners see it."""
    dispatch = connection.sync_connection.dispatch  # type: ignore[union-attr]
    return bool(dispatch.before_cursor_execute or dispatch.after_cursor_execute)


class DirectConnection:
    """The driver's connection under an open SQLAlchemy connection, in the same transaction."""

    def __init__(self, connection: AsyncConnection) -> None:
        self.dialect = connection.dialect
        self._adapted = connection.sync_connection.connection.dbapi_connection  # type: ignore[union-attr]
        self._sqlite = self.dialect.name == "sqlite"
        if not self._sqlite and self.dialect.driver != "asyncpg":
            raise NotImplementedError(f"{self.dialect.name}+{self.dialect.driver} is not run directly")
        autocommit = not self._sqlite and self._adapted.isolation_level == "autocommit"
        if not (connection.in_transaction() or autocommit):
            # SQLite's BEGIN IMMEDIATE is sent when SQLAlchemy begins; without it each statement would
            # commit by itself. On asyncpg, an AUTOCOMMIT connection runs each statement by itself.
            raise ValueError("statements run directly only inside a transaction SQLAlchemy began")

    async def execute(self, statement: Any,
                      parameters: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None,
                      *, begin: bool = True) -> DirectResult:
        """begin=False (asyncpg): outside a transaction the statement runs by itself, without BEGIN
        (SQLAlchemy would begin one first); inside one, in it."""
        many = isinstance(parameters, Sequence)
        if many and not parameters:
            return DirectResult([], 0)
        first: Mapping[str, Any] = parameters[0] if many else (parameters or {})  # type: ignore[index]
        compiled = _compile(statement, self.dialect, tuple(first), many)
        if many:
            if compiled.returns_rows:
                raise NotImplementedError("RETURNING with a list of parameters is left to SQLAlchemy")
            arguments = [compiled.arguments(each) for each in parameters]  # type: ignore[union-attr]
        else:
            arguments = compiled.arguments(first)
        if self._sqlite:
            return self._run_sqlite(compiled, arguments, many)
        return await self._run_asyncpg(compiled, arguments, many, begin)

    def _run_sqlite(self, compiled: _Compiled, arguments: Any, many: bool) -> DirectResult:
        connection: sqlite3.Connection = self._adapted._connection._conn
        try:
            if many:
                cursor = connection.executemany(compiled.sql, arguments)
                return DirectResult([], cursor.rowcount)
            cursor = connection.execute(compiled.sql, arguments)
            raw = cursor.fetchall() if compiled.returns_rows else ()
        except sqlite3.Error as error:
            raise self._wrapped(compiled, error, sqlite3.Error) from error
        return DirectResult(compiled.rows(raw), cursor.rowcount)

    async def _run_asyncpg(self, compiled: _Compiled, arguments: Any, many: bool,
                           begin: bool) -> DirectResult:
        adapted = self._adapted
        try:
            async with adapted._execute_mutex:
                if adapted._transaction is None and begin:  # SQLAlchemy begins lazily, at the first statement
                    await adapted._start_transaction()
                connection = adapted._connection
                try:
                    if many:
                        await connection.executemany(compiled.sql, arguments)
                        return DirectResult([], -1)
                    if compiled.returns_rows:
                        raw = await connection.fetch(compiled.sql, *arguments)
                        return DirectResult(compiled.rows(raw), len(raw))
                    status = await connection.execute(compiled.sql, *arguments)
                except Exception as error:
                    adapted._handle_exception(error)  # raises the adapter's DBAPI-style error
        except adapted.dbapi.Error as error:
            raise self._wrapped(compiled, error, adapted.dbapi.Error) from error
        counted = _STATUS_COUNT.match(status or "")
        return DirectResult([], int(counted.group(1)) if counted else -1)

    def _wrapped(self, compiled: _Compiled, error: Exception, base: type[Exception]) -> sa_exc.DBAPIError:
        invalidated = bool(self.dialect.is_disconnect(error, self._adapted, None))
        return sa_exc.DBAPIError.instance(compiled.sql, None, error, base, hide_parameters=True,
                                          connection_invalidated=invalidated, dialect=self.dialect)
