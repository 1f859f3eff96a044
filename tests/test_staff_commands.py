"""Staff commands at the conversation layer, on both databases: /tasks, /ticket <number>, /grid, /open."""

from __future__ import annotations

import re

import pytest
from dialog_support import FakeClock, ResidentChat, World, load_example, make_conversations

pytestmark = pytest.mark.memory

RESIDENT, NEIGHBOUR, OTHER_RESIDENT, STRANGER = 5001, 5002, 5003, 5009
WORKER_1, WORKER_2, LEADER_1, STAFF, BUILDING_LEADER = 1011, 1012, 1021, 1001, 1031
STAFF_GROUP, GRID_GROUP = -1001000000001, -1001000000011
PHONE = re.compile(r"1[3-9]\d{9}|1[3-9]\d\*{4}\d{4}")
NOT_FOUND = "没有找到"


@pytest.fixture
async def world(uow_factory):
    await load_example(uow_factory)
    clock = FakeClock()
    bot = make_conversations(uow_factory, clock)
    world = World()

    def chat(user_id: int, name: str, chat_id: int | None = None) -> ResidentChat:
        return ResidentChat(bot, user_id, name, world=world, chat_id=chat_id)

    return world, chat, clock


async def file(resident: ResidentChat, text: str, phone: str) -> str:
    """File a ticket the way a resident does; returns its number."""
    await resident.contact(phone)
    await resident.send(text)
    await resident.presses("是的", "跳过", "没有照片", "实名反映", "确认提交")
    number = re.search(r"XK-\d{8}-\d{4}", resident.last_text)
    assert number and "已提交" in resident.last_text, resident.last_text
    return number.group(0)


@pytest.fixture
async def three_tickets(world):
    """env (3 days) and fire (24 hours) in grid 1 for 王芳, env in grid 2 for 刘洋."""
    _, chat, clock = world
    env = await file(chat(RESIDENT, "张阿姨"), "3号楼2单元楼道堆放杂物，走不过去", "13812345678")
    clock.advance(minutes=10)
    fire = await file(chat(NEIGHBOUR, "李叔"), "1号楼1单元楼道里有人飞线充电", "13987654321")
    clock.advance(minutes=10)
    other = await file(chat(OTHER_RESIDENT, "王姐"), "5号楼1单元门口堆放杂物好几天了", "13700001111")
    return env, fire, other


def numbers_in(text: str) -> list[str]:
    return re.findall(r"XK-\d{8}-\d{4}", text)


async def test_tasks_nearest_deadline_first_and_overdue_marked(world, three_tickets):
    _, chat, clock = world
    env, fire, other = three_tickets
    worker = chat(WORKER_1, "王芳")
    await worker.send("/tasks")
    listing = worker.last_message
    assert numbers_in(listing.text) == [fire, env]  # 24 hours before 3 days; grid 2's is not mine
    assert "已超期" not in listing.text
    assert [row[0].text for row in listing.buttons] == [fire, env]

    clock.advance(days=2)  # the fire ticket's 24 hours are over, the 3 days are not
    await worker.send("/tasks")
    listing = worker.last_message
    lines = listing.text.split("•")[1:]
    assert numbers_in(lines[0]) == [fire] and "⚠️ 已超期" in lines[0]
    assert numbers_in(lines[1]) == [env] and "已超期" not in lines[1]
    assert listing.buttons[0][0].text == f"⚠️ {fire}" and listing.buttons[1][0].text == env

    await worker.press(fire)  # the v:<id> button shows the ticket with its timeline
    shown = worker.last_text
    assert fire in shown and "处理经过" in shown and "提交反映" in shown and "派单" in shown
    assert "李叔 139****4321" in shown and "13987654321" not in shown

    other_worker = chat(WORKER_2, "刘洋")
    await other_worker.press_data(listing.buttons[0][0].data)  # not in their grid: refused
    assert other_worker.last.callback_alert and not other_worker.last.messages
    await other_worker.send("/tasks")
    assert numbers_in(other_worker.last_text) == [other]


async def test_tasks_when_nothing_is_assigned_and_for_residents(world, three_tickets):
    _, chat, _ = world
    idle = chat(1018, "冯雪")
    await idle.send("/tasks")
    assert "没有未办结的工单" in idle.last_text
    resident = chat(RESIDENT, "张阿姨")
    await resident.send("/tasks")
    assert "网格员和社区工作人员" in resident.last_text and not numbers_in(resident.last_text)


