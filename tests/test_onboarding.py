"""Staff onboarding: `gridbot invite` → the deep link opened in Telegram → the roster entry is bound
(and stays bound across roster reloads); used, expired and unknown codes change nothing;
`gridbot staff list` shows who is bound. Handler tests run on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

import pytest
from dialog_support import FakeClock, ResidentChat, World, example_community, make_conversations
from pydantic import SecretStr
from test_cli import gridbot

from bot.cli import SANDBOX_TOKEN, bot_username
from bot.settings import Settings
from gridcore.community import Community, Role
from gridcore.ports import Invite
from gridcore.staff import INVITE_PREFIX, person_key
from sandbox.server import Sandbox, SandboxServer
from storage.db import create_engine
from storage.uow import uow_factory as make_uow_factory

pytestmark = pytest.mark.memory

RESIDENT, NEW_WORKER, STRANGER = 5001, 7777, 8888
LINK = re.compile(r"https://t\.me/(\w+)\?start=(inv_[A-Za-z0-9_-]+)")


def roster_with_unbound_worker() -> Community:
    """The example roster, but grid 4's worker 周杰 is known only by a username (no Telegram id)."""
    community = example_community()
    staff = tuple(replace(p, telegram_user_id=None, username="zhoujie4") if p.name == "周杰" else p
                  for p in community.staff)
    return replace(community, staff=staff)


def zhoujie(community: Community):
    return next(p for p in community.people(Role.GRID_WORKER, "4"))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def setup(uow_factory, clock):
    community = roster_with_unbound_worker()
    async with uow_factory() as uow:
        await uow.roster.upsert(community)
        await uow.commit()
    bot = make_conversations(uow_factory, clock)
    world = World()

    def chat(user_id: int, name: str) -> ResidentChat:
        return ResidentChat(bot, user_id, name, world=world)

    return community, chat


async def add_invite(uow_factory, community: Community, code: str, clock: FakeClock, days: float = 7) -> str:
    async with uow_factory() as uow:
        await uow.staff.add_invite(Invite(code, community.code, person_key(zhoujie(community)), clock.now,
                                          clock.now + timedelta(days=days)))
        await uow.commit()
    return f"/start {INVITE_PREFIX}{code}"


async def bound_id(uow_factory) -> int | None:
    async with uow_factory() as uow:
        community = await uow.roster.get("XK")
    assert community is not None
    return zhoujie(community).telegram_user_id


async def test_an_invite_binds_the_account_and_new_tickets_reach_it(setup, uow_factory, clock):
    community, chat = setup
    start = await add_invite(uow_factory, community, "Zx9_abc-DEF123", clock)
    worker, resident = chat(NEW_WORKER, "周杰"), chat(RESIDENT, "张阿姨")
    assert await bound_id(uow_factory) is None

    await worker.send(start)
    text = worker.last_text
    assert "已绑定为" in text and "第四网格" in text and "网格员" in text and "周杰" in text
    assert "新工单" in text  # what they will receive
    assert "3 个工作日内把处理结果反馈给居民" in text  # the example's categories count working days
    assert await bound_id(uow_factory) == NEW_WORKER

    # A resident's report in grid 4 is routed to the newly bound account.
    await resident.send("13号楼2单元楼道灯坏了一个星期了")
    await resident.presses("是的", "跳过", "没有照片", "实名反映", "确认提交")
    assert "新工单" in worker.last_text and "13号楼" in worker.last_text
    async with uow_factory() as uow:
        [ticket] = await uow.tickets.for_resident(RESIDENT)
    assert ticket.assignee == NEW_WORKER
    await worker.press("签收")
    assert "周** 签收" in resident.last_text

    # The binding survives a roster reload (the same roster, and one that changed something else).
    for reloaded in (community, replace(community, name="兴康社区（新）")):
        async with uow_factory() as uow:
            await uow.roster.upsert(reloaded)
            await uow.commit()
        assert await bound_id(uow_factory) == NEW_WORKER


async def test_a_used_code_is_refused_and_changes_nothing(setup, uow_factory, clock):
    community, chat = setup
    start = await add_invite(uow_factory, community, "once", clock)
    worker, stranger = chat(NEW_WORKER, "周杰"), chat(STRANGER, "路人")
    await worker.send(start)
    assert await bound_id(uow_factory) == NEW_WORKER

    await stranger.send(start)  # someone else got hold of the link
    assert "无效、已经用过或已过期" in stranger.last_text and "什么也没有改动" in stranger.last_text
    assert await bound_id(uow_factory) == NEW_WORKER

    await worker.send(start)  # the same person opens it again: friendly, nothing changes
    assert "已绑定为" in worker.last_text and "周杰" in worker.last_text
    assert await bound_id(uow_factory) == NEW_WORKER


async def test_an_expired_or_unknown_code_is_refused(setup, uow_factory, clock):
    community, chat = setup
    start = await add_invite(uow_factory, community, "short", clock, days=1)
    clock.advance(days=1, seconds=1)
    worker = chat(NEW_WORKER, "周杰")
    await worker.send(start)
    assert "无效、已经用过或已过期" in worker.last_text
    for payload in ("/start inv_nosuchcode", "/start inv_", "/start inv_bad!chars"):
        await worker.send(payload)
        assert "无效、已经用过或已过期" in worker.last_text
    assert await bound_id(uow_factory) is None
    async with uow_factory() as uow:
        assert await uow.staff.bound("XK") == {}
    await worker.send("/start b_13")  # the building deep link still works as before
    assert "13号楼" in worker.last_text


