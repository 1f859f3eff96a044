"""Small helpers shared by the repositories."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite

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
