"""SqlUnitOfWork: commit/rollback, the update log, conversations and residents."""

from __future__ import annotations

import inspect
from datetime import UTC, datetime, timedelta, timezone

import pytest

from gridcore import ports
from gridcore.community import Community
from gridcore.conversation import Conversation, Resident
from gridcore.messages import OutgoingMessage

pytestmark = pytest.mark.memory

CST = timezone(timedelta(hours=8))


@pytest.mark.parametrize(
    ("port", "attribute"),
    [
        (ports.RosterRepository, "roster"),
        (ports.TicketRepository, "tickets"),
        (ports.ConversationRepository, "conversations"),
        (ports.ResidentRepository, "residents"),
        (ports.Outbox, "outbox"),
        (ports.UpdateLog, "updates"),
    ],
)
async def test_repositories_match_the_ports(uow_factory, port, attribute) -> None:
    async with uow_factory() as uow:
        repository = getattr(uow, attribute)
        for name, member in vars(port).items():
            if name.startswith("_") or not inspect.iscoroutinefunction(member):
                continue
            implemented = getattr(repository, name)
            assert inspect.iscoroutinefunction(implemented), f"{attribute}.{name} must be async"
            expected = list(inspect.signature(member).parameters)[1:]
            assert list(inspect.signature(implemented).parameters)[: len(expected)] == expected


async def test_exit_without_commit_rolls_back(uow_factory, outbox_store) -> None:
    async with uow_factory() as uow:
        await uow.roster.upsert(Community("XK", "新康社区"))
        assert await uow.updates.record(1)
        await uow.conversations.save(Conversation(chat_id=10, user_id=10, dialog="report", step="where"))
        await uow.residents.save(Resident(user_id=10, chat_id=10))
        await uow.outbox.add(OutgoingMessage(chat_id=10, text="收到"))
        assert await uow.roster.get("XK") is not None  # visible inside the transaction
    async with uow_factory() as uow:
        assert await uow.roster.list_codes() == []
        assert await uow.conversations.get(10) is None
        assert await uow.residents.get(10) is None
        assert await uow.updates.record(1)  # not seen before: the first record was rolled back
    assert await outbox_store.pending_count() == 0


async def test_exception_rolls_back_and_propagates(uow_factory) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        async with uow_factory() as uow:
            await uow.roster.upsert(Community("XK", "新康社区"))
            raise RuntimeError("boom")
    async with uow_factory() as uow:
        assert await uow.roster.list_codes() == []


async def test_commit_persists(uow_factory, outbox_store) -> None:
    async with uow_factory() as uow:
        await uow.roster.upsert(Community("XK", "新康社区"))
        await uow.outbox.add(OutgoingMessage(chat_id=10, text="收到"))
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.roster.list_codes() == ["XK"]
    assert await outbox_store.pending_count() == 1


async def test_unit_of_work_is_not_reentrant(uow_factory) -> None:
    uow = uow_factory()
    with pytest.raises(RuntimeError):
        await uow.commit()
    async with uow:
        with pytest.raises(RuntimeError):
            await uow.__aenter__()
    async with uow:  # reusable after it was closed
        pass


async def test_update_log_repeat_keeps_the_transaction_usable(uow_factory) -> None:
    async with uow_factory() as uow:
        assert await uow.updates.record(500_000_001) is True
        assert await uow.updates.record(500_000_001) is False
        await uow.residents.save(Resident(user_id=1, chat_id=1))  # still works after the repeat
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.updates.record(500_000_001) is False
        assert await uow.updates.record(500_000_002) is True
        assert await uow.residents.get(1) == Resident(user_id=1, chat_id=1)
        await uow.commit()


async def test_conversation_round_trip(uow_factory) -> None:
    at = datetime(2026, 11, 22, 21, 5, 7, 123456, tzinfo=CST)
    conversation = Conversation(
        chat_id=-1001234567890,
        user_id=5_000_000_001,
        dialog="report",
        step="photo",
        turn=3,
        data={"category": "junk", "building": "B1", "photos": ["p1"], "nested": {"n": 1, "ok": True}},
        updated_at=at,
    )
    async with uow_factory() as uow:
        assert await uow.conversations.get(conversation.chat_id) is None
        await uow.conversations.save(conversation)
        await uow.commit()
    async with uow_factory() as uow:
        loaded = await uow.conversations.get(conversation.chat_id)
        assert loaded == conversation
        assert loaded.updated_at.tzinfo == UTC
        loaded.reset()
        loaded.updated_at = at + timedelta(minutes=1)
        await uow.conversations.save(loaded)
        await uow.commit()
    async with uow_factory() as uow:
        again = await uow.conversations.get(conversation.chat_id)
        assert again == loaded
        assert (again.dialog, again.step, again.turn, again.data) == (None, None, 4, {})


async def test_conversation_without_updated_at_gets_the_clock(uow_factory) -> None:
    conversation = Conversation(chat_id=1, user_id=1)
    async with uow_factory() as uow:
        await uow.conversations.save(conversation)
        await uow.commit()
    assert conversation.updated_at is not None and conversation.updated_at.tzinfo is not None
    async with uow_factory() as uow:
        assert (await uow.conversations.get(1)).updated_at == conversation.updated_at


