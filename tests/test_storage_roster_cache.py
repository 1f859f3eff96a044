"""The roster cache: read once per engine, dropped by a committed roster change, bypassed by the
unit of work that makes one."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from dialog_support import example_community, load_example
from sqlalchemy import event

from storage.roster_cache import RosterCache
from storage.uow import uow_factory as make_uow_factory


def building_reads(engine) -> list[str]:
    seen: list[str] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def record(conn, cursor, statement, *args) -> None:
        if "FROM buildings" in statement:
            seen.append(statement)

    return seen


async def test_the_roster_is_read_once_then_served_from_the_cache(engine, uow_factory) -> None:
    community = await load_example(uow_factory)
    reads = building_reads(engine)
    for _ in range(3):
        async with uow_factory() as uow:
            assert await uow.roster.get(community.code) == community
            assert await uow.roster.list_codes() == [community.code]
    assert len(reads) == 1


async def test_a_committed_change_is_seen_at_once_by_every_unit_of_work(engine, uow_factory) -> None:
    community = await load_example(uow_factory)
    async with uow_factory() as uow:
        assert (await uow.roster.get(community.code)).buildings[0].name == "1号楼"
    renamed = replace(community, buildings=(replace(community.buildings[0], name="一号楼"),
                                            *community.buildings[1:]))
    other_factory = make_uow_factory(engine)  # another factory on the same engine shares the cache
    async with other_factory() as uow:
        await uow.roster.upsert(renamed)
        # the unit of work that changed the roster reads its own change
        assert (await uow.roster.get(community.code)).buildings[0].name == "一号楼"
        await uow.commit()
    async with uow_factory() as uow:
        assert (await uow.roster.get(community.code)).buildings[0].name == "一号楼"


async def test_a_rolled_back_change_leaves_the_cache_as_it_was(engine, uow_factory) -> None:
    community = await load_example(uow_factory)
    async with uow_factory() as uow:
        await uow.roster.get(community.code)
    async with uow_factory() as uow:
        await uow.staff.bind(community.code, "someone", 4242, datetime(2026, 11, 22, tzinfo=UTC))
        # no commit
    reads = building_reads(engine)
    async with uow_factory() as uow:
        assert await uow.roster.get(community.code) == community
    assert reads == []


def test_entries_expire_and_a_read_that_raced_a_change_is_not_kept() -> None:
    now = [0.0]
    cache = RosterCache(ttl=5, clock=lambda: now[0])
    community = example_community()
    cache.store("XK", community, cache.generation)
    assert cache.lookup("XK") is community
    now[0] = 5.0
    assert cache.lookup("XK") is None  # another process's change is seen within the ttl
    began = cache.generation
    cache.invalidate()  # a change committed while a unit of work that began earlier was reading
    cache.store("XK", community, began)
    assert cache.lookup("XK") is None

