"""RosterRepository: round trip, idempotent upsert, removals."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from gridcore.community import Building, Category, Community, Grid, HandlingMode, Person, Role
from storage.models import BuildingRow, CategoryRow, CommunityRow, GridRow, StaffRow

pytestmark = pytest.mark.memory


def xinkang() -> Community:
    return Community(
        code="XK",
        name="新康社区",
        staff_chat_id=-1001234567890123,
        timezone="Asia/Shanghai",
        grids=(Grid("G1", "第一网格", -1009876543210), Grid("G2", "第二网格")),
        buildings=(
            Building("B1", "1号楼", "G1", aliases=("一号楼", "1栋"), units=("1单元", "2单元")),
            Building("B2", "2号楼", "G1"),
            Building("B7", "7号楼", "G2", aliases=("七号楼",), units=("1单元",)),
        ),
        staff=(
            Person("王芳", Role.GRID_WORKER, "G1", telegram_user_id=5_000_000_001, username="wangfang",
                   phone="13800000001"),
            Person("李强", Role.GRID_LEADER, "G1", telegram_user_id=5_000_000_002),
            Person("赵敏", Role.BUILDING_LEADER, "G2"),
            Person("陈书记", Role.COMMUNITY_STAFF, None, telegram_user_id=5_000_000_009),
        ),
        categories=(
            Category("junk", "楼道堆物", keywords=("杂物", "堆放", "堵")),
            Category("fire_lane", "消防通道占用", keywords=("消防通道",), feedback_deadline=timedelta(days=1),
                     emergency=True, mode=HandlingMode.COORDINATED, emergency_numbers=("119",)),
            Category("property", "物业维修", keywords=("维修",), mode=HandlingMode.JOINT),
        ),
    )


async def dump(engine: AsyncEngine) -> dict[str, list[dict[str, Any]]]:
    """Every roster row, all columns, in a stable order."""
    out: dict[str, list[dict[str, Any]]] = {}
    async with engine.connect() as connection:
        for model in (CommunityRow, GridRow, BuildingRow, StaffRow, CategoryRow):
            table = model.__table__
            result = await connection.execute(select(table).order_by(*table.primary_key.columns))
            out[table.name] = [dict(row._mapping) for row in result]
    return out


async def test_get_round_trip(uow_factory) -> None:
    community = xinkang()
    async with uow_factory() as uow:
        await uow.roster.upsert(community)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.roster.get("XK") == community
        assert await uow.roster.get("NOPE") is None
        assert await uow.roster.list_codes() == ["XK"]


async def test_upsert_twice_changes_nothing(uow_factory, engine) -> None:
    async with uow_factory() as uow:
        await uow.roster.upsert(xinkang())
        await uow.commit()
    before = await dump(engine)
    async with uow_factory() as uow:
        await uow.roster.upsert(xinkang())
        await uow.roster.upsert(xinkang())
        await uow.commit()
    assert await dump(engine) == before
    assert len(before["staff"]) == 4


async def test_changed_roster_updates_and_deactivates(uow_factory, engine) -> None:
    async with uow_factory() as uow:
        await uow.roster.upsert(xinkang())
        await uow.commit()
    old = xinkang()
    new = replace(
        old,
        name="新康社区居委会",
        grids=(old.grids[0],),
        buildings=(replace(old.buildings[1], name="二号楼"), old.buildings[0]),  # reordered, B7 gone
        staff=(old.staff[3], old.staff[0]),
        categories=(old.categories[0], Category("noise", "噪音扰民", keywords=("噪音",))),
    )
    async with uow_factory() as uow:
        await uow.roster.upsert(new)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.roster.get("XK") == new
    rows = await dump(engine)
    assert {r["code"]: r["active"] for r in rows["buildings"]} == {"B1": True, "B2": True, "B7": False}
    assert {r["code"]: r["active"] for r in rows["categories"]} == {
        "junk": True, "fire_lane": False, "property": False, "noise": True,
    }
    assert {r["code"]: r["active"] for r in rows["grids"]} == {"G1": True, "G2": False}
    assert [r["name"] for r in rows["staff"]] == ["陈书记", "王芳"]

    # A code that comes back is active again, with its new attributes.
    async with uow_factory() as uow:
        await uow.roster.upsert(old)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.roster.get("XK") == old


async def test_several_communities(uow_factory) -> None:
    other = Community(code="HY", name="和园社区", grids=(Grid("G1", "一网格"),),
                      buildings=(Building("B1", "1幢", "G1"),))
    async with uow_factory() as uow:
        await uow.roster.upsert(xinkang())
        await uow.roster.upsert(other)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.roster.list_codes() == ["HY", "XK"]
        assert await uow.roster.get("HY") == other
        assert await uow.roster.get("XK") == xinkang()


async def test_the_example_roster_round_trips_whole(uow_factory):
    """Everything the parser reads (co-handlers, titles, a leader's building) survives storage."""
    from dialog_support import example_community

    community = example_community()
    async with uow_factory() as uow:
        await uow.roster.upsert(community)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.roster.get(community.code) == community


def cuihu() -> Community:
    from pathlib import Path

    from gridcore.roster import parse_roster

    path = Path(__file__).resolve().parents[1] / "examples" / "cuihu.yaml"
    return parse_roster(path.read_text(encoding="utf-8"), str(path))


async def test_the_cuihu_roster_round_trips_whole(uow_factory):
    """Estates (with aliases and grids), each building's estate and kind, the street and its street_staff
    survive storage; beside the other example, each community reads back as itself."""
    from dialog_support import example_community

    community = cuihu()
    assert len(community.buildings) >= 200 and community.estates and community.street
    async with uow_factory() as uow:
        await uow.roster.upsert(example_community())
        await uow.roster.upsert(community)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.roster.list_codes() == ["CH", "XK"]
        assert await uow.roster.get("CH") == community
        assert await uow.roster.get("XK") == example_community()


async def test_an_estate_change_updates_its_buildings(uow_factory):
    """A building moved out of its estate and an estate renamed read back as the roster now says."""
    old = cuihu()
    moved = replace(old.buildings[0], estate_code=None, name="雅悦老1栋", aliases=())
    new = replace(old, estates=(replace(old.estates[0], name="雅悦府", aliases=("雅悦",)), *old.estates[1:]),
                  buildings=(moved, *old.buildings[1:]))
    for community in (old, new):
        async with uow_factory() as uow:
            await uow.roster.upsert(community)
            await uow.commit()
    async with uow_factory() as uow:
        assert await uow.roster.get("CH") == new
