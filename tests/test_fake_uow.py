"""The in-memory unit of work (tests/fake_uow.py) answers as the SQL one: each test makes the same calls on
a database (SQLite, PostgreSQL) and on a FakeStorage and compares every answer, so the fake cannot drift
from storage/repositories unnoticed. (The storage tests of modules marked `memory` run on it as well.)"""

from __future__ import annotations

import itertools
import random
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

import pytest
from dialog_support import FakeClock, ResidentChat, World, load_example, make_conversations
from fake_uow import FakeStorage

from gridcore.community import (
    Announcement,
    AnnouncementKind,
    Building,
    Category,
    Community,
    Grid,
    Person,
    Role,
)
from gridcore.console import SESSION_IDLE, SESSION_MAX
from gridcore.conversation import Conversation, Resident
from gridcore.deadlines import ReminderPolicy, next_reminder_at
from gridcore.messages import Button, OutgoingMessage
from gridcore.ports import ConsoleSession, Invite, TicketCard, TriageCorrection, UnitOfWork
from gridcore.ticket import (
    OPEN_STATUSES,
    TRANSITIONS,
    Action,
    Location,
    Rating,
    Reporter,
    Satisfaction,
    Solved,
    Ticket,
    format_ticket_number,
)
from gridcore.ticket import TicketStatus as S
from gridcore.ticket_query import Scope, Sort, TicketQuery
from storage.uow import uow_factory as sql_uow_factory

CST = timezone(timedelta(hours=8))
T0 = datetime(2026, 11, 2, 9, 30, tzinfo=CST)  # a Monday
NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
WORKERS = (1011, 1012, 1021)
# Tickets mostly move along (so many get resolved and rated), and now and then leave the loop.
LIKELY = {Action.ASSIGN: 6, Action.ACCEPT: 6, Action.RESOLVE: 6, "rate": 4, Action.WITHDRAW: 0.5}

Factory = Callable[[], UnitOfWork]
Script = Callable[[Factory, list[tuple[str, Any]]], Awaitable[None]]


def community(code: str) -> Community:
    return Community(
        code=code, name=f"{code}社区", staff_chat_id=-100900, timezone="Asia/Shanghai", rating_days=5,
        grids=(Grid("G1", "第一网格", -100901), Grid("G2", "第二网格")),
        buildings=(Building("B1", "1号楼", "G1", ("一号楼",), ("1单元", "2单元")),
                   Building("B2", "2号楼", "G2")),
        staff=(Person("王芳", Role.GRID_WORKER, "G1", 1011), Person("刘洋", Role.GRID_WORKER, "G2", 1012),
               Person("赵敏", Role.BUILDING_LEADER, "G2"),
               Person("李建国", Role.COMMUNITY_STAFF, None, 1021)),
        categories=(Category("junk", "楼道堆物", ("杂物",)),
                    Category("fire", "消防通道", feedback_deadline=timedelta(days=1, seconds=0.5),
                             emergency=True)),
        announcements=(Announcement(AnnouncementKind.DAILY_PATROL, time(8, 30, 15), weekdays=(1, 3)),),
        reminders=ReminderPolicy(accept_within=timedelta(hours=2), feedback_reminders=(timedelta(hours=6),)),
    )


async def compare(sql: Factory, script: Script) -> None:
    """Run the script on the database and on a fake; the same answers, one by one."""
    on_sql: list[tuple[str, Any]] = []
    on_fake: list[tuple[str, Any]] = []
    await script(sql, on_sql)
    await script(FakeStorage(clock=lambda: NOW), on_fake)
    assert [label for label, _ in on_fake] == [label for label, _ in on_sql]
    for (label, fake), (_, stored) in zip(on_fake, on_sql, strict=True):
        assert fake == stored, label


@pytest.fixture
def sql(engine) -> Factory:
    return sql_uow_factory(engine, clock=lambda: NOW)