async def test_who_sees_a_ticket(world, three_tickets):
    _, chat, _ = world
    env, _, _ = three_tickets
    staff_view = {WORKER_1: "王芳", LEADER_1: "马国庆", STAFF: "李建国"}
    for user_id, name in staff_view.items():
        viewer = chat(user_id, name)
        await viewer.send(f"/ticket {env.lower()}")
        assert env in viewer.last_text and "处理经过" in viewer.last_text, name
        assert "张阿姨 138****5678" in viewer.last_text and "13812345678" not in viewer.last_text

    reporter = chat(RESIDENT, "张阿姨")
    await reporter.send(f"/ticket {env}")
    assert env in reporter.last_text and "提交反映" in reporter.last_text
    assert "处理经过" not in reporter.last_text  # the resident's own timeline, not the staff view

    refused = []
    outsiders = ((WORKER_2, "刘洋"), (STRANGER, "路人"), (NEIGHBOUR, "李叔"), (BUILDING_LEADER, "徐长海"))
    for user_id, name in outsiders:
        viewer = chat(user_id, name)
        await viewer.send(f"/ticket {env}")
        assert NOT_FOUND in viewer.last_text and "堆放杂物" not in viewer.last_text, name
        refused.append(viewer.last_text)
    stranger = chat(STRANGER, "路人")
    await stranger.send("/ticket XK-20261122-0999")  # no such ticket: the very same answer
    assert stranger.last_text.replace("0999", "0001") == refused[1]
    await stranger.send("/ticket")
    assert "/ticket XK-" in stranger.last_text


async def test_grid_leader_sees_the_grid_by_worker(world, three_tickets):
    _, chat, clock = world
    env, fire, other = three_tickets
    leader = chat(LEADER_1, "马国庆")
    await leader.send("/grid")
    text = leader.last_text
    assert "第一网格" in text and "2 张" in text
    assert numbers_in(text) == [fire, env] and other not in text
    assert "<b>王芳</b>（2）" in text and "已超期" not in text
    clock.advance(days=4)
    await leader.send("/grid")
    assert "已超期 2 张" in leader.last_text and leader.last_text.count("⚠️ 已超期") == 3

    for user_id, name in ((WORKER_1, "王芳"), (STAFF, "李建国"), (RESIDENT, "张阿姨")):
        someone = chat(user_id, name)
        await someone.send("/grid")
        assert "网格长" in someone.last_text and not numbers_in(someone.last_text), name


async def test_open_lists_the_community_by_grid(world, three_tickets):
    _, chat, _ = world
    env, fire, other = three_tickets
    staff = chat(STAFF, "李建国")
    await staff.send("/open")
    text = staff.last_text
    assert "3 张" in text and text.index("第一网格") < text.index("第二网格")
    assert numbers_in(text) == [fire, env, other]
    assert "王芳" in text and "刘洋" in text and "飞线充电" in text  # privately: a few words of each

    for user_id, name in ((WORKER_1, "王芳"), (LEADER_1, "马国庆"), (RESIDENT, "张阿姨")):
        someone = chat(user_id, name)
        await someone.send("/open")
        assert "社区工作人员" in someone.last_text and not numbers_in(someone.last_text), name


async def test_open_in_the_staff_group_shows_no_resident(world, three_tickets):
    world_, chat, _ = world
    env, fire, other = three_tickets
    group = chat(STAFF, "李建国", chat_id=STAFF_GROUP)
    await group.send("/open@gridbot_test_bot")
    assert numbers_in(group.last_text) == [fire, env, other]
    assert "飞线充电" not in group.last_text  # what residents wrote stays out of the /open list in a group
    resident_in_group = chat(RESIDENT, "张阿姨", chat_id=STAFF_GROUP)
    await resident_in_group.send("/open")
    assert "社区工作人员" in resident_in_group.last_text and not numbers_in(resident_in_group.last_text)
    in_grid_group = chat(STAFF, "李建国", chat_id=GRID_GROUP)
    await in_grid_group.send("/open")
    assert not numbers_in(in_grid_group.last_text)
    for command in ("/tasks", f"/ticket {env}", "/grid", "/proxy"):
        await group.send(command)
        assert "私聊" in group.last_text and not numbers_in(group.last_text), command

    texts = world_.group_texts()
    assert any(fire in text for text in texts)
    for text in texts:
        assert not PHONE.search(text), text
        for name in ("张阿姨", "李叔", "王姐"):
            assert name not in text, text
        # (消防安全 is 紧急 in the example roster: the group got its card at filing, the words redacted)
