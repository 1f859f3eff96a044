"""A big, realistic ticket history for bench.scale: N tickets over two years on the example roster.

Every ticket lives its life through gridcore's own state machine (Ticket.file, apply, record,
start_accept_clock, restart_clock; reminders and 督办 as the sweep would have sent them), and its row
is made by the repository's own column mapping, so the rows are what the bot would have written. The
history stops at `now`: tickets whose next step lies after it stay open (a few thousand at 1M).
Rows go in in batches (SQLite: executemany in big transactions; PostgreSQL: COPY), never all at once.

    python -m bench.scale_data URL --tickets N   (bench.scale runs this in a child process)
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from operator import itemgetter
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from gridcore.community import Community, Role
from gridcore.deadlines import Stage, restart_clock, stage_times, start_accept_clock
from gridcore.roster import parse_roster
from gridcore.ticket import Action, Location, Rating, Reporter, Satisfaction, Solved, Ticket
from gridcore.ticket import format_ticket_number as number_of
from storage.db import create_engine, json_dumps, migrate
from storage.models import ResidentRow, TicketEventRow, TicketFollowerRow, TicketRow, TicketSequenceRow
from storage.repositories.ticket_rows import mutable_values
from storage.uow import uow_factory

ROSTER = Path(__file__).resolve().parents[1] / "examples" / "roster.yaml"
NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # Friday 10:00 in Shanghai: the history ends here
SPAN = timedelta(days=730)
RESIDENTS = 20_000
FIRST_RESIDENT = 100_000
BATCH = 5_000
STUCK = 0.0002  # tickets that were accepted and then forgotten (old, overdue, still open)

TICKET_COLUMNS = [c.name for c in TicketRow.__table__.columns]
EVENT_COLUMNS = [c.name for c in TicketEventRow.__table__.columns if c.name != "id"]
JSON_COLUMNS = {"photos", "rating", "reminders", "details"}


@dataclass
class Batch:
    tickets: list[dict[str, Any]]
    events: list[dict[str, Any]]
    followers: list[dict[str, Any]]


class History:
    """Makes tickets one after another, in filing order, with their whole lives up to NOW."""

    def __init__(self, community: Community, total: int, seed: int = 7, first_resident: int = FIRST_RESIDENT,
                 residents: int = RESIDENTS) -> None:
        self.community = community
        self.total = total
        self.rng = random.Random(seed)
        self.zone = ZoneInfo(community.timezone)
        self.policy = community.reminders
        self.buildings = [b for b in community.buildings]
        self.categories = list(community.categories)
        # Everyday categories far more often than emergencies.
        self.category_weights = [0.2 if c.emergency else 1.0 + (len(self.categories) - i) / 4
                                 for i, c in enumerate(self.categories)]
        self.workers = {g.code: [p for p in community.people(Role.GRID_WORKER, g.code) if p.telegram_user_id]
                        for g in community.grids}
        self.staff = [p for p in community.people(Role.COMMUNITY_STAFF) if p.telegram_user_id]
        # A few residents report a lot (Zipf-like): resident k is drawn with weight 1 / (k + 100), so the
        # first one files ~0.2% of all tickets and the median one ~0.002%.
        self.resident_ids = range(first_resident, first_resident + residents)
        self.resident_cumulative = list(itertools.accumulate(1 / (k + 100) for k in range(residents)))
        self.sequences: dict[date, int] = {}

    def resident(self) -> int:
        return self.rng.choices(self.resident_ids, cum_weights=self.resident_cumulative)[0]

    def tickets(self) -> Iterator[Ticket]:
        """The tickets in filing order, without ids, evenly spread over SPAN up to NOW."""
        start = NOW - SPAN
        step = SPAN / self.total
        for index in range(self.total):
            jitter = timedelta(seconds=self.rng.random() * step.total_seconds())
            yield self.ticket(start + step * index + jitter)

    def batches(self, size: int = BATCH) -> Iterator[Batch]:
        return in_batches(((self, ticket) for ticket in self.tickets()), size)

    def ticket(self, at: datetime) -> Ticket:
        rng = self.rng
        category = rng.choices(self.categories, self.category_weights)[0]
        building = rng.choice(self.buildings) if rng.random() < 0.93 else None
        reporter_id = self.resident()
        day = at.astimezone(self.zone).date()
        self.sequences[day] = sequence = self.sequences.get(day, 0) + 1
        ticket = Ticket.file(
            number=number_of(self.community.code, day, sequence), community_code=self.community.code,
            category_code=category.code, feedback_due_at=category.feedback_due(at, self.community.timezone),
            description=rng.choice(DESCRIPTIONS), at=at, urgent=category.emergency,
            location=Location(building.code if building else None,
                              rng.choice(building.units) if building and building.units else None,
                              f"{rng.randint(1, 18)}楼" if building else rng.choice(PLACES)),
            reporter=Reporter(reporter_id, reporter_id, f"居民{reporter_id}",
                              f"139{reporter_id:08d}" if rng.random() < 0.6 else None, rng.random() < 0.05),
            photos=("photo-" + str(rng.randint(1, 10**6)),) if rng.random() < 0.3 else (),
            grid_code=building.grid_code if building else None,
        )
        self.live(ticket, at)
        return ticket

    def step(self, ticket: Ticket, at: datetime) -> bool:
        """Before the ticket's next step at `at`: the sweep's reminders that fell due; False past NOW."""
        until = min(at, NOW)
        for stage, due in sorted(stage_times(ticket, self.policy).items(), key=lambda item: item[1]):
            if due <= until:
                action = Action.SUPERVISE if stage in (Stage.ACCEPT_OVERDUE, Stage.OVERDUE_LEADER,
                                                       Stage.OVERDUE_STAFF) else Action.REMIND
                ticket.record("system", due, action, stage=stage.value)
                ticket.reminders = (*ticket.reminders, stage.value)
        return at <= NOW

    def live(self, ticket: Ticket, at: datetime) -> None:
        rng = self.rng
        for _ in range(rng.randint(0, 3) if rng.random() < 0.06 else 0):  # 也是我反映的 (+1)
            at += timedelta(minutes=rng.randint(5, 600))
            if not self.step(ticket, at):
                return
            ticket.follow(self.resident(), at=at)
        worker = rng.choice(self.workers[ticket.grid_code]) if ticket.grid_code else rng.choice(
            [w for ws in self.workers.values() for w in ws])
        if ticket.grid_code:
            actor, details = "system", {"reason": "grid_worker"}
        else:  # a public place: community staff pick a worker
            ticket.record("system", at, Action.NOTE, to_staff="no_building")
            at += timedelta(minutes=rng.randint(10, 300))
            if not self.step(ticket, at):
                return
            actor, details = f"staff:{rng.choice(self.staff).telegram_user_id}", {}
        if rng.random() < 0.01:
            at += timedelta(minutes=rng.randint(5, 120))
            if self.step(ticket, at):
                ticket.apply(Action.WITHDRAW, actor=f"resident:{ticket.reporter.user_id}", at=at)
            return
        self.assign(ticket, worker, at, actor, details)
        stuck = rng.random() < STUCK
        for round_ in range(3):
            at += timedelta(minutes=rng.expovariate(1 / 90))
            if not self.step(ticket, at):
                return
            ticket.apply(Action.ACCEPT, actor=f"staff:{worker.telegram_user_id}", at=at)
            if stuck:
                self.step(ticket, NOW)
                return
            at += timedelta(hours=rng.expovariate(1 / 30))
            if not self.step(ticket, at):
                return
            ticket.apply(Action.RESOLVE, actor=f"staff:{worker.telegram_user_id}", at=at, note="已处理",
                         photos=[])
            if rng.random() < 0.2 or round_ == 2:  # nobody rated: the sweep closes it after rating_days
                at += timedelta(days=self.community.rating_days)
                if self.step(ticket, at):
                    ticket.apply(Action.CLOSE, actor="system", at=at, reason="unrated")
                return
            at += timedelta(hours=rng.expovariate(1 / 20))
            if not self.step(ticket, at):
                return
            if self.rate(ticket, at):
                return
            self.assign(ticket, worker, at, "system", {"reason": "reopened"})

    def assign(self, ticket: Ticket, worker: Any, at: datetime, actor: str, details: dict[str, str]) -> None:
        ticket.apply(Action.ASSIGN, actor=actor, at=at, assignee=worker.telegram_user_id, name=worker.name,
                     **details)
        start_accept_clock(ticket, at, self.policy)

    def rate(self, ticket: Ticket, at: datetime) -> bool:
        """The resident's rating (as handlers.rating.complete records it); True when it closed."""
        rng = self.rng
        happy = rng.random() < 0.93
        rating = Rating(
            contacted=rng.random() < 0.9,
            solved=rng.choice([Solved.SOLVED] * 8 + [Solved.PARTLY]) if happy else Solved.UNSOLVED,
            satisfaction=rng.choice([Satisfaction.SATISFIED] * 3 + [Satisfaction.BASIC]) if happy
            else Satisfaction.UNSATISFIED,
            reason=None if happy else "还是没修好")
        ticket.rating = rating
        actor = f"resident:{ticket.reporter.user_id}"
        ticket.record(actor, at, Action.RATE, contacted=rating.contacted, solved=rating.solved,
                      satisfaction=rating.satisfaction, reason=rating.reason)
        if happy:
            ticket.apply(Action.CLOSE, actor=actor, at=at, reason="rated")
            return True
        ticket.apply(Action.REOPEN, actor=actor, at=at, reason=rating.reason or "")
        category = self.community.category(ticket.category_code)
        assert category is not None
        restart_clock(ticket, category.feedback_due(at, self.community.timezone))
        return False

    def add_rows(self, batch: Batch, ticket: Ticket) -> None:
        updated = ticket.new_events[-1].at
        batch.tickets.append({**mutable_values(ticket, self.policy), "id": ticket.id,
                              "number": ticket.number, "community_code": ticket.community_code,
                              "created_at": ticket.created_at, "updated_at": updated})
        for seq, event in enumerate(ticket.new_events, start=1):
            batch.events.append({
                "ticket_id": ticket.id, "seq": seq, "at": event.at, "actor": event.actor,
                "action": event.action.value,
                "from_status": event.from_status.value if event.from_status is not None else None,
                "to_status": event.to_status.value, "details": dict(event.details)})
        for position, user_id in enumerate(ticket.followers):
            batch.followers.append({"ticket_id": ticket.id, "user_id": user_id, "position": position})


