"""An update's last writes go with its record (storage.repositories.closing), on SQLite and PostgreSQL.

On PostgreSQL a dialog step is two statements and no BEGIN or COMMIT; every test here also holds the
outcome equal on SQLite, which writes at once as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime

import asyncpg
import pytest
from dialog_support import load_example, make_conversations
from sqlalchemy import func, select, text

from gridcore.conversation import Conversation, Resident
from gridcore.errors import RepeatedUpdate
from gridcore.messages import Button, OutgoingMessage
from handlers.inputs import Incoming, InputKind, Sender
from storage.models import ConversationRow, OutboxRow, ProcessedUpdateRow
from storage.outbox_store import Handoff, PendingMessage
from storage.uow import uow_factory as make_uow_factory

AT = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
QUESTION = OutgoingMessage(10, "问题在哪一栋楼？", buttons=((Button("1号楼", "r:1:B1"),),))


@pytest.fixture
def sent_to_server(monkeypatch) -> Iterator[list[str]]:
    """The text of every statement the asyncpg driver sends (BEGIN and COMMIT included)."""
    sent: list[str] = []

    def on_connection(name: str) -> None:
        original = getattr(asyncpg.connection.Connection, name)

        async def sending(self, query, *args, **kwargs):
            sent.append(query)
            return await original(self, query, *args, **kwargs)

        monkeypatch.setattr(asyncpg.connection.Connection, name, sending)

    for name in ("execute", "executemany", "fetch"):
        on_connection(name)
    prepared_fetch = asyncpg.prepared_stmt.PreparedStatement.fetch

    async def prepared(self, *args, **kwargs):  # SQLAlchemy's own path
        sent.append(self.get_query())
        return await prepared_fetch(self, *args, **kwargs)

    monkeypatch.setattr(asyncpg.prepared_stmt.PreparedStatement, "fetch", prepared)
    yield sent


async def count(engine, table, *where) -> int:
    async with engine.connect() as connection:
        return (await connection.execute(select(func.count()).select_from(table).where(*where))).scalar_one()


async def test_a_dialog_step_is_its_read_and_one_write(engine, uow_factory, backend, sent_to_server) -> None:
    async with engine.connect():
        pass  # the pool's connection is set up (its own statements)
    sent_to_server.clear()
    async with uow_factory() as uow:
        assert await uow.begin_update(900, chat_id=10, user_id=11)
        conversation = await uow.conversations.get(10) or Conversation(chat_id=10, user_id=11)
        conversation.dialog, conversation.step = "report", "where"
        resident = Resident(user_id=11, chat_id=10, display_name="张阿姨")
        await uow.residents.save(resident)  # /start b_3: a new resident, then the building
        resident.home_building_code = "B3"
        await uow.residents.save(resident)
        question = await uow.outbox.add(QUESTION)
        conversation.prompts.append(question)
        await uow.conversations.save(conversation)
        await uow.commit()
    if backend == "postgresql":
        [read, write] = sent_to_server
        assert read.startswith("SELECT") and "nextval" in read  # the outbox id comes with the read
        assert "INSERT INTO processed_updates" in write and "INSERT INTO outbox" in write
        assert "INSERT INTO conversations" in write and "INSERT INTO residents" in write
    async with uow_factory() as uow:
        assert not await uow.begin_update(900, chat_id=10, user_id=11)  # recorded
    async with uow_factory() as uow:
        assert await uow.begin_update(901, chat_id=10, user_id=11)
        saved = await uow.conversations.get(10)
        assert (saved.dialog, saved.step, saved.prompts) == ("report", "where", [question])
        assert await uow.residents.get(11) == Resident(user_id=11, chat_id=10, display_name="张阿姨",
                                                       home_building_code="B3")
        [row] = (await uow.session.execute(select(OutboxRow))).scalars().all()
        assert (row.id, row.chat_id, row.payload["text"]) == (question, 10, QUESTION.text)


async def test_a_repeat_found_at_the_commit_keeps_nothing(engine, uow_factory, backend) -> None:
    if backend == "sqlite":
        pytest.skip("SQLite records the update first: the second unit of work waits for the first writer")
    first, second = uow_factory(), uow_factory()
    async with first, second:
        assert await first.begin_update(902, chat_id=10, user_id=11)
        assert await second.begin_update(902, chat_id=10, user_id=11)  # neither knows of the other yet
        await second.residents.save(Resident(user_id=11, chat_id=10, display_name="张阿姨"))  # held
        await second.residents.save(Resident(user_id=12, chat_id=12, display_name="李师傅"))  # written now
        for uow, text_ in ((first, "第一次"), (second, "第二次")):
            await uow.outbox.add(OutgoingMessage(10, text_))
            await uow.conversations.save(Conversation(chat_id=10, user_id=11, dialog="report", step=text_))
        await first.commit()
        with pytest.raises(RepeatedUpdate):
            await second.commit()
    async with uow_factory() as uow:
        assert await uow.begin_update(903, chat_id=10, user_id=11)
        assert (await uow.conversations.get(10)).step == "第一次"
        assert await uow.residents.get(11) is None  # the repeat's earlier writes were rolled back too
        assert await uow.residents.get(12) is None
        texts = (await uow.session.execute(select(OutboxRow.payload))).scalars().all()
        assert [payload["text"] for payload in texts] == ["第一次"]


async def test_a_held_write_goes_first_when_another_statement_runs(uow_factory, backend,
                                                                   sent_to_server) -> None:
    async with uow_factory() as uow:
        assert await uow.begin_update(904, chat_id=10, user_id=11)
        question = await uow.outbox.add(QUESTION)
        await uow.conversations.save(Conversation(chat_id=10, user_id=11, prompts=[question]))
        sent_before = len(sent_to_server)
        assert await uow.residents.get(12) is None  # not preloaded: a statement of its own
        if backend == "postgresql":  # BEGIN, the row, the conversation, then the read
            assert [sql.split()[0] for sql in sent_to_server[sent_before:]] == [
                "BEGIN;", "INSERT", "INSERT", "SELECT"]
        in_transaction = select(func.count()).select_from(OutboxRow).where(OutboxRow.id == question)
        assert (await uow.session.execute(in_transaction)).scalar_one() == 1
        await uow.commit()
    async with uow_factory() as uow:
        assert not await uow.begin_update(904, chat_id=10, user_id=11)
        assert (await uow.conversations.get(10)).prompts == [question]


async def test_rolled_back_writes_and_record_are_not_kept(engine, uow_factory) -> None:
    async with uow_factory() as uow:
        assert await uow.begin_update(905, chat_id=10, user_id=11)
        await uow.outbox.add(QUESTION)
        await uow.conversations.save(Conversation(chat_id=10, user_id=11, step="where"))
    async with uow_factory() as uow:
        assert await uow.begin_update(905, chat_id=10, user_id=11)  # not recorded: handled again
        await uow.rollback()
        await uow.commit()  # after the rollback, nothing is left to write
    assert await count(engine, OutboxRow.__table__) == 0
    assert await count(engine, ConversationRow.__table__) == 0
    assert await count(engine, ProcessedUpdateRow.__table__) == 0


class Receiver:
    """This process's sender as the units of work see it: admits every chat, keeps what it is handed."""

    def __init__(self) -> None:
        self.handed: list[PendingMessage] = []
        self.unleased: set[int] = set()

    def admits(self, chat_id: int) -> tuple[int, frozenset[int]]:
        return 1, frozenset()

    def take(self, rows: list[PendingMessage], epochs: dict[int, int], unleased_chats: set[int]) -> None:
        self.handed.extend(rows)
        self.unleased |= unleased_chats


