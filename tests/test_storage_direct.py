"""storage.direct: marked statements on the driver's connection give what SQLAlchemy gives (both backends)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, event, exc, insert, select

from bot.outage import is_database_unavailable
from gridcore.community import Building, Category, Community, Grid
from gridcore.conversation import Conversation
from gridcore.ticket import Action, Location, Reporter, Ticket, format_ticket_number
from storage.direct import DirectConnection, direct, is_direct, watched
from storage.models import ConversationRow, OutboxRow, TicketSequenceRow
from storage.repositories import chats, tickets
from storage.repositories.outbox import _record_update

# A plain INSERT ... RETURNING with every column given (the outbox's own insert fixes status and attempts).
_insert_row = direct(insert(OutboxRow.__table__).returning(OutboxRow.__table__.c.id))

CST = timezone(timedelta(hours=8))
NOW = datetime(2026, 11, 22, 9, 30, 15, 123456, tzinfo=CST)


async def both_ways(engine, statement, parameters, read):
    """`read(result)` of the statement run directly and through SQLAlchemy, each in its own rolled-back
    transaction on a fresh copy of what `parameters` needs."""
    async with engine.connect() as connection:
        await connection.begin()
        direct_result = read(await DirectConnection(connection).execute(statement, parameters))
        await connection.rollback()
    async with engine.connect() as connection:
        sqlalchemy_result = read(await connection.execute(statement, parameters))
        await connection.rollback()
    return direct_result, sqlalchemy_result


async def test_only_inside_a_transaction(engine) -> None:
    async with engine.connect() as connection:
        with pytest.raises(ValueError, match="inside a transaction"):
            DirectConnection(connection)


async def test_marked_statements_are_known_and_others_are_not() -> None:
    assert is_direct(chats._conversation_of_chat) and is_direct(tickets._open_counts)
    assert not is_direct(tickets._followers_of_tickets)  # an IN list given per call
    assert not is_direct(select(ConversationRow))


async def test_rows_come_back_as_through_sqlalchemy(engine, uow_factory) -> None:
    async with uow_factory() as uow:
        await uow.conversations.save(Conversation(
            chat_id=7, user_id=7, dialog="report", step="unit", turn=3,
            data={"text": "楼道灯坏了 <b>&", "nested": {"photos": ["a", "b"]}}, prompts=[11, 12],
            updated_at=NOW))
        await uow.commit()
    direct_row, sqlalchemy_row = await both_ways(engine, chats._conversation_of_chat, {"chat_id": 7},
                                                 lambda result: result.one())
    assert tuple(direct_row) == tuple(sqlalchemy_row)
    assert direct_row.data == {"text": "楼道灯坏了 <b>&", "nested": {"photos": ["a", "b"]}}
    assert direct_row.updated_at == NOW and direct_row.updated_at.tzinfo == UTC
    assert direct_row.prompts == [11, 12]


async def test_inserts_returning_and_the_values_fixed_in_a_statement(engine) -> None:
    row = {"chat_id": 5, "payload": {"v": 1, "text": "收到"}, "ticket_number": None, "created_at": NOW,
           "status": "pending", "attempts": 0, "claimed_until": None}
    ids = await both_ways(engine, _insert_row, row, lambda result: result.scalar_one())
    assert all(isinstance(id, int) for id in ids)
    # ON CONFLICT ... DO UPDATE SET last = last + :fixed, RETURNING: the same number either way
    sequence = tickets._next_sequence(engine.dialect.name)
    async with engine.begin() as connection:
        await connection.execute(TicketSequenceRow.__table__.insert(),
                                 {"community_code": "XK", "day": date(2026, 11, 22), "last": 6})
    numbers = await both_ways(engine, sequence, {"community": "XK", "day": date(2026, 11, 22)},
                              lambda result: result.scalar_one())
    assert numbers == (7, 7)


async def file_two_assigned_tickets(uow_factory) -> None:
    community = Community("XK", "XK 社区", grids=(Grid("G1", "一网格"),),
                          buildings=(Building("B1", "1号楼", "G1"),),
                          categories=(Category("junk", "楼道堆物"),))
    async with uow_factory() as uow:
        await uow.roster.upsert(community)
        for seq, assignee in ((1, 5001), (2, 5002)):
            ticket = Ticket.file(number=format_ticket_number("XK", NOW.date(), seq), community_code="XK",
                                 category_code="junk", feedback_deadline=timedelta(days=3),
                                 description="一楼堆放杂物", location=Location("B1", "2单元", ""),
                                 reporter=Reporter(100, 100, "李阿姨"), at=NOW)
            ticket.apply(Action.ASSIGN, actor="system", at=NOW, assignee=assignee)
            await uow.tickets.add(ticket)
        await uow.commit()


async def test_a_fixed_in_list_a_group_by_and_an_update_count(engine, uow_factory) -> None:
    await file_two_assigned_tickets(uow_factory)
    counts = await both_ways(engine, tickets._open_counts, {"community": "XK"},
                             lambda result: sorted(tuple(row) for row in result))
    assert counts[0] == counts[1] == [(5001, 1), (5002, 1)]
    changed = await both_ways(engine, tickets._update_ticket,
                              {"status": "accepted", "updated_at": NOW, "ticket_id": 1},
                              lambda result: result.rowcount)
    assert changed == (1, 1)
    missing = await both_ways(engine, tickets._update_ticket,
                              {"status": "accepted", "updated_at": NOW, "ticket_id": 999},
                              lambda result: result.rowcount)
    assert missing == (0, 0)


async def test_a_list_of_rows_without_returning(engine) -> None:
    statement = direct(TicketSequenceRow.__table__.insert())
    rows = [{"community_code": "XK", "day": date(2026, 11, d), "last": d} for d in (1, 2, 3)]
    async with engine.connect() as connection:
        await connection.begin()
        runner = DirectConnection(connection)
        await runner.execute(statement, rows)
        assert (await runner.execute(statement, [])).rowcount == 0
        stored = (await connection.execute(select(TicketSequenceRow.day, TicketSequenceRow.last)
                                           .order_by(TicketSequenceRow.day))).all()
        await connection.rollback()
    assert [tuple(row) for row in stored] == [(date(2026, 11, d), d) for d in (1, 2, 3)]


async def test_errors_are_sqlalchemys_with_the_drivers_as_cause(engine) -> None:
    async with engine.connect() as connection:
        await connection.begin()
        runner = DirectConnection(connection)
        record = _record_update(engine.dialect.name)
        assert (await runner.execute(record, {"update_id": 1, "at": NOW})).scalar_one_or_none() == 1
        assert (await runner.execute(record, {"update_id": 1, "at": NOW})).scalar_one_or_none() is None
        with pytest.raises(exc.IntegrityError) as raised:
            await runner.execute(_insert_row, {"chat_id": 1, "payload": {}, "ticket_number": None,
                                               "created_at": NOW, "status": None, "attempts": 0,
                                               "claimed_until": None})  # status is NOT NULL
        assert raised.value.orig is not None and raised.value.__cause__ is raised.value.orig
        assert "pending" not in str(raised.value)  # parameters are kept out of messages
        assert not is_database_unavailable(raised.value)
        await connection.rollback()


async def test_each_driver_error_becomes_the_same_sqlalchemy_error(engine) -> None:
    """A missing table (OperationalError on SQLite, ProgrammingError on PostgreSQL): the class SQLAlchemy
    would raise, so bot.outage reads it the same way. (SQLite's "database is locked" cannot reach a direct
    statement: the write lock is taken by BEGIN IMMEDIATE, which SQLAlchemy sends.)"""
    nowhere = direct(select(Table("nowhere", MetaData(), Column("x", Integer))))
    raised = []
    for run_directly in (True, False):
        async with engine.connect() as connection:
            await connection.begin()
            with pytest.raises(exc.DBAPIError) as error:
                if run_directly:
                    await DirectConnection(connection).execute(nowhere, {})
                else:
                    await connection.execute(nowhere)
            raised.append(error.value)
            await connection.rollback()
    assert type(raised[0]) is type(raised[1])
    assert type(raised[0].orig) is type(raised[1].orig)
    assert is_database_unavailable(raised[0]) == is_database_unavailable(raised[1])


async def test_listeners_on_statements_see_every_statement(engine, uow_factory) -> None:
    seen: list[str] = []

    def listen(connection, cursor, statement, parameters, context, executemany) -> None:
        seen.append(statement.split()[0])

    async with engine.connect() as connection:
        assert not watched(connection)
    event.listen(engine.sync_engine, "before_cursor_execute", listen)
    try:
        async with uow_factory() as uow:
            assert await uow.updates.record(42)  # a marked statement
            await uow.commit()
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", listen)
    assert "INSERT" in seen