async def roster_staff_and_chats(make: Factory, seen: list[tuple[str, Any]]) -> None:
    async with make() as uow:
        await uow.roster.upsert(community("XK"))
        await uow.roster.upsert(community("HY"))
        await uow.commit()
    async with make() as uow:
        seen.append(("codes", await uow.roster.list_codes()))
        seen.append(("roster", await uow.roster.get("XK")))
        seen.append(("directory", (await uow.roster.directory()).entries))
        seen.append(("no roster", await uow.roster.get("ZZ")))
        smaller = replace(community("XK"), grids=community("XK").grids[:1], staff=community("XK").staff[1:],
                          buildings=community("XK").buildings[::-1])
        await uow.roster.upsert(smaller)
        seen.append(("roster reloaded", await uow.roster.get("XK")))
        seen.append(("directory reloaded", (await uow.roster.directory()).entries))
        with pytest.raises(ValueError, match="appears twice"):
            await uow.roster.upsert(replace(smaller, grids=smaller.grids * 2))
    async with make() as uow:  # the failed upsert's transaction was dropped
        seen.append(("roster after rollback", await uow.roster.get("XK")))
        key = "building_leader|G2|赵敏"
        for code, expires in (("ok", T0 + timedelta(days=1)), ("late", T0 - timedelta(seconds=1))):
            await uow.staff.add_invite(Invite(code, "XK", key, T0 - timedelta(days=1), expires))
        seen.append(("invite", await uow.staff.take_invite("ok", 3001, T0)))
        seen.append(("invite again", await uow.staff.take_invite("ok", 3002, T0)))
        seen.append(("invite expired", await uow.staff.take_invite("late", 3001, T0)))
        seen.append(("invite unknown", await uow.staff.take_invite("nope", 3001, T0)))
        await uow.staff.bind("XK", key, 3001, T0)
        await uow.staff.bind("XK", "grid_worker|G1|王芳", 3009, T0)  # the roster's own id wins
        await uow.commit()
    async with make() as uow:
        seen.append(("bound", await uow.staff.bound("XK")))
        seen.append(("staff", (await uow.roster.get("XK")).staff))
        seen.append(("other community", (await uow.roster.get("HY")).staff))
        seen.append(("directory bound", (await uow.roster.directory()).entries))
        conversation = Conversation(7, 7, "report", "where", 2, {"photos": ("p1",), "n": {1: True}}, [3, 4],
                                    T0)
        await uow.conversations.save(conversation)
        stamped = Conversation(8, 8)
        await uow.conversations.save(stamped)
        seen.append(("stamped", stamped.updated_at))
        loaded = await uow.conversations.get(7)
        loaded.data["changed"] = 1  # a copy: nothing stored changes
        await uow.residents.save(Resident(7, 7, "张阿姨", "zhang", "13800001111", "B1"))
        resident = await uow.residents.get(7)
        resident.phone = None
        seen.append(("update", [await uow.begin_update(n, 7, 7) for n in (1, 2, 1)]))
        messages = [OutgoingMessage(chat_id, f"第{n}条", ((Button("好", "ok"),),))
                    for n, chat_id in enumerate((7, -1, 7))]
        seen.append(("outbox ids", [await uow.outbox.add(message) for message in messages]))
        await uow.commit()
    async with make() as uow:
        seen.append(("conversations", [await uow.conversations.get(chat) for chat in (7, 8, 9)]))
        seen.append(("residents", [await uow.residents.get(user) for user in (7, 8)]))
        await uow.residents.save(Resident(8, 8))
        await uow.conversations.save(Conversation(9, 9))
        seen.append(("update in a dropped transaction", await uow.updates.record(3)))
        seen.append(("number in a dropped transaction", await uow.tickets.next_number("XK", T0.date())))
    async with make() as uow:  # left without commit(): none of it stayed
        seen.append(("dropped", [await uow.residents.get(8), await uow.conversations.get(9),
                                 await uow.updates.record(3), await uow.updates.record(2),
                                 await uow.tickets.next_number("XK", T0.date())]))
        await uow.commit()
        seen.append(("after commit, the next transaction", await uow.tickets.next_number("XK", T0.date())))
        await uow.commit()
        days = (("XK", T0.date()), ("XK", date(2026, 11, 3)), ("HY", T0.date()))
        seen.append(("numbers", [await uow.tickets.next_number(code, day) for code, day in days]))


