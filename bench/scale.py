"""Benchmark 3, Scale: a million tickets, and how the bot's hot paths cope.

    uv run python -m bench.scale [--quick] [--db sqlite|postgresql|both] [--tickets N] [--reuse] [--profile]

Generates N tickets with their ledger over two years (bench.scale_data, in a child process so this
process's RSS is the bot's, not the generator's), migrates to head (the indexes of the newest
revisions), then measures through the real code paths (Conversations.system / .handle):

- the weekly summary of the last complete week (handlers.summary.prepare; chart rendering also alone);
- sweep ticks (handlers.upkeep.send_reminders and close_unrated): ten minutes apart with the work that
  fell due, and the same moment again with nothing due;
- /my for the resident with the most tickets and for a typical one; /tasks for the busiest worker;
- RSS of this process (now and peak) after all of it.

The SQL each operation emits is captured and EXPLAINed (ANALYZE on PostgreSQL, QUERY PLAN on SQLite)
into bench/out/scale-explain-<db>.txt; --profile writes a pyinstrument profile per operation to
bench/out/scale-profile-<db>-<op>.txt. --reuse keeps the generated database (bench/out/scale-<N>.db,
or PostgreSQL database gridbot_bench_scale_<N>) and uses it again next time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bench import common
from bench.scale_data import NOW
from gridcore.metrics import Week
from handlers import summary, upkeep
from handlers.app import Conversations
from handlers.context import Context
from handlers.inputs import Incoming, Sender
from handlers.texts import Texts
from storage import testing
from storage.db import create_engine, migrate
from storage.models import TicketRow
from storage.uow import uow_factory

QUICK_TICKETS = 20_000
FULL_TICKETS = 1_000_000
REPEAT = 5
# bot.scheduler's intervals (not imported: it imports aiogram, whose ~140 MB would blur this process's RSS)
REMINDER_MINUTES = 1
SWEEP_MINUTES = 10
OPEN = ("submitted", "assigned", "accepted", "resolved", "reopened", "escalated", "transferred")


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self):
        return self.now


class Statements:
    """The SQL the engine sends while `capturing` names an operation (SELECTs only)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.capturing: str | None = None
        self.seen: dict[str, list[tuple[str, Any]]] = {}
        event.listen(engine.sync_engine, "before_cursor_execute", self._on_execute)

    def _on_execute(self, _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any,
                    _many: bool) -> None:
        if self.capturing and statement.lstrip().upper().startswith("SELECT"):
            found = self.seen.setdefault(self.capturing, [])
            if all(statement != known for known, _ in found):
                found.append((statement, parameters))

    @contextlib.contextmanager
    def capture(self, name: str):
        self.capturing = name
        try:
            yield
        finally:
            self.capturing = None


