"""The periodic jobs: registered at start, each tick one unit of work, a failing tick logged not fatal."""

from __future__ import annotations

import asyncio

from bot import scheduler


class FakeConversations:
    def __init__(self, result=None, error: Exception | None = None, codes=("XK",)) -> None:
        self.result, self.error, self.runs, self.codes, self.ran = result, error, 0, list(codes), []

    async def community_codes(self, *, with_work_due: bool = False):
        self.asked_due = with_work_due
        return self.codes

    async def system(self, work, community_code=None):
        self.runs += 1
        self.ran.append(community_code)
        if self.error and community_code in (None, self.codes[0]):
            raise self.error
        return self.result


class FakeSender:
    def __init__(self) -> None:
        self.woken = 0

    def wake(self) -> None:
        self.woken += 1


async def test_every_job_is_registered_and_a_tick_wakes_the_sender_only_when_it_queued():
    conversations, sender = FakeConversations(result=["a message"]), FakeSender()
    with scheduler.running(conversations, sender) as running:
        ids = {job.id for job in running.get_jobs()}
    assert ids == {"send_reminders", "send_announcements", "close_unrated", "weekly_summary"}
    await scheduler.run_job(conversations, sender, lambda ctx: asyncio.sleep(0), "a job")
    assert (conversations.runs, sender.woken) == (1, 1)
    quiet = FakeConversations(result=[])
    await scheduler.run_job(quiet, sender, lambda ctx: asyncio.sleep(0), "a job")
    assert sender.woken == 1


async def test_a_failing_tick_is_logged_and_the_next_one_still_runs(caplog):
    failing, sender = FakeConversations(error=ConnectionError("database away")), FakeSender()
    await scheduler.run_job(failing, sender, lambda ctx: asyncio.sleep(0), "sending reminders")
    await scheduler.run_job(failing, sender, lambda ctx: asyncio.sleep(0), "sending reminders")
    assert failing.runs == 2 and sender.woken == 0
    assert "sending reminders failed" in caplog.text


async def test_a_tick_runs_for_every_community_and_one_failing_does_not_stop_the_others(caplog):
    conversations, sender = FakeConversations(result=["a message"], error=ConnectionError("x"),
                                              codes=("XK", "HX", "CH")), FakeSender()
    await scheduler.run_job(conversations, sender, lambda ctx: asyncio.sleep(0), "sending reminders")
    assert conversations.ran == ["XK", "HX", "CH"] and sender.woken == 1
    assert "sending reminders failed (community XK)" in caplog.text


async def test_the_update_log_is_pruned_daily_keeping_eight_days(engine):
    from datetime import UTC, datetime, timedelta

    from dialog_support import FakeClock

    from storage.uow import uow_factory

    clock = FakeClock(datetime(2026, 11, 1, tzinfo=UTC))
    for update_id, age_days in ((1, 9), (2, 7)):
        clock.now = datetime(2026, 11, 22, tzinfo=UTC) - timedelta(days=age_days)
        async with uow_factory(engine, clock=clock)() as uow:
            assert await uow.updates.record(update_id)
            await uow.commit()
    with scheduler.running(FakeConversations(), FakeSender(), engine) as running:
        assert "prune_update_log" in {job.id for job in running.get_jobs()}
    await scheduler.prune_update_log(engine, now=lambda: datetime(2026, 11, 22, tzinfo=UTC))
    async with uow_factory(engine)() as uow:
        assert await uow.updates.record(1) is True  # nine days old: forgotten
        assert await uow.updates.record(2) is False  # a week old: still known


async def test_deadline_sweeps_ask_only_for_the_communities_with_work_due():
    conversations, sender = FakeConversations(result=[]), FakeSender()
    with scheduler.running(conversations, sender) as running:
        jobs = {job.id: job for job in running.get_jobs()}
    assert jobs["send_reminders"].kwargs == jobs["close_unrated"].kwargs == {"sweep": True}
    assert jobs["send_announcements"].kwargs == {} and jobs["weekly_summary"].kwargs == {}
    await scheduler.run_job(conversations, sender, lambda ctx: asyncio.sleep(0), "sending reminders",
                            sweep=True)
    assert conversations.asked_due is True