def in_batches(made: Iterator[tuple[History, Ticket]], size: int = BATCH, first_id: int = 1,
               id_step: int = 1) -> Iterator[Batch]:
    """Rows of the tickets (each made by its community's History), numbered first_id, first_id + id_step,
    ... in this order."""
    batch = Batch([], [], [])
    for index, (history, ticket) in enumerate(made):
        ticket.id = first_id + index * id_step
        history.add_rows(batch, ticket)
        if len(batch.tickets) >= size:
            yield batch
            batch = Batch([], [], [])
    if batch.tickets:
        yield batch


DESCRIPTIONS = ["楼道灯不亮了", "电梯又坏了，困了好几次", "下水道堵了，味道很大", "楼下有人乱停车",
                "垃圾桶满了没人清", "单元门禁坏了", "楼顶漏水", "夜里广场舞太吵", "小区路灯不亮",
                "墙皮脱落有危险", "暖气不热", "水管漏水", "有人在楼道堆放杂物", "绿化带被踩坏了"]
PLACES = ["东门", "小广场", "北侧停车场", "活动中心门口"]


def _records(columns: list[str], rows: list[dict[str, Any]]) -> list[list[Any]]:
    """The rows as COPY takes them: values in column order, JSON columns as text."""
    values = itemgetter(*columns)
    as_json = [i for i, c in enumerate(columns) if c in JSON_COLUMNS]
    records = []
    for row in rows:
        record = list(values(row))
        for i in as_json:
            if record[i] is not None:
                record[i] = json_dumps(record[i])
        records.append(record)
    return records