async def test_a_second_invite_for_an_entry_already_bound_to_this_account(setup, uow_factory, clock):
    community, chat = setup
    worker = chat(NEW_WORKER, "周杰")
    await worker.send(await add_invite(uow_factory, community, "first", clock))
    await worker.send(await add_invite(uow_factory, community, "second", clock))
    assert "已绑定为" in worker.last_text and "不需要再次绑定" in worker.last_text
    assert await bound_id(uow_factory) == NEW_WORKER


async def test_an_entry_gone_from_the_roster_or_with_a_roster_id(setup, uow_factory, clock):
    community, chat = setup
    worker = chat(NEW_WORKER, "周杰")
    gone = await add_invite(uow_factory, community, "gone", clock)
    taken = await add_invite(uow_factory, community, "taken", clock)
    without = replace(community, staff=tuple(p for p in community.staff if p.name != "周杰"))
    async with uow_factory() as uow:
        await uow.roster.upsert(without)
        await uow.commit()
    await worker.send(gone)
    assert "不在兴康社区的名单里" in worker.last_text
    # The entry comes back with its own Telegram id: roster ids win, the invite cannot take it over.
    back = replace(community, staff=tuple(replace(p, telegram_user_id=1015) if p.name == "周杰" else p
                                          for p in community.staff))
    async with uow_factory() as uow:
        await uow.roster.upsert(back)
        await uow.commit()
    await worker.send(taken)
    assert "已经登记了另一个 Telegram 账号" in worker.last_text
    assert await bound_id(uow_factory) == 1015


# --- the command line (a subprocess on a temporary SQLite database, like tests/test_cli.py) ---


def cli_env(tmp_path, **extra: str) -> dict[str, str]:
    return {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'g.db'}", "LOG_LEVEL": "WARNING",
            "BOT_TOKEN": "", "COMMUNITY": "", **extra}


def test_invite_needs_a_roster_and_a_clear_entry(tmp_path):
    env = cli_env(tmp_path)
    empty = gridbot("invite", "--role", "worker", "--grid", "1", env=env)
    assert empty.returncode == 1 and "no roster" in empty.stderr, empty.stderr
    assert gridbot("roster", "load", "examples/roster.yaml", env=env).returncode == 0
    several = gridbot("invite", "--role", "worker", "--grid", "3", env=env)
    assert several.returncode == 1 and "张敏, 孙丽" in several.stderr and "--name" in several.stderr
    missing = gridbot("invite", "--role", "leader", "--grid", "9", env=env)
    assert missing.returncode == 1 and "no grid_leader in grid 9" in missing.stderr
    has_id = gridbot("invite", "--role", "worker", "--grid", "3", "--name", "张敏", env=env)
    assert has_id.returncode == 1 and "needs no invite" in has_id.stderr
    assert "Traceback" not in empty.stderr + several.stderr + missing.stderr + has_id.stderr


async def test_invite_prints_a_link_that_binds_and_staff_list_shows_it(tmp_path):
    env = cli_env(tmp_path)
    assert gridbot("roster", "load", "examples/roster.yaml", env=env).returncode == 0
    before = gridbot("staff", "list", env=env)
    assert before.returncode == 0, before.stderr
    assert re.search(r"郭秀云\s+楼栋长\s+第四网格\s+未绑定 \(@guoxiuyun15\)", before.stdout), before.stdout
    assert re.search(r"王芳\s+网格员\s+第一网格\s+1011（名单）\s+138\*\*\*\*1011", before.stdout)

    result = gridbot("invite", "--role", "building_leader", "--grid", "4", "--days", "3", env=env)
    assert result.returncode == 0, result.stderr
    assert "第四网格 楼栋长 郭秀云" in result.stdout
    [(username, payload)] = LINK.findall(result.stdout)
    assert username == "gridbot_sandbox_bot" and 1 <= len(payload) <= 64
    named = gridbot("invite", "--role", "building_leader", "--grid", "4",
                    env={**env, "BOT_USERNAME": "@xk_bot"})
    assert "https://t.me/xk_bot?start=inv_" in named.stdout

    # Open the printed link as a new Telegram user, against the same database.
    engine = create_engine(env["DATABASE_URL"])
    try:
        factory = make_uow_factory(engine)
        person = ResidentChat(make_conversations(factory, FakeClock()), 7034, "郭秀云")
        await person.send(f"/start {payload}")
        assert "已绑定为" in person.last_text and "楼栋长" in person.last_text
    finally:
        await engine.dispose()

    after = gridbot("staff", "list", env=env)
    assert re.search(r"郭秀云\s+楼栋长\s+第四网格\s+7034（邀请绑定）", after.stdout), after.stdout
    assert "25 名工作人员，25 人已绑定" in after.stdout
    # Bound by an invite: a new invite may rebind (the account changed); the roster reload keeps it.
    assert gridbot("roster", "load", "examples/roster.yaml", env=env).returncode == 0
    assert "7034（邀请绑定）" in gridbot("staff", "list", env=env).stdout


async def test_the_bot_username_comes_from_the_setting_else_get_me_else_the_sandbox():
    assert await bot_username(Settings(_env_file=None, bot_token=None)) == "gridbot_sandbox_bot"
    assert await bot_username(Settings(_env_file=None, bot_username="@xk_bot")) == "xk_bot"
    async with SandboxServer(sandbox=Sandbox(bot_username="xk_grid_bot")) as server:
        settings = Settings(_env_file=None, bot_token=SecretStr(SANDBOX_TOKEN),
                            telegram_api_url=server.base_url)
        assert await bot_username(settings) == "xk_grid_bot"
