"""Rows handed to this process's sender at commit (storage.outbox_store.Handoff, bot.handoff).

Against the sandbox, on SQLite and PostgreSQL: handed rows go out without a claim, in order per
chat, also when deliveries fail and the rest of a chat falls back to the claim path; a chat with
an older pending row that this sender does not hold keeps the claim path.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from test_delivery_sender import FAST_RETRY, SCALED, USERS, collapse, put, texts, world  # noqa: F401

from bot.delivery import OutboxSender, RateLimits
from bot.handoff import HandedOff
from gridcore.messages import OutgoingMessage
from storage.models import OUTBOX_FAILED, OUTBOX_SENT
from storage.outbox_store import Handoff, OutboxStore, PendingMessage
from storage.uow import SqlUnitOfWork
from storage.uow import uow_factory as make_uow_factory


class CountingStore(OutboxStore):
    claimed = 0

    async def claim(self, limit: int = 20) -> list[PendingMessage]:
        rows = await super().claim(limit)
        self.claimed += len(rows)
        return rows


@contextlib.asynccontextmanager
async def running(sender: OutboxSender) -> AsyncIterator[None]:
    task = asyncio.create_task(sender.run())
    await asyncio.sleep(0)  # run() has started: the sender accepts rows
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def until_settled(store: OutboxStore, timeout: float = 20) -> None:
    async with asyncio.timeout(timeout):
        while await store.pending_count():
            await asyncio.sleep(0.05)


def handed_off(world, engine, store: OutboxStore) -> tuple[Callable[[], SqlUnitOfWork], OutboxSender]:  # noqa: F811
    """Units of work and a sender joined by one Handoff, as bot.runtime wires them."""
    handoff = Handoff()
    sender = OutboxSender(world.bot, store, idle_seconds=0.05, backoff=FAST_RETRY,
                          limits=RateLimits(**SCALED), handoff=handoff)
    return make_uow_factory(engine, handoff=handoff), sender


async def queue_updates(factory, chats: list[int], per_chat: int) -> dict[int, list[str]]:
    """One unit of work per step, each queueing two messages to every chat (as a reply and a
    keyboard clearing would be), while the sender runs."""
    expected: dict[int, list[str]] = {chat: [] for chat in chats}
    for step in range(per_chat):
        messages = []
        for chat in chats:
            for part in ("a", "b"):
                messages.append(OutgoingMessage(chat, f"{chat}:{step}{part}"))
                expected[chat].append(f"{chat}:{step}{part}")
        await put(factory, messages)
        await asyncio.sleep(0.01)
    return expected


async def test_handed_rows_need_no_claim_and_go_out_in_order(world, engine):  # noqa: F811
    store = CountingStore(engine)
    factory, sender = handed_off(world, engine, store)
    chats = USERS[:3]
    async with running(sender):
        expected = await queue_updates(factory, chats, per_chat=4)
        await until_settled(store)
    for chat in chats:
        assert await texts(world.client, chat) == expected[chat]
    assert len(await store.peek(status=OUTBOX_SENT)) == 24
    assert store.claimed == 0  # every row went straight to the sender


async def test_failed_deliveries_fall_back_to_claims_and_keep_the_order(world, engine):  # noqa: F811
    store = CountingStore(engine)
    factory, sender = handed_off(world, engine, store)
    chats = USERS[:4]
    await world.client.set_faults(rate_429=0.1, rate_500=0.15, seed=11)
    async with running(sender):
        expected = await queue_updates(factory, chats, per_chat=6)
        await until_settled(store, timeout=40)
    counters = (await world.client.traffic())["counters"]
    assert counters["injected_429"] + counters["injected_500"] > 0
    for chat in chats:
        kept, _ = collapse(await texts(world.client, chat))
        assert kept == expected[chat], await world.client.transcript(chat)
    assert await store.peek(status=OUTBOX_FAILED) == []
    assert store.claimed > 0  # the rows behind a failed one went through the claim path


async def test_a_chat_with_an_older_pending_row_keeps_the_claim_path(world, engine, uow_factory):  # noqa: F811
    chat = USERS[0]
    [older] = await put(uow_factory, [OutgoingMessage(chat, "older")])  # e.g. another process's row
    later = datetime.now(UTC) + timedelta(minutes=5)
    async with engine.begin() as connection:  # leased elsewhere (or waiting for a retry)
        await connection.execute(text("UPDATE outbox SET claimed_until = :t WHERE id = :id"),
                                 {"t": later, "id": older})
    store = OutboxStore(engine)
    factory, sender = handed_off(world, engine, store)
    async with running(sender):
        await put(factory, [OutgoingMessage(chat, "newer"), OutgoingMessage(USERS[1], "other chat")])
        async with asyncio.timeout(10):
            while await texts(world.client, USERS[1]) != ["other chat"]:
                await asyncio.sleep(0.02)
        await asyncio.sleep(0.3)
        assert await texts(world.client, chat) == []  # "newer" waits behind "older"
        async with engine.begin() as connection:
            await connection.execute(text("UPDATE outbox SET claimed_until = NULL WHERE id = :id"),
                                     {"id": older})
        await until_settled(store)
    assert await texts(world.client, chat) == ["older", "newer"]


async def test_rows_leased_before_a_chat_fell_back_are_given_back() -> None:
    sent: list[int] = []
    released: list[list[int]] = []

    async def send(row: PendingMessage) -> bool:
        await asyncio.sleep(0)
        sent.append(row.id)
        return row.id != 1  # the first row is not delivered (a retry is due)

    async def release(ids: list[int]) -> None:
        released.append(ids)

    handed = HandedOff(send, release, lambda: None, room=10)
    handed.running = True
    chat = 42
    rows = [PendingMessage(i, chat, OutgoingMessage(chat, str(i)), 0) for i in (1, 2, 3)]
    assert handed.admits(chat) == (0, frozenset())
    handed.take(rows[:2], {chat: 0}, set())
    assert handed.admits(chat) == (0, frozenset({1, 2}))
    ticket = handed.admits(chat)  # a unit of work leases row 3 against this state ...
    await asyncio.gather(*handed.tasks)
    assert sent == [1] and released == [[2]]  # row 2 goes back behind row 1
    assert handed.admits(chat) == (1, frozenset())
    assert ticket is not None
    handed.take(rows[2:], {chat: ticket[0]}, set())  # ... and commits after the fall-back
    await asyncio.gather(*handed.tasks)
    assert sent == [1] and released == [[2], [3]]  # not sent ahead of row 1: given back too


async def test_a_last_row_not_delivered_also_changes_the_epoch() -> None:
    async def send(row: PendingMessage) -> bool:
        await asyncio.sleep(0)
        return False

    async def release(ids: list[int]) -> None:
        raise AssertionError("nothing was left to give back")

    handed = HandedOff(send, release, lambda: None, room=10)
    handed.running = True
    handed.take([PendingMessage(1, 7, OutgoingMessage(7, "x"), 0)], {7: 0}, set())
    ticket = handed.admits(7)  # leased while row 1 is under way
    await asyncio.gather(*handed.tasks)
    assert ticket == (0, frozenset({1})) and handed.admits(7) == (1, frozenset())


@pytest.mark.parametrize(("running_", "room"), [(False, 5), (True, 0)])
async def test_no_room_no_lease(running_: bool, room: int) -> None:
    handed = HandedOff(lambda row: asyncio.sleep(0, True), lambda ids: asyncio.sleep(0), lambda: None,
                       room=room)
    handed.running = running_
    assert handed.admits(1) is None


async def test_rows_of_a_claimed_chat_are_handed_behind_the_claimed_row() -> None:
    sent: list[int] = []
    settled: list[int] = []
    first_may_go = asyncio.Event()

    async def send(row: PendingMessage) -> bool:
        if row.id == 1:
            await first_may_go.wait()
        sent.append(row.id)
        return True

    async def release(ids: list[int]) -> None:
        raise AssertionError("every row was delivered")

    handed = HandedOff(send, release, lambda: None, room=10)
    handed.running = True
    chat = 42
    rows = [PendingMessage(i, chat, OutgoingMessage(chat, str(i)), 0) for i in (1, 2, 3)]
    handed.adopt(rows[0], lambda: settled.append(1))  # claimed by the sender, on its way
    assert handed.admits(chat) == (0, frozenset({1}))  # so the chat's next rows may be leased here
    handed.take(rows[1:], {chat: 0}, set())
    handed.adopt(rows[0], lambda: settled.append(-1))  # claimed again (its lease ran out meanwhile)
    assert settled == [-1]  # not delivered twice
    await asyncio.sleep(0)
    assert sent == [] and settled == [-1]
    first_may_go.set()
    await asyncio.gather(*handed.tasks)
    assert sent == [1, 2, 3] and settled == [-1, 1]
    assert handed.admits(chat) == (0, frozenset())


async def test_a_chat_on_the_claim_path_comes_back_to_handed_rows(world, engine, uow_factory):  # noqa: F811
    chat = USERS[0]
    await put(uow_factory, [OutgoingMessage(chat, "queued without a sender")])  # unleased: a claim
    store = CountingStore(engine)
    factory, sender = handed_off(world, engine, store)
    # A resident who answers at once: the next step commits while the claimed row is still in flight.
    slow_chats = {chat}
    deliver_claimed = asyncio.Event()
    send_row = sender._send

    async def send(row: PendingMessage) -> bool:
        if row.chat_id in slow_chats:
            slow_chats.clear()
            await deliver_claimed.wait()
        return await send_row(row)

    sender._send = send  # type: ignore[method-assign]
    sender._handed._send = send
    async with running(sender):
        async with asyncio.timeout(10):
            while store.claimed == 0:
                await asyncio.sleep(0.01)
        await put(factory, [OutgoingMessage(chat, "next step"), OutgoingMessage(chat, "and its buttons")])
        deliver_claimed.set()
        await until_settled(store)
    assert await texts(world.client, chat) == ["queued without a sender", "next step", "and its buttons"]
    assert store.claimed == 1  # the rows behind the claimed one were handed over, not claimed
