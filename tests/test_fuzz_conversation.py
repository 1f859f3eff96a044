"""Fuzzing the conversation layer (issue 5, items 4 and 5): Hypothesis-drawn sequences of inputs from
residents (sample and brand-new), staff and group chats, against handlers.app.Conversations.handle.

Each Hypothesis example (a seed for the step-by-step choices, tests/fuzz_texts.py) is a fresh database
with the example roster and STEPS inputs: texts (real reports, 4,096 characters, odd Unicode, empty-ish,
names and phone numbers inside), commands mid-dialog (with deep-link and invite-like payloads), photos,
contacts, locations, stickers/voice, edits, buttons the bot really showed (also old ones: stale), forged
callback data, group messages, redelivered updates, and time passing (the unrated-close and reminder
sweeps run). After every input:

  * no exception, and everything sent passes assert_telegram_accepts;
  * a reply: every private input that is not a button gets at least one message in that chat; a button
    press gets a callback answer (Telegram needs one), and a silent one ("") only when a message went
    to the presser's chat; a redelivered update gets nothing and changes nothing;
  * no group message (chat id < 0) shows a resident's name or a phone number a resident shared or typed;
  * every new ledger event was done by someone issue 3's matrix allows (tests/fuzz_support.py, an
    independent table), from the state the ticket was in, along gridcore's lifecycle;
  * every ticket the input touched is in a legal state; at the end of the example, all of them.

Size: small by default, the same seeds every run (800 inputs on SQLite, 400 on PostgreSQL);
GRIDBOT_SUITE_SIZE=full: fresh seeds, 100,000 inputs on SQLite and 10,000 on PostgreSQL.
GRIDBOT_FUZZ_EXAMPLES / GRIDBOT_FUZZ_PG_EXAMPLES=N set the small runs' examples;
GRIDBOT_FUZZ_TRACE=1 prints every step; GRIDBOT_FUZZ_LOG=<file> appends the totals after each example.
A failure names its seed (Falsifying example: example(seed=...)); GRIDBOT_FUZZ_SEED=<seed> replays it.
"""

from __future__ import annotations

import asyncio
import os
import time

import pytest
from dialog_support import FakeClock, ResidentChat, World, example_community, load_example, make_conversations
from fuzz_support import STAFF, Ledger
from fuzz_texts import Fuzzer, Person
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from pii_scan import PiiWatch

from gridcore.community import Role
from storage.db import create_engine
from storage.uow import uow_factory as make_uow_factory

FULL = os.environ.get("GRIDBOT_SUITE_SIZE") == "full"
STEPS = 200
EXAMPLES = {  # examples per backend; each is STEPS inputs
    ("sqlite", False): int(os.environ.get("GRIDBOT_FUZZ_EXAMPLES", 4)),
    ("postgresql", False): int(os.environ.get("GRIDBOT_FUZZ_PG_EXAMPLES", 2)),
    ("sqlite", True): 500,
    ("postgresql", True): 50,
}

# A seed shrinks to nothing useful; Hypothesis prints the failing one (Falsifying example: seed=...).
PHASES = (Phase.explicit, Phase.reuse, Phase.generate)

pytestmark = pytest.mark.reliability


def test_the_oracle_matches_the_example_roster():
    community = example_community()
    roster = {p.telegram_user_id: (p.role.value, p.grid_code) for p in community.staff
              if p.telegram_user_id is not None and p.role is not Role.RESIDENT}
    assert roster == STAFF


