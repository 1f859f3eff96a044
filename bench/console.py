"""Benchmark: the staff console's reads on the million-ticket community (bench.scale's database).

    uv run python -m bench.console [--db sqlite|postgresql|both] [--tickets N]

Needs the database `bench.scale --reuse` keeps (generates it when missing, as bench.scale does). Measures,
through the code the console runs (median and max of 5 unless said):
- the ticket list: a page of 50 and its total (TicketRepository.search) — the default list, open
  tickets, overdue, a word search, a grid worker's scope, page 100;
- a ticket page's reads (the ticket and its ledger);
- the dashboard (handlers.dashboard: 13 weeks, breakdowns, medians, attention list) and its two charts;
- the ledgers of one month (handlers.ledgers.build_ledger, then CSV and XLSX), 工单台账 and 矛盾纠纷台账;
- RSS after all of it.
"""

from __future__ import annotations

import asyncio
import io
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from bench import common
from bench.scale import FULL_TICKETS, QUICK_TICKETS, database
from bench.scale_data import NOW
from gridcore.ticket import OPEN_STATUSES
from gridcore.ticket_query import Scope, TicketQuery
from handlers import dashboard_chart, ledgers
from handlers.dashboard import dashboard
from handlers.texts import Texts
from storage.db import create_engine, migrate
from storage.uow import uow_factory

REPEAT = 5


def timings(seconds: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    return {"runs": len(ms), "median_ms": round(statistics.median(ms), 1), "max_ms": round(max(ms), 1)}


async def timed(run: Callable[[], Awaitable[Any]], repeat: int = REPEAT) -> dict[str, float]:
    await run()  # warm: the first run reads the roster and fills caches, as a running bot has
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        await run()
        seconds.append(time.perf_counter() - started)
    return timings(seconds)


async def run_backend(backend: str, tickets: int) -> dict[str, Any]:
    async with database(backend, tickets, reuse=True) as (url, generated):
        engine = create_engine(url)
        try:
            await migrate(engine)
            make = uow_factory(engine)
            texts = Texts()
            whole = Scope(frozenset({"XK"}))
            async with make() as uow:
                community = await uow.roster.get("XK")
                assert community is not None
                grid = community.grids[0].code
                newest = (await uow.tickets.search(TicketQuery(whole), NOW, limit=1)).tickets
            lists = {
                "default": TicketQuery(whole),
                "open": TicketQuery(whole, statuses=frozenset(OPEN_STATUSES)),
                "overdue": TicketQuery(whole, overdue=True),
                "words": TicketQuery(whole, words="楼道"),
                "grid_worker": TicketQuery(Scope(grids=frozenset({("XK", grid)}))),
            }
            result: dict[str, Any] = {"backend": backend, "tickets": tickets, "generation": generated}
            found: dict[str, int] = {}

            def page(key: str, query: TicketQuery, offset: int = 0) -> Callable[[], Awaitable[None]]:
                async def run() -> None:
                    async with make() as uow:
                        found[key] = (await uow.tickets.search(query, NOW, limit=50, offset=offset)).total
                return run

            for key, query in lists.items():
                result[f"list_{key}"] = await timed(page(key, query))
            result["list_page_100"] = await timed(page("page_100", lists["default"], offset=99 * 50))
            result["list_totals"] = dict(found)

            async def ticket_page() -> None:
                async with make() as uow:
                    ticket = await uow.tickets.get(newest[0].number)
                    assert ticket is not None
                    await uow.tickets.ledger(ticket.number)
            result["ticket_page"] = await timed(ticket_page)

            shown: list[Any] = []

            async def board() -> None:
                async with make() as uow:
                    shown[:] = [await dashboard(uow, [community], NOW)]
            result["dashboard"] = await timed(board, repeat=3)
            started = time.perf_counter()
            for kind in ("weeks", "rates"):
                dashboard_chart.trend_chart_png(shown[0], texts, kind)
            result["dashboard_charts_ms"] = round((time.perf_counter() - started) * 1000, 1)

            month = TicketQuery(whole, filed_from=date(2026, 10, 20), filed_to=date(2026, 11, 19))
            for kind in ("tickets", "disputes"):
                built: list[Any] = []

                async def build(kind: str = kind, built: list[Any] = built) -> None:
                    async with make() as uow:
                        built[:] = [await ledgers.build_ledger(uow, kind, month, full=False, now=NOW,
                                                               texts=texts)]
                result[f"ledger_{kind}_build"] = await timed(build, repeat=3)
                result[f"ledger_{kind}_rows"] = len(built[0].rows)
                for fmt, write in (("csv", ledgers.write_csv), ("xlsx", ledgers.write_xlsx)):
                    out = io.BytesIO()
                    started = time.perf_counter()
                    write(built[0], out)
                    result[f"ledger_{kind}_{fmt}_ms"] = round((time.perf_counter() - started) * 1000, 1)
                    result[f"ledger_{kind}_{fmt}_kb"] = len(out.getvalue()) // 1024
            result["rss_mb"] = round(common.rss_mb(), 1)
            result["rss_peak_mb"] = round(common.rss_mb(peak=True), 1)
            return result
        finally:
            await engine.dispose()


async def main() -> None:
    args = common.parser(__doc__.splitlines()[0])
    args.add_argument("--tickets", type=int, default=None, help="tickets in the database (default 1,000,000)")
    parsed = args.parse_args()
    tickets = parsed.tickets or (QUICK_TICKETS if parsed.quick else FULL_TICKETS)
    common.OUT_DIR.mkdir(exist_ok=True)
    for backend in common.backends(parsed.db):
        common.write_result(f"console-{backend}", await run_backend(backend, tickets))


if __name__ == "__main__":
    asyncio.run(main())
