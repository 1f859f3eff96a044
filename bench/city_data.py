"""A city for bench.city: street offices (街道) of communities with estates, shops and garages, and a
ticket history over two years spread over all of them.

Each community is built as gridcore objects (no YAML: the roster parser is not what is measured) and
stored through the roster repository; its tickets live their lives through bench.scale_data.History
(gridcore's state machine, reminders and 督办 as the sweep would have sent them). The communities'
histories are merged in filing order, so ticket ids and the table's pages follow time across the
city, as the bot would have written them. Rows go in by COPY (PostgreSQL) or executemany (SQLite).

    python -m bench.city_data URL --communities N --streets S --tickets T   (bench.city runs this)
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import multiprocessing
import random
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from bench.scale_data import ROSTER, History, _copy, _executemany, in_batches
from gridcore.community import Building, Community, Estate, Grid, Person, PlaceKind, Role
from gridcore.roster import parse_roster
from gridcore.ticket import Ticket
from storage.db import create_engine, json_dumps, migrate
from storage.models import ResidentRow, TicketSequenceRow
from storage.uow import uow_factory

RESIDENTS_PER_COMMUNITY = 1_500
FIRST_RESIDENT = 100_000_000  # community i's residents: FIRST_RESIDENT + i * 10_000 + k
FIRST_STAFF = 10_000_000  # community i's staff: FIRST_STAFF + i * 1_000 + k
FIRST_STREET_STAFF = FIRST_STAFF - 1_000  # street s's: FIRST_STREET_STAFF + s
STREET_NAMES = [f"{a}{b}街道" for a in "东西南北中" for b in ("关", "城", "湖", "山", "河", "桥")]
ESTATE_WORDS = ["雅悦花园", "翠湖苑", "蔚蓝香廷", "金色家园", "阳光新城", "锦绣华庭", "紫荆公寓", "桂园",
                "和平里", "幸福小区", "滨江花园", "书香门第", "御景湾", "丽水湾", "枫林苑", "明珠园"]
COMMUNITY_WORDS = "翠湖人民信江康宁兴隆长乐安居和美振兴"


def community_name(index: int) -> str:
    words = [COMMUNITY_WORDS[i:i + 2] for i in range(0, len(COMMUNITY_WORDS), 2)]
    return f"{words[index % len(words)]}{index // len(words) + 1}社区"


def make_community(index: int, streets: int, rng: random.Random, template: Community) -> Community:
    """Community `index` of the city: 3-8 estates, 100-300 places (buildings with units, garages, shops,
    public places), a grid per estate or two, 2-3 workers and a leader per grid, two staff."""
    code = f"C{index:03d}"
    street = index % streets
    staff_id = iter(range(FIRST_STAFF + index * 1_000, FIRST_STAFF + (index + 1) * 1_000))
    estates_n = rng.randint(3, 8)
    places = rng.randint(100, 300)
    grids = tuple(Grid(f"g{g}", f"第{g}网格", group_chat_id=-1003_000_000_000 - index * 100 - g)
                  for g in range(1, max(3, (estates_n + 1) // 2 * 2) + 1))
    names = [ESTATE_WORDS[(index + e) % len(ESTATE_WORDS)] for e in range(estates_n)]  # 3-8 of 16: unique
    estates = tuple(Estate(f"e{e}", name, aliases=(name[:2],) if len(name) > 2 else (),
                           grid_code=grids[e % len(grids)].code) for e, name in enumerate(names))
    buildings: list[Building] = []
    per_estate = [0] * estates_n
    for n in range(places):
        estate = estates[n % estates_n] if n % 10 else None  # one place in ten lies outside any estate
        draw = rng.random()
        kind = (PlaceKind.BUILDING if draw < 0.75 else PlaceKind.SHOP if draw < 0.88
                else PlaceKind.GARAGE if draw < 0.97 else PlaceKind.PUBLIC)
        number = per_estate[n % estates_n] = per_estate[n % estates_n] + 1
        name = {PlaceKind.BUILDING: f"{number}栋", PlaceKind.SHOP: f"沿街商铺{number}号",
                PlaceKind.GARAGE: f"{number}号车库", PlaceKind.PUBLIC: f"{number}号广场"}[kind]
        units = tuple(str(u) for u in range(1, rng.randint(2, 6))) if kind is PlaceKind.BUILDING else ()
        grid = estate.grid_code if estate is not None else grids[n % len(grids)].code
        buildings.append(Building(f"b{n}", name if estate is not None else f"独栋{n}号{name}", grid or "g1",
                                  units=units, estate_code=estate.code if estate else None, kind=kind))
    staff: list[Person] = []
    for grid in grids:
        staff += [Person(f"网格员{grid.code}{w}", Role.GRID_WORKER, grid.code, next(staff_id))
                  for w in range(rng.randint(2, 3))]
        staff.append(Person(f"网格长{grid.code}", Role.GRID_LEADER, grid.code, next(staff_id)))
    staff += [Person(f"社区干部{k}", Role.COMMUNITY_STAFF, telegram_user_id=next(staff_id)) for k in range(2)]
    staff.append(Person(f"街道干部{street}", Role.STREET_STAFF, telegram_user_id=FIRST_STREET_STAFF + street))
    return Community(code, community_name(index), staff_chat_id=-1002_000_000_000 - index,
                     timezone=template.timezone, grids=grids, buildings=tuple(buildings), staff=tuple(staff),
                     categories=template.categories, rating_days=template.rating_days,
                     reminders=template.reminders, estates=estates, street=STREET_NAMES[street % len(
                         STREET_NAMES)] + ("" if street < len(STREET_NAMES) else str(street)),
                     street_chat_id=-1004_000_000_000 - street)


def make_city(communities: int, streets: int, seed: int = 18) -> list[Community]:
    template = parse_roster(ROSTER.read_text(encoding="utf-8"), str(ROSTER))
    rng = random.Random(seed)
    return [make_community(i, streets, rng, template) for i in range(communities)]


def histories(city: list[Community], tickets: int) -> list[History]:
    """Each community's share of the tickets, in proportion to its places."""
    places = sum(len(c.buildings) for c in city)
    shares = [tickets * len(c.buildings) // places for c in city]
    shares[0] += tickets - sum(shares)
    return [History(c, share, seed=1000 + i, first_resident=FIRST_RESIDENT + i * 10_000,
                    residents=RESIDENTS_PER_COMMUNITY)
            for i, (c, share) in enumerate(zip(city, shares, strict=True))]


def merged(made: list[History]) -> Iterator[tuple[History, Ticket]]:
    """Every community's tickets in filing order across the city."""
    streams = [((history, ticket) for ticket in history.tickets()) for history in made if history.total]
    return heapq.merge(*streams, key=lambda pair: pair[1].created_at)


async def generate(url: str, communities: int, streets: int, total: int, workers: int = 2) -> dict[str, Any]:
    """Migrate `url`, store the city's rosters, write `total` tickets; returns counts and timings. On
    PostgreSQL `workers` processes each write the tickets of every workers-th community (ids interleaved,
    so they still follow time), into tables whose secondary indexes are built once at the end."""
    started = time.perf_counter()
    city = make_city(communities, streets)
    engine = create_engine(url)
    try:
        await migrate(engine)
        async with uow_factory(engine)() as uow:
            for community in city:
                await uow.roster.upsert(community)
            await uow.commit()
    finally:
        await engine.dispose()
    timings = {"roster_seconds": round(time.perf_counter() - started, 1)}
    if url.startswith("postgresql"):
        indexes = await _drop_indexes(url)
        loop = asyncio.get_running_loop()
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            parts = await asyncio.gather(*(
                loop.run_in_executor(pool, _write_part, url, communities, streets, total, w, workers)
                for w in range(workers)))
        timings["rows_seconds"] = round(time.perf_counter() - started - timings["roster_seconds"], 1)
        await _restore_indexes(url, indexes)
        counts = {key: sum(part[key] for part in parts) for key in parts[0]}
    else:
        counts = await _write(url, histories(city, total), 0, 1)
    return {**counts, "communities": communities, "streets": streets,
            "places": sum(len(c.buildings) for c in city), "estates": sum(len(c.estates) for c in city),
            **timings, "seconds": round(time.perf_counter() - started, 1)}


def _write_part(url: str, communities: int, streets: int, total: int, part: int,
                parts: int) -> dict[str, int]:
    """One worker process: the tickets of communities part, part + parts, ... (the same city every time)."""
    made = histories(make_city(communities, streets), total)
    return asyncio.run(_write(url, [h for i, h in enumerate(made) if i % parts == part], part, parts))


async def _write(url: str, made: list[History], part: int, parts: int) -> dict[str, int]:
    batches = in_batches(merged(made), first_id=1 + part, id_step=parts)
    if url.startswith("postgresql"):
        counts = await _copy(url, batches)
    else:
        counts = await asyncio.to_thread(_executemany, url, batches)
    await _rest(url, made)
    return counts


TABLES = ("tickets", "ticket_events", "ticket_followers")


async def _drop_indexes(url: str) -> list[str]:
    """Drop the secondary indexes of the ticket tables (not those of constraints); their definitions."""
    connection = await _asyncpg(url)
    try:
        rows = await connection.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY($1::text[]) "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint)", list(TABLES))
        for row in rows:
            await connection.execute(f'DROP INDEX "{row["indexname"]}"')
        return [row["indexdef"] for row in rows]
    finally:
        await connection.close()


