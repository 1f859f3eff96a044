"""TicketQuery (gridcore.ticket_query) and TicketRepository.search: each filter picks exactly the tickets
it means, on SQLite, PostgreSQL and the in-memory fake, and the SQL agrees with TicketQuery.matches."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from gridcore.community import Building, Category, Community, Grid
from gridcore.ticket import (
    Action,
    Location,
    Rating,
    Reporter,
    Satisfaction,
    Solved,
    Ticket,
    TicketStatus,
    format_ticket_number,
)
from gridcore.ticket_query import Scope, Sort, TicketQuery

pytestmark = pytest.mark.memory

CST = timezone(timedelta(hours=8))
NOW = datetime(2026, 12, 10, 12, 0, tzinfo=UTC)
BOTH = Scope(frozenset({"XK", "HY"}))


def community(code: str) -> Community:
    return Community(
        code=code, name=f"{code}社区",
        grids=(Grid("G1", "一网格"), Grid("G2", "二网格")),
        buildings=(Building("B1", "1号楼", "G1"), Building("B2", "2号楼", "G2")),
        categories=(Category("junk", "楼道堆物"), Category("noise", "噪音")),
    )


def filed(seq: int, day: int, *, community_code: str = "XK", grid: str = "G1", building: str | None = "B1",
          category: str = "junk", description: str = "楼道堆放杂物", hour: int = 9) -> Ticket:
    at = datetime(2026, 12, day, hour, 0, tzinfo=CST)
    return Ticket.file(
        number=format_ticket_number(community_code, at.date(), seq), community_code=community_code,
        category_code=category, feedback_deadline=timedelta(days=3), description=description,
        location=Location(building, "1单元", "三楼"), reporter=Reporter(500 + seq, 500 + seq, "李阿姨"),
        at=at, grid_code=grid)


def resolve(ticket: Ticket, at: datetime, worker: int = 1011) -> None:
    ticket.apply(Action.ASSIGN, actor="system", at=at, assignee=worker)
    ticket.apply(Action.ACCEPT, actor=f"staff:{worker}", at=at)
    ticket.apply(Action.RESOLVE, actor=f"staff:{worker}", at=at + timedelta(hours=1), note="已清理")


@pytest.fixture
async def numbers(uow_factory) -> dict[str, str]:
    """Eight tickets, each standing out by one thing a filter looks at."""
    async with uow_factory() as uow:
        await uow.roster.upsert(community("XK"))
        await uow.roster.upsert(community("HY"))
        await uow.commit()
    t = {
        "old_open": filed(1, 1),  # filed 1 Dec, deadline 4 Dec: overdue by NOW
        "fresh": filed(2, 9, category="noise", description="楼上半夜拖椅子 100%_吵"),
        "other_grid": filed(3, 8, grid="G2", building="B2"),
        "hy": filed(4, 8, community_code="HY"),
        "rated": filed(5, 2),
        "unrated": filed(6, 3),
        "reopened": filed(7, 4),
        "withdrawn": filed(8, 1, building=None),
    }
    resolve(t["rated"], datetime(2026, 12, 3, 1, tzinfo=UTC))
    t["rated"].rating = Rating(True, Solved.SOLVED, Satisfaction.SATISFIED)
    t["rated"].apply(Action.CLOSE, actor="resident:505", at=datetime(2026, 12, 3, 2, tzinfo=UTC))
    resolve(t["unrated"], datetime(2026, 12, 4, 1, tzinfo=UTC), worker=1012)
    resolve(t["reopened"], datetime(2026, 12, 5, 1, tzinfo=UTC))
    t["reopened"].apply(Action.REOPEN, actor="resident:507", at=datetime(2026, 12, 5, 3, tzinfo=UTC))
    t["fresh"].apply(Action.ASSIGN, actor="system", at=t["fresh"].created_at, assignee=1012)
    t["withdrawn"].apply(Action.WITHDRAW, actor="resident:508", at=datetime(2026, 12, 1, 5, tzinfo=UTC))
    async with uow_factory() as uow:
        for ticket in t.values():
            await uow.tickets.add(ticket)
        await uow.commit()
    return {name: ticket.number for name, ticket in t.items()}


async def found(uow_factory, numbers: dict[str, str], **filters) -> set[str]:
    query = TicketQuery(**{"scope": BOTH, **filters})
    async with uow_factory() as uow:
        page = await uow.tickets.search(query, NOW, limit=None)
        tickets = [await uow.tickets.get(number) for number in numbers.values()]
        events = {ticket.number: await uow.tickets.ledger(ticket.number) for ticket in tickets}
    by_number = {number: name for name, number in numbers.items()}
    names = {by_number[ticket.number] for ticket in page.tickets}
    assert page.total == len(page.tickets)
    # The SQL says what the plain rule says.
    assert names == {by_number[t.number] for t in tickets if query.matches(t, NOW, events[t.number])}
    return names


EVERY = {"old_open", "fresh", "other_grid", "hy", "rated", "unrated", "reopened", "withdrawn"}


@pytest.mark.parametrize(("filters", "expected"), [
    ({}, EVERY),
    ({"scope": Scope(frozenset({"HY"}))}, {"hy"}),
    ({"scope": Scope(frozenset(), frozenset({("XK", "G2")}))}, {"other_grid"}),
    ({"scope": Scope()}, set()),
    ({"community": "XK"}, EVERY - {"hy"}),
    ({"grid": "G2"}, {"other_grid"}),
    ({"buildings": frozenset({"B2"})}, {"other_grid"}),
    ({"buildings": frozenset()}, set()),
    ({"category": "noise"}, {"fresh"}),
    ({"categories": frozenset({"noise", "fire"})}, {"fresh"}),
    ({"categories": frozenset()}, set()),
    ({"handler": 1012}, {"fresh", "unrated"}),
    ({"statuses": frozenset({TicketStatus.RESOLVED, TicketStatus.CLOSED})}, {"rated", "unrated"}),
    ({"filed_from": date(2026, 12, 8)}, {"fresh", "other_grid", "hy"}),
    ({"filed_to": date(2026, 12, 1)}, {"old_open", "withdrawn"}),
    ({"filed_from": date(2026, 12, 2), "filed_to": date(2026, 12, 4)}, {"rated", "unrated", "reopened"}),
    ({"overdue": True}, {"old_open", "reopened"}),
    ({"unrated": True}, {"unrated"}),
    ({"reopened": True}, {"reopened"}),
    ({"words": "拖椅子"}, {"fresh"}),
    ({"words": "100%_"}, {"fresh"}),  # LIKE's wildcards are plain characters here
    ({"words": "50%"}, set()),
    ({"words": "hy-"}, {"hy"}),  # the number, case aside
    ({"words": "三楼 杂物"}, EVERY - {"fresh"}),
])
async def test_each_filter_picks_what_it_means(uow_factory, numbers, filters, expected) -> None:
    assert await found(uow_factory, numbers, **filters) == expected


async def test_pages_and_orders(uow_factory, numbers) -> None:
    async with uow_factory() as uow:
        newest = await uow.tickets.search(TicketQuery(BOTH), NOW, limit=3)
        second = await uow.tickets.search(TicketQuery(BOTH), NOW, limit=3, offset=3)
        last = await uow.tickets.search(TicketQuery(BOTH), NOW, limit=3, offset=6)
        by_due = await uow.tickets.search(TicketQuery(BOTH, sort=Sort.DUE), NOW, limit=None)
        oldest = await uow.tickets.search(TicketQuery(BOTH, sort=Sort.OLDEST), NOW, limit=None)
    assert (newest.total, second.total, last.total) == (8, 8, 8)
    pages = [t.number for page in (newest, second, last) for t in page.tickets]
    assert len(pages) == len(set(pages)) == 8
    assert pages[0] == numbers["fresh"]
    assert [t.created_at for t in newest.tickets] == sorted((t.created_at for t in newest.tickets),
                                                              reverse=True)
    assert [t.number for t in oldest.tickets] == pages[::-1]
    deadlines = [t.feedback_due_at for t in by_due.tickets]
    assert deadlines == sorted(deadlines)
