"""RSS with every roster of the city loaded: a process with the bot's code imported (aiogram, the bot's
runtime, handlers, storage) reads each community through uow.roster.get, as the bot does for an update
of that community, and keeps them all; then prepares the biggest community's weekly summary.

    uv run python -m bench.city_memory [--communities N] [--tickets T]

The city database must exist (`uv run python -m bench.city --db postgresql --reuse` makes and keeps it).
RSS is read from /proc (VmRSS now, VmHWM peak) in the child process: before the rosters (the bot's
code and an engine), with every roster loaded, and after the summary.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from bench import common
from bench.city import FULL, database_name
from storage import testing


def city_url(communities: int, tickets: int) -> str:
    admin = make_url(testing.pg_admin_url())
    return admin.set(database=database_name(communities, tickets)).render_as_string(hide_password=False)


def memory() -> dict[str, float]:
    return {"rss_mb": round(common.rss_mb(), 1), "peak_rss_mb": round(common.rss_mb(peak=True), 1)}


async def child(url: str) -> dict[str, Any]:
    import aiogram  # noqa: F401  (what `gridbot run` has loaded before its first update)

    import bot.runtime  # noqa: F401
    from bench.scale_data import NOW
    from gridcore.metrics import Week
    from handlers import summary
    from handlers.app import Conversations
    from handlers.texts import Texts
    from storage.db import create_engine
    from storage.uow import uow_factory

    engine = create_engine(url)
    factory = uow_factory(engine)
    texts = Texts()
    try:
        async with factory() as uow:  # the engine's pool and a first round trip, as at start
            codes = await uow.roster.list_codes()
        gc.collect()
        result: dict[str, Any] = {"before_rosters": memory()}
        started = time.perf_counter()
        rosters = {}
        for code in codes:
            async with factory() as uow:
                rosters[code] = await uow.roster.get(code)
        gc.collect()
        result["rosters"] = len(rosters)
        result["load_seconds"] = round(time.perf_counter() - started, 1)
        result["places"] = sum(len(c.buildings) for c in rosters.values())
        result["with_all_rosters"] = memory()
        biggest = max(rosters.values(), key=lambda c: len(c.buildings)).code
        week = Week.before(NOW, "Asia/Shanghai")
        with tempfile.TemporaryDirectory(prefix="gridbot-charts-") as folder:
            conversations = Conversations(factory, texts, clock=lambda: NOW, community_code=biggest)
            await conversations.system(lambda ctx: summary.prepare(ctx, week, Path(folder)))
        result["after_summary"] = memory()
        return result
    finally:
        await engine.dispose()


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__)
    args.add_argument("--communities", type=int, default=FULL["communities"])
    args.add_argument("--tickets", type=int, default=FULL["tickets"])
    args.add_argument("--child", metavar="URL", help=argparse.SUPPRESS)
    options = args.parse_args()
    if options.child:
        print(json.dumps(asyncio.run(child(options.child))), flush=True)
        return
    url = city_url(options.communities, options.tickets)
    done = subprocess.run([sys.executable, "-m", "bench.city_memory", "--child", url], check=True,
                          capture_output=True, text=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    common.write_result("city-memory", {"communities": options.communities, "tickets": options.tickets,
                                        "target_rss_mb": 250, "result": result})


if __name__ == "__main__":
    main()
