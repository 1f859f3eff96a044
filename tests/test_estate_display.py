"""Where a ticket is, named with its estate (小区) wherever people see it: the worker's card, the staff
group's copy, /my, /tasks, the 日排查 list, 督办, the weekly summary and the 进度公示 board. Two estates each
have a 5栋 (told apart only by the estate), a garage sits in an estate, a street shop in none."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

import pytest
from dialog_support import FakeClock, ResidentChat, World, assert_telegram_accepts, example_community, \
    make_conversations

from gridcore.community import (
    Announcement,
    AnnouncementKind,
    AnnouncementTarget,
    Building,
    Community,
    Estate,
    PlaceKind,
)
from gridcore.metrics import Week, WeekTicket, summarize
from gridcore.ticket import Action, Location, Reporter, Ticket
from handlers import announcements, summary
from handlers.texts import TEXT_LIMIT, Texts, telegram_length

pytestmark = pytest.mark.memory

RESIDENT, NEIGHBOUR, WORKER, LEADER = 5001, 5002, 1011, 1021
STAFF_GROUP, GRID_GROUP, PUBLIC = -1001000000001, -1001000000011, -1001000000002
T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai
NUMBER = re.compile(r"XK-\d{8}-\d{4}")

ESTATES = (Estate("yy", "雅悦花园", ("雅悦",)), Estate("jx", "锦绣家园", ("锦绣",)))
PLACES = (
    Building("y5", "5栋", "1", units=("1", "2"), estate_code="yy"),
    Building("j5", "5栋", "1", units=("1", "2"), estate_code="jx"),
    Building("yg8", "8号车库", "1", estate_code="yy", kind=PlaceKind.GARAGE),
    Building("s3", "沿街商铺3号", "1", kind=PlaceKind.SHOP),
)


def estate_community(*announced: Announcement) -> Community:
    """The example community with two estates, each with a 5栋, a garage in one, a street shop in none."""
    base = example_community()
    kept = tuple(b for b in base.buildings if b.code != "G8")  # its 8号车库 would be a second one
    return replace(base, estates=ESTATES, buildings=kept + PLACES, announcements=announced)


async def load(uow_factory, community: Community) -> None:
    async with uow_factory() as uow:
        await uow.roster.upsert(community)
        await uow.commit()


# --- the one helper ----------------------------------------------------------------------------------

def test_place_names_read_naturally():
    community = estate_community()
    y5, j5, garage, shop = (community.building(code) for code in ("y5", "j5", "yg8", "s3"))
    assert community.place_name(y5, "2") == "雅悦花园5栋2单元"
    assert community.place_name(j5, "2") == "锦绣家园5栋2单元"
    assert community.place_name(garage) == "雅悦花园8号车库"
    assert community.place_name(shop) == "沿街商铺3号"
    plain = example_community()  # no estates: as it always read
    assert plain.place_name(plain.building("3"), "2") == "3号楼2单元"


# --- the dialog: cards, copies, /my, /tasks ---------------------------------------------------------

@pytest.fixture
async def world(uow_factory):
    await load(uow_factory, estate_community())
    bot = make_conversations(uow_factory, FakeClock(T0))
    world = World()

    def chat(user_id: int, name: str, chat_id: int | None = None) -> ResidentChat:
        return ResidentChat(bot, user_id, name, world=world, chat_id=chat_id)

    return world, chat


async def file_at(resident: ResidentChat, building_code: str, text: str, phone: str, *presses: str) -> str:
    """A resident scans the stairwell QR code of `building_code` and reports; returns the number."""
    await resident.contact(phone)
    await resident.send(f"/start b_{building_code}")
    await resident.send(text)
    await resident.presses(*presses)
    number = NUMBER.search(resident.last_text)
    assert number and "已提交" in resident.last_text, resident.last_text
    return number.group(0)


FILE = ("是的", "跳过", "没有照片", "实名反映", "确认提交")  # category right, no detail, no photo, named


async def test_cards_copies_my_and_tasks_name_the_estate(world):
    world, chat = world
    resident = chat(RESIDENT, "张阿姨")
    number = await file_at(resident, "j5", "楼道堆放杂物，走不过去", "13812345678", "是的", "2", *FILE[1:])
    worker_card = next(m.text for m in world.inbox[WORKER] if number in m.text)
    print(worker_card)
    assert "<b>位置</b>：锦绣家园5栋2单元" in worker_card and "雅悦" not in worker_card
    # One in a garage, sent up to the community: the staff group's card (no resident's name or phone).
    garage = await file_at(chat(NEIGHBOUR, "李叔"), "yg8", "车库里有人飞线充电", "13987654321", *FILE)
    worker = chat(WORKER, "王芳")
    await worker.press("上报社区")
    await worker.send("需要物业配合")
    staff_card = next(m.text for m in world.inbox[STAFF_GROUP] if garage in m.text)
    print(staff_card)
    assert "<b>位置</b>：雅悦花园8号车库\n" in staff_card
    assert "李叔" not in staff_card and "13987654321" not in staff_card
    shop = await file_at(chat(5003, "王姐"), "s3", "店门口垃圾好几天没人清", "13700001111", *FILE)
    shop_card = next(m.text for m in world.inbox[WORKER] if shop in m.text)
    assert "<b>位置</b>：沿街商铺3号\n" in shop_card and "单元" not in shop_card

    # A neighbour in the same stairwell joins the ticket: the offer, and their /my, name the estate.
    neighbour = chat(5004, "赵大爷")
    await neighbour.send("/start b_j5")
    await neighbour.send("楼道里堆的杂物还没清走")
    await neighbour.presses("是的", "2")
    print(neighbour.last_text)
    assert number in neighbour.last_text and "锦绣家园5栋2单元" in neighbour.last_text
    await neighbour.press("也是我反映的")
    await neighbour.send("/my")
    print(neighbour.last_text)
    assert number in neighbour.last_text and "锦绣家园5栋2单元（您也反映了这个问题）" in neighbour.last_text

    await resident.send("/my")
    assert number in resident.last_text
    await resident.press(number)
    print(resident.last_text)
    assert "位置：锦绣家园5栋2单元" in resident.last_text

    await worker.send("/tasks")
    print(worker.last_text)
    tasks = worker.last_text
    assert "锦绣家园5栋2单元" in tasks and "沿街商铺3号｜" in tasks
    await worker.press(number)
    assert "<b>位置</b>：锦绣家园5栋2单元" in worker.last_text
