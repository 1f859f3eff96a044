"""Alembic: the stairway (up, down one, up again, for every revision) and head == storage.models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from storage.db import create_engine, migrate
from storage.migrations import current, downgrade, revisions, upgrade
from storage.models import Base


def _previous(revs: list[str], index: int) -> str:
    return revs[index - 1] if index > 0 else "base"


async def test_stairway(empty_database_url: str) -> None:
    revs = revisions()
    assert revs, "no migration scripts found"
    engine = create_engine(empty_database_url)
    try:
        assert await current(engine) is None
        for index, rev in enumerate(revs):
            await upgrade(engine, rev)
            assert await current(engine) == rev
            await downgrade(engine, "-1")
            assert await current(engine) == (None if index == 0 else revs[index - 1])
            if index == 0:
                async with engine.connect() as connection:
                    tables = await connection.run_sync(lambda c: inspect(c).get_table_names())
                assert set(tables) <= {"alembic_version"}, f"downgrade to base left {tables}"
            await upgrade(engine, rev)
            assert await current(engine) == rev
        await migrate(engine)
        assert await current(engine) == revs[-1]
        await downgrade(engine, "base")
        await migrate(empty_database_url)  # by URL too
        assert await current(engine) == revs[-1]
    finally:
        await engine.dispose()


async def test_migrate_twice_is_harmless(database_url: str, engine) -> None:
    await migrate(database_url)
    await migrate(engine)
    assert await current(engine) == revisions()[-1]


async def test_head_matches_models(engine) -> None:
    def diff(connection):
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)

    async with engine.connect() as connection:
        differences = await connection.run_sync(diff)
    assert differences == [], "storage/models.py and the migrations disagree; write a revision"


async def test_processes_starting_together_migrate_once(empty_database_url: str) -> None:
    """Three bot processes started at once on an empty database: each migrates (or finds it migrated)
    without failing on the others' tables. Real processes: Alembic keeps its running migration in
    module globals, so three migrations interleaved in one event loop would not be three bot starts."""
    import asyncio
    import sys

    script = "import asyncio, sys; from storage.db import migrate; asyncio.run(migrate(sys.argv[1]))"
    processes = [await asyncio.create_subprocess_exec(sys.executable, "-c", script, empty_database_url,
                                                      stderr=asyncio.subprocess.PIPE)
                 for _ in range(3)]
    outcomes = [(await p.wait(), (await p.stderr.read()).decode()[-2000:]) for p in processes]  # type: ignore[union-attr]
    assert [code for code, _ in outcomes] == [0, 0, 0], outcomes
    engine = create_engine(empty_database_url)
    try:
        assert await current(engine) == revisions()[-1]
    finally:
        await engine.dispose()
