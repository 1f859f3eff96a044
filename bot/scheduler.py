"""The clock for periodic jobs (APScheduler). Jobs only read deadlines from the database and act in
one unit of work each; nothing per ticket lives in memory, so a restart loses nothing."""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.delivery import OutboxSender
from bot.settings import Settings
from handlers import announcements, summary, upkeep
from handlers.app import Conversations
from handlers.context import Context
from storage.maintenance import prune

log = logging.getLogger(__name__)
SWEEP_MINUTES = 10
REMINDER_MINUTES = 1
ANNOUNCE_MINUTES = 1
PRUNE_HOURS = 24
# Update ids older than this are forgotten. Telegram redelivers for a day at most; announcements are
# caught up within 6 h and the weekly summary's record must outlive its week, so keep 8 days.
UPDATE_LOG_DAYS = 8


async def run_job(conversations: Conversations, sender: OutboxSender,
                  work: Callable[[Context], Awaitable[object]], what: str, *, sweep: bool = False) -> None:
    """One tick of a periodic job for every community served, one unit of work each (a community
    whose run fails does not hold up the others); wakes the sender when any queued messages.
    `sweep`: a deadline sweep, run only in the communities that have tickets due now."""
    try:
        codes = await conversations.community_codes(with_work_due=sweep)
    except Exception:  # the database may be away; the next tick (or next week's run) tries again
        log.exception("%s failed", what)
        return
    queued = False
    for code in codes:
        try:
            queued = bool(await conversations.system(work, code)) or queued
        except Exception:
            log.exception("%s failed (community %s)", what, code)
    if queued:
        sender.wake()


async def prune_update_log(engine: AsyncEngine, now: Callable[[], datetime] = lambda: datetime.now(UTC)
                           ) -> None:
    """The update log only grows otherwise (one row per update). Sent outbox rows stay: a ticket's
    card is edited in place through its outbox row, however old the ticket."""
    try:
        pruned = await prune(engine, updates_before=now() - timedelta(days=UPDATE_LOG_DAYS))
    except Exception:
        log.exception("pruning the update log failed")
        return
    if pruned.updates:
        log.info("forgot %d update ids older than %d days", pruned.updates, UPDATE_LOG_DAYS)


@contextlib.contextmanager
def running(conversations: Conversations, sender: OutboxSender, engine: AsyncEngine | None = None,
            settings: Settings | None = None) -> Iterator[AsyncIOScheduler]:
    """Start the periodic jobs in the running event loop (with `engine`, also the daily pruning of
    the update log); stop them on exit."""
    settings = settings or Settings(_env_file=None)
    scheduler = AsyncIOScheduler(timezone="UTC")
    # The weekly summary: SUMMARY_CRON (crontab fields) in TIMEZONE; by default Monday 09:00.
    cron = CronTrigger.from_crontab(settings.summary_cron, timezone=settings.timezone)
    chart_dir = Path(settings.summary_chart_dir)
    weekly = functools.partial(summary.send_weekly, chart_dir=chart_dir)
    scheduler.add_job(run_job, cron, args=[conversations, sender, weekly, "the weekly summary"],
                      id="weekly_summary",
                      coalesce=True, max_instances=1, misfire_grace_time=3600)
    scheduler.add_job(run_job, "interval", minutes=SWEEP_MINUTES,
                      args=[conversations, sender, upkeep.close_unrated, "closing unrated tickets"],
                      kwargs={"sweep": True}, id="close_unrated", coalesce=True, max_instances=1)
    # Every process may sweep: each due ticket is locked while one sweeper handles it (SKIP LOCKED),
    # and its stage is marked in that same transaction, so nothing is sent twice.
    scheduler.add_job(run_job, "interval", minutes=REMINDER_MINUTES,
                      args=[conversations, sender, upkeep.send_reminders, "sending reminders"],
                      kwargs={"sweep": True}, id="send_reminders", coalesce=True, max_instances=1)
    # Each occurrence is recorded in the update log with its outbox rows (one transaction), so every
    # process may sweep and none is sent twice.
    scheduler.add_job(run_job, "interval", minutes=ANNOUNCE_MINUTES,
                      args=[conversations, sender, announcements.send_due, "sending announcements"],
                      id="send_announcements", coalesce=True, max_instances=1)
    if engine is not None:
        scheduler.add_job(prune_update_log, "interval", hours=PRUNE_HOURS, args=[engine],
                          id="prune_update_log", coalesce=True, max_instances=1)
    scheduler.start()
    try:
        yield scheduler
    finally:
        scheduler.shutdown(wait=False)
