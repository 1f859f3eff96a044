"""Throw-away databases for tests (used by tests/conftest.py; no pytest import here).

PostgreSQL: the admin URL (GRIDBOT_TEST_PG_URL, default postgres@127.0.0.1:5432/postgres) is used
only to CREATE/DROP uniquely named databases `gridbot_test_<pid>_<token>_<n>`.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from itertools import count
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import create_engine
from storage.models import Base

PG_URL_ENV = "GRIDBOT_TEST_PG_URL"
REQUIRE_PG_ENV = "GRIDBOT_REQUIRE_PG"
DEFAULT_PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"

T = TypeVar("T")
_names = count(1)
_token = secrets.token_hex(2)


def run_in_thread(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion on its own loop in a worker thread.

    For sync (e.g. session-scoped) fixtures: it never touches the caller's event loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def pg_admin_url() -> str:
    return os.environ.get(PG_URL_ENV) or DEFAULT_PG_URL


def safe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _admin_engine(admin_url: str) -> AsyncEngine:
    return create_engine(admin_url, isolation_level="AUTOCOMMIT", pool_pre_ping=False)


async def pg_unreachable(admin_url: str, timeout: float = 3.0) -> str | None:
    """None when PostgreSQL answers at admin_url, else why not."""
    engine = create_engine(admin_url, connect_args={"timeout": timeout})
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as error:  # any failure means "not usable for tests"; say which
        return f"{type(error).__name__}: {error}"
    finally:
        await engine.dispose()
    return None


def new_database_name() -> str:
    return f"gridbot_test_{os.getpid()}_{_token}_{next(_names)}"


async def create_pg_database(admin_url: str, name: str | None = None) -> str:
    """Create an empty database; returns its URL."""
    name = name or new_database_name()
    engine = _admin_engine(admin_url)
    try:
        async with engine.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await engine.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


async def drop_pg_database(admin_url: str, url_or_name: str) -> None:
    name = make_url(url_or_name).database if "://" in url_or_name else url_or_name
    engine = _admin_engine(admin_url)
    try:
        async with engine.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await engine.dispose()


async def truncate_all(url: str) -> None:
    """Empty every table of a migrated database (keeps alembic_version); ids restart."""
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            if engine.dialect.name == "postgresql":
                await connection.execute(text(f"TRUNCATE TABLE {names} RESTART IDENTITY CASCADE"))
            else:
                for table in reversed(Base.metadata.sorted_tables):
                    await connection.execute(table.delete())
    finally:
        await engine.dispose()


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def copy_sqlite(template: Path, target: Path) -> str:
    """Copy a (closed) SQLite database file, with its WAL if one is left; returns the URL."""
    shutil.copyfile(template, target)
    for suffix in ("-wal",):
        extra = Path(f"{template}{suffix}")
        if extra.exists():
            shutil.copyfile(extra, Path(f"{target}{suffix}"))
    return sqlite_url(target)
