"""Database fixtures: every test that uses them runs on SQLite and on PostgreSQL, and a test of a module
marked `pytestmark = pytest.mark.memory` that needs no database (only uow_factory) runs on the
in-memory unit of work too (tests/fake_uow.py).

Fixtures (all function-scoped unless said otherwise):
  backend            "sqlite" | "postgresql" (| "memory") — parametrises the test over them
                     (ids [sqlite]/[postgresql]/[memory])
  database_url       URL of an empty database migrated to head, isolated per test
                     (SQLite: a copy of a migrated template file in tmp_path; PostgreSQL: one database
                     per session, `gridbot_test_<pid>_...`, all tables truncated before each test)
  engine             AsyncEngine on database_url (disposed after the test)
  uow_factory        storage.uow.uow_factory(engine): call it for a fresh SqlUnitOfWork
                     (memory: a FakeStorage, which makes a FakeUnitOfWork when called)
  outbox_store       storage.outbox_store.OutboxStore(engine)
  empty_database_url URL of a database with no tables at all (PostgreSQL: a fresh database, dropped after)
  make_engine        async factory for a test that picks the backend itself:
                     `engine = await make_engine("postgresql")` — migrated, clean, disposed after.
                     (PostgreSQL: the same session database as `engine`; don't use both in one test.)
Both scan, when the test is done, every group message the database queued for residents' names and
phone numbers (tests/pii_scan.py): a leak fails the test that caused it. uow_factory on memory scans
the fake's outbox the same way.

PostgreSQL comes from GRIDBOT_TEST_PG_URL (default postgresql+asyncpg://postgres@127.0.0.1:5432/postgres).
When it is unreachable the PostgreSQL variants are skipped, or fail when GRIDBOT_REQUIRE_PG=1.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from fake_uow import FakeStorage
from pii_scan import scan_database, scan_fake
from sqlalchemy.ext.asyncio import AsyncEngine

from gridcore.ports import UnitOfWork
from storage import testing
from storage.db import create_engine, migrate
from storage.outbox_store import OutboxStore
from storage.uow import uow_factory as make_uow_factory

BACKENDS = ("sqlite", "postgresql")
MEMORY = "memory"
# A test asking for any of these needs a real database: it stays off the in-memory backend.
DATABASE_FIXTURES = frozenset({"database_url", "engine", "outbox_store", "empty_database_url", "make_engine",
                               "_databases"})


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test using `backend` (itself or through a fixture) runs on each database; a test of a
    module marked `memory` that needs no database also on the in-memory unit of work."""
    if "backend" not in metafunc.fixturenames:
        return
    backends = BACKENDS
    needs_database = DATABASE_FIXTURES & set(metafunc.fixturenames)
    if metafunc.definition.get_closest_marker("memory") and not needs_database:
        backends = (*BACKENDS, MEMORY)
    metafunc.parametrize("backend", backends, indirect=True)


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    url = testing.pg_admin_url()
    error = testing.run_in_thread(testing.pg_unreachable(url))
    if error is not None:
        message = (
            f"PostgreSQL is unreachable at {testing.safe_url(url)} ({error}); "
            f"start it or point {testing.PG_URL_ENV} at one"
        )
        if os.environ.get(testing.REQUIRE_PG_ENV) == "1":
            message += f" — {testing.REQUIRE_PG_ENV}=1 requires the PostgreSQL tests"
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return url


@pytest.fixture(scope="session")
def pg_session_database(pg_admin_url: str) -> Iterator[str]:
    """One migrated PostgreSQL database for the whole run; tests truncate it before use."""
    url = testing.run_in_thread(testing.create_pg_database(pg_admin_url))
    try:
        testing.run_in_thread(migrate(url))
        yield url
    finally:
        testing.run_in_thread(testing.drop_pg_database(pg_admin_url, url))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once; each test gets a copy."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    testing.run_in_thread(migrate(testing.sqlite_url(path)))
    return path


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    return request.param  # from pytest_generate_tests


class _Databases:
    """Hands out clean migrated databases for one test."""

    def __init__(self, request: pytest.FixtureRequest, tmp_path: Path) -> None:
        self._request = request
        self._tmp_path = tmp_path
        self._copies = 0

    def clean_url(self, backend: str) -> str:
        if backend == "sqlite":
            self._copies += 1
            template = self._request.getfixturevalue("sqlite_template")
            return testing.copy_sqlite(template, self._tmp_path / f"gridbot-{self._copies}.db")
        if backend == "postgresql":
            url = self._request.getfixturevalue("pg_session_database")
            testing.run_in_thread(testing.truncate_all(url))
            return url
        raise ValueError(f"unknown backend {backend!r}; use one of {BACKENDS}")


@pytest.fixture
def _databases(request: pytest.FixtureRequest, tmp_path: Path) -> _Databases:
    return _Databases(request, tmp_path)


@pytest.fixture
def database_url(backend: str, _databases: _Databases) -> str:
    return _databases.clean_url(backend)


@pytest.fixture
def empty_database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield testing.sqlite_url(tmp_path / "empty.db")
        return
    admin_url = request.getfixturevalue("pg_admin_url")
    url = testing.run_in_thread(testing.create_pg_database(admin_url))
    try:
        yield url
    finally:
        testing.run_in_thread(testing.drop_pg_database(admin_url, url))


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    try:
        yield engine
        await scan_database(engine)  # issue 5: no resident's name or phone in any group message
    finally:
        await engine.dispose()


@pytest.fixture
def uow_factory(backend: str, request: pytest.FixtureRequest) -> Iterator[Callable[[], UnitOfWork]]:
    if backend != MEMORY:
        yield make_uow_factory(request.getfixturevalue("engine"))
        return
    storage = FakeStorage()
    yield storage
    scan_fake(storage)  # as the engine fixture does for a database


@pytest.fixture
def outbox_store(engine: AsyncEngine) -> OutboxStore:
    return OutboxStore(engine)


@pytest.fixture
async def make_engine(_databases: _Databases) -> AsyncIterator[Callable[[str], Awaitable[AsyncEngine]]]:
    engines: list[AsyncEngine] = []

    async def make(backend: str) -> AsyncEngine:
        engine = create_engine(_databases.clean_url(backend))
        engines.append(engine)
        return engine

    try:
        yield make
        for engine in engines:
            await scan_database(engine)
    finally:
        for engine in engines:
            await engine.dispose()
