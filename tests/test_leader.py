"""One process leads (sends, runs the periodic jobs); the others stand by and take over when it dies."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select, text

from bot.leader import LEAD_LOCK, Leadership
from storage.outbox_store import OUTBOX_CHANNEL


async def until(check, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.02)


async def test_one_process_leads_and_another_takes_over_when_it_stops(engine, backend):
    started: list[str] = []

    def work(name: str):
        async def lead() -> None:
            started.append(name)
            await asyncio.Event().wait()  # until cancelled
        return lead

    first = Leadership(engine, retry_every=0.05, check_every=0.05)
    one = asyncio.create_task(first.run(work("first")))
    await until(lambda: started == ["first"])
    if backend == "sqlite":  # one process by construction: it leads at once
        one.cancel()
        return
    second = Leadership(engine, retry_every=0.05, check_every=0.05)
    two = asyncio.create_task(second.run(work("second")))
    await asyncio.sleep(0.3)  # several tries of the standby
    assert started == ["first"] and not second.leading.is_set()
    one.cancel()  # a stop (SIGTERM): its connection closes, the lock goes with it
    await asyncio.gather(one, return_exceptions=True)
    await until(lambda: started == ["first", "second"])
    assert second.leading.is_set()
    two.cancel()
    await asyncio.gather(two, return_exceptions=True)


async def test_a_leader_that_lost_its_session_steps_down(engine, backend):
    if backend == "sqlite":
        return
    leads = 0

    async def lead() -> None:
        nonlocal leads
        leads += 1
        await asyncio.Event().wait()

    leader = Leadership(engine, retry_every=0.05, check_every=0.05)
    task = asyncio.create_task(leader.run(lead))
    await until(lambda: leads == 1)
    async with engine.connect() as connection:  # as if the server had dropped the lead's session
        await connection.execute(text(
            "SELECT pg_terminate_backend(pid) FROM pg_locks"
            " WHERE locktype = 'advisory' AND classid = :class AND objid = :object"),
            {"class": LEAD_LOCK[0], "object": LEAD_LOCK[1]})
    await until(lambda: leads == 2)  # stepped down, then took the lead again on a new session
    async with engine.connect() as connection:
        holders = await connection.scalar(select(func.count()).select_from(text("pg_locks")).where(
            text("locktype = 'advisory' AND classid = :class AND objid = :object AND granted")),
            {"class": LEAD_LOCK[0], "object": LEAD_LOCK[1]})
    assert holders == 1
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_the_leader_hears_of_outbox_rows_committed_elsewhere(engine, backend):
    if backend == "sqlite":
        return
    woken = asyncio.Event()
    leader = Leadership(engine, on_notify=woken.set, retry_every=0.05, check_every=0.05)
    task = asyncio.create_task(leader.run(lambda: asyncio.Event().wait()))
    await until(leader.leading.is_set)
    async with engine.begin() as connection:
        await connection.execute(text(f"NOTIFY {OUTBOX_CHANNEL}"))
        await asyncio.sleep(0.1)
        assert not woken.is_set()  # a notification goes out with the commit
    async with asyncio.timeout(5):
        await woken.wait()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