async def test_roster_staff_conversations_and_transactions(sql) -> None:
    await compare(sql, roster_staff_and_chats)


def a_ticket(seq: int, rng: random.Random, at: datetime) -> Ticket:
    community_code = rng.choice(("XK", "XK", "HY"))
    ticket = Ticket.file(
        number=format_ticket_number(community_code, at.astimezone(CST).date(), seq),
        community_code=community_code, category_code=rng.choice(("junk", "fire")),
        feedback_deadline=timedelta(hours=rng.choice((12, 72, 72))),
        description=f"第{seq}件事", location=Location(rng.choice(("B1", "B2", None)),
                                                   rng.choice(("1单元", "2单元", None)), "楼道"),
        reporter=Reporter(rng.choice((5001, 5002, 5003)), 5001, "张阿姨", "13800001111"),
        at=at, urgent=rng.random() < 0.2, photos=("p",) * rng.randrange(2),
        grid_code=rng.choice(("G1", "G2")),
    )
    return ticket


def step(ticket: Ticket, rng: random.Random, at: datetime) -> None:
    """One random thing that happens to a ticket."""
    legal = [a for a, (sources, _) in TRANSITIONS.items() if ticket.status in sources]
    choices = [*legal, "follow", "rate", "note"]
    choice = rng.choices(choices, [LIKELY.get(c, 1) for c in choices])[0]
    if choice == "follow" and ticket.is_open:
        ticket.follow(rng.choice((5001, 5002, 5003, 5004)), at=at)
    elif choice == "rate" and ticket.resolved_at is not None:
        for later in range(rng.choice((1, 1, 2))):  # now and then rated again
            rating = Rating(rng.random() < 0.5, rng.choice(list(Solved)), rng.choice(list(Satisfaction)),
                            "还行")
            ticket.rating = rating
            ticket.record("resident", at + timedelta(hours=later), Action.RATE, contacted=rating.contacted,
                          solved=rating.solved, satisfaction=rating.satisfaction, reason=rating.reason)
    elif choice == "note":
        ticket.record("system", at, Action.NOTE, text="记一笔", when=at.isoformat())
    elif isinstance(choice, Action):
        details = {"assignee": rng.choice(WORKERS)} if choice is Action.ASSIGN else {}
        ticket.apply(choice, actor="staff:1021", at=at, **details)
        if choice is Action.ASSIGN:
            ticket.accept_due_at = at + timedelta(hours=2)


