"""Alembic, driven from code: `alembic_config()`, `upgrade()`, `downgrade()`, `current()`, `revisions()`.

They take an engine (storage.db.create_engine makes one; storage.db.migrate also takes a URL): this
package never creates engines, so storage.db can import it and not the other way round.

The migration scripts live in `storage/migrations/versions/`. For humans, `storage/alembic.ini`
points here too:

    GRIDBOT_DATABASE_URL=sqlite+aiosqlite:///./gridbot.db uv run alembic -c storage/alembic.ini upgrade head
    uv run alembic -c storage/alembic.ini revision -m "add something"   # then write the ops by hand
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS_DIR = Path(__file__).resolve().parent


def alembic_config(url: str | None = None) -> Config:
    """An Alembic Config whose script_location is this package (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def revisions() -> list[str]:
    """Every revision id, oldest first."""
    script = ScriptDirectory.from_config(alembic_config())
    return [rev.revision for rev in reversed(list(script.walk_revisions("base", "heads")))]


# Several bot processes may start at once on one PostgreSQL: each migrates in one transaction that first
# takes this advisory lock, so the others wait and then find the database at head (DDL is transactional
# there). SQLite's BEGIN IMMEDIATE serialises them anyway.
MIGRATION_LOCK = (0x67726964, 2)  # "grid", migrations


async def _run(engine: AsyncEngine, fn: Callable[..., Any], *args: Any) -> None:
    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(text("SELECT pg_advisory_xact_lock(:class_id, :object_id)"),
                                     {"class_id": MIGRATION_LOCK[0], "object_id": MIGRATION_LOCK[1]})
        await connection.run_sync(_with_connection, fn, *args)


def _with_connection(connection: Connection, fn: Callable[..., Any], *args: Any) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    fn(config, *args)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    await _run(engine, command.upgrade, revision)


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    await _run(engine, command.downgrade, revision)


async def current(engine: AsyncEngine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    from alembic.runtime.migration import MigrationContext

    found: list[str | None] = []

    def read(config: Config) -> None:
        context = MigrationContext.configure(config.attributes["connection"])
        found.append(context.get_current_revision())

    await _run(engine, read)
    return found[0]
