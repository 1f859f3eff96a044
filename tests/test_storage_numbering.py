"""A filing's number (TicketRepository.next_number): taken first, from the day's counter row locked by the
filing's transaction, so the ticket and its messages carry it from the start and the numbers of committed
tickets are consecutive and gap-free, also under concurrent filings. Both databases."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest
from pg_locks import until_waiting
from sqlalchemy import event, insert, select

from gridcore.community import Building, Category, Community, Grid
from gridcore.messages import Button, OutgoingMessage
from gridcore.ticket import Location, Reporter, Ticket, format_ticket_number
from storage.db import create_engine
from storage.models import OutboxRow, TicketRow, TicketSequenceRow
from storage.uow import uow_factory as make_uow_factory

DAY = date(2026, 11, 22)
AT = datetime(2026, 11, 22, 1, 30, tzinfo=UTC)


@pytest.fixture
async def community(uow_factory) -> Community:
    community = Community(code="XK", name="XK 社区", grids=(Grid("G1", "一网格"),),
                          buildings=(Building("B1", "1号楼", "G1"),),
                          categories=(Category("junk", "楼道堆物"),))
    async with uow_factory() as uow:
        await uow.roster.upsert(community)
        await uow.commit()
    return community


def about(number: str, chat_id: int = 100) -> OutgoingMessage:
    return OutgoingMessage(chat_id, f"已受理，编号 <b>{number}</b>", ticket_number=number,
                           buttons=((Button(f"查看 {number}", "w:view:1"),),))


async def file(uow) -> str:
    """A filing as handlers.report_filing makes it: the number, then the ticket and its message."""
    number = await uow.tickets.next_number("XK", DAY)
    await uow.tickets.add(Ticket.file(
        number=number, community_code="XK", category_code="junk", feedback_deadline=timedelta(days=3),
        description="一楼堆放杂物", location=Location("B1", "2单元", ""),
        reporter=Reporter(100, 100, "李阿姨"), at=AT))
    await uow.outbox.add(about(number))
    return number


async def committed_numbers(uow_factory) -> list[str]:
    async with uow_factory() as uow:
        return list(await uow.session.scalars(select(TicketRow.number).order_by(TicketRow.number)))


async def test_the_ticket_and_its_messages_carry_the_number_from_the_start(engine, uow_factory, community):
    statements: list[str] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def record(conn, cursor, statement, *args) -> None:
        statements.append(" ".join(statement.split()).upper())

    async with uow_factory() as uow:
        number = await file(uow)
        await uow.commit()
    assert number == "XK-20261122-0001"
    writes = [s.split(" (")[0] for s in statements if s.startswith(("INSERT", "UPDATE"))]
    assert writes[0] == "INSERT INTO TICKET_SEQUENCES"  # the number first
    assert "INSERT INTO TICKETS" in writes and "INSERT INTO OUTBOX" in writes
    assert not any(w.startswith(("UPDATE TICKETS", "UPDATE OUTBOX")) for w in writes)  # never renumbered
    async with uow_factory() as uow:
        [(ticket_number, payload)] = (await uow.session.execute(
            select(OutboxRow.ticket_number, OutboxRow.payload))).all()
    assert ticket_number == number and payload["ticket_number"] == number
    assert payload["text"] == f"已受理，编号 <b>{number}</b>"
    assert payload["buttons"][0][0]["text"] == f"查看 {number}"


async def test_numbers_are_formatted_as_the_core_formats_them_past_four_digits(uow_factory, community):
    async with uow_factory() as uow:
        await uow.session.execute(insert(TicketSequenceRow).values(community_code="XK", day=DAY, last=9998))
        await uow.commit()
    numbers = []
    for _ in range(2):
        async with uow_factory() as uow:
            numbers.append(await file(uow))
            await uow.commit()
    assert numbers == [format_ticket_number("XK", DAY, 9999), format_ticket_number("XK", DAY, 10000)]
    assert numbers[1] == "XK-20261122-10000"


async def test_a_filing_that_rolls_back_gives_its_number_back(uow_factory, community):
    async with uow_factory() as uow:
        assert await file(uow) == "XK-20261122-0001"
        # no commit: the ticket, its messages and its number go
    async with uow_factory() as uow:
        number = await file(uow)
        await uow.commit()
    assert number == "XK-20261122-0001"
    assert await committed_numbers(uow_factory) == [number]


async def test_concurrent_filings_get_consecutive_numbers_once(uow_factory, community):
    async def one(keep: bool) -> str:
        async with uow_factory() as uow:
            number = await file(uow)
            await asyncio.sleep(0)  # the others try meanwhile
            if keep:
                await uow.commit()
            return number

    kept = [n % 3 != 0 for n in range(12)]  # every third filing rolls back
    numbers = await asyncio.gather(*(one(keep) for keep in kept))
    expected = [format_ticket_number("XK", DAY, n) for n in range(1, sum(kept) + 1)]
    assert sorted(number for number, keep in zip(numbers, kept, strict=True) if keep) == expected
    assert await committed_numbers(uow_factory) == expected  # consecutive, no gaps


@pytest.mark.parametrize("first_ends", ["commit", "rollback"])
async def test_a_second_filing_waits_for_the_first(backend, database_url, uow_factory, community, first_ends):
    """PostgreSQL, two engines (two bot processes): the second filing of the day waits on the counter row
    until the first ends, then takes the next number, or the first's own if it rolled back."""
    if backend != "postgresql":
        pytest.skip("SQLite runs one writing transaction at a time (BEGIN IMMEDIATE, one connection)")
    other_engine = create_engine(database_url)
    try:
        other_process = make_uow_factory(other_engine)
        async with uow_factory() as first:
            assert await file(first) == "XK-20261122-0001"

            async def second_filing() -> str:
                async with other_process() as second:
                    number = await file(second)
                    await second.commit()
                    return number

            second = asyncio.create_task(second_filing())
            await until_waiting(other_engine, "transactionid")  # on the counter row `first` holds
            assert not second.done()
            await (first.commit() if first_ends == "commit" else first.rollback())
        number = await asyncio.wait_for(second, timeout=10)
    finally:
        await other_engine.dispose()
    assert number == ("XK-20261122-0002" if first_ends == "commit" else "XK-20261122-0001")
    assert await committed_numbers(uow_factory) == [format_ticket_number("XK", DAY, n)
                                                    for n in range(1, 3 if first_ends == "commit" else 2)]
