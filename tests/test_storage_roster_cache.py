"""The roster cache: read once per engine, dropped by a committed roster change, bypassed by the
unit of work that makes one."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from dialog_support import example_community, load_example
from sqlalchemy import event

from gridcore.community import Person, Role
from gridcore.directory import DirectoryEntry
from gridcore.staff import person_key
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



def statements(engine) -> list[str]:
    seen: list[str] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def record(conn, cursor, statement, *args) -> None:
        seen.append(statement)

    return seen


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