def lifecycle(seed: int) -> Script:
    async def script(make: Factory, seen: list[tuple[str, Any]]) -> None:
        rng = random.Random(seed)
        async with make() as uow:
            await uow.roster.upsert(community("XK"))
            await uow.roster.upsert(community("HY"))
            await uow.commit()
        numbers: list[str] = []
        for seq in range(1, 81):
            at = T0 + timedelta(days=rng.randrange(21))  # often the same time: ties are ordered by id
            async with make() as uow:
                if len(numbers) >= 20 or (numbers and rng.random() < 0.3):
                    ticket = await uow.tickets.get(rng.choice(numbers))
                    at = ticket.created_at + timedelta(hours=rng.randrange(1, 14 * 24, 6))
                    for _ in range(rng.randrange(1, 4)):
                        step(ticket, rng, at)
                    if rng.random() < 0.1:
                        ticket.description = "改过的"  # changed but never saved: nothing stored changes
                        continue
                    await uow.tickets.save(ticket)
                    if rng.random() < 0.3:
                        await uow.tickets.add_card(ticket.id, TicketCard(-100901, seq, "copy"))
                else:
                    ticket = a_ticket(seq, rng, at)
                    await uow.tickets.add(ticket)
                    numbers.append(ticket.number)
                    await uow.tickets.add_card(ticket.id, TicketCard(1011, seq, "handler"))
                seen.append((f"saved {seq}", (ticket.id, ticket.new_events)))
                await uow.commit()
        async with make() as uow:
            tickets = uow.tickets
            for number in numbers:
                ticket = await tickets.get(number)
                seen.append((f"get {number}", ticket))
                seen.append((f"by id {number}", await tickets.get_by_id(ticket.id)))
                seen.append((f"ledger {number}", await tickets.ledger(number)))
                seen.append((f"cards {number}", await tickets.cards(ticket.id)))
            for user in (5001, 5002, 5004):
                seen.append((f"for_resident {user}", await tickets.for_resident(user)))
                seen.append((f"for_resident {user}, 3", await tickets.for_resident(user, limit=3)))
            for worker in WORKERS:
                seen.append((f"assigned_to {worker}", await tickets.assigned_to(worker)))
                seen.append((f"assigned_to {worker}, 2", await tickets.assigned_to(worker, limit=2)))
            for code in ("XK", "HY"):
                seen.append((f"open_counts {code}", await tickets.open_counts(code)))
                seen.append((f"open_in {code}", await tickets.open_in(code)))
                seen.append((f"open_in {code} G1, 3", await tickets.open_in(code, "G1", limit=3)))
                for week in range(5):
                    start = T0 - timedelta(hours=9, minutes=30) + timedelta(weeks=week)
                    seen.append((f"for_summary {code} {week}",
                                 await tickets.for_summary(code, start, start + timedelta(weeks=1))))
                for building, unit, days in itertools.product(("B1", "B2"), ("1单元", None), (0, 7, 14)):
                    since = T0 + timedelta(days=days)
                    found = await tickets.find_open_duplicate(code, "junk", building, since, unit)
                    seen.append((f"duplicate {code} {building} {unit} {days}", found))
            for days in (0, 10, 20):
                seen.append((f"unrated_since {days}", await tickets.unrated_since(T0 + timedelta(days=days))))
                seen.append((f"due_for_reminders {days}",
                             await tickets.due_for_reminders(T0 + timedelta(days=days), limit=5)))
            # At the instants the data holds: every bound is as inclusive or exclusive as the SQL's.
            policy = community("XK").reminders
            for number in numbers:
                ticket = await tickets.get(number)
                due = next_reminder_at(ticket, policy)
                if due is not None:
                    seen.append((f"due at {number}", await tickets.due_for_reminders(due)))
                if ticket.resolved_at is not None:
                    seen.append((f"unrated at {number}", await tickets.unrated_since(ticket.resolved_at)))
                if ticket.location.building_code is not None:
                    seen.append((f"duplicate since {number}", await tickets.find_open_duplicate(
                        ticket.community_code, ticket.category_code, ticket.location.building_code,
                        ticket.created_at, ticket.location.unit)))
            ids = [(await tickets.get(number)).id for number in numbers]
            seen.append(("ledgers", await tickets.ledgers([*reversed(ids), ids[0], 99999])))
            seen.append(("ledgers none", await tickets.ledgers([])))
            seen.append(("unknown", (await tickets.get("XK-20261102-9999"), await tickets.ledger("nope"))))
            for name, query in search_queries():
                for limit, offset in ((None, 0), (5, 0), (5, 5)):
                    page = await tickets.search(query, NOW, limit=limit, offset=offset)
                    seen.append((f"search {name} {limit} {offset}", page))

    return script


def search_queries() -> list[tuple[str, TicketQuery]]:
    """The console's and the ledgers' filters, each alone and a few together, in every order."""
    both = Scope(frozenset({"XK", "HY"}))
    grid = Scope(frozenset(), frozenset({("XK", "G1"), ("HY", "G2")}))
    week = date(2026, 11, 9)
    filters: list[tuple[str, dict[str, Any]]] = [
        ("all", {}), ("grid scope", {"scope": grid}), ("no scope", {"scope": Scope()}),
        ("open", {"statuses": frozenset(OPEN_STATUSES)}), ("resolved", {"statuses": frozenset({S.RESOLVED})}),
        ("XK", {"community": "XK"}), ("G2", {"grid": "G2"}), ("B1", {"buildings": frozenset({"B1"})}),
        ("no building", {"buildings": frozenset()}), ("junk", {"category": "junk"}),
        ("categories", {"categories": frozenset({"fire", "x"})}),
        ("handler", {"handler": WORKERS[0]}), ("from", {"filed_from": week}), ("to", {"filed_to": week}),
        ("week", {"filed_from": week, "filed_to": week + timedelta(days=6)}), ("overdue", {"overdue": True}),
        ("unrated", {"unrated": True}), ("reopened", {"reopened": True}), ("number", {"words": "xk-2026"}),
        ("words", {"words": "第1 事"}), ("detail", {"words": "楼道"}), ("no such words", {"words": "100%_"}),
        ("together", {"community": "XK", "statuses": frozenset(OPEN_STATUSES), "overdue": True,
                      "words": "楼"}),
    ]
    found = []
    for (name, kwargs), sort in itertools.product(filters, Sort):
        if sort is Sort.NEWEST or name in ("all", "open"):
            found.append((f"{name}/{sort}", TicketQuery(**{"scope": both, **kwargs, "sort": sort})))
    return found


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_ticket_lifecycles(sql, seed) -> None:
    await compare(sql, lifecycle(seed))