async def _restore_indexes(url: str, definitions: list[str]) -> None:
    connection = await _asyncpg(url)
    try:
        await connection.execute("SET maintenance_work_mem = '512MB'")
        for definition in definitions:
            await connection.execute(definition)
        await connection.execute("SELECT setval(pg_get_serial_sequence('tickets', 'id'), "
                                 "(SELECT max(id) FROM tickets))")
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


async def _asyncpg(url: str) -> Any:
    import asyncpg
    from sqlalchemy.engine import make_url

    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    return await asyncpg.connect(dsn)


async def _rest(url: str, made: list[History]) -> None:
    """The daily ticket sequences and every community's residents (with a remembered home)."""
    sequences = [{"community_code": h.community.code, "day": day, "last": last}
                 for h in made for day, last in h.sequences.items()]
    residents = [{"user_id": user_id, "chat_id": user_id, "display_name": f"居民{user_id}", "username": None,
                  "phone": None, "home_building_code": h.buildings[k % len(h.buildings)].code,
                  "community_code": h.community.code, "home_unit": None, "home_room": None,
                  "home_offered": True}
                 for h in made for k, user_id in enumerate(h.resident_ids)]
    if url.startswith("postgresql"):
        connection = await _asyncpg(url)
        try:
            for table, rows in (("ticket_sequences", sequences), ("residents", residents)):
                columns = list(rows[0])
                await connection.copy_records_to_table(table, columns=columns,
                                                       records=[[r[c] for c in columns] for r in rows])
            await connection.execute("ANALYZE ticket_sequences; ANALYZE residents")
        finally:
            await connection.close()
        return
    from sqlalchemy import insert

    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(insert(TicketSequenceRow), sequences)
            await connection.execute(insert(ResidentRow), residents)
    finally:
        await engine.dispose()


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__)
    args.add_argument("url")
    args.add_argument("--communities", type=int, default=300)
    args.add_argument("--streets", type=int, default=30)
    args.add_argument("--tickets", type=int, default=3_000_000)
    args.add_argument("--workers", type=int, default=2, help="PostgreSQL: processes writing tickets")
    parsed = args.parse_args()
    result = asyncio.run(generate(parsed.url, parsed.communities, parsed.streets, parsed.tickets,
                                  parsed.workers))
    print(json_dumps(result), flush=True)


if __name__ == "__main__":
    main()
