"""bench.city at a tiny size: the city generator writes communities with estates, shops and garages
and their tickets (on PostgreSQL through worker processes, into tables whose indexes it rebuilds), and
every measurement of the benchmark runs on it. The benchmark itself runs in bench/."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, inspect, select, text

from bench import city, city_data
from gridcore.community import PlaceKind, Role
from storage.db import create_engine
from storage.models import TicketEventRow, TicketRow
from storage.uow import uow_factory

TINY = {"communities": 4, "streets": 2, "tickets": 3_000}


def test_every_community_has_estates_places_of_each_kind_staff_and_a_street():
    made = city_data.make_city(30, 3)
    assert len({c.code for c in made}) == 30 and len({c.name for c in made}) == 30
    assert {c.street for c in made} == set(city_data.STREET_NAMES[:3])
    for community in made:
        assert 3 <= len(community.estates) <= 8 and 100 <= len(community.buildings) <= 300
        assert {b.kind for b in community.buildings} >= {PlaceKind.BUILDING, PlaceKind.SHOP, PlaceKind.GARAGE}
        grids = {g.code for g in community.grids}
        assert {b.grid_code for b in community.buildings} <= grids
        for estate in community.estates:  # names are unique within an estate
            names = [b.name for b in community.buildings if b.estate_code == estate.code]
            assert names and len(names) == len(set(names))
        for grid in grids:
            assert community.people(Role.GRID_WORKER, grid)
        assert len(community.people(Role.STREET_STAFF)) == 1
    staff_ids = [p.telegram_user_id for c in made for p in c.staff if p.role is not Role.STREET_STAFF]
    assert len(staff_ids) == len(set(staff_ids))


async def test_the_generator_writes_every_communitys_tickets_and_keeps_the_schemas_indexes(
        empty_database_url: str) -> None:
    generated = await city_data.generate(empty_database_url, TINY["communities"], TINY["streets"],
                                         TINY["tickets"], workers=2)
    assert generated["tickets"] == TINY["tickets"] and generated["communities"] == TINY["communities"]
    engine = create_engine(empty_database_url)
    try:
        async with engine.connect() as connection:
            per_community = dict((await connection.execute(
                select(TicketRow.community_code, func.count()).group_by(TicketRow.community_code))).all())
            events = await connection.scalar(select(func.count()).select_from(TicketEventRow))
            residents = await connection.scalar(text("SELECT count(DISTINCT community_code) FROM residents"))
            indexes = await connection.run_sync(
                lambda sync: {tuple(i["column_names"]) for i in inspect(sync).get_indexes("tickets")})
        assert sorted(per_community) == [f"C{i:03d}" for i in range(TINY["communities"])]
        assert min(per_community.values()) > TINY["tickets"] / TINY["communities"] / 4
        assert events > 4 * TINY["tickets"] and residents == TINY["communities"]
        declared = {tuple(c.name for c in i.columns) for i in TicketRow.__table__.indexes}
        assert declared <= indexes  # dropped for COPY, built again
        async with uow_factory(engine)() as uow:
            community = await uow.roster.get("C001")
        assert community is not None and community.estates and community.street == city_data.STREET_NAMES[1]
    finally:
        await engine.dispose()


async def test_every_measurement_runs_on_a_tiny_city(backend: str, tmp_path: Path) -> None:
    result = await city.run_backend(backend, TINY, workers=2, reuse=False, profile=False,
                                    explain_dir=tmp_path)
    shape = result["shape"]
    assert result["generation"]["tickets"] == TINY["tickets"]
    assert shape["communities"] == TINY["communities"] and shape["streets"] == TINY["streets"]
    assert len(shape["street_codes"]) == TINY["communities"] // TINY["streets"]
    assert result["street_summary"]["communities"] == len(shape["street_codes"])
    # the numbers alone and the summaries with texts and charts count the same tickets
    assert result["street_numbers"]["new"] == result["street_summary"]["new"]
    for name in ("summary_biggest", "summary_median", "street_summary", "my_heavy", "my_typical",
                 "tasks_busy"):
        assert result[name]["runs"] >= 3 and result[name]["median_ms"] > 0, name
    assert set(result["lists"]) == {"open_in", "open_in_grid", "open_counts"}
    assert result["sweep"]["close_unrated"]["idle_tick"]["runs"] == 5
    plans = Path(result["explain"]).read_text(encoding="utf-8")
    assert "=== street_numbers" in plans and "community_code" in plans