async def test_the_outbox_keeps_what_a_dialog_sent_in_order() -> None:
    """What tests read of a FakeStorage: every committed message per chat, in the order it was queued
    (increasing outbox ids), and nothing of an update that was a repeat."""
    storage = FakeStorage()
    await load_example(storage)
    world = World()
    resident = ResidentChat(make_conversations(storage, FakeClock()), world=world)
    await resident.send("3号楼2单元楼道灯坏了一个星期了")
    repeat = await resident.conversations.handle(resident.last_incoming)
    assert repeat.duplicate and not repeat.messages
    await resident.press("是的")
    ids = [row.id for row in storage.outbox_rows()]
    assert ids == sorted(set(ids)) and len(ids) == sum(len(messages) for messages in world.inbox.values())
    assert world.inbox and all(storage.sent_messages(chat) == sent for chat, sent in world.inbox.items())


async def console_logins_and_sessions(make: Factory, seen: list[tuple[str, Any]]) -> None:
    soon, idle = T0 + timedelta(minutes=10), T0 + SESSION_IDLE
    async with make() as uow:
        await uow.console.add_login("h-ok", 1011, T0, soon)
        await uow.console.add_login("h-late", 1012, T0 - timedelta(hours=1), T0)
        await uow.console.add_session("s-1", ConsoleSession(1011, "csrf-1", T0, T0, T0 + SESSION_MAX))
        await uow.console.add_session("s-2", ConsoleSession(1012, "csrf-2", T0, T0, T0 + SESSION_MAX))
        await uow.commit()
    async with make() as uow:
        seen.append(("login", await uow.console.take_login("h-ok", T0 + timedelta(minutes=9))))
        seen.append(("login again", await uow.console.take_login("h-ok", T0 + timedelta(minutes=9))))
        seen.append(("login expired", await uow.console.take_login("h-late", T0)))
        seen.append(("login unknown", await uow.console.take_login("nope", T0)))
        seen.append(("session touched", await uow.console.get_session("s-1", idle - timedelta(minutes=1))))
        seen.append(("session idle", await uow.console.get_session("s-2", idle)))
        seen.append(("session unknown", await uow.console.get_session("nope", T0)))
        await uow.console.end_session("s-1", idle)
        seen.append(("session ended", await uow.console.get_session("s-1", idle)))
        await uow.console.end_session("nope", idle)
        await uow.commit()


async def test_console_logins_and_sessions(sql) -> None:
    await compare(sql, console_logins_and_sessions)


async def triage_corrections(make: Factory, seen: list[tuple[str, Any]]) -> None:
    async with make() as uow:
        for i, (code, at) in enumerate([("XK", T0), ("XK", T0 + timedelta(hours=1)), ("YH", T0), ("XK", T0)]):
            await uow.corrections.add(TriageCorrection(code, f"楼道灯不亮 {i}", "other", "repair",
                                                       "worker" if i % 2 else "resident", at))
        await uow.commit()
    async with make() as uow:
        seen.append(("XK", await uow.corrections.for_community("XK", 10)))
        seen.append(("XK two", await uow.corrections.for_community("XK", 2)))
        seen.append(("YH", await uow.corrections.for_community("YH", 10)))
        seen.append(("none", await uow.corrections.for_community("ZZ", 10)))


async def test_triage_corrections(sql) -> None:
    await compare(sql, triage_corrections)