async def run_example(url: str, seed: int, steps: int, totals: dict[str, int]) -> None:
    engine = create_engine(url)
    try:
        uow_factory = make_uow_factory(engine)
        community = await load_example(uow_factory)
        clock = FakeClock()
        bot = make_conversations(uow_factory, clock)
        world = World()
        watch = PiiWatch(frozenset(p.name for p in community.staff))
        fuzzer = Fuzzer(seed, bot, world, clock, watch)
        ledger = Ledger()
        for _ in range(steps):
            step = fuzzer.next_step()
            if os.environ.get("GRIDBOT_FUZZ_TRACE"):
                print(step)
            handled = await step.run()
            totals["inputs"] += 1
            if step.person is not None:
                check_reply(step.person, step, handled)
                watch.check((m.chat_id, m.text) for m in (handled.messages if handled else ()))
            else:  # time passed: the sweeps ran
                watch.check((m.chat_id, m.text) for m in step.system_messages)
            async with engine.connect() as connection:
                touched = await ledger.check_new(connection, step.sender)
                if step.duplicate:
                    assert not touched, "a redelivered update changed a ticket"
                await ledger.check_tickets(connection, touched)
        async with engine.connect() as connection:
            await ledger.check_tickets(connection)
        totals["events"] += ledger.events
        totals["tickets"] += len(ledger.mirror)
        for action, count in ledger.by_action.items():
            totals[f"event:{action}"] = totals.get(f"event:{action}", 0) + count
    finally:
        await engine.dispose()


def check_reply(person: Person, step, handled) -> None:
    chat: ResidentChat = person.chat
    assert handled is not None
    if step.duplicate:
        assert handled.duplicate and not handled.messages, step
        return
    assert not handled.duplicate, step
    to_chat = [m for m in handled.messages if m.chat_id == chat.chat_id]
    if step.kind == "button":
        assert handled.callback_answer is not None, f"a press with no callback answer: {step}"
        assert handled.callback_answer or to_chat, f"a silent press that did nothing visible: {step}"
    elif chat.chat_id > 0:
        assert any(m.text for m in to_chat), f"no reply to a private input: {step}"


def fuzz(backend: str, databases, *, examples: int, steps: int) -> dict[str, int]:
    totals = {"inputs": 0, "events": 0, "tickets": 0, "examples": 0}
    started = time.monotonic()

    @settings(max_examples=examples, deadline=None, database=None, print_blob=True, phases=PHASES,
              derandomize=not FULL,  # the small run is the same every time; the full one explores
              suppress_health_check=list(HealthCheck))
    @given(st.integers(0, 2**64 - 1))
    def example(seed: int) -> None:
        totals["examples"] += 1
        asyncio.run(run_example(databases.clean_url(backend), seed, steps, totals))
        if log := os.environ.get("GRIDBOT_FUZZ_LOG"):  # progress of a long run, one line per example
            with open(log, "a", encoding="utf-8") as out:
                out.write(f"{time.monotonic() - started:.1f}s {backend} {totals}\n")

    replay = os.environ.get("GRIDBOT_FUZZ_SEED")
    if replay:
        totals["examples"] = 1
        asyncio.run(run_example(databases.clean_url(backend), int(replay), steps, totals))
    else:
        example()
    return totals


def test_fuzz_the_conversations(backend, _databases, record_property):
    totals = fuzz(backend, _databases, examples=EXAMPLES[backend, FULL], steps=STEPS)
    for key, value in sorted(totals.items()):
        record_property(key, value)
    print(f"\nfuzz[{backend}]: {totals}")
    assert totals["inputs"] >= totals["examples"] * STEPS
    if FULL and backend == "sqlite":
        assert totals["inputs"] >= 100_000
    # The runs get somewhere: tickets are filed and worked on, not only refused.
    assert totals["tickets"] > 0 and totals.get("event:accept", 0) > 0


async def test_a_nul_character_is_dropped_not_a_failed_update(uow_factory):
    """Found by the fuzzer on PostgreSQL: U+0000 in a text (or a name) cannot be stored in text or JSON
    columns there, so the update failed every time it was tried."""
    await load_example(uow_factory)
    resident = ResidentChat(make_conversations(uow_factory, FakeClock()), 5001, "欧阳\x00春花")
    await resident.send("楼道\x00灯坏了\x00一个星期了")
    assert "公共设施" in resident.last_text
    await resident.press_data("r:\x00")
    assert resident.last.callback_alert
    async with uow_factory() as uow:
        assert (await uow.residents.get(5001)).display_name == "欧阳春花"
        assert (await uow.conversations.get(5001)).data["description"] == "楼道灯坏了一个星期了"
