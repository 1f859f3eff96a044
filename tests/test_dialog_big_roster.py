"""A community with hundreds of buildings, long names, 30 units, 40 categories and a grid with 60 workers,
on both databases: every keyboard the bot sends stays inside Telegram's limits (ResidentChat checks each
message as the sandbox would: 100 buttons, 8 to a row, ~10 kB, callback data 1–64 bytes), long lists are
paged in place, and a typed answer is taken at every paged question."""

from __future__ import annotations

import pytest
from big_roster import BIG_GRID, STAFF_CHAT, STAFF_ID, WORKER_IDS_FROM, BigRoster, load_big
from dialog_support import FakeClock, ResidentChat, World, make_conversations

from gridcore.messages import OutgoingMessage
from gridcore.ticket import TicketStatus

pytestmark = pytest.mark.memory

RESIDENT = 5001
ROSTER = BigRoster()
NEXT, PREVIOUS = "下一页", "上一页"


@pytest.fixture
async def world(uow_factory):
    await load_big(uow_factory, ROSTER)
    bot = make_conversations(uow_factory, FakeClock())
    world = World()

    def chat(user_id: int, name: str = "张阿姨", chat_id: int | None = None) -> ResidentChat:
        return ResidentChat(bot, user_id, name, world=world, chat_id=chat_id)

    return chat


def question(chat: ResidentChat) -> OutgoingMessage:
    """The newest message with buttons: the question as it shows now (a turned page edits it)."""
    return next(m for m in reversed(chat.received) if m.buttons)


def labels(message: OutgoingMessage) -> list[str]:
    return [b.text for row in message.buttons for b in row]


async def page_to(chat: ResidentChat, label: str) -> int:
    """Turn pages forward until a button reads `label`; returns how many pages were turned. Each turn
    edits the question's own message (no new message per page)."""
    for turned in range(60):
        if any(text == label for text in labels(question(chat))):
            return turned
        before = question(chat)
        await chat.press_data(next(b.data for row in before.buttons for b in row if NEXT in b.text))
        [edit] = chat.last.messages  # one message: the pressed question, edited to the next page
        assert edit.edit_message_id is not None and edit.edit_message_id == chat.last_incoming.message_id
    raise AssertionError(f"no page shows {label!r}")


async def file_until_building(chat: ResidentChat) -> None:
    await chat.send("灯坏了好几天了")
    assert "类别" in chat.last_text
    turned = await page_to(chat, ROSTER.category_name(35))
    assert turned >= 2 and "页" in question(chat).text
    await chat.press(ROSTER.category_name(35))
    assert "哪栋楼" in chat.last_text


async def test_a_resident_pages_to_a_building_a_unit_and_files(world, uow_factory):
    resident = world(RESIDENT)
    await file_until_building(resident)
    first = question(resident)
    assert "第 1/" in first.text and any(NEXT in t for t in labels(first))
    assert not any(PREVIOUS in t for t in labels(first))
    assert "小区公共区域" in " ".join(labels(first)) and "取消" in labels(first)
    target = ROSTER.building_name(300)
    assert await page_to(resident, target) >= 5
    page = question(resident)
    assert any(PREVIOUS in t for t in labels(page)) and "小区公共区域" in " ".join(labels(page))
    # Back one page and forward again: the same choices each time.
    back = next(b.data for row in page.buttons for b in row if PREVIOUS in b.text)
    await resident.press_data(back)
    assert target not in labels(question(resident))
    await page_to(resident, target)
    assert labels(question(resident)) == labels(page)
    await resident.press(target)
    assert "哪个单元" in resident.last_text
    await resident.press("17单元")
    assert "几楼" in resident.last_text
    await resident.presses("跳过", "没有照片", "实名反映", "确认提交")
    assert "已提交" in resident.last_texts()  # (the home offer may follow)
    async with uow_factory() as uow:
        [ticket] = await uow.tickets.for_resident(RESIDENT)
    location = ticket.location
    assert (location.building_code, location.unit) == (ROSTER.building_code(300), "17")
    assert ticket.category_code == ROSTER.category_code(35)


async def test_long_names_are_cut_on_buttons_and_long_units_still_pick(world, uow_factory):
    resident = world(RESIDENT)
    await file_until_building(resident)
    long_name = ROSTER.building_name(7)
    shown = [t for t in labels(question(resident)) if t.startswith(long_name[:20])]
    assert shown and len(shown[0]) < len(long_name) and shown[0].endswith("…")
    await resident.press(shown[0])
    assert "哪个单元" in resident.last_text
    await resident.send("/cancel")
    await file_until_building(resident)
    await resident.press(ROSTER.building_name(3))
    unit = ROSTER.unit_name(3, 29)
    data = resident.button(unit)
    assert len(data.encode()) <= 64 and unit not in data  # too long to carry: carried as a digest
    await resident.press_data(data)
    assert "几楼" in resident.last_text
    await resident.presses("跳过", "没有照片", "实名反映", "确认提交")
    async with uow_factory() as uow:
        [ticket] = await uow.tickets.for_resident(RESIDENT)
    assert (ticket.location.building_code, ticket.location.unit) == (ROSTER.building_code(3), unit)


