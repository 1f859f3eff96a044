"""With many communities in one database, an update reads the roster of its own community only: the
community is picked on the directory (gridcore.directory), not by reading every roster."""

from __future__ import annotations

from typing import Any

import pytest
from dialog_support import ResidentChat, make_conversations
from sqlalchemy import event
from test_street_office import ASKED, first_community, load, second_community

from gridcore.community import Community
from storage.roster_cache import cache_for

pytestmark = pytest.mark.memory

MANY = 40
RESIDENT = 5001


class CountingRoster:
    """The unit of work's roster repository, noting the code of every roster read."""

    def __init__(self, inner: Any, reads: list[str]) -> None:
        self.inner, self.reads = inner, reads

    async def get(self, code: str) -> Community | None:
        self.reads.append(code)
        return await self.inner.get(code)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class CountingUnitOfWork:
    def __init__(self, inner: Any, reads: list[str]) -> None:
        self.inner, self.reads = inner, reads

    async def __aenter__(self) -> CountingUnitOfWork:
        await self.inner.__aenter__()
        self.roster = CountingRoster(self.inner.roster, self.reads)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.inner.__aexit__(*exc)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def shift(i: int) -> int:
    return 10000 + 1000 * i


async def many(uow_factory) -> tuple[Any, list[str]]:
    """MANY communities besides 兴康 and 和祥 (C00…, each with its own people and chats), and a
    Conversations whose units of work count roster reads."""
    others = [second_community(f"C{i:02d}", f"第{i:02d}社区", shift=shift(i), chats=10 + i)
              for i in range(MANY)]
    await load(uow_factory, first_community(), second_community(), *others)
    reads: list[str] = []
    return make_conversations(lambda: CountingUnitOfWork(uow_factory(), reads)), reads


async def test_each_update_reads_only_its_own_communitys_roster(uow_factory):
    bot, reads = await many(uow_factory)
    resident = ResidentChat(bot, RESIDENT, "张阿姨")
    await resident.send("/start")
    assert ASKED in resident.last_text
    assert reads == ["C00"]  # the question is asked in the first community's name, of the directory
    reads.clear()
    await resident.send("第17社区")
    assert "第17社区" in resident.last_texts()
    assert reads == ["C00", "C17"]  # the question's, then the chosen one
    reads.clear()
    await resident.send("3号楼2单元楼道堆放杂物，走不过去")
    assert "环境" in resident.last_texts()  # a report begun in 第17社区
    assert reads == ["C17"]
    reads.clear()
    group = ResidentChat(bot, RESIDENT, "张阿姨", chat_id=first_community().grids[0].group_chat_id
                         - (10 + 25) * 1_000_000_000)  # 第25社区's grid group
    await group.send("/help")
    assert reads == ["C25"]
    reads.clear()
    worker = ResidentChat(bot, 1011 + shift(30), "王芳")  # 第30社区's grid worker
    await worker.send("/tasks")
    assert reads == ["C30"]


async def test_a_resident_message_reads_one_roster_from_the_database(engine, uow_factory):
    bot, reads = await many(uow_factory)
    resident = ResidentChat(bot, RESIDENT, "张阿姨")
    await resident.send("/start")
    await resident.send("第17社区")
    cache_for(engine).invalidate()  # nothing cached: every roster read goes to the database
    buildings: list[str] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def record(conn, cursor, statement, *args) -> None:
        if "FROM buildings" in statement:
            buildings.append(statement)

    reads.clear()
    await resident.send("5号楼门口的路灯坏了，晚上很黑")
    assert reads == ["C17"] and len(buildings) == 1
