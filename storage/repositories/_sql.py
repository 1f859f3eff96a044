"""Small helpers shared by the repositories."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import Table, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import CommunityRow

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


@cache
def upsert(dialect_name: str, table: Table, key: str, columns: tuple[str, ...]) -> Any:
    """INSERT (key, *columns) ... ON CONFLICT (key) DO UPDATE SET each of `columns` to the new value;
    executed with one parameter per column. Other columns keep what they had. Built once per table."""
    stmt = dialect_insert(dialect_name, table)
    return stmt.on_conflict_do_update(index_elements=[table.c[key]],
                                      set_={name: stmt.excluded[name] for name in columns})


async def bump_roster_version(session: AsyncSession, community_code: str) -> None:
    """In the transaction that changes what RosterRepository.get returns for the community: copies
    cached by any process are no longer right (storage.roster_cache). Incremented in SQL, so two
    concurrent changes give two versions."""
    await session.execute(update(CommunityRow).where(CommunityRow.code == community_code)
                          .values(roster_version=CommunityRow.roster_version + 1))
