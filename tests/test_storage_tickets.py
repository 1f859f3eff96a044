"""TicketRepository: add/get/save, the append-only ledger, followers, queries, daily sequence."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from gridcore.community import Building, Category, Community, Grid
from gridcore.ticket import (
    Action,
    Location,
    Reporter,
    Ticket,
    TicketStatus,
    Urgency,
    format_ticket_number,
)
from storage.models import TicketEventRow

pytestmark = pytest.mark.memory

CST = timezone(timedelta(hours=8))
T0 = datetime(2026, 11, 22, 9, 30, tzinfo=CST)
DAY = date(2026, 11, 22)


def roster(code: str = "XK") -> Community:
    return Community(
        code=code,
        name=f"{code} 社区",
        grids=(Grid("G1", "一网格"),),
        buildings=(Building("B1", "1号楼", "G1"), Building("B2", "2号楼", "G1")),
        categories=(Category("junk", "楼道堆物"), Category("noise", "噪音")),
    )


@pytest.fixture
async def uow(uow_factory):
    """A committed roster for XK and HY, then one open unit of work for the test."""
    async with uow_factory() as setup:
        await setup.roster.upsert(roster("XK"))
        await setup.roster.upsert(roster("HY"))
        await setup.commit()
    async with uow_factory() as uow:
        yield uow


def new_ticket(seq: int, *, at: datetime = T0, user_id: int = 100, category: str = "junk",
               building: str | None = "B1", community: str = "XK", **kwargs) -> Ticket:
    return Ticket.file(
        number=format_ticket_number(community, at.date(), seq),
        community_code=community,
        category_code=category,
        feedback_deadline=timedelta(days=3),
        description="一楼堆放杂物，楼道都堵了",
        location=Location(building, "2单元", "一楼楼道"),
        reporter=Reporter(user_id, user_id, "李阿姨", phone="13900000000"),
        at=at,
        **kwargs,
    )


async def test_add_and_get_round_trip(uow) -> None:
    ticket = new_ticket(1, urgent=True, photos=("AgAD-photo-1", "AgAD-photo-2"), grid_code="G1")
    await uow.tickets.add(ticket)
    assert ticket.id is not None
    assert ticket.new_events == []
    await uow.commit()

    loaded = await uow.tickets.get(ticket.number)
    assert loaded == ticket
    assert loaded is not ticket
    assert loaded.urgency is Urgency.URGENT
    assert loaded.created_at == T0 and loaded.created_at.tzinfo == UTC
    assert loaded.feedback_due_at == T0 + timedelta(days=3)
    assert await uow.tickets.get("XK-20261122-9999") is None
    assert await uow.tickets.get_by_id(ticket.id) == ticket


async def test_anonymous_reporter_without_building(uow) -> None:
    ticket = Ticket.file(
        number="XK-20261122-0002", community_code="XK", category_code="noise",
        feedback_deadline=timedelta(hours=12), description="晚上有人装修",
        location=Location(), reporter=Reporter(7, -100200, anonymous=True), at=T0,
    )
    await uow.tickets.add(ticket)
    assert await uow.tickets.get(ticket.number) == ticket


async def test_save_appends_events_and_never_rewrites(uow, engine) -> None:
    ticket = new_ticket(1)
    await uow.tickets.add(ticket)
    await uow.commit()

    async def event_rows():
        async with engine.connect() as connection:
            result = await connection.execute(select(TicketEventRow.__table__).order_by(TicketEventRow.id))
            return [dict(r._mapping) for r in result]

    first = await event_rows()
    assert [r["seq"] for r in first] == [1]

    ticket.apply(Action.ASSIGN, actor="system", at=T0 + timedelta(minutes=1), assignee=5000000001)
    ticket.apply(Action.ACCEPT, actor="staff:5000000001", at=T0 + timedelta(hours=1))
    await uow.tickets.save(ticket)
    assert ticket.new_events == []
    await uow.commit()

    second = await event_rows()
    assert second[:1] == first
    assert [r["seq"] for r in second] == [1, 2, 3]

    ticket.apply(
        Action.RESOLVE, actor="staff:5000000001", at=T0 + timedelta(days=1), note="已清理", photo="p1"
    )
    ticket.record("system", T0 + timedelta(days=1, minutes=1), reminder="sent")
    await uow.tickets.save(ticket)
    await uow.tickets.save(ticket)  # nothing new: nothing appended
    await uow.commit()
    third = await event_rows()
    assert third[:3] == second
    assert [r["seq"] for r in third] == [1, 2, 3, 4, 5]

    ledger = await uow.tickets.ledger(ticket.number)
    assert [e.action for e in ledger] == [
        Action.SUBMIT, Action.ASSIGN, Action.ACCEPT, Action.RESOLVE, Action.NOTE,
    ]
    assert ledger[0].from_status is None and ledger[0].to_status is TicketStatus.SUBMITTED
    assert ledger[3].details == {"note": "已清理", "photo": "p1"}
    assert all(e.at.tzinfo == UTC for e in ledger)
    assert ledger[1].at == T0 + timedelta(minutes=1)

    loaded = await uow.tickets.get(ticket.number)
    assert loaded.status is TicketStatus.RESOLVED
    assert loaded.assignee == 5000000001
    assert await uow.tickets.ledger("XK-20261122-9999") == []


async def test_save_changes_mutable_fields_and_finds_by_number(uow) -> None:
    ticket = new_ticket(1)
    await uow.tickets.add(ticket)
    await uow.commit()

    loaded = await uow.tickets.get(ticket.number)
    loaded.grid_code = "G1"
    loaded.category_code = "noise"
    loaded.feedback_due_at = T0 + timedelta(days=5)
    loaded.apply(Action.TRANSFER, actor="staff:1", at=T0 + timedelta(hours=2), to="property")
    loaded.id = None  # save() also works for a ticket that only knows its number
    await uow.tickets.save(loaded)
    await uow.commit()
    again = await uow.tickets.get(ticket.number)
    assert again == loaded
    assert again.status is TicketStatus.TRANSFERRED
    assert len(await uow.tickets.ledger(ticket.number)) == 2


async def test_save_and_add_misuse(uow) -> None:
    ticket = new_ticket(1)
    with pytest.raises(LookupError):
        await uow.tickets.save(ticket)
    await uow.tickets.add(ticket)
    with pytest.raises(ValueError, match="already stored"):
        await uow.tickets.add(ticket)


async def test_followers(uow) -> None:
    ticket = new_ticket(1, user_id=100)
    await uow.tickets.add(ticket)
    ticket.follow(200, at=T0 + timedelta(minutes=5))
    ticket.follow(300, at=T0 + timedelta(minutes=6))
    ticket.follow(200, at=T0 + timedelta(minutes=7))  # once only
    await uow.tickets.save(ticket)
    await uow.commit()

    loaded = await uow.tickets.get(ticket.number)
    assert loaded.followers == (200, 300)
    loaded.follow(400, at=T0 + timedelta(minutes=8))
    await uow.tickets.save(loaded)
    await uow.commit()
    assert (await uow.tickets.get(ticket.number)).followers == (200, 300, 400)
    actions = [e.action for e in await uow.tickets.ledger(ticket.number)]
    assert actions == [Action.SUBMIT, Action.FOLLOW, Action.FOLLOW, Action.FOLLOW]


async def test_for_resident_newest_first_with_followed(uow) -> None:
    mine_old = new_ticket(1, at=T0, user_id=100)
    theirs = new_ticket(2, at=T0 + timedelta(hours=1), user_id=200)
    unrelated = new_ticket(3, at=T0 + timedelta(hours=2), user_id=300)
    mine_new = new_ticket(4, at=T0 + timedelta(hours=3), user_id=100)
    for t in (mine_old, theirs, unrelated, mine_new):
        await uow.tickets.add(t)
    theirs.follow(100, at=T0 + timedelta(hours=4))
    await uow.tickets.save(theirs)
    await uow.commit()

    numbers = [t.number for t in await uow.tickets.for_resident(100)]
    assert numbers == [mine_new.number, theirs.number, mine_old.number]
    assert [t.number for t in await uow.tickets.for_resident(100, limit=2)] == numbers[:2]
    followed = (await uow.tickets.for_resident(100))[1]
    assert followed.followers == (100,)
    assert [t.number for t in await uow.tickets.for_resident(200)] == [theirs.number]
    assert await uow.tickets.for_resident(999) == []


async def test_find_open_duplicate(uow) -> None:
    since = T0 - timedelta(days=14)
    old = new_ticket(1, at=T0 - timedelta(days=15))
    closed = new_ticket(2, at=T0 - timedelta(days=3))
    withdrawn = new_ticket(3, at=T0 - timedelta(days=2))
    open_older = new_ticket(4, at=T0 - timedelta(days=10))
    open_newer = new_ticket(5, at=T0 - timedelta(days=1))
    other_building = new_ticket(6, at=T0, building="B2")
    other_category = new_ticket(7, at=T0, category="noise")
    other_community = new_ticket(8, at=T0, community="HY")
    everything = (old, closed, withdrawn, open_older, open_newer, other_building, other_category,
                  other_community)
    for t in everything:
        await uow.tickets.add(t)
    for action in (Action.ASSIGN, Action.ACCEPT, Action.RESOLVE, Action.CLOSE):
        closed.apply(action, actor="system", at=T0, assignee=1)
    withdrawn.apply(Action.WITHDRAW, actor="resident:100", at=T0)
    await uow.tickets.save(closed)
    await uow.tickets.save(withdrawn)
    await uow.commit()

    found = await uow.tickets.find_open_duplicate("XK", "junk", "B1", since)
    assert found is not None and found.number == open_newer.number

    open_newer.apply(Action.WITHDRAW, actor="resident:100", at=T0)
    await uow.tickets.save(open_newer)
    found = await uow.tickets.find_open_duplicate("XK", "junk", "B1", since)
    assert found is not None and found.number == open_older.number
    # `since` is inclusive, and compared as an instant whatever the offset.
    exactly = (T0 - timedelta(days=10)).astimezone(UTC)
    assert (await uow.tickets.find_open_duplicate("XK", "junk", "B1", exactly)).number == open_older.number
    assert await uow.tickets.find_open_duplicate("XK", "junk", "B1", exactly + timedelta(seconds=1)) is None
    assert (await uow.tickets.find_open_duplicate("HY", "junk", "B1", since)).number == other_community.number
    assert await uow.tickets.find_open_duplicate("XK", "junk", "B9", since) is None


def number(community: str, seq: int, day: date = DAY) -> str:
    return format_ticket_number(community, day, seq)


async def test_next_number_per_day_and_community(uow) -> None:
    taken = [await uow.tickets.next_number("XK", DAY) for _ in range(3)]
    assert taken == [number("XK", n) for n in (1, 2, 3)]
    tomorrow = DAY + timedelta(days=1)
    assert await uow.tickets.next_number("XK", tomorrow) == number("XK", 1, tomorrow)
    assert await uow.tickets.next_number("HY", DAY) == number("HY", 1)
    await uow.commit()
    assert await uow.tickets.next_number("XK", DAY) == number("XK", 4)


async def test_next_number_rolled_back_with_its_transaction(uow_factory) -> None:
    async with uow_factory() as uow:
        assert await uow.tickets.next_number("XK", DAY) == number("XK", 1)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.tickets.next_number("XK", DAY) == number("XK", 2)
    async with uow_factory() as uow:
        assert await uow.tickets.next_number("XK", DAY) == number("XK", 2)


async def test_next_number_concurrent_sessions_never_repeat(uow_factory) -> None:
    async def take() -> str:
        async with uow_factory() as uow:
            taken = await uow.tickets.next_number("XK", DAY)
            await asyncio.sleep(0)  # the others queue meanwhile
            await uow.commit()
            return taken

    numbers = await asyncio.gather(*(take() for _ in range(12)))
    assert sorted(numbers) == [number("XK", n) for n in range(1, 13)]


async def test_naive_datetimes_are_refused(uow) -> None:
    ticket = new_ticket(1, at=datetime(2026, 11, 22, 9, 30))
    with pytest.raises(Exception, match="naive datetime"):
        await uow.tickets.add(ticket)


async def test_changes_to_one_ticket_are_made_one_after_the_other(uow_factory):
    """Two transactions that load the same ticket to change it: the second waits for the first and
    sees its change, so neither overwrites the other (a worker's accept vs. a delivery failure note)."""
    import asyncio

    async with uow_factory() as uow:
        await uow.roster.upsert(roster("XK"))
        ticket = new_ticket(1)
        await uow.tickets.add(ticket)
        await uow.commit()

    first_loaded = asyncio.Event()
    release = asyncio.Event()

    async def accept() -> None:
        async with uow_factory() as uow:
            loaded = await uow.tickets.get(ticket.number)
            first_loaded.set()
            await release.wait()
            loaded.apply(Action.ASSIGN, actor="system", at=T0, assignee=1)
            await uow.tickets.save(loaded)
            await uow.commit()

    async def note() -> None:
        await first_loaded.wait()
        async with uow_factory() as uow:
            loaded = await uow.tickets.get(ticket.number)  # waits for accept() to commit
            loaded.record("system", T0, Action.NOTE, text="delivery failed")
            await uow.tickets.save(loaded)
            await uow.commit()

    async def let_go() -> None:
        await first_loaded.wait()
        await asyncio.sleep(0.2)
        release.set()

    await asyncio.gather(accept(), note(), let_go())
    async with uow_factory() as uow:
        final = await uow.tickets.get(ticket.number)
        actions = [e.action for e in await uow.tickets.ledger(ticket.number)]
    assert final.status is TicketStatus.ASSIGNED and final.assignee == 1
    assert actions == [Action.SUBMIT, Action.ASSIGN, Action.NOTE]
