"""Issue 16, item 10: staff find their commands — /help by role, a bound staff member's own command menu
(set at start and when an invite binds them), and the invite reply naming the commands."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from dialog_support import FakeClock, ResidentChat, World, load_example, make_conversations
from e2e_support import Resident, live, roster_sandbox
from test_onboarding import roster_with_unbound_worker, zhoujie

from gridcore.ports import Invite
from gridcore.staff import INVITE_PREFIX, person_key

pytestmark = pytest.mark.memory

RESIDENT, WORKER_1, LEADER_1, STAFF, BUILDING_LEADER, PARTNER, NEW_WORKER = (
    5001, 1011, 1021, 1001, 1031, 1041, 7777)
STAFF_ONLY = ("/tasks", "/ticket", "/grid", "/open", "/proxy")


def scoped(sandbox, chat_id: int) -> list[str]:
    return [c["command"] for c in sandbox.commands.get((f"chat_id={chat_id},type=chat", ""), [])]


async def test_help_answers_by_role(uow_factory):
    await load_example(uow_factory)
    bot = make_conversations(uow_factory, FakeClock())
    expected = {
        RESIDENT: (), WORKER_1: ("网格员", "/tasks", "/ticket"),
        LEADER_1: ("网格长", "/grid", "/tasks", "/ticket"),
        STAFF: ("社区工作人员", "/open", "/tasks", "/ticket"), BUILDING_LEADER: ("楼栋长", "/proxy"),
        PARTNER: ("共建单位",),
    }
    for user_id, shown in expected.items():
        chat = ResidentChat(bot, user_id, "某人")
        await chat.send("/help")
        text = chat.last_text
        assert "/report" in text and "/my" in text, user_id  # everyone's commands
        for fragment in shown:
            assert fragment in text, (user_id, fragment)
        others = [c for c in STAFF_ONLY if not any(c in s for s in shown)]
        assert not any(c + " " in text or text.endswith(c) for c in others), (user_id, text)


async def test_an_invite_names_the_commands_and_asks_for_the_menu(uow_factory):
    clock = FakeClock()
    community = roster_with_unbound_worker()
    async with uow_factory() as uow:
        await uow.roster.upsert(community)
        await uow.staff.add_invite(Invite("menuTest01", community.code, person_key(zhoujie(community)),
                                          clock.now, clock.now + timedelta(days=7)))
        await uow.commit()
    worker = ResidentChat(make_conversations(uow_factory, clock), NEW_WORKER, "周杰", world=World())
    handled = await worker.send(f"/start {INVITE_PREFIX}menuTest01")
    assert "已绑定为" in worker.last_text and "/tasks" in worker.last_text and "/ticket" in worker.last_text
    menu = [name for name, _ in handled.menus[NEW_WORKER]]
    assert menu[:2] == ["tasks", "ticket"] and "report" in menu and "grid" not in menu
    handled = await worker.send(f"/start {INVITE_PREFIX}menuTest01")  # used: refused, no menu change
    assert not handled.menus


async def test_staff_chats_get_their_own_menu_at_start_and_on_binding(engine, uow_factory):
    clock = FakeClock()
    community = roster_with_unbound_worker()
    async with uow_factory() as uow:
        await uow.roster.upsert(community)
        await uow.staff.add_invite(Invite("menuTest02", community.code, person_key(zhoujie(community)),
                                          clock.now, clock.now + timedelta(days=7)))
        await uow.commit()
    sandbox = roster_sandbox()
    async with live(engine, clock, sandbox) as (client, _server):
        default = [c["command"] for c in sandbox.commands[("type=default", "")]]
        assert default == ["report", "my", "home", "phone", "cancel", "help"]
        assert scoped(sandbox, WORKER_1)[:2] == ["tasks", "ticket"]
        assert scoped(sandbox, LEADER_1)[:3] == ["tasks", "grid", "ticket"]
        assert scoped(sandbox, STAFF)[:3] == ["open", "tasks", "ticket"]
        assert scoped(sandbox, BUILDING_LEADER)[:1] == ["proxy"]
        assert scoped(sandbox, PARTNER) == [] and scoped(sandbox, RESIDENT) == []
        assert scoped(sandbox, NEW_WORKER) == []
        worker = Resident(client, NEW_WORKER)
        await client.send_text(NEW_WORKER, f"/start {INVITE_PREFIX}menuTest02")
        await worker.expect("已绑定为")
        for _ in range(100):
            if scoped(sandbox, NEW_WORKER):
                break
            await asyncio.sleep(0.05)
        assert scoped(sandbox, NEW_WORKER)[:2] == ["tasks", "ticket"]
