"""Reliability with several bot processes (issue 17): three webhook replicas on one PostgreSQL behind a
load balancer (the sandbox spreads its deliveries over them, up to max_connections at once), a burst of
report dialogs, and the process that leads (the one sending) killed with -9 in the middle.

What must hold afterwards:
* every ticket a resident saw confirmed exists exactly once, and no resident has two;
* no dialog step was applied twice or lost to a concurrent one: every resident got each question once
  (a second copy only where a send was in flight at the kill) and finished with one filed ticket;
* every outbox row was sent, each chat's messages in order; a standby took the lead over.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from dialog_support import load_example
from e2e_support import free_port, roster_sandbox
from reliability_support import (
    Burst,
    assert_each_confirmed_ticket_filed_once,
    audit_delivery,
    conversation_steps,
    scalar_rows,
    size,
    wait_outbox_settled,
)

from bench.harness import BotProcess
from sandbox.server import SandboxServer
from storage.db import create_engine
from storage.uow import uow_factory

pytestmark = pytest.mark.reliability
REPLICAS = 3
SECRET = "replicas-e2e-secret"
LEADS = "this process leads"
LEASE_SECONDS = 15  # how long the killed leader's claimed rows stay its own


def replica(api_url: str, database_url: str, log_path: Path, port: int) -> BotProcess:
    return BotProcess(api_url, database_url, log_path=log_path, ready_marker="ready (webhook mode)", env={
        "MODE": "webhook", "WEBHOOK_URL": "https://bot.example.org/webhook", "WEBHOOK_SECRET": SECRET,
        "WEBHOOK_LISTEN": f"127.0.0.1:{port}", "OUTBOX_LEASE_SECONDS": str(LEASE_SECONDS)})


async def test_three_replicas_lose_nothing_when_the_leader_is_killed(database_url, backend, tmp_path):
    if backend != "postgresql":
        pytest.skip("several bot processes share one PostgreSQL; a SQLite deployment is one process")
    residents = size(30, 240)
    seed = random.Random().randrange(1_000_000)
    engine = create_engine(database_url)
    try:
        await load_example(uow_factory(engine))
        sandbox = roster_sandbox()
        async with SandboxServer(sandbox=sandbox) as server:
            ports = [free_port() for _ in range(REPLICAS)]
            bots = [replica(server.base_url, database_url, tmp_path / f"bot{n}.log", port)
                    for n, port in enumerate(ports)]
            for bot in bots:  # one after another: the first one up takes the lead
                await bot.start()
            sandbox.webhook_replicas.set([f"http://127.0.0.1:{port}/webhook" for port in ports])
            [leader] = [bot for bot in bots if LEADS in bot.log_text()]
            burst = Burst(sandbox, residents, seed=seed)
            burst.start(timeout=size(300, 1200))
            kill_at = random.Random(seed).randint(residents * 2, residents * 5)
            await burst.reached(kill_at)
            leader.kill()
            await leader.wait()
            await burst.finish()
            await wait_outbox_settled(engine, timeout=size(120, 600))
            audit = await audit_delivery(sandbox, engine, residents=burst.chat_ids())
            survivors = [bot for bot in bots if bot is not leader]
            took_over = [bot for bot in survivors if LEADS in bot.log_text()]
            served = dict(sandbox.webhook_replicas.delivered)
            for bot in survivors:
                await bot.stop()

        confirmed = burst.confirmed()
        await assert_each_confirmed_ticket_filed_once(engine, confirmed, residents)
        steps = await conversation_steps(engine)
        for resident in burst.residents:
            assert steps.get(resident.user_id, (None, None))[0] is None, (resident.user_id, resident.answered)
            # each question answered once, in the dialog's order (a step applied twice would ask again)
            assert len(resident.answered) == len(set(resident.answered)), resident.transcript()
        filed = await scalar_rows(engine, "SELECT count(*) FROM ticket_events WHERE action = 'submit'")
        assert filed[0][0] == residents
        assert audit.problems == [], "\n".join(audit.problems[:20])
        assert len(took_over) == 1, "one standby took the lead over"
        assert sum(1 for url, count in served.items() if count) == REPLICAS, served
        print(f"\n[reliability replicas] residents={residents} seed={seed} killed_after_inputs={kill_at} "
              f"tickets={len(confirmed)} served={served} {audit.summary()}")
    finally:
        await engine.dispose()
