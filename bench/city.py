"""Benchmark 3b, a city: street offices of communities with estates on one database, and the bot's hot
paths with a community filter among them.

    uv run python -m bench.city [--quick] [--db sqlite|postgresql|both] [--communities N] [--streets S]
                                [--tickets T] [--workers W] [--reuse] [--profile]

Full size: 300 communities in 30 street offices, 3,000,000 tickets over two years (bench.city_data, in
a child process; --workers processes write the rows on PostgreSQL). Measured through the real code
paths (Conversations.system / .handle, one Conversations per community as the bot's would be):

- one community's weekly summary with its charts (handlers.summary.prepare), the biggest and a median
  community;
- a street office's week: street_week(), each of its communities' summary as the bot prepares it today,
  and the same with numbers only (for_summary + summarize);
- sweep ticks over the city (city_tick(): the communities with work due, then the job in each), as the
  roster cache has it and again with every roster kept cached;
- /my for the resident with the most tickets and a typical one, /tasks for the busiest worker, and
  open_in / open_counts of a community.

The SQL of each operation is EXPLAINed into bench/out/city-explain-<db>.txt (as bench.scale does);
--reuse keeps the database (bench/out/city-<N>-<T>.db or gridbot_bench_city_<N>_<T>) for the next run
and for bench.city_memory (RSS with every roster loaded).
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
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from bench import common
from bench.scale import REPEAT, Bench, explain, timings
from bench.scale_data import NOW
from gridcore.metrics import Week
from handlers import street_summary, summary
from handlers.app import Conversations
from handlers.context import Context
from handlers.texts import Texts
from storage import testing
from storage.db import create_engine, migrate
from storage.models import CommunityRow, TicketRow
from storage.roster_cache import DEFAULT_TTL, cache_for
from storage.uow import uow_factory

FULL = {"communities": 300, "streets": 30, "tickets": 3_000_000}
QUICK = {"communities": 20, "streets": 2, "tickets": 40_000}
TARGETS_MS = {"community_summary": 1000, "street_summary": 10_000, "sweep_tick": 100, "my": 20, "tasks": 20}
OPEN = ("submitted", "assigned", "accepted", "resolved", "reopened", "escalated", "transferred")
RATING_DAYS = 7  # bench.city_data's communities all keep the example roster's rating_days

Job = Callable[[Context], Awaitable[Any]]


def database_name(communities: int, tickets: int) -> str:
    return f"gridbot_bench_city_{communities}_{tickets}"


@contextlib.asynccontextmanager
async def database(backend: str, size: dict[str, int], workers: int,
                   reuse: bool) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """A database holding the generated city, and how generating it went (or that it was reused)."""
    if not reuse:
        async with common.fresh_database(backend) as url:
            yield url, _generate(url, size, workers)
        return
    sqlite_path = common.OUT_DIR / f"city-{size['communities']}-{size['tickets']}.db"
    if backend == "sqlite":
        common.OUT_DIR.mkdir(exist_ok=True)
        url = testing.sqlite_url(sqlite_path)
    else:
        admin = make_url(testing.pg_admin_url())
        url = admin.set(database=database_name(size["communities"], size["tickets"])).render_as_string(
            hide_password=False)
    if await _counts(url) == (size["communities"], size["tickets"]):
        yield url, {"reused": True}
        return
    if backend == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{sqlite_path}{suffix}").unlink(missing_ok=True)
    else:
        await testing.drop_pg_database(testing.pg_admin_url(), url)
        await testing.create_pg_database(testing.pg_admin_url(), make_url(url).database)
    yield url, _generate(url, size, workers)


async def _counts(url: str) -> tuple[int, int] | None:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            communities = await connection.scalar(select(func.count()).select_from(CommunityRow))
            tickets = await connection.scalar(select(func.count()).select_from(TicketRow))
            return int(communities or 0), int(tickets or 0)
    except Exception:  # no such database or no tables yet: generate it
        return None
    finally:
        await engine.dispose()


def _generate(url: str, size: dict[str, int], workers: int) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-m", "bench.city_data", url, "--workers", str(workers),
                           *(f"--{key}={value}" for key, value in size.items())],
                          check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


async def street_week(run_in: Callable[[str, Job], Awaitable[Any]], codes: list[str], week: Week,
                      chart_dir: Path | None) -> Any:
    """A street office's week. Without `chart_dir`: the street-level summary the bot sends
    (handlers.street_summary: each community's figures, rendered), in one unit of work. With it: each
    of its communities' own weekly summary with charts (handlers.summary.prepare), the upper bound of
    what a street office could ask for. `run_in(code, job)` runs a job in that community's unit of work."""
    async def street(ctx: Context) -> Any:
        communities = [c for c in [await ctx.uow.roster.get(code) for code in codes] if c is not None]
        rows = await street_summary.street_week(ctx.uow, communities, week, ctx.now)
        return rows, street_summary.render(ctx.texts, ctx.community.street or "", week, rows, ctx.now)

    async def reports(ctx: Context) -> Any:
        assert chart_dir is not None
        return (await summary.prepare(ctx, week, chart_dir))[0].summary

    if chart_dir is None:
        return {codes[0]: await run_in(codes[0], street)}
    return {code: await run_in(code, reports) for code in codes}


class CityBench(Bench):
    """bench.scale's Bench over many communities: `use(code)` picks whose Conversations run next."""

    def __init__(self, engine: Any, backend: str, profile: bool) -> None:
        super().__init__(engine, backend, profile)
        self.factory = uow_factory(engine, clock=self.clock)
        self.texts = Texts()  # one for the process, as the bot has
        self.by_code: dict[str, Conversations] = {}
        self.city: Conversations | None = None
        self.cpu: dict[str, list[float]] = {}

    def use(self, code: str) -> None:
        if code not in self.by_code:
            self.by_code[code] = Conversations(self.factory, self.texts, clock=self.clock,
                                               community_code=code, bot_username="gridbot_bench_bot")
        self.conversations = self.by_code[code]

    async def timed(self, name: str, run: Callable[[], Awaitable[Any]], repeat: int = REPEAT) -> list[float]:
        """As Bench.timed; also keeps this process's CPU seconds of the same runs (the machine is shared:
        wall time includes waiting for a core, CPU time does not; PostgreSQL's own CPU is in neither)."""
        cpu: list[float] = []

        async def counted() -> None:
            started = time.process_time()
            await run()
            cpu.append(time.process_time() - started)

        seconds = await super().timed(name, counted, repeat)
        self.cpu[name] = cpu[1:]  # the first run captured the SQL
        return seconds

    def timings(self, name: str, seconds: list[float]) -> dict[str, float]:
        cpu = self.cpu[name]
        return {**timings(seconds), "cpu_median_ms": round(statistics.median(cpu) * 1000, 1)}

    async def run_in(self, code: str, job: Job) -> Any:
        self.use(code)
        return await self.system(job)

    async def city_tick(self, job: Job) -> int:
        """One tick of a sweep job over the city as bot.scheduler.run_job runs it (sweep=True): the
        communities with work due (uow.tickets.communities_due), then the job in each one's unit of work,
        through one Conversations serving every community, as the bot's."""
        if self.city is None:
            self.city = Conversations(self.factory, self.texts, clock=self.clock,
                                      bot_username="gridbot_bench_bot")
        done = 0
        for code in await self.city.community_codes(with_work_due=True):
            done += len(await self.city.system(job, code))
        return done

    async def shape(self) -> dict[str, Any]:
        result = await super().shape()
        async with self.engine.connect() as connection:
            rows = (await connection.execute(text(
                "SELECT c.street, c.code, count(t.id) AS n FROM communities c LEFT JOIN tickets t "
                "ON t.community_code = c.code GROUP BY c.street, c.code ORDER BY n DESC, c.code"))).all()
            result["estates"] = await connection.scalar(text("SELECT count(*) FROM estates"))
            result["places"] = await connection.scalar(text("SELECT count(*) FROM buildings"))
        result["communities"] = len(rows)
        result["streets"] = len({street for street, _, _ in rows})
        result["biggest"] = {"code": rows[0][1], "street": rows[0][0], "tickets": rows[0][2]}
        result["median"] = {"code": rows[len(rows) // 2][1], "tickets": rows[len(rows) // 2][2]}
        result["street_codes"] = [code for street, code, _ in rows if street == rows[0][0]]
        return result

    async def people(self) -> dict[str, Any]:
        """The resident with the most tickets, a typical (median) one, and the busiest worker, each with
        their community."""
        async with self.engine.connect() as connection:
            counts = (await connection.execute(text(
                "SELECT community_code, reporter_user_id, count(*) AS n FROM tickets "
                "GROUP BY community_code, reporter_user_id ORDER BY n DESC, reporter_user_id"))).all()
            busiest = (await connection.execute(text(
                "SELECT community_code, assignee, count(*) AS n FROM tickets WHERE status IN "
                f"({', '.join(repr(s) for s in OPEN)}) AND assignee IS NOT NULL "
                "GROUP BY community_code, assignee ORDER BY n DESC, assignee LIMIT 1"))).one()
        heavy, typical = counts[0], counts[len(counts) // 2]
        return {"heavy_resident": [heavy[0], heavy[1]], "heavy_resident_tickets": heavy[2],
                "typical_resident": [typical[0], typical[1]], "typical_resident_tickets": typical[2],
                "busy_worker": [busiest[0], busiest[1]], "busy_worker_open": busiest[2]}

    async def community_summary(self, code: str, folder: Path) -> dict[str, Any]:
        week = Week.before(NOW, "Asia/Shanghai")
        self.use(code)
        reports: list[summary.Report] = []

        async def run() -> None:
            reports[:] = await self.system(lambda ctx: summary.prepare(ctx, week, folder))

        seconds = await self.timed(f"summary_{code}", run)
        total = reports[0].summary.total
        return {"community": code, "week": week.label, "reports": len(reports), "new": total.new,
                "resolved": total.resolved, "still_open": total.still_open, "rated": total.rated,
                **self.timings(f"summary_{code}", seconds)}

    async def street_summary(self, codes: list[str], folder: Path | None, repeat: int) -> dict[str, Any]:
        week = Week.before(NOW, "Asia/Shanghai")
        found: dict[str, Any] = {}

        async def run() -> None:
            found.update(await street_week(self.run_in, codes, week, folder))

        name = "street_summary" if folder else "street_numbers"
        seconds = await self.timed(name, run, repeat=repeat)
        if folder:
            figures = {"new": sum(s.total.new for s in found.values())}
        else:
            [(rows, texts)] = found.values()
            figures = {"new": sum(row.figures.new for row in rows), "messages": len(texts)}
        return {"communities": len(codes), **figures, **self.timings(name, seconds)}

    async def sweep(self) -> dict[str, Any]:
        """As bench.scale's, each tick over the whole city (city_tick)."""
        return await super().sweep(tick=self.city_tick, label="city_sweep")

    async def lists(self, code: str, grid_code: str) -> dict[str, Any]:
        """The repository calls that take a community: open_in (of the community, of a grid), open_counts."""
        self.use(code)
        calls: dict[str, Job] = {
            "open_in": lambda ctx: ctx.uow.tickets.open_in(code),
            "open_in_grid": lambda ctx: ctx.uow.tickets.open_in(code, grid_code),
            "open_counts": lambda ctx: ctx.uow.tickets.open_counts(code)}
        return {name: self.timings(name, await self.timed(name, lambda call=call: self.system(call)))
                for name, call in calls.items()}


async def run_backend(backend: str, size: dict[str, int], workers: int, reuse: bool, profile: bool,
                      explain_dir: Path = common.OUT_DIR) -> dict[str, Any]:
    async with database(backend, size, workers, reuse) as (url, generated):
        engine = create_engine(url)
        try:
            started = time.perf_counter()
            await migrate(engine)
            bench = CityBench(engine, backend, profile)
            shape = await bench.shape()
            result: dict[str, Any] = {"backend": backend, **size, "generation": generated,
                                      "migrate_to_head_seconds": round(time.perf_counter() - started, 1),
                                      "shape": shape}
            if backend == "postgresql":
                async with engine.connect() as connection:
                    result["database_size"] = await connection.scalar(
                        text("SELECT pg_size_pretty(pg_database_size(current_database()))"))
            who = await bench.people()
            result["people"] = who
            biggest, median = shape["biggest"]["code"], shape["median"]["code"]
            with tempfile.TemporaryDirectory(prefix="gridbot-charts-") as folder:
                result["summary_biggest"] = await bench.community_summary(biggest, Path(folder))
                result["summary_median"] = await bench.community_summary(median, Path(folder))
                street = shape["street_codes"]
                result["street_summary"] = await bench.street_summary(street, Path(folder), repeat=3)
            result["street_numbers"] = await bench.street_summary(street, None, repeat=3)
            result["sweep"] = await bench.sweep()
            # The same with every roster kept in this process's cache without revalidation (the ticks
            # above revalidate entries older than DEFAULT_TTL seconds: one query for every version).
            cache = cache_for(engine)
            cache.ttl = float("inf")
            result["sweep_rosters_cached"] = await bench.sweep()
            cache.ttl = DEFAULT_TTL
            for name, (code, user_id), command in (("my_heavy", who["heavy_resident"], "/my"),
                                                   ("my_typical", who["typical_resident"], "/my"),
                                                   ("tasks_busy", who["busy_worker"], "/tasks")):
                bench.use(code)
                seconds = await bench.timed(
                    name, lambda user_id=user_id, command=command: bench.command(user_id, command))
                result[name] = {"community": code, **bench.timings(name, seconds)}
            result["lists"] = await bench.lists(biggest, "g1")
            result["rss_mb"] = round(common.rss_mb(), 1)
            plans = await explain(engine, bench.statements)
            path = explain_dir / f"city-explain-{backend}.txt"
            path.write_text(plans, encoding="utf-8")
            result["explain"] = str(path)
            result["targets_ms"] = TARGETS_MS
            return result
        finally:
            await engine.dispose()


def parse(argv: list[str] | None = None) -> Any:
    args = common.parser(__doc__.splitlines()[0])
    for key in FULL:
        args.add_argument(f"--{key}", type=int, default=None,
                          help=f"default {FULL[key]:,} ({QUICK[key]:,} with --quick)")
    args.add_argument("--workers", type=int, default=2, help="PostgreSQL: processes writing the rows")
    args.add_argument("--reuse", action="store_true", help="keep the generated database and use it again")
    args.add_argument("--profile", action="store_true", help="a pyinstrument profile of each operation")
    return args.parse_args(argv)


async def main() -> None:
    options = parse()
    size = {key: getattr(options, key) or (QUICK if options.quick else FULL)[key] for key in FULL}
    common.OUT_DIR.mkdir(exist_ok=True)
    for backend in common.backends(options.db):
        result = await run_backend(backend, size, options.workers, options.reuse, options.profile)
        common.write_result(f"city-{backend}", result)


if __name__ == "__main__":
    asyncio.run(main())
