"""Reliability 3 (issue 5): PostgreSQL becomes unreachable in the middle of a burst (every connection
cut, new ones refused — a TCP proxy between the bot and the database), for ~5 s (full: 30 s), and
comes back.

What must hold: the bot process keeps running and recovers by itself (no restart); no update is lost
(every update the sandbox handed out is recorded as processed — it was confirmed only after its
commit); residents who wrote during the outage get their replies; every outbox row is sent, with no
extra message (a send made just before the cut is recorded once the database is back).
"""

from __future__ import annotations

import asyncio
import random
import re

import pytest
from dialog_support import load_example
from e2e_support import roster_sandbox
from reliability_support import (
    FULL,
    Burst,
    TcpProxy,
    assert_each_confirmed_ticket_filed_once,
    audit_delivery,
    scalar_rows,
    size,
    wait_outbox_settled,
)
from sqlalchemy.engine import make_url

from bench.harness import BotProcess
from sandbox.server import SandboxServer
from storage.uow import uow_factory

pytestmark = pytest.mark.reliability
UPDATE_RETRY = re.compile(r"update \d+ waits for the database")


async def test_database_outage_mid_burst(make_engine, tmp_path):
    outage_s = 30.0 if FULL else 5.0
    before_count, during_count = size(12, 60), size(12, 60)
    seed = random.Random().randrange(1_000_000)
    engine = await make_engine("postgresql")
    await load_example(uow_factory(engine))
    url = engine.url
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    bot_url = make_url(url.render_as_string(hide_password=False)).set(host="127.0.0.1", port=proxy.port)
    sandbox = roster_sandbox()
    try:
        async with SandboxServer(sandbox=sandbox) as server:
            bot = BotProcess(server.base_url, bot_url.render_as_string(hide_password=False),
                             log_path=tmp_path / "bot.log")
            await bot.start()
            before = Burst(sandbox, before_count, first_id=600_000, seed=seed)
            before.start(timeout=size(180, 900))
            await before.reached(before_count * 2)

            await proxy.cut()
            during = Burst(sandbox, during_count, first_id=700_000, seed=seed + 1)
            during.start(timeout=size(180, 900))  # new residents write while the database is away
            inputs_at_cut = before.inputs
            await asyncio.sleep(outage_s)
            written_in_outage = before.inputs - inputs_at_cut + during.inputs
            assert bot.running, bot.log_text()[-3000:]
            await proxy.restore()

            await before.finish()
            await during.finish()
            await wait_outbox_settled(engine, timeout=size(120, 600))
            audit = await audit_delivery(sandbox, engine, residents=before.chat_ids() | during.chat_ids())
            assert bot.running and bot.starts == 1  # recovered without a restart
            handed_out = {u["update_id"] for u in sandbox.update_log}
            await bot.stop()
        log = bot.log_text()
    finally:
        await proxy.close()

    processed = {int(u) for (u,) in await scalar_rows(engine, "SELECT update_id FROM processed_updates")}
    assert handed_out - processed == set()  # no update lost
    assert "waits for the database" in log  # the outage did hit updates being handled
    assert "failed for good" not in log
    confirmed = {**before.confirmed(), **during.confirmed()}
    await assert_each_confirmed_ticket_filed_once(engine, confirmed, before_count + during_count)
    assert audit.problems == [], "\n".join(audit.problems[:20])
    assert audit.orphans == 0
    print(f"\n[reliability outage/postgresql] outage={outage_s:.0f}s residents={before_count}+{during_count} "
          f"inputs_during_outage={written_in_outage} updates={len(handed_out)} "
          f"db_connections_through_proxy={proxy.connections} "
          f"update_retries_logged={len(UPDATE_RETRY.findall(log))} "
          f"bookkeeping_retries_logged={log.count('bookkeeping waits for the database')} {audit.summary()}")
