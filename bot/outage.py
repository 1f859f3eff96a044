"""Is an error the database being away (retry until it is back) rather than a bug (give up after a few)?"""

from __future__ import annotations

from sqlalchemy import exc as sa_exc

try:  # asyncpg is a dependency, but keep the check usable where it is missing
    import asyncpg
    _ASYNCPG_LOST: tuple[type[BaseException], ...] = (
        asyncpg.PostgresConnectionError, asyncpg.ConnectionDoesNotExistError,
        asyncpg.InterfaceError, asyncpg.CannotConnectNowError, asyncpg.TooManyConnectionsError,
    )
except ImportError:  # pragma: no cover
    _ASYNCPG_LOST = ()

_LOST = (OSError, *_ASYNCPG_LOST)  # OSError covers ConnectionError and TimeoutError


def is_database_unavailable(error: BaseException) -> bool:
    """True for a lost or refused connection, a timeout, or "database is locked": the same work will
    succeed once the database answers again. Follows __cause__/__context__ (SQLAlchemy wraps the driver's
    error) and the errors of an ExceptionGroup (all of them must be outage errors)."""
    seen: set[int] = set()
    pending: list[BaseException] = [error]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, BaseExceptionGroup):
            return all(is_database_unavailable(inner) for inner in current.exceptions)
        if isinstance(current, sa_exc.DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, sa_exc.OperationalError | sa_exc.InterfaceError | sa_exc.DisconnectionError):
            return True
        if isinstance(current, (sa_exc.TimeoutError, *_LOST)):  # pool timeout, driver or socket errors
            return True
        if current.__cause__ is not None:
            pending.append(current.__cause__)
        elif current.__context__ is not None and not current.__suppress_context__:
            pending.append(current.__context__)
    return False