async def explain(engine: AsyncEngine, statements: Statements) -> str:
    """Each captured statement with its plan (and, on SQLite, how long it took alone)."""
    postgres = engine.dialect.name == "postgresql"
    out = []
    for operation, found in statements.seen.items():
        for statement, parameters in found:
            if "FROM tickets" not in statement and "FROM ticket_events" not in statement \
                    and "JOIN tickets" not in statement:
                continue
            shown = repr(parameters)
            shown = shown if len(shown) < 300 else shown[:300] + f"... ({len(parameters)} parameters)"
            out.append(f"=== {operation}\n{statement}\n-- parameters: {shown}\n")
            async with engine.connect() as connection:
                if postgres:
                    result = await connection.exec_driver_sql(
                        "EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                    out.extend(row[0] for row in result)
                else:
                    result = await connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
                    depth: dict[int, int] = {0: 0}
                    for node, parent, _, detail in result:
                        depth[node] = depth.get(parent, 0) + 1
                        out.append("  " * depth[node] + detail)
                    started = time.perf_counter()
                    await connection.exec_driver_sql(statement, parameters)
                    out.append(f"-- ran alone in {(time.perf_counter() - started) * 1000:.1f} ms")
                await connection.rollback()
            out.append("")
    return "\n".join(out)


@contextlib.asynccontextmanager
async def database(backend: str, tickets: int, reuse: bool) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """A database holding `tickets` generated tickets, and how generating it went."""
    if not reuse:
        async with common.fresh_database(backend) as url:
            yield url, _generate(url, tickets)
        return
    if backend == "sqlite":
        common.OUT_DIR.mkdir(exist_ok=True)
        url = testing.sqlite_url(common.OUT_DIR / f"scale-{tickets}.db")
    else:
        admin = make_url(testing.pg_admin_url())
        url = admin.set(database=f"gridbot_bench_scale_{tickets}").render_as_string(hide_password=False)
    if await _count(url) == tickets:
        yield url, {"reused": True}
        return
    if backend == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{common.OUT_DIR / f'scale-{tickets}.db'}{suffix}").unlink(missing_ok=True)
    else:
        await testing.drop_pg_database(testing.pg_admin_url(), url)
        await testing.create_pg_database(testing.pg_admin_url(), make_url(url).database)
    yield url, _generate(url, tickets)


async def _count(url: str) -> int | None:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return int(await connection.scalar(select(func.count()).select_from(TicketRow)) or 0)
    except Exception:  # no such database or no tables yet: generate it
        return None
    finally:
        await engine.dispose()


def _generate(url: str, tickets: int) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-m", "bench.scale_data", url, "--tickets", str(tickets)],
                          check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def timings(seconds: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    return {"runs": len(ms), "median_ms": round(statistics.median(ms), 1), "max_ms": round(max(ms), 1),
            "min_ms": round(min(ms), 1)}


class Bench:
    def __init__(self, engine: AsyncEngine, backend: str, profile: bool) -> None:
        self.engine = engine
        self.backend = backend
        self.profile = profile
        self.clock = Clock()
        self.conversations = Conversations(uow_factory(engine, clock=self.clock), Texts(), clock=self.clock,
                                           community_code="XK", bot_username="gridbot_bench_bot")
        self.statements = Statements(engine)
        first = int(time.time() * 1000)  # new update ids on every run against a reused database
        self.update_ids = iter(range(first, first + 10**9))
        self.chart_seconds: list[float] = []

    async def timed(self, name: str, run: Callable[[], Awaitable[Any]], repeat: int = REPEAT) -> list[float]:
        """Run once with the SQL captured (and profiled with --profile, not counted), then `repeat` times."""
        with self.statements.capture(name):
            if self.profile:
                from pyinstrument import Profiler

                profiler = Profiler(async_mode="enabled")
                with profiler:
                    await run()
                path = common.OUT_DIR / f"scale-profile-{self.backend}-{name}.txt"
                path.write_text(profiler.output_text(unicode=True, show_all=False), encoding="utf-8")
            else:
                await run()
        seconds = []
        for _ in range(repeat):
            started = time.perf_counter()
            await run()
            seconds.append(time.perf_counter() - started)
        return seconds

    async def system(self, work: Callable[[Context], Awaitable[Any]]) -> Any:
        result: list[Any] = []

        async def job(ctx: Context) -> None:
            result.append(await work(ctx))

        await self.conversations.system(job)
        return result[0]

    async def command(self, user_id: int, command: str) -> None:
        incoming = Incoming.parse_text(next(self.update_ids), user_id, Sender(user_id, "bench"), command,
                                       is_private=True, message_id=1)
        handled = await self.conversations.handle(incoming)
        assert handled.messages, f"{command} answered nothing"

    async def weekly_summary(self) -> dict[str, Any]:
        week = Week.before(NOW, "Asia/Shanghai")
        render = summary.render_chart

        def timed_render(*args: Any) -> Any:
            started = time.perf_counter()
            try:
                return render(*args)
            finally:
                self.chart_seconds.append(time.perf_counter() - started)

        reports: list[summary.Report] = []
        with tempfile.TemporaryDirectory(prefix="gridbot-charts-") as folder:
            async def run() -> None:
                reports[:] = await self.system(lambda ctx: summary.prepare(ctx, week, Path(folder)))

            summary.render_chart = timed_render  # type: ignore[assignment]
            try:
                self.chart_seconds.clear()
                seconds = await self.timed("summary", run)
                charts = self.chart_seconds[-len(seconds) * len(reports):]
            finally:
                summary.render_chart = render  # type: ignore[assignment]
        per_run = [sum(charts[i * len(reports):(i + 1) * len(reports)]) for i in range(len(seconds))]
        total = reports[0].summary.total
        return {"week": week.label, "reports": len(reports), "new": total.new, "resolved": total.resolved,
                "still_open": total.still_open, "rated": total.rated, **timings(seconds),
                "charts": timings(per_run),
                "without_charts": timings([s - c for s, c in zip(seconds, per_run, strict=True)])}

    async def sweep(self, tick: Callable[[Callable[[Context], Awaitable[Any]]], Awaitable[int]] | None = None,
                    label: str = "sweep") -> dict[str, Any]:
        """Each job as the scheduler runs it: send_reminders every minute, close_unrated every ten; a tick
        with what fell due since the last one, then the same moment again (nothing due). `tick(job)` runs
        one tick (default: the job in this bench's community); the first one's SQL goes under `label`."""
        tick = tick or self.system
        result: dict[str, Any] = {}
        async with self.engine.connect() as connection:  # after an earlier run's ticks, on a reused database
            latest = await connection.scalar(select(func.max(TicketRow.updated_at)))
        base = max(NOW, latest or NOW)
        for name, job, minutes in (("send_reminders", upkeep.send_reminders, REMINDER_MINUTES),
                                   ("close_unrated", upkeep.close_unrated, SWEEP_MINUTES)):
            due: list[float] = []
            idle: list[float] = []
            done: list[int] = []
            for round_ in range(REPEAT + 1):
                self.clock.now = base + timedelta(minutes=minutes * (round_ + 1))
                if job is upkeep.close_unrated:  # keep the reminders caught up too (not timed here)
                    await tick(upkeep.send_reminders)
                with self.statements.capture(label) if round_ == 0 else contextlib.nullcontext():
                    started = time.perf_counter()
                    done.append(await tick(job))
                    due.append(time.perf_counter() - started)
                started = time.perf_counter()
                assert await tick(job) == 0, "the same moment again must find nothing due"
                idle.append(time.perf_counter() - started)
            # the first tick warmed up and captured the SQL
            result[name] = {"every_minutes": minutes, "done_per_tick": done[1:], "due_tick": timings(due[1:]),
                            "idle_tick": timings(idle[1:])}
        self.clock.now = NOW
        return result

    async def people(self) -> dict[str, int]:
        """The resident with the most tickets, a typical (median) one, and the busiest worker."""
        async with self.engine.connect() as connection:
            counts = (await connection.execute(text(
                "SELECT reporter_user_id, count(*) AS n FROM tickets GROUP BY reporter_user_id "
                "ORDER BY n DESC, reporter_user_id"))).all()
            busiest = (await connection.execute(text(
                "SELECT assignee, count(*) AS n FROM tickets WHERE status IN "
                f"({', '.join(repr(s) for s in OPEN)}) AND assignee IS NOT NULL "
                "GROUP BY assignee ORDER BY n DESC, assignee LIMIT 1"))).one()
        heavy, typical = counts[0], counts[len(counts) // 2]
        return {"heavy_resident": heavy[0], "heavy_resident_tickets": heavy[1],
                "typical_resident": typical[0], "typical_resident_tickets": typical[1],
                "busy_worker": busiest[0], "busy_worker_open": busiest[1]}

    async def shape(self) -> dict[str, Any]:
        async with self.engine.connect() as connection:
            statuses = dict((await connection.execute(text(
                "SELECT status, count(*) FROM tickets GROUP BY status ORDER BY status"))).all())
            events = await connection.scalar(text("SELECT count(*) FROM ticket_events"))
        open_ = sum(n for s, n in statuses.items() if s in OPEN)
        return {"statuses": statuses, "open": open_, "events": events}


async def run_backend(backend: str, tickets: int, reuse: bool, profile: bool) -> dict[str, Any]:
    async with database(backend, tickets, reuse) as (url, generated):
        engine = create_engine(url)
        try:
            started = time.perf_counter()
            await migrate(engine)
            migrated = time.perf_counter() - started
            bench = Bench(engine, backend, profile)
            result: dict[str, Any] = {"backend": backend, "tickets": tickets, "generation": generated,
                                      "migrate_to_head_seconds": round(migrated, 1), **await bench.shape()}
            result["rss_before_mb"] = round(common.rss_mb(), 1)
            who = await bench.people()
            result["people"] = who
            result["summary"] = await bench.weekly_summary()
            result["rss_after_summary_mb"] = round(common.rss_mb(), 1)
            result["sweep"] = await bench.sweep()
            result["my_heavy"] = timings(await bench.timed(
                "my_heavy", lambda: bench.command(who["heavy_resident"], "/my")))
            result["my_typical"] = timings(await bench.timed(
                "my_typical", lambda: bench.command(who["typical_resident"], "/my")))
            result["tasks_busy"] = timings(await bench.timed(
                "tasks_busy", lambda: bench.command(who["busy_worker"], "/tasks")))
            result["rss_mb"] = round(common.rss_mb(), 1)
            result["rss_peak_mb"] = round(common.rss_mb(peak=True), 1)
            plans = await explain(engine, bench.statements)
            path = common.OUT_DIR / f"scale-explain-{backend}.txt"
            path.write_text(plans, encoding="utf-8")
            result["explain"] = str(path.relative_to(common.OUT_DIR.parent.parent))
            return result
        finally:
            await engine.dispose()


async def main() -> None:
    args = common.parser(__doc__.splitlines()[0])
    args.add_argument("--tickets", type=int, default=None, help="tickets to generate (default 1,000,000)")
    args.add_argument("--reuse", action="store_true", help="keep the generated database and use it again")
    args.add_argument("--profile", action="store_true", help="a pyinstrument profile of each operation")
    parsed = args.parse_args()
    tickets = parsed.tickets or (QUICK_TICKETS if parsed.quick else FULL_TICKETS)
    common.OUT_DIR.mkdir(exist_ok=True)
    for backend in common.backends(parsed.db):
        result = await run_backend(backend, tickets, parsed.reuse, parsed.profile)
        result["targets"] = {"summary_ms_postgresql": 1000, "sweep_tick_ms": 100, "rss_mb": 150}
        common.write_result(f"scale-{backend}", result)


if __name__ == "__main__":
    asyncio.run(main())
