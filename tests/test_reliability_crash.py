"""Reliability 1 (issue 5): kill -9 the bot in the middle of a burst of concurrent report dialogs, start
it again on the same database and sandbox, and let the residents carry on.

What must hold afterwards:
* every ticket a resident saw confirmed exists exactly once, and no resident has two;
* every unfinished dialog resumes at its step: the step the database holds at the kill (that of
  the last committed update) is the next question the resident gets after the restart — an input
  that had not committed is fetched again (updates are confirmed only after their commit);
* every outbox row is sent; messages the sandbox applied while the bot died before recording them
  are the only extra messages (each was then delivered again and recorded) — counted and printed.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from dialog_support import load_example
from e2e_support import roster_sandbox
from reliability_support import (
    FULL,
    STEP_ORDER,
    Burst,
    assert_each_confirmed_ticket_filed_once,
    audit_delivery,
    conversation_steps,
    scalar_rows,
    size,
    tickets_by_reporter,
    wait_outbox_settled,
)
from sqlalchemy import text

from bench.harness import BotProcess
from sandbox.server import SandboxServer
from storage.db import create_engine
from storage.uow import uow_factory

pytestmark = pytest.mark.reliability


async def test_kill_9_mid_burst_loses_nothing(database_url, backend, tmp_path):
    residents = size(24, 200)
    engine = create_engine(database_url)
    rng = random.Random()
    seed = rng.randrange(1_000_000)
    try:
        await load_example(uow_factory(engine))
        sandbox = roster_sandbox()
        async with SandboxServer(sandbox=sandbox) as server:
            bot = BotProcess(server.base_url, database_url, log_path=tmp_path / "bot.log")
            await bot.start()
            burst = Burst(sandbox, residents, seed=seed)
            burst.start(timeout=size(240, 1200))
            kill_at = random.Random(seed).randint(residents * 2, residents * 6)  # of ~7.5 per resident
            await burst.reached(kill_at)
            bot.kill()
            await bot.wait()

            # The database at the kill: nothing changes it until the restart.
            now = datetime.now(UTC).replace(tzinfo=None)
            leased = await scalar_rows(engine, "SELECT id, claimed_until FROM outbox "
                                       "WHERE status = 'pending' AND claimed_until IS NOT NULL")
            in_flight = sum(1 for _, until in leased if _naive(until) > now)
            steps = await conversation_steps(engine)
            filed_at_kill = await tickets_by_reporter(engine)
            answered_at_kill = {r.user_id: list(r.answered) for r in burst.residents}
            if not FULL:
                # The dead process's leases would run out after a minute; small runs skip that wait.
                async with engine.begin() as connection:
                    await connection.execute(text("UPDATE outbox SET claimed_until = NULL "
                                                  "WHERE status = 'pending'"))
            await bot.start()
            await burst.finish()
            await wait_outbox_settled(engine, timeout=size(120, 600))
            audit = await audit_delivery(sandbox, engine, residents=burst.chat_ids())
            await bot.stop()

        # Confirmed tickets: exactly the ones in the database, one per resident.
        confirmed = burst.confirmed()
        await assert_each_confirmed_ticket_filed_once(engine, confirmed, residents)

        # Resumed at its step: the state at the kill is the next thing each resident was asked.
        committed_ahead = uncommitted = 0
        for resident in burst.residents:
            before = answered_at_kill[resident.user_id]
            dialog, step = steps.get(resident.user_id, (None, None))
            if resident.user_id in filed_at_kill:
                assert dialog is None, (resident.user_id, dialog, step)
                continue
            if not before:  # only the description sent (or not even that)
                uncommitted += dialog is None
                committed_ahead += dialog is not None
                if dialog is not None:
                    assert resident.answered[0] == step, (resident.user_id, step, resident.answered)
                continue
            assert dialog == "report", (resident.user_id, dialog, step, before)
            if step == before[-1]:
                uncommitted += 1  # its last input had not committed: fetched again after the restart
            else:
                assert STEP_ORDER[step] > STEP_ORDER[before[-1]], (resident.user_id, step, before)
                assert resident.answered[len(before)] == step, (resident.user_id, step, resident.answered)
                committed_ahead += 1

        assert audit.problems == [], "\n".join(audit.problems[:20])
        # Extra messages can only be sends that were in flight when the process died.
        assert audit.orphans <= in_flight, (audit.orphans, in_flight)
        print(f"\n[reliability crash/{backend}] residents={residents} seed={seed} "
              f"killed_after_inputs={kill_at} "
              f"tickets={len(confirmed)} filed_before_kill={len(filed_at_kill)} "
              f"last_input_uncommitted={uncommitted} committed_not_yet_answered={committed_ahead} "
              f"in_flight_at_kill={in_flight} duplicates(applied,answer lost)={audit.orphans} "
              f"same_text_twice={audit.same_text_twice} {audit.summary()}")
    finally:
        await engine.dispose()


def _naive(moment) -> datetime:
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.replace(tzinfo=None) if moment.tzinfo else moment
