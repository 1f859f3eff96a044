"""End to end, a street office's bot: two communities in one database, the real bot polling the sandbox."""

from __future__ import annotations

import pytest
from e2e_support import Resident, live
from test_street_office import first_community, load, second_community

from bot.sandbox_world import groups_for, personas_for
from sandbox.server import Sandbox

B_WORKER = 2011


@pytest.fixture
async def street_bot(engine, uow_factory):
    first, second = first_community(), second_community()
    await load(uow_factory, first, second)
    people = {p["id"]: p for p in personas_for(first) + personas_for(second)}
    sandbox = Sandbox(list(people.values()), groups=groups_for(first) + groups_for(second),
                      personas_started=True)
    async with live(engine, sandbox=sandbox) as (client, server):
        yield client, server


async def test_a_resident_picks_a_community_and_reports_there(street_bot, uow_factory):
    client, _ = street_bot
    resident = Resident(client, 5001)
    await resident.say("3号楼2单元楼道堆放杂物，走不过去")
    await resident.expect("哪个社区")
    await resident.tap_when("和祥社区")
    await resident.expect("和祥社区")
    await resident.expect("环境卫生")  # the first message went on in the chosen community
    for label in ("是的", "跳过", "没有照片", "实名反映", "确认提交"):
        await resident.tap_when(label)
    filed = await resident.expect("已提交")
    assert "HX-" in filed
    await Resident(client, B_WORKER).expect("HX-")  # 和祥社区's grid worker has the card

    neighbour = Resident(client, 5002)
    await client.open_deep_link(5002, "b-XK-3")  # a stairwell QR code of 兴康社区: no question
    welcome = await neighbour.expect("居民反映渠道")
    assert "兴康社区" in welcome and "3号楼" in welcome
    async with uow_factory() as uow:
        assert (await uow.residents.get(5001)).community_code == "HX"
        assert (await uow.residents.get(5002)).community_code == "XK"
