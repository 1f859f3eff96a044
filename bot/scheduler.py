"""The clock for periodic jobs (APScheduler). Jobs only read deadlines from the database and act in
one unit of work each; nothing per ticket lives in memory, so a restart loses nothing."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.delivery import OutboxSender
from handlers import upkeep
from handlers.app import Conversations

log = logging.getLogger(__name__)
SWEEP_MINUTES = 10
REMINDER_MINUTES = 1


async def close_unrated(conversations: Conversations, sender: OutboxSender) -> None:
    try:
        sent = await conversations.system(upkeep.close_unrated)
    except Exception:  # the database may be away; the next tick tries again
        log.exception("closing unrated tickets failed")
        return
    if sent:
        sender.wake()


async def send_reminders(conversations: Conversations, sender: OutboxSender) -> None:
    try:
        sent = await conversations.system(upkeep.send_reminders)
    except Exception:  # the database may be away; the next tick tries again
        log.exception("sending reminders failed")
        return
    if sent:
        sender.wake()


@contextlib.contextmanager
def running(conversations: Conversations, sender: OutboxSender) -> Iterator[AsyncIOScheduler]:
    """Start the periodic jobs in the running event loop; stop them on exit."""
    scheduler = AsyncIOScheduler(timezone="UTC")
    scheduler.add_job(close_unrated, "interval", minutes=SWEEP_MINUTES, args=[conversations, sender],
                      id="close_unrated", coalesce=True, max_instances=1)
    # Every process may sweep: each due ticket is locked while one sweeper handles it (SKIP LOCKED),
    # and its stage is marked in that same transaction, so nothing is sent twice.
    scheduler.add_job(send_reminders, "interval", minutes=REMINDER_MINUTES, args=[conversations, sender],
                      id="send_reminders", coalesce=True, max_instances=1)
    scheduler.start()
    try:
        yield scheduler
    finally:
        scheduler.shutdown(wait=False)