async def test_typed_answers_are_taken_at_every_paged_question(world, uow_factory):
    resident = world(RESIDENT)
    await resident.send("灯坏了好几天了")
    assert "直接输入" in resident.last_text  # the question says typing works
    await resident.send(ROSTER.category_name(39))
    assert "哪栋楼" in resident.last_text and "直接输入" in resident.last_text
    await resident.send(f"  {ROSTER.building_name(389)} ")
    assert "哪个单元" in resident.last_text and "直接输入" in resident.last_text
    await resident.send("99单元")
    refused, asked_again = resident.texts[-2:]
    assert "没有「99单元」" in refused and "、20 单元等" in refused and "21" not in refused
    assert "哪个单元" in asked_again
    await resident.send("28单元")
    assert "几楼" in resident.last_text
    await resident.presses("跳过", "没有照片", "实名反映", "确认提交")
    async with uow_factory() as uow:
        [ticket] = await uow.tickets.for_resident(RESIDENT)
    location = ticket.location
    assert (location.building_code, location.unit) == (ROSTER.building_code(389), "28")
    assert ticket.category_code == ROSTER.category_code(39)


async def test_a_page_turn_of_an_old_question_is_refused(world):
    resident = world(RESIDENT)
    await file_until_building(resident)
    turn = next(b.data for row in question(resident).buttons for b in row if NEXT in b.text)
    await resident.press(ROSTER.building_name(0))
    assert "哪个单元" in resident.last_text
    await resident.press_data(turn)  # the building question's page button, after it was answered
    assert resident.last.callback_alert and not resident.last.messages


async def test_transfer_and_assign_targets_are_paged(world, uow_factory):
    resident = world(RESIDENT)
    await resident.send(f"{ROSTER.building_name(0)}的灯坏了好几天了")  # building 0 is in grid g1
    await page_to(resident, ROSTER.category_name(2))
    await resident.press(ROSTER.category_name(2))
    await resident.presses("不在单元内", "跳过", "没有照片", "实名反映", "确认提交")
    async with uow_factory() as uow:
        [ticket] = await uow.tickets.for_resident(RESIDENT)
    assert ticket.grid_code == BIG_GRID and ticket.assignee is not None
    worker = world(ticket.assignee, "网格员")
    await worker.press("转派")
    asked = question(worker)
    assert "转给谁" in asked.text and "第 1/" in asked.text
    target = ROSTER.worker_name(59 if ticket.assignee != WORKER_IDS_FROM + 59 else 58)
    assert await page_to(worker, target) >= 2
    await worker.press(target)
    await worker.send("换人处理")
    assert "已转派" in worker.last_text or target in worker.last_text
    async with uow_factory() as uow:
        moved = await uow.tickets.get(ticket.number)
    assert moved.assignee in (WORKER_IDS_FROM + 59, WORKER_IDS_FROM + 58)
    assert moved.assignee != ticket.assignee
    assert moved.status is TicketStatus.ASSIGNED

    # Community staff assign from their group: the 60 workers and the leader, paged the same way.
    staff = world(STAFF_ID, "社区书记", chat_id=STAFF_CHAT)
    handler = world(moved.assignee, "网格员")
    await handler.press("上报社区")
    await handler.send("需要社区协调")
    await staff.press("指派")
    assert "指派给谁" in question(staff).text
    await page_to(staff, ROSTER.worker_name(45))
    await staff.press(ROSTER.worker_name(45))
    async with uow_factory() as uow:
        assigned = await uow.tickets.get(ticket.number)
    assert assigned.assignee == WORKER_IDS_FROM + 45


async def file_in_big_grid(world, uow_factory):
    resident = world(RESIDENT)
    await resident.send(f"{ROSTER.building_name(0)}的灯坏了好几天了")  # building 0 is in grid g1
    await resident.send(ROSTER.category_name(2))
    await resident.presses("不在单元内", "跳过", "没有照片", "实名反映", "确认提交")
    async with uow_factory() as uow:
        [ticket] = await uow.tickets.for_resident(RESIDENT)
    return ticket


async def test_a_worker_types_whom_to_transfer_to(world, uow_factory):
    ticket = await file_in_big_grid(world, uow_factory)
    worker = world(ticket.assignee, "网格员")
    await worker.press("转派")
    assert "直接输入姓名" in worker.last_text
    await worker.send("没这个人")
    assert "没有找到「没这个人」" in worker.texts[-2] and "转给谁" in worker.last_text
    await worker.send("网格员")  # more than one name contains it
    assert "没有找到" in worker.texts[-2]
    wanted = 44 if ticket.assignee != WORKER_IDS_FROM + 44 else 43
    await worker.send(f"{wanted}号")  # the only name that contains it
    assert "原因" in worker.last_text or "理由" in worker.last_text
    await worker.send("换人处理")
    async with uow_factory() as uow:
        moved = await uow.tickets.get(ticket.number)
    assert moved.assignee == WORKER_IDS_FROM + wanted

    # The new handler opens a pick and cancels it: nothing changes, and a later text starts no pick.
    handler = world(moved.assignee, "网格员")
    await handler.press("转派")
    await handler.press("取消")
    assert "已取消" in handler.last_text
    async with uow_factory() as uow:
        assert (await uow.tickets.get(ticket.number)).assignee == moved.assignee
