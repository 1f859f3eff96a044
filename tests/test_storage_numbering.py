"""A filing's number, taken last (storage/repositories/numbering.py): on the ticket and in its messages,
gap-free, formatted as gridcore formats it. Both databases."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from gridcore.community import Building, Category, Community, Grid
from gridcore.messages import Button, OutgoingMessage
from gridcore.ticket import Location, Reporter, Ticket, format_ticket_number, stand_in_number
from storage.models import OutboxRow, TicketSequenceRow
from storage.outbox_store import Handoff, PendingMessage
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


def filing() -> Ticket:
    return Ticket.file(number=stand_in_number(), community_code="XK", category_code="junk",
                       feedback_deadline=timedelta(days=3), description="一楼堆放杂物",
                       location=Location("B1", "2单元", ""), reporter=Reporter(100, 100, "李阿姨"), at=AT)


def about(ticket: Ticket, chat_id: int = 100) -> OutgoingMessage:
    return OutgoingMessage(chat_id, f"已受理，编号 <b>{ticket.number}</b>", ticket_number=ticket.number,
                           buttons=((Button(f"查看 {ticket.number}", "w:view:1"),),))


async def file(uow, ticket: Ticket, *messages: OutgoingMessage) -> tuple[str, list[int]]:
    await uow.tickets.add(ticket)
    ids = [await uow.outbox.add(message) for message in messages]
    return await uow.number_ticket(ticket, DAY), ids


async def test_the_number_replaces_the_stand_in_on_the_ticket_and_in_its_messages(uow_factory, community):
    ticket = filing()
    stand_in = ticket.number
    async with uow_factory() as uow:
        number, ids = await file(uow, ticket, about(ticket), OutgoingMessage(200, "别的消息"))
        await uow.commit()
    assert number == ticket.number == "XK-20261122-0001"
    async with uow_factory() as uow:
        assert (await uow.tickets.get(number)).id == ticket.id
        assert await uow.tickets.get(stand_in) is None
        stored = await uow.session.scalars(select(OutboxRow).where(OutboxRow.id.in_(ids)))
        rows = {row.id: row for row in stored}
        shown, other = rows[ids[0]], rows[ids[1]]
        assert shown.ticket_number == number and shown.payload["ticket_number"] == number
        assert shown.payload["text"] == f"已受理，编号 <b>{number}</b>"
        assert shown.payload["buttons"][0][0]["text"] == f"查看 {number}"
        assert other.payload["text"] == "别的消息" and other.ticket_number is None


async def test_numbers_are_formatted_as_the_core_formats_them_past_four_digits(uow_factory, community):
    async with uow_factory() as uow:
        await uow.session.execute(insert(TicketSequenceRow).values(community_code="XK", day=DAY, last=9998))
        await uow.commit()
    numbers = []
    for _ in range(2):
        async with uow_factory() as uow:
            numbers.append((await file(uow, filing()))[0])
            await uow.commit()
    assert numbers == [format_ticket_number("XK", DAY, 9999), format_ticket_number("XK", DAY, 10000)]
    assert numbers[1] == "XK-20261122-10000"


async def test_a_filing_that_rolls_back_gives_its_number_back(uow_factory, community):
    async with uow_factory() as uow:
        assert (await file(uow, filing()))[0] == "XK-20261122-0001"
        # no commit: the ticket, its messages and its number go
    async with uow_factory() as uow:
        number, _ = await file(uow, filing())
        await uow.commit()
    assert number == "XK-20261122-0001"


async def test_concurrent_filings_get_every_number_once(uow_factory, community):
    async def one() -> str:
        async with uow_factory() as uow:
            ticket = filing()
            await uow.tickets.add(ticket)
            await uow.outbox.add(about(ticket))
            await asyncio.sleep(0.01)  # the others add theirs meanwhile
            number = await uow.number_ticket(ticket, DAY)
            await uow.commit()
            return number

    numbers = await asyncio.gather(*(one() for _ in range(12)))
    assert sorted(numbers) == [format_ticket_number("XK", DAY, n) for n in range(1, 13)]


class Receiver:
    """This process's sender as the units of work see it: admits every chat, keeps what it is handed."""

    def __init__(self) -> None:
        self.handed: list[PendingMessage] = []

    def admits(self, chat_id: int) -> tuple[int, frozenset[int]]:
        return 1, frozenset()

    def take(self, rows: list[PendingMessage], epochs: dict[int, int], unleased_chats: set[int]) -> None:
        self.handed.extend(rows)


async def test_the_copies_handed_to_the_sender_show_the_number(engine, community):
    handoff = Handoff()
    handoff.receiver = receiver = Receiver()
    ticket = filing()
    async with make_uow_factory(engine, handoff=handoff)() as uow:
        number, [id] = await file(uow, ticket, about(ticket))
        await uow.commit()
    [row] = receiver.handed
    assert row.id == id and row.message == about(ticket)  # the ticket has its number now
    assert number in row.message.text and row.message.ticket_number == number
