"""Reliability 2 (issue 5): the sandbox answers 20% of ALL Bot API requests (getMe, setMyCommands,
getUpdates, sendMessage, edits, answerCallbackQuery...) with a 429, a 500 or a dropped connection
(applied, then no answer: what a client sees as a timeout), for the whole run, start-up included.

What must hold: the bot starts anyway; every resident's dialog completes; every outbox row is sent;
each chat's bot messages are in the order the bot queued them; the only extra messages are the sends
the sandbox applied and then dropped (each delivered again afterwards) — counted and printed.
"""

from __future__ import annotations

import random

import pytest
from dialog_support import load_example
from e2e_support import roster_sandbox
from reliability_support import (
    Burst,
    assert_each_confirmed_ticket_filed_once,
    audit_delivery,
    size,
    wait_outbox_settled,
)

from bench.harness import BotProcess
from sandbox.server import SandboxServer
from sandbox.traffic import COUNTED_SENDS
from storage.db import create_engine
from storage.uow import uow_factory

pytestmark = pytest.mark.reliability
FAULTS = {"rate_429": 0.07, "rate_500": 0.07, "rate_drop": 0.06}  # 20% of every request


async def test_a_fifth_of_requests_failing_loses_and_reorders_nothing(database_url, backend, tmp_path):
    residents = size(24, 200)
    seed = random.Random().randrange(1_000_000)
    engine = create_engine(database_url)
    try:
        await load_example(uow_factory(engine))
        sandbox = roster_sandbox()
        sandbox.traffic.set_faults({**FAULTS, "seed": seed, "methods": ["*"]})
        async with SandboxServer(sandbox=sandbox) as server:
            bot = BotProcess(server.base_url, database_url, log_path=tmp_path / "bot.log")
            await bot.start(timeout=120)
            burst = Burst(sandbox, residents, seed=seed)
            burst.start(timeout=size(300, 1800))
            await burst.finish()
            await wait_outbox_settled(engine, timeout=size(180, 900))
            audit = await audit_delivery(sandbox, engine, residents=burst.chat_ids())
            counters = dict(sandbox.traffic.counters)
            assert bot.running and bot.starts == 1  # it came up once and never fell over
            await bot.stop()

        await assert_each_confirmed_ticket_filed_once(engine, burst.confirmed(), residents)
        assert audit.problems == [], "\n".join(audit.problems[:20])
        # Every extra message is a send the sandbox applied and then dropped, and every such send left
        # exactly one (the retry went out and was recorded).
        dropped_sends = sum(n for key, n in counters.items()
                            if key.startswith("dropped_") and key.removeprefix("dropped_") in COUNTED_SENDS)
        assert audit.orphans == dropped_sends, (audit.orphans, counters)
        injected = counters["injected_429"] + counters["injected_500"] + counters["dropped"]
        assert injected > 0.1 * counters["requests"]  # the faults really were there
        print(f"\n[reliability faults/{backend}] residents={residents} seed={seed} "
              f"requests={counters['requests']} "
              f"429={counters['injected_429']} 500={counters['injected_500']} dropped={counters['dropped']} "
              f"(of them sends: {dropped_sends}) duplicates(applied,answer lost)={audit.orphans} "
              f"same_text_twice={audit.same_text_twice} {audit.summary()}")
    finally:
        await engine.dispose()
