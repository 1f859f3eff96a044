"""The real bot's memory: RSS of `gridbot run` (aiogram and all) idle on an empty database (its first
start, which migrates it, then a restart on it at head), and on the 1,000,000-ticket database of
bench.scale while it runs its jobs and posts a weekly summary.

    uv run python -m bench.bot_memory [--db sqlite|postgresql|both] [--tickets N] [--idle-only]

The big database must exist already (`uv run python -m bench.scale --reuse` makes and keeps it). The
summary job is set to every minute (SUMMARY_CRON), so within about a minute of starting, the bot
sends the last complete week's summary: text and chart to the staff group and to each grid group.
RSS is read from /proc (VmRSS now, VmHWM peak) once the staff group has its chart.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench import common
from bench.harness import BotProcess
from bench.scale_data import FIRST_RESIDENT, RESIDENTS
from bot.cli import read_roster
from bot.sandbox_world import groups_for, personas_for
from sandbox.server import Sandbox, SandboxServer
from storage import testing
from storage.db import create_engine

ROSTER = Path(__file__).resolve().parents[1] / "examples" / "roster.yaml"
IDLE_SECONDS = 10


def big_database_url(backend: str, tickets: int) -> str:
    if backend == "sqlite":
        path = common.OUT_DIR / f"scale-{tickets}.db"
        if not path.exists():
            raise SystemExit(f"{path} is missing: run `uv run python -m bench.scale --reuse` first")
        return testing.sqlite_url(path)
    admin = make_url(testing.pg_admin_url())
    return admin.set(database=f"gridbot_bench_scale_{tickets}").render_as_string(hide_password=False)


def expected_charts(community: Any) -> int:
    """One chart for the community and one per grid that has a group."""
    return 1 + sum(1 for grid in community.grids if grid.group_chat_id is not None)


def memory(pid: int) -> dict[str, float]:
    return {"rss_mb": round(common.rss_mb(pid), 1), "peak_rss_mb": round(common.rss_mb(pid, peak=True), 1)}


async def forget_scheduled_sends(database_url: str) -> None:
    """Scheduled sends are recorded once per occurrence under negative update ids; forget them so this
    run's bot sends the week's summary again (an earlier run against this database already did)."""
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("DELETE FROM processed_updates WHERE update_id < 0"))
    finally:
        await engine.dispose()


async def measure(database_url: str, *, wait_for_summary: bool) -> dict[str, Any]:
    community = read_roster(ROSTER)
    # The generated residents exist and have started the bot, so reminders reach them.
    residents = [{"id": FIRST_RESIDENT + k, "name": f"居民{k}"} for k in range(RESIDENTS)]
    sandbox = Sandbox([*personas_for(community), *residents], groups=groups_for(community),
                      personas_started=True, first_update_id=int(time.time()))
    async with SandboxServer(sandbox=sandbox) as server:
        with tempfile.TemporaryDirectory(prefix="gridbot-memory-") as folder:
            bot = BotProcess(server.base_url, database_url, log_path=Path(folder) / "bot.log",
                             env={"SUMMARY_CRON": "* * * * *", "SUMMARY_CHART_DIR": folder})
            await bot.start()
            started = time.monotonic()
            try:
                await asyncio.sleep(IDLE_SECONDS)
                result: dict[str, Any] = {"idle": memory(bot.pid)}
                if wait_for_summary:
                    # The summary's charts are drawn into the chart folder as it is prepared; its messages
                    # then queue behind the reminders at Telegram's 20/min per group.
                    charts = expected_charts(community)
                    deadline = time.monotonic() + 150
                    while len(list(Path(folder).rglob("*.png"))) < charts:
                        if time.monotonic() > deadline:
                            log = bot.log_text()[-2000:]
                            raise TimeoutError(f"the summary's {charts} charts were not drawn:\n{log}")
                        await asyncio.sleep(0.5)
                    await asyncio.sleep(5)  # queued in the same transaction; let the sender get going
                    result["after_summary"] = memory(bot.pid)
                    result["seconds_until_summary"] = round(time.monotonic() - started, 1)
            finally:
                await bot.stop()
    return result


async def main() -> None:
    args = common.parser(__doc__ or "")
    args.add_argument("--tickets", type=int, default=1_000_000)
    args.add_argument("--idle-only", action="store_true", help="only the empty database (no big one)")
    options = args.parse_args()
    results: dict[str, Any] = {}
    for backend in common.backends(options.db):
        async with common.fresh_database(backend) as empty_url:
            empty = await measure(empty_url, wait_for_summary=False)
            # Started again on the database the first start migrated: nothing to migrate.
            empty["restart_at_head"] = (await measure(empty_url, wait_for_summary=False))["idle"]
        if options.idle_only:
            results[backend] = {"empty_database": empty}
            continue
        big_url = big_database_url(backend, options.tickets)
        await forget_scheduled_sends(big_url)
        big = await measure(big_url, wait_for_summary=True)
        results[backend] = {"empty_database": empty, f"{options.tickets}_tickets": big}
    common.write_result("bot-memory", {"results": results})


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