async def _copy(url: str, batches: Iterator[Batch]) -> dict[str, int]:
    """PostgreSQL: COPY each batch (asyncpg binary copy; JSONB from text)."""
    import asyncpg
    from sqlalchemy.engine import make_url

    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    counts = {"tickets": 0, "events": 0, "followers": 0}
    try:
        for batch in batches:
            async with connection.transaction():
                await connection.copy_records_to_table(
                    "tickets", columns=TICKET_COLUMNS,
                    records=_records(TICKET_COLUMNS, batch.tickets))
                await connection.copy_records_to_table(
                    "ticket_events", columns=EVENT_COLUMNS, records=_records(EVENT_COLUMNS, batch.events))
                if batch.followers:
                    await connection.copy_records_to_table(
                        "ticket_followers", columns=["ticket_id", "user_id", "position"],
                        records=[[r["ticket_id"], r["user_id"], r["position"]] for r in batch.followers])
            counts["tickets"] += len(batch.tickets)
            counts["events"] += len(batch.events)
            counts["followers"] += len(batch.followers)
        await connection.execute("SELECT setval(pg_get_serial_sequence('tickets', 'id'), "
                                 "(SELECT max(id) FROM tickets))")
        await connection.execute("ANALYZE")
    finally:
        await connection.close()
    return counts


