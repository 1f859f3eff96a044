"""Which errors are a database outage, how polling treats them, and start-up retries (issue 5)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import asyncpg
import pytest
from aiogram.exceptions import TelegramServerError, TelegramUnauthorizedError
from aiogram.methods import GetMe
from sqlalchemy import exc as sa_exc

from bot import polling, runtime
from bot.outage import is_database_unavailable
from bot.settings import Settings


def wrapped(error: BaseException, kind=sa_exc.OperationalError) -> BaseException:
    try:
        try:
            raise error
        except BaseException as inner:
            raise kind("SELECT 1", {}, inner) from inner
    except BaseException as outer:
        return outer


@pytest.mark.parametrize("error", [
    wrapped(ConnectionRefusedError(111, "refused")),
    wrapped(asyncpg.ConnectionDoesNotExistError("gone"), sa_exc.InterfaceError),
    wrapped(OSError("reset"), sa_exc.DBAPIError),
    ConnectionResetError(),
    TimeoutError(),
    sa_exc.TimeoutError("QueuePool limit"),
])
def test_outage_errors(error):
    assert is_database_unavailable(error)


@pytest.mark.parametrize("error", [
    ValueError("bad input"), KeyError("x"), wrapped(ValueError("x"), sa_exc.IntegrityError),
    sa_exc.ProgrammingError("SELECT", {}, Exception("syntax")),
])
def test_bugs_are_not_outages(error):
    assert not is_database_unavailable(error)


class FakeBot:
    """Hands out the same updates until the poll confirms them (offset), like Telegram."""

    def __init__(self, update_ids: list[int]) -> None:
        self.pending = list(update_ids)

    async def get_updates(self, offset=None, **kwargs):
        if offset is not None:
            self.pending = [u for u in self.pending if u >= offset]
        if not self.pending:
            raise asyncio.CancelledError  # nothing left: end the test's poll loop
        return [SimpleNamespace(update_id=u) for u in self.pending]


class FakeDispatcher:
    def __init__(self, failures: dict[int, list[BaseException]]) -> None:
        self.failures, self.handled = failures, []

    async def feed_update(self, bot, update, **kwargs):
        queue = self.failures.get(update.update_id)
        if queue:
            raise queue.pop(0)
        if update.update_id not in self.handled:
            self.handled.append(update.update_id)


async def run_poll(monkeypatch, dispatcher: FakeDispatcher, bot: FakeBot) -> None:
    async def instant(delay):
        return None

    monkeypatch.setattr(polling, "_sleep", instant)
    with pytest.raises(asyncio.CancelledError):
        await polling.poll(bot, dispatcher)


async def test_an_update_waits_out_a_long_outage(monkeypatch):
    outage = [wrapped(ConnectionRefusedError(111, "refused")) for _ in range(polling.MAX_ATTEMPTS * 4)]
    dispatcher = FakeDispatcher({2: outage})
    await run_poll(monkeypatch, dispatcher, FakeBot([1, 2, 3]))
    # Never skipped, however long the database was away (the others of its batch went on meanwhile).
    assert sorted(dispatcher.handled) == [1, 2, 3] and outage == []


async def test_an_update_that_keeps_failing_is_left_behind(monkeypatch):
    dispatcher = FakeDispatcher({2: [ValueError("bug")] * (polling.MAX_ATTEMPTS + 1)})
    await run_poll(monkeypatch, dispatcher, FakeBot([1, 2, 3]))
    assert dispatcher.handled == [1, 3]


class SlowDispatcher(FakeDispatcher):
    """Each update takes a few loop turns; records how many were being handled at once."""

    def __init__(self) -> None:
        super().__init__({})
        self.started: list[int] = []
        self.running = self.most_at_once = 0

    async def feed_update(self, bot, update, **kwargs):
        self.started.append(update.update_id)
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        for _ in range(3):
            await asyncio.sleep(0)
        self.running -= 1
        await super().feed_update(bot, update)


@pytest.mark.parametrize("concurrency", [1, 2, 5])
async def test_a_batch_is_handled_a_few_updates_at_a_time_in_order(concurrency):
    dispatcher = SlowDispatcher()
    with pytest.raises(asyncio.CancelledError):
        await polling.poll(FakeBot(list(range(1, 21))), dispatcher, concurrency=concurrency)
    assert dispatcher.most_at_once == concurrency
    assert dispatcher.started == list(range(1, 21)) and sorted(dispatcher.handled) == list(range(1, 21))


def test_update_concurrency_defaults_by_database():
    assert runtime.update_concurrency(Settings(), "postgresql") == polling.UPDATE_CONCURRENCY == 4
    assert runtime.update_concurrency(Settings(), "sqlite") == polling.WHOLE_BATCH
    assert runtime.update_concurrency(Settings(update_concurrency=8), "postgresql") == 8


async def test_start_up_calls_retry_passing_failures(monkeypatch):
    async def instant(delay):
        return None

    monkeypatch.setattr(runtime, "_sleep", instant)
    failures = [TelegramServerError(GetMe(), "Internal Server Error")] * 3
    calls = []

    async def get_me():
        calls.append(1)
        if failures:
            raise failures.pop()
        return "me"

    assert await runtime.with_retry(get_me, "getMe") == "me"
    assert len(calls) == 4

    async def refused():
        raise TelegramUnauthorizedError(GetMe(), "Unauthorized")

    with pytest.raises(TelegramUnauthorizedError):
        await runtime.with_retry(refused, "getMe")


async def test_a_loop_that_dies_of_a_bug_is_started_again(monkeypatch, caplog):
    monkeypatch.setattr(runtime, "RESTART_DELAY", 0)
    runs = []

    async def loop():
        runs.append(1)
        if len(runs) == 1:
            raise TypeError("a bug outside any one update")
        if len(runs) == 2:
            return  # a loop that should never end, ending
        raise asyncio.CancelledError  # the bot is stopping

    with pytest.raises(asyncio.CancelledError):
        await runtime.keep_running(loop, "polling")
    assert len(runs) == 3
    assert "polling stopped unexpectedly" in caplog.text and "polling ended unexpectedly" in caplog.text


def test_startup_objects_are_exempted_from_the_garbage_collector():
    """A full collection would walk every start-up object (aiogram's validators, SQLAlchemy's compiled
    state) again each time, pausing replies; `gridbot run` freezes them once assembled."""
    import gc

    from bot.runtime import exempt_startup_objects_from_gc

    thresholds = gc.get_threshold()
    try:
        frozen = exempt_startup_objects_from_gc()
        assert frozen == gc.get_freeze_count() > 10_000  # aiogram alone brings far more
        assert gc.get_threshold() == (10_000, *thresholds[1:])  # and the youngest is collected less often
    finally:
        gc.unfreeze()  # the rest of the test session collects as usual
        gc.set_threshold(*thresholds)