async def test_a_held_row_is_leased_to_the_sender_as_a_row_written_at_once(engine, uow_factory) -> None:
    async with uow_factory() as uow:  # a pending row of chat 20 that this sender does not hold
        await uow.outbox.add(OutgoingMessage(20, "早先的消息"))
        await uow.commit()
    handoff = Handoff()
    handoff.receiver = receiver = Receiver()
    handed = make_uow_factory(engine, handoff=handoff)
    async with handed() as uow:
        assert await uow.begin_update(906, chat_id=10, user_id=11)
        first = await uow.outbox.add(OutgoingMessage(10, "一"))
        second = await uow.outbox.add(OutgoingMessage(10, "二"))
        await uow.commit()
    assert [(row.id, row.message.text) for row in receiver.handed] == [(first, "一"), (second, "二")]
    async with handed() as uow:
        assert await uow.begin_update(907, chat_id=20, user_id=21)
        await uow.outbox.add(OutgoingMessage(20, "回复"))  # held, and not leased: 20 has a row elsewhere
        await uow.commit()
    assert len(receiver.handed) == 2 and receiver.unleased == {20}
    async with engine.connect() as connection:
        leases = (await connection.execute(text(
            "SELECT chat_id, claimed_until IS NOT NULL FROM outbox ORDER BY id"))).all()
    assert [tuple(lease) for lease in leases] == [(20, False), (10, True), (10, True), (20, False)]


async def test_the_same_update_handled_twice_at_once_is_answered_once(uow_factory, backend) -> None:
    """Two handlings of one update (a webhook retried while the first still runs): one reply is kept,
    and the other handling says it was a repeat."""
    await load_example(uow_factory)
    both_read = asyncio.Barrier(2)

    class Waiting:
        def __init__(self) -> None:
            self._uow = uow_factory()

        async def __aenter__(self):
            await self._uow.__aenter__()
            return self

        async def __aexit__(self, *exc):
            await self._uow.__aexit__(*exc)

        async def begin_update(self, *args):
            recorded = await self._uow.begin_update(*args)
            if backend == "postgresql":  # SQLite's second writer waits for the first; nothing to line up
                await both_read.wait()
            return recorded

        def __getattr__(self, name):
            return getattr(self._uow, name)

    conversations = make_conversations(Waiting)
    incoming = Incoming(908, 5001, Sender(5001, "张阿姨"), InputKind.TEXT, text="一楼堆放杂物，楼道都堵了")
    async with asyncio.timeout(30):  # (before the record went with the commit, the two waited on each other)
        answers = await asyncio.gather(conversations.handle(incoming), conversations.handle(incoming))
    assert sorted(answer.duplicate for answer in answers) == [False, True]
    async with uow_factory() as uow:
        rows = (await uow.session.execute(select(OutboxRow).where(OutboxRow.chat_id == 5001))).scalars().all()
    assert len(rows) == 1
