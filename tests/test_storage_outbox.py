"""The outbox: written inside the update's transaction, claimed and marked by the sender."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, text

from gridcore.messages import Button, OutgoingMessage
from storage.outbox_store import OUTBOX_CHANNEL, OutboxStore


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(engine, clock) -> OutboxStore:
    return OutboxStore(engine, lease=timedelta(seconds=30), clock=clock)


async def put(uow_factory, *messages: OutgoingMessage) -> None:
    async with uow_factory() as uow:
        for message in messages:
            await uow.outbox.add(message)
        await uow.commit()


def text_message(chat_id: int, text: str) -> OutgoingMessage:
    return OutgoingMessage(chat_id=chat_id, text=text)


async def test_payload_round_trip(uow_factory, store) -> None:
    message = OutgoingMessage(
        chat_id=-1001234567890123,
        text="<b>工单 XK-20261122-0007</b> 已受理 & 派单",
        buttons=(
            (Button("签收", "acc:XK-20261122-0007"), Button("转派", "tr:XK-20261122-0007")),
            (Button("查看", url="https://t.me/gridbot?start=t_XK-20261122-0007"),),
        ),
        photos=("AgACAgUAAxkBAAIB", "AgACAgUAAxkBAAIC"),
        edit_message_id=77,
        clear_keyboard_of=76,
        ticket_number="XK-20261122-0007",
    )
    await put(uow_factory, message)
    assert await store.pending_count() == 1
    [claimed] = await store.claim(10)
    assert claimed.message == message
    assert claimed.chat_id == message.chat_id
    assert claimed.attempts == 0
    await store.mark_sent(claimed.id, [1001, 1002])
    assert await store.pending_count() == 0
    assert await store.claim(10) == []


async def test_claim_oldest_first_one_per_chat(uow_factory, store) -> None:
    await put(uow_factory, text_message(1, "a1"), text_message(2, "b1"), text_message(1, "a2"),
              text_message(3, "c1"), text_message(1, "a3"), text_message(2, "b2"))
    batch = await store.claim(10)
    assert [m.message.text for m in batch] == ["a1", "b1", "c1"]
    assert [m.id for m in batch] == sorted(m.id for m in batch)
    # Leased rows and the rows queued behind them are not handed out again.
    assert await store.claim(10) == []
    for m in batch:
        await store.mark_sent(m.id, [m.id])
    assert [m.message.text for m in await store.claim(10)] == ["a2", "b2"]
    assert await store.pending_count() == 3  # a2, b2 (leased) and a3


async def test_claim_limit(uow_factory, store) -> None:
    await put(uow_factory, *(text_message(chat, f"m{chat}") for chat in range(1, 6)))
    assert [m.chat_id for m in await store.claim(2)] == [1, 2]
    assert [m.chat_id for m in await store.claim(2)] == [3, 4]
    assert [m.chat_id for m in await store.claim(0)] == []


async def test_temporary_failure_retries_in_order(uow_factory, store, clock) -> None:
    await put(uow_factory, text_message(1, "first"), text_message(1, "second"))
    [first] = await store.claim(5)
    await store.mark_failed(first.id, "Too Many Requests: retry after 5", permanent=False, retry_after=5)
    assert await store.pending_count() == 2
    assert await store.claim(5) == []  # backing off; "second" must not overtake
    clock.advance(5)
    [again] = await store.claim(5)
    assert (again.id, again.attempts) == (first.id, 1)
    await store.mark_failed(again.id, "network down", permanent=False)
    [third_try] = await store.claim(5)  # no back-off asked: at once
    assert (third_try.id, third_try.attempts) == (first.id, 2)
    await store.mark_sent(third_try.id, [9])
    assert [m.message.text for m in await store.claim(5)] == ["second"]


async def test_permanent_failure_unblocks_the_chat(uow_factory, store, engine) -> None:
    await put(uow_factory, text_message(1, "bad"), text_message(1, "next"))
    [bad] = await store.claim(5)
    await store.mark_failed(bad.id, "Forbidden: bot was blocked by the user", permanent=True)
    assert await store.pending_count() == 1
    assert [m.message.text for m in await store.claim(5)] == ["next"]
    async with engine.connect() as connection:
        row = (await connection.execute(
            text("SELECT status, attempts, last_error FROM outbox WHERE id = :id"), {"id": bad.id}
        )).one()
    assert tuple(row) == ("failed", 1, "Forbidden: bot was blocked by the user")


async def test_expired_lease_is_claimed_again(uow_factory, store, clock) -> None:
    await put(uow_factory, text_message(1, "hello"))
    [first] = await store.claim(5)
    clock.advance(29)
    assert await store.claim(5) == []
    clock.advance(1)  # the sender that claimed it died; the lease ran out
    [again] = await store.claim(5)
    assert again.id == first.id


async def test_mark_unknown_row(store) -> None:
    with pytest.raises(LookupError):
        await store.mark_sent(12345, [1])
    with pytest.raises(LookupError):
        await store.mark_failed(12345, "x", permanent=True)


async def test_marks_made_at_once_are_each_kept_and_an_unknown_row_fails_alone(engine, uow_factory,
                                                                               store) -> None:
    await put(uow_factory, *(text_message(chat, f"m{chat}") for chat in range(1, 11)))
    claimed = await store.claim(10)
    assert len(claimed) == 10
    results = await asyncio.gather(*(store.mark_sent(m.id, [100 + m.id]) for m in claimed),
                                   store.mark_sent(12345, [1]), return_exceptions=True)
    assert results[:10] == [None] * 10
    assert isinstance(results[10], LookupError)
    fresh = OutboxStore(engine)  # reads the database, not what `store` remembers
    for m in claimed:
        assert await fresh.sent_message_ids(m.id) == [100 + m.id]
        assert await store.sent_message_ids(m.id) == [100 + m.id]
    assert await store.pending_count() == 0


async def test_peek_does_not_claim(uow_factory, store) -> None:
    await put(uow_factory, text_message(1, "a"), text_message(2, "b"), text_message(1, "c"))
    assert [m.message.text for m in await store.peek()] == ["a", "b", "c"]
    assert [m.message.text for m in await store.peek(chat_id=1)] == ["a", "c"]
    assert len(await store.claim(10)) == 2


async def test_concurrent_claimers_never_share_a_row(uow_factory, engine) -> None:
    messages = [text_message(chat, f"{chat}-{n}") for n in range(4) for chat in range(1, 16)]
    await put(uow_factory, *messages)
    senders = [OutboxStore(engine), OutboxStore(engine), OutboxStore(engine)]
    delivered: list[int] = []
    in_flight_chats: set[int] = set()

    async def run(sender: OutboxStore) -> None:
        idle = 0
        while idle < 3:
            batch = await sender.claim(4)
            if not batch:
                idle += 1
                await asyncio.sleep(0.01)
                continue
            idle = 0
            for m in batch:
                assert m.chat_id not in in_flight_chats, "two rows of one chat in flight at once"
                in_flight_chats.add(m.chat_id)
            await asyncio.sleep(0)
            for m in batch:
                delivered.append(m.id)
                in_flight_chats.discard(m.chat_id)
                await sender.mark_sent(m.id, [m.id])

    await asyncio.gather(*(run(s) for s in senders))
    assert len(delivered) == len(set(delivered)) == len(messages)
    assert await senders[0].pending_count() == 0


async def test_postgresql_claim_skips_locked_rows(uow_factory, engine, backend) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite has no row locks; its writers are serialised instead")
    await put(uow_factory, text_message(1, "locked"), text_message(2, "free"))
    store = OutboxStore(engine)
    async with engine.connect() as other:
        await other.execute(text("SELECT id FROM outbox WHERE chat_id = 1 FOR UPDATE"))
        batch = await asyncio.wait_for(store.claim(10), timeout=5)  # must not wait for the lock
        assert [m.message.text for m in batch] == ["free"]
        await other.rollback()
    assert [m.message.text for m in await store.claim(10)] == ["locked"]


async def test_prune_keeps_pending_and_recent(uow_factory, engine, store, clock) -> None:
    from storage.maintenance import prune
    from storage.uow import uow_factory as make_uow_factory

    old_uow = make_uow_factory(engine, clock=clock)
    async with old_uow() as uow:
        assert await uow.updates.record(1)
        await uow.commit()
    await put(uow_factory, text_message(1, "sent"), text_message(2, "pending"))
    [sent, _pending] = await store.claim(10)
    await store.mark_sent(sent.id, [1])
    clock.advance(3600)
    async with make_uow_factory(engine, clock=clock)() as uow:
        assert await uow.updates.record(2)
        await uow.commit()

    pruned = await prune(engine, updates_before=clock.now - timedelta(minutes=30),
                         sent_before=clock.now - timedelta(minutes=30))
    assert (pruned.updates, pruned.outbox) == (1, 1)
    assert [m.message.text for m in await store.peek()] == ["pending"]
    async with uow_factory() as uow:
        assert await uow.updates.record(1) is True  # forgotten
        assert await uow.updates.record(2) is False  # still remembered


async def test_sqlite_finds_a_chats_pending_rows_by_index(engine, backend, store) -> None:
    """The claim's "no older pending row of this chat" is an index seek on (chat_id, status, id). On
    (chat_id, id) it walked every row the chat ever had, for each pending row: a worker's chat with a
    backlog made every claim cost thousands of lookups."""
    if backend != "sqlite":
        pytest.skip("the plan is read from SQLite's EXPLAIN QUERY PLAN")
    claims: list[tuple[str, object]] = []

    def capture(connection, cursor, statement, parameters, context, executemany) -> None:
        if statement.startswith("UPDATE outbox SET claimed_until"):
            claims.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    try:
        await store.claim(10)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", capture)
    [(statement, parameters)] = claims
    async with engine.connect() as connection:
        plan = (await connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, tuple(parameters))).all()
    details = " | ".join(str(row[-1]) for row in plan)
    assert "ix_outbox_chat_id_status_id (chat_id=? AND status=?" in details, details


async def test_postgresql_a_commit_that_queued_messages_notifies_the_sender(engine, uow_factory, backend):
    """One NOTIFY per transaction that queued rows, delivered at its commit, none for a rollback."""
    if backend != "postgresql":
        pytest.skip("SQLite is one process: its commits wake the sender directly")
    heard: asyncio.Queue[str] = asyncio.Queue()
    notifies: list[str] = []

    def count(connection, cursor, statement, parameters, context, executemany) -> None:
        if "pg_notify" in statement:
            notifies.append(statement)

    async with engine.connect() as listening:
        driver = (await listening.get_raw_connection()).driver_connection
        listener = lambda *args: heard.put_nowait(args[-1])  # noqa: E731
        await driver.add_listener(OUTBOX_CHANNEL, listener)
        event.listen(engine.sync_engine, "before_cursor_execute", count)
        try:
            async with uow_factory() as uow:
                await uow.outbox.add(text_message(1, "rolled back"))
            async with uow_factory() as uow:
                await uow.outbox.add(text_message(1, "a"))
                await uow.outbox.add(text_message(2, "b"))
                await uow.commit()
                await uow.outbox.add(text_message(1, "c"))  # a new transaction notifies again
                await uow.commit()
            async with engine.begin() as connection:  # the end of what there is to hear
                await connection.execute(text("SELECT pg_notify(:channel, 'end')"),
                                         {"channel": OUTBOX_CHANNEL})
            payloads = []
            while not payloads or payloads[-1] != "end":
                payloads.append(await asyncio.wait_for(heard.get(), timeout=10))
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", count)
            await driver.remove_listener(OUTBOX_CHANNEL, listener)
    assert payloads == ["", "", "end"]
    assert len(notifies) == 4  # once per transaction that queued rows, and the test's own
