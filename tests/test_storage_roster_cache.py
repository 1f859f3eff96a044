"""The roster cache: read once per engine, dropped by a committed roster change, bypassed by the
unit of work that makes one; after its ttl revalidated by communities.roster_version, so a change by
another process (another engine here) is seen and an unchanged roster is not read again."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from dialog_support import example_community, load_example
from sqlalchemy import event, select

from gridcore.community import Person, Role
from gridcore.directory import DirectoryEntry
from gridcore.staff import person_key
from storage.db import create_engine
from storage.models import CommunityRow
from storage.roster_cache import RosterCache, cache_for
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


def statements(engine) -> list[str]:
    seen: list[str] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def record(conn, cursor, statement, *args) -> None:
        seen.append(statement)

    return seen


def frozen_clock(engine) -> list[float]:
    """The engine's roster cache on a clock the test moves: now[0] seconds."""
    now = [0.0]
    cache_for(engine).clock = lambda: now[0]
    return now


async def bind_in_another_process(database_url: str, community_code: str, person, user_id: int) -> None:
    """An invite bound by another process: its own engine and roster cache."""
    other = create_engine(database_url)
    try:
        async with make_uow_factory(other)() as uow:
            at = datetime(2026, 11, 22, tzinfo=UTC)
            await uow.staff.bind(community_code, person_key(person), user_id, at)
            await uow.commit()
    finally:
        await other.dispose()


async def version_of(engine, code: str) -> int:
    async with engine.connect() as connection:
        return await connection.scalar(select(CommunityRow.roster_version).where(CommunityRow.code == code))


async def test_after_the_ttl_an_unchanged_roster_is_revalidated_not_read_again(engine, uow_factory) -> None:
    community = await load_example(uow_factory)
    now = frozen_clock(engine)
    async with uow_factory() as uow:
        await uow.roster.get(community.code)
        await uow.roster.list_codes()
    seen = statements(engine)
    for tick in range(1, 4):
        now[0] = 60.0 * tick  # a reminder tick a minute later: every entry is past its ttl
        seen.clear()
        async with uow_factory() as uow:
            assert await uow.roster.get(community.code) == community
            assert await uow.roster.list_codes() == [community.code]
            assert await uow.roster.get(community.code) == community
        queries = [s for s in seen if "SELECT" in s]
        # one query for every version (and the codes) renews both entries for another ttl
        assert len(queries) == 1 and "roster_version" in queries[0], queries
        assert not any("FROM buildings" in s for s in seen)
    now[0] += 1  # within the renewed ttl: no query at all
    seen.clear()
    async with uow_factory() as uow:
        assert await uow.roster.get(community.code) == community
    assert [s for s in seen if "SELECT" in s] == []


async def test_a_roster_load_by_another_process_is_seen_after_the_ttl(
        engine, uow_factory, database_url) -> None:
    community = await load_example(uow_factory)
    now = frozen_clock(engine)
    async with uow_factory() as uow:
        await uow.roster.get(community.code)
    renamed = replace(community, buildings=(replace(community.buildings[0], name="一号楼"),
                                            *community.buildings[1:]))
    other = create_engine(database_url)  # another process: its own engine and cache
    try:
        async with make_uow_factory(other)() as uow:
            await uow.roster.upsert(renamed)
            await uow.commit()
    finally:
        await other.dispose()
    now[0] = 4.0  # within the ttl the cached roster is trusted
    async with uow_factory() as uow:
        assert (await uow.roster.get(community.code)).buildings[0].name == "1号楼"
    now[0] = 5.0
    async with uow_factory() as uow:
        assert await uow.roster.get(community.code) == renamed
    now[0] = 20.0  # and kept from then on
    reads = building_reads(engine)
    async with uow_factory() as uow:
        assert await uow.roster.get(community.code) == renamed
    assert reads == []


async def test_a_binding_by_another_process_is_seen_after_the_ttl(engine, uow_factory, database_url) -> None:
    community = await load_example(uow_factory)
    unbound = next(p for p in community.staff if p.telegram_user_id is None)
    now = frozen_clock(engine)
    async with uow_factory() as uow:
        await uow.roster.get(community.code)
    await bind_in_another_process(database_url, community.code, unbound, 4242)
    now[0] = 6.0
    async with uow_factory() as uow:
        staff = (await uow.roster.get(community.code)).staff
    assert [p.telegram_user_id for p in staff if p.name == unbound.name] == [4242]


async def test_a_community_loaded_by_another_process_is_listed_after_the_ttl(
        engine, uow_factory, database_url) -> None:
    community = await load_example(uow_factory)
    now = frozen_clock(engine)
    async with uow_factory() as uow:
        assert await uow.roster.list_codes() == [community.code]
        await uow.roster.get(community.code)
    other = create_engine(database_url)
    try:
        async with make_uow_factory(other)() as uow:
            await uow.roster.upsert(replace(community, code="YZ", name="云州社区"))
            await uow.commit()
    finally:
        await other.dispose()
    now[0] = 6.0
    reads = building_reads(engine)
    async with uow_factory() as uow:
        assert await uow.roster.list_codes() == [community.code, "YZ"]
        assert await uow.roster.get(community.code) == community
    assert reads == []  # the new community changed the list, not XK's roster