async def test_resident_round_trip(uow_factory) -> None:
    resident = Resident(user_id=5_000_000_001, chat_id=5_000_000_001, display_name="李阿姨",
                        username="li_ayi", phone="13900000000", home_building_code="B1")
    async with uow_factory() as uow:
        assert await uow.residents.get(resident.user_id) is None
        await uow.residents.save(resident)
        await uow.commit()
    changed = Resident(user_id=resident.user_id, chat_id=42, display_name="李阿姨")
    async with uow_factory() as uow:
        assert await uow.residents.get(resident.user_id) == resident
        await uow.residents.save(changed)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.residents.get(resident.user_id) == changed


async def test_make_engine_helper(make_engine, backend) -> None:
    """What end-to-end tests elsewhere use when they pick the backend themselves."""
    from storage.uow import uow_factory

    engine = await make_engine(backend)
    assert engine.dialect.name == backend
    async with uow_factory(engine)() as uow:
        assert await uow.roster.list_codes() == []
        assert await uow.updates.record(1)
        await uow.commit()
    again = await make_engine(backend)  # clean again
    async with uow_factory(again)() as uow:
        assert await uow.updates.record(1)


async def test_sqlite_errors_arrive_as_sqlalchemys_and_leave_the_connection_usable(tmp_path) -> None:
    """On the one pooled connection of a file database: a failed transaction rolls back and the next
    one works (the pool hands the same connection on)."""
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError, OperationalError

    from storage.db import create_engine
    from storage.testing import sqlite_url

    engine = create_engine(sqlite_url(tmp_path / "errors.db"))
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)"))
            await connection.execute(text("INSERT INTO t VALUES (1, 'one')"))
        with pytest.raises(IntegrityError):
            async with engine.begin() as connection:
                await connection.execute(text("INSERT INTO t VALUES (2, 'two')"))
                await connection.execute(text("INSERT INTO t VALUES (1, 'again')"))
        with pytest.raises(OperationalError):
            async with engine.begin() as connection:
                await connection.execute(text("SELECT nothing FROM nowhere"))
        async with engine.begin() as connection:
            rows = (await connection.execute(text("SELECT k, v FROM t ORDER BY k"))).all()
            await connection.execute(text("INSERT INTO t VALUES (:k, :v)"),
                                     [{"k": 3, "v": "c"}, {"k": 4, "v": "d"}])  # executemany
        assert [tuple(row) for row in rows] == [(1, "one")]  # the failed transaction left nothing
        async with engine.connect() as connection:
            assert (await connection.execute(text("SELECT count(*) FROM t"))).scalar() == 3
    finally:
        await engine.dispose()


async def test_begin_update_records_the_update(uow_factory) -> None:
    async with uow_factory() as uow:
        assert await uow.begin_update(70, chat_id=10, user_id=11)
        assert await uow.conversations.get(10) is None and await uow.residents.get(11) is None
        await uow.conversations.save(Conversation(chat_id=10, user_id=11, dialog="report", step="where",
                                                  data={"text": "楼道灯坏了"}, prompts=[3],
                                                  updated_at=datetime(2026, 11, 22, 9, 30, tzinfo=CST)))
        await uow.residents.save(Resident(user_id=11, chat_id=10, display_name="张阿姨", phone="13800001111"))
        assert (await uow.conversations.get(10)).step == "where"  # what was saved
        await uow.commit()
    async with uow_factory() as uow:
        assert not await uow.begin_update(70, chat_id=10, user_id=11)  # a repeat
    async with uow_factory() as uow:
        assert await uow.begin_update(71, chat_id=10, user_id=11)
        conversation = await uow.conversations.get(10)
        assert (conversation.dialog, conversation.step, conversation.turn) == ("report", "where", 0)
        assert conversation.data == {"text": "楼道灯坏了"} and conversation.prompts == [3]
        assert conversation.updated_at == datetime(2026, 11, 22, 1, 30, tzinfo=UTC)
        assert await uow.residents.get(11) == Resident(user_id=11, chat_id=10, display_name="张阿姨",
                                                       phone="13800001111")
        assert await uow.residents.get(12) is None
        await uow.commit()
    async with uow_factory() as uow:
        assert not await uow.updates.record(71)


async def test_sqlite_transactions_begin_immediate_on_one_connection(tmp_path) -> None:
    """A file database: every transaction takes the write lock with its first statement, WAL and foreign
    keys are on, and the engine has one connection (a second transaction queues for it)."""
    from sqlalchemy import event, exc, text

    from storage.db import create_engine
    from storage.testing import sqlite_url

    engine = create_engine(sqlite_url(tmp_path / "one.db"), pool_timeout=0.1)
    begun: list[str] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def record(conn, cursor, statement, *args) -> None:
        begun.append(statement)

    try:
        async with engine.connect() as connection:
            assert (await connection.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
            assert (await connection.execute(text("PRAGMA foreign_keys"))).scalar() == 1
            await connection.rollback()
        begun.clear()
        async with engine.begin() as connection:
            await connection.execute(text("SELECT 1"))
        assert begun == ["BEGIN IMMEDIATE", "SELECT 1"]
        async with engine.connect():
            with pytest.raises(exc.TimeoutError):  # the one connection is taken: a second waits, in vain
                async with engine.connect():
                    pass
    finally:
        await engine.dispose()
