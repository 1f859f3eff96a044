"""One update, one transaction (SqlUnitOfWork.begin_update): a repeat changes nothing, a rollback keeps
nothing, the same update handled twice at once is applied once, and on PostgreSQL two updates of one chat
never run at once, even from two engines (two bot processes)."""

from __future__ import annotations

import asyncio

import pytest
from dialog_support import load_example, make_conversations
from pg_locks import until_waiting
from sqlalchemy import func, select

from gridcore.conversation import Conversation
from gridcore.messages import OutgoingMessage
from handlers.inputs import Incoming, InputKind, Sender
from storage.db import create_engine
from storage.models import ConversationRow, OutboxRow, ProcessedUpdateRow
from storage.uow import chat_lock_key
from storage.uow import uow_factory as make_uow_factory

REPORT = "一楼堆放杂物，楼道都堵了"


async def count(engine, model) -> int:
    async with engine.connect() as connection:
        return (await connection.execute(select(func.count()).select_from(model))).scalar_one()


@pytest.fixture
async def other_engine(database_url):
    """A second engine on the same database: what a second bot process would have."""
    engine = create_engine(database_url)
    try:
        yield engine
    finally:
        await engine.dispose()


def only_on_postgresql(backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite runs one writing transaction at a time (BEGIN IMMEDIATE, one connection)")


async def test_a_repeat_changes_nothing(engine, uow_factory) -> None:
    await load_example(uow_factory)
    conversations = make_conversations(uow_factory)
    incoming = Incoming(900, 5001, Sender(5001, "张阿姨"), InputKind.TEXT, text=REPORT)
    first = await conversations.handle(incoming)
    assert not first.duplicate and first.messages
    async with uow_factory() as uow:
        before = await uow.conversations.get(5001)
    rows = await count(engine, OutboxRow)
    again = await conversations.handle(incoming)
    assert again.duplicate and again.messages == []
    assert await count(engine, OutboxRow) == rows
    async with uow_factory() as uow:
        assert await uow.conversations.get(5001) == before


async def test_a_rollback_keeps_nothing(engine, uow_factory) -> None:
    async with uow_factory() as uow:
        assert await uow.begin_update(905, chat_id=10, user_id=11)
        await uow.outbox.add(OutgoingMessage(10, "问题在哪一栋楼？"))
        await uow.conversations.save(Conversation(chat_id=10, user_id=11, step="where"))
        # no commit
    async with uow_factory() as uow:
        assert await uow.begin_update(905, chat_id=10, user_id=11)  # not recorded: handled again
        await uow.outbox.add(OutgoingMessage(10, "问题在哪一栋楼？"))
        await uow.rollback()
        await uow.commit()  # after the rollback, nothing is left to keep
    assert await count(engine, OutboxRow) == 0
    assert await count(engine, ConversationRow) == 0
    assert await count(engine, ProcessedUpdateRow) == 0


async def test_the_same_update_handled_twice_at_once_is_applied_once(engine, uow_factory) -> None:
    """A webhook retried while the first delivery is still handled: one answer, the other a repeat."""
    await load_example(uow_factory)
    conversations = make_conversations(uow_factory)
    incoming = Incoming(908, 5001, Sender(5001, "张阿姨"), InputKind.TEXT, text=REPORT)
    async with asyncio.timeout(30):
        answers = await asyncio.gather(conversations.handle(incoming), conversations.handle(incoming))
    assert sorted(answer.duplicate for answer in answers) == [False, True]
    async with engine.connect() as connection:
        rows = (await connection.execute(select(OutboxRow.id).where(OutboxRow.chat_id == 5001))).all()
    assert len(rows) == 1


@pytest.mark.parametrize("first_ends", ["commit", "rollback"])
async def test_a_second_handling_waits_for_the_first_then_sees_what_it_kept(
        backend, uow_factory, other_engine, first_ends) -> None:
    only_on_postgresql(backend)
    other_process = make_uow_factory(other_engine)
    async with uow_factory() as first:
        assert await first.begin_update(902, chat_id=10, user_id=11)
        await first.outbox.add(OutgoingMessage(10, "第一次"))
        await first.conversations.save(Conversation(chat_id=10, user_id=11, dialog="report", step="第一次"))

        async def second_handling() -> bool:
            async with other_process() as second:
                if not await second.begin_update(902, chat_id=10, user_id=11):
                    return False
                await second.outbox.add(OutgoingMessage(10, "第二次"))
                await second.conversations.save(Conversation(chat_id=10, user_id=11, step="第二次"))
                await second.commit()
                return True

        second = asyncio.create_task(second_handling())
        await until_waiting(other_engine, "advisory")  # the chat's lock, held by `first`
        assert not second.done()
        if first_ends == "commit":
            await first.commit()
        else:
            await first.rollback()
    applied_again = await asyncio.wait_for(second, timeout=10)
    assert applied_again is (first_ends == "rollback")
    async with uow_factory() as uow:
        texts = (await uow.session.scalars(select(OutboxRow.payload))).all()
        kept = await uow.conversations.get(10)
    expected = "第一次" if first_ends == "commit" else "第二次"
    assert [payload["text"] for payload in texts] == [expected] and kept.step == expected


async def test_two_updates_of_one_chat_run_one_after_the_other(backend, uow_factory, other_engine) -> None:
    """Two processes, two updates of one chat: the second begins only once the first committed, and
    reads what it saved. Another chat is not held up meanwhile."""
    only_on_postgresql(backend)
    other_process = make_uow_factory(other_engine)
    first_began = asyncio.Event()
    release_first = asyncio.Event()

    async def first_update() -> None:
        async with uow_factory() as uow:
            assert await uow.begin_update(1, chat_id=10, user_id=10)
            conversation = await uow.conversations.get(10) or Conversation(chat_id=10, user_id=10)
            first_began.set()
            await release_first.wait()
            conversation.dialog, conversation.step, conversation.turn = "report", "where", 1
            await uow.conversations.save(conversation)
            await uow.commit()

    async def second_update() -> Conversation | None:
        async with other_process() as uow:
            assert await uow.begin_update(2, chat_id=10, user_id=10)
            seen = await uow.conversations.get(10)
            await uow.commit()
            return seen

    first = asyncio.create_task(first_update())
    await first_began.wait()
    second = asyncio.create_task(second_update())
    await until_waiting(other_engine, "advisory")
    async with other_process() as elsewhere:  # another chat goes ahead while chat 10 is held
        assert await asyncio.wait_for(elsewhere.begin_update(3, chat_id=11, user_id=11), timeout=10)
        await elsewhere.commit()
    assert not second.done()
    release_first.set()
    await asyncio.wait_for(first, timeout=10)
    seen = await asyncio.wait_for(second, timeout=10)
    assert seen is not None and (seen.step, seen.turn) == ("where", 1)


def test_every_chat_id_folds_into_one_fixed_32_bit_lock_key() -> None:
    chat_ids = [1, 5001, 5002, 2**31, 2**52 - 1, -1, -1001234567890, -1001234567891, -4012345678]
    keys = [chat_lock_key(chat_id) for chat_id in chat_ids]
    assert all(-(2**31) <= key < 2**31 for key in keys)
    assert keys == [chat_lock_key(chat_id) for chat_id in chat_ids]  # the same chat, the same lock
    assert len(set(keys)) == len(keys)  # these chats, different locks