async def test_only_a_real_change_bumps_the_version(engine, uow_factory) -> None:
    community = await load_example(uow_factory)
    first = await version_of(engine, community.code)
    assert first >= 1
    async with uow_factory() as uow:
        await uow.roster.upsert(community)  # the same roster again writes nothing
        await uow.commit()
    assert await version_of(engine, community.code) == first
    fewer_staff = replace(community, staff=community.staff[:-1])
    for changed in (replace(community, name="新康社区（新）"),
                    replace(community, categories=community.categories[:-1]),
                    fewer_staff):
        async with uow_factory() as uow:
            await uow.roster.upsert(changed)
            await uow.commit()
        first, version = await version_of(engine, community.code), first
        assert first > version
    async with uow_factory() as uow:
        await uow.staff.bind(community.code, "someone", 4242, datetime(2026, 11, 22, tzinfo=UTC))
        await uow.commit()
    assert await version_of(engine, community.code) == first + 1


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



def sibling(community):
    """Another community of the same street: no groups of its own but its staff group, street staff."""
    walker = Person("街道王", Role.STREET_STAFF, telegram_user_id=9001, phone="13800009001")
    boss = Person("和主任", Role.COMMUNITY_STAFF, telegram_user_id=2001)
    return replace(community, code="HX", name="和祥社区", staff_chat_id=-5, public_chat_id=None,
                   street_chat_id=None, grids=tuple(replace(g, group_chat_id=None) for g in community.grids),
                   staff=(walker, boss), announcements=())


async def test_the_directory_is_read_in_a_few_statements_and_agrees_with_the_rosters(engine, uow_factory):
    community = await load_example(uow_factory)
    async with uow_factory() as uow:
        await uow.roster.upsert(sibling(community))
        await uow.commit()
    seen = statements(engine)
    async with uow_factory() as uow:
        directory = await uow.roster.directory()
    assert 1 <= len([s for s in seen if s.lstrip().upper().startswith("SELECT")]) <= 4
    assert "FROM buildings" not in "".join(seen) and "FROM categories" not in "".join(seen)
    async with uow_factory() as uow:
        rosters = [await uow.roster.get(code) for code in ("HX", "XK")]
        assert await uow.roster.directory() is directory  # served from the cache
    assert directory.entries == tuple(DirectoryEntry.of(c) for c in rosters)
    assert directory.codes() == ["HX", "XK"] and directory.find("HX").name == "和祥社区"
    assert directory.by_chat(community.grids[2].group_chat_id).code == "XK"
    assert directory.by_chat(-5).code == "HX"
    assert directory.by_chat(community.street_chat_id).code == "XK"
    assert directory.by_staff(2001).code == "HX" and directory.by_staff(9001).code == "HX"
    assert directory.find("HX").street_staff[0].phone == "13800009001"  # street staff whole: with_street


async def test_a_binding_by_invite_and_a_roster_reload_reach_the_directory(engine, uow_factory):
    community = await load_example(uow_factory)
    unbound = next(p for p in community.staff if p.telegram_user_id is None)
    async with uow_factory() as uow:
        assert (await uow.roster.directory()).by_staff(4242) is None
    async with uow_factory() as uow:
        await uow.staff.bind(community.code, person_key(unbound), 4242, datetime(2026, 11, 22, tzinfo=UTC))
        await uow.staff.bind(community.code, person_key(community.staff[0]), 4343,
                             datetime(2026, 11, 22, tzinfo=UTC))  # the roster's own id wins
        await uow.commit()
    async with uow_factory() as uow:
        directory = await uow.roster.directory()
    assert directory.by_staff(4242).code == community.code and directory.by_staff(4343) is None
    renamed = replace(community, name="新兴康社区", grids=community.grids[:1])
    async with uow_factory() as uow:
        await uow.roster.upsert(renamed)
        assert (await uow.roster.directory()).find(community.code).name == "新兴康社区"  # its own change
        await uow.commit()
    async with uow_factory() as uow:
        entry = (await uow.roster.directory()).find(community.code)
    assert entry.name == "新兴康社区"
    assert community.grids[2].group_chat_id not in entry.own_chats  # a grid the roster dropped
    assert community.grids[0].group_chat_id in entry.own_chats


def test_revalidation_keeps_unchanged_stamps_and_drops_the_rest() -> None:
    now = [0.0]
    cache = RosterCache(ttl=5, clock=lambda: now[0])
    cache.store("A", "roster A", cache.generation, stamp=3)
    cache.store("B", "roster B", cache.generation, stamp=1)
    cache.store("plain", "no stamp", cache.generation)
    assert not cache.expired("A")
    now[0] = 5.0
    assert cache.expired("A") and cache.expired("B") and not cache.expired("plain")
    began = cache.generation
    cache.revalidate({"A": 3, "B": 2}, began)
    assert cache.lookup("A") == "roster A"  # a new ttl from now
    assert cache.lookup("B") is None and not cache.expired("B")  # changed: read again
    assert cache.lookup("plain") is None  # without a stamp it only expires
    now[0] = 10.0
    cache.invalidate()
    cache.store("A", "roster A", cache.generation, stamp=3)
    now[0] = 15.0
    cache.revalidate({"A": 3}, began)  # versions read before a commit dropped the cache: ignored
    assert cache.lookup("A") is None and cache.expired("A")


async def test_the_directory_is_revalidated_like_a_roster(engine, uow_factory, database_url) -> None:
    community = await load_example(uow_factory)
    unbound = next(p for p in community.staff if p.telegram_user_id is None)
    now = frozen_clock(engine)
    async with uow_factory() as uow:
        await uow.roster.directory()
    seen = statements(engine)
    now[0] = 60.0  # past the ttl, nothing changed: one version query renews it
    async with uow_factory() as uow:
        assert (await uow.roster.directory()).find(community.code) is not None
    assert len([s for s in seen if "SELECT" in s]) == 1 and "FROM staff" not in "".join(seen)
    await bind_in_another_process(database_url, community.code, unbound, 4242)
    now[0] = 120.0
    async with uow_factory() as uow:
        assert (await uow.roster.directory()).by_staff(4242).code == community.code