def _executemany(url: str, batches: Iterator[Batch]) -> dict[str, int]:
    """SQLite: SQLAlchemy Core executemany (the models' own bind processing) in big transactions."""
    from sqlalchemy import create_engine as create_sync_engine
    from sqlalchemy import insert, text

    engine = create_sync_engine(url.replace("+aiosqlite", ""), json_serializer=json_dumps)
    counts = {"tickets": 0, "events": 0, "followers": 0}
    try:
        with engine.connect() as connection:
            for pragma in ("journal_mode=WAL", "synchronous=OFF", "cache_size=-200000"):
                connection.exec_driver_sql(f"PRAGMA {pragma}")
            connection.commit()
            for batch in batches:
                with connection.begin():
                    connection.execute(insert(TicketRow), batch.tickets)
                    connection.execute(insert(TicketEventRow), batch.events)
                    if batch.followers:
                        connection.execute(insert(TicketFollowerRow), batch.followers)
                counts["tickets"] += len(batch.tickets)
                counts["events"] += len(batch.events)
                counts["followers"] += len(batch.followers)
            with connection.begin():
                connection.execute(text("ANALYZE"))
    finally:
        engine.dispose()
    return counts


async def generate(url: str, total: int) -> dict[str, Any]:
    """Migrate `url`, load the example roster, write `total` tickets; returns counts and timings."""
    started = time.perf_counter()
    engine = create_engine(url)
    community = parse_roster(ROSTER.read_text(encoding="utf-8"), str(ROSTER))
    try:
        await migrate(engine)
        async with uow_factory(engine)() as uow:
            await uow.roster.upsert(community)
            await uow.commit()
    finally:
        await engine.dispose()
    history = History(community, total)
    batches = history.batches()
    if url.startswith("postgresql"):
        counts = await _copy(url, batches)
    else:
        counts = await asyncio.to_thread(_executemany, url, batches)
    await _rest(url, history)
    return {**counts, "seconds": round(time.perf_counter() - started, 1)}


async def _rest(url: str, history: History) -> None:
    """The daily ticket sequences (so the next filed ticket gets the next number) and the residents."""
    from sqlalchemy import insert

    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(insert(TicketSequenceRow), [
                {"community_code": history.community.code, "day": day, "last": last}
                for day, last in history.sequences.items()])
            await connection.execute(insert(ResidentRow), [
                {"user_id": FIRST_RESIDENT + k, "chat_id": FIRST_RESIDENT + k,
                 "display_name": f"居民{FIRST_RESIDENT + k}", "username": None, "phone": None,
                 "home_building_code": history.buildings[k % len(history.buildings)].code}
                for k in range(RESIDENTS)])
    finally:
        await engine.dispose()


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__)
    args.add_argument("url")
    args.add_argument("--tickets", type=int, default=20_000)
    parsed = args.parse_args()
    print(json_dumps(asyncio.run(generate(parsed.url, parsed.tickets))), flush=True)


if __name__ == "__main__":
    main()
