"""Where a ticket is, named with its estate (小区) wherever people see it: the worker's card, the staff
group's copy, /my, /tasks, the 日排查 list, 督办, the weekly summary and the 进度公示 board. Two estates each
have a 5栋 (told apart only by the estate), a garage sits in an estate, a street shop in none."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

import pytest
from dialog_support import (
    FakeClock,
    ResidentChat,
    World,
    assert_telegram_accepts,
    example_community,
    make_conversations,
)

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


# --- scheduled lists, 督办, the weekly summary and the 进度公示 board ------------------------------------

async def store(uow_factory, serial: int, location: Location, *, resolved: bool = False,
                category: str = "env") -> str:
    """A ticket filed at T0 in grid 1 and assigned to 王芳 (resolved a day later when `resolved`)."""
    number = f"XK-20261123-{serial:04d}"
    ticket = Ticket.file(number=number, community_code="XK", category_code=category,
                         feedback_deadline=timedelta(days=3), description="一楼堆放杂物，楼道都堵了",
                         location=location, at=T0, grid_code="1",
                         reporter=Reporter(RESIDENT, RESIDENT, "张阿姨", "13912345678"))
    ticket.apply(Action.ASSIGN, actor="system", at=T0, assignee=WORKER)
    if resolved:
        ticket.apply(Action.ACCEPT, actor=str(WORKER), at=T0 + timedelta(hours=1))
        ticket.apply(Action.RESOLVE, actor=str(WORKER), at=T0 + timedelta(days=1), note="已清理")
    async with uow_factory() as uow:
        await uow.tickets.add(ticket)
        await uow.commit()
    return number


async def sweep(bot, job) -> list:
    sent = await bot.system(job)
    for message in sent:
        assert_telegram_accepts(message)
    return sent


async def test_daily_patrol_and_supervision_name_the_estate(uow_factory):
    patrol = Announcement(AnnouncementKind.DAILY_PATROL, time(8, 30))
    await load(uow_factory, estate_community(patrol))
    clock = FakeClock(T0)
    bot = make_conversations(uow_factory, clock)
    await store(uow_factory, 1, Location("y5", "1"))
    await store(uow_factory, 2, Location("s3"))
    clock.now = datetime(2026, 11, 24, 0, 30, tzinfo=UTC)  # 08:30 local
    [patrol_text] = [m.text for m in await sweep(bot, announcements.send_due) if m.chat_id == WORKER]
    print(patrol_text)
    assert "· 雅悦花园5栋1单元 ·" in patrol_text and "· 沿街商铺3号 ·" in patrol_text

    from handlers import upkeep

    clock.now = T0 + timedelta(days=5)  # long past every deadline: the grid leader and staff 督办
    sent = await sweep(bot, upkeep.send_reminders)
    supervision = [m.text for m in sent if "督办" in m.text and m.chat_id in (LEADER, STAFF_GROUP)]
    print("\n".join(supervision))
    assert any("（雅悦花园5栋1单元）" in text for text in supervision)
    assert any("（沿街商铺3号）" in text for text in supervision)


def week_items(tickets: list[Ticket]) -> list[WeekTicket]:
    return [WeekTicket.of(ticket) for ticket in tickets]


def ticket_at(serial: int, location: Location, created: datetime) -> Ticket:
    ticket = Ticket.file(number=f"XK-20261118-{serial:04d}", community_code="XK", category_code="env",
                         feedback_deadline=timedelta(days=1), description="楼道堆物", location=location,
                         at=created, grid_code="1",
                         reporter=Reporter(RESIDENT, RESIDENT, "张阿姨", "13912345678"))
    ticket.apply(Action.ASSIGN, actor="system", at=created, assignee=WORKER)
    return ticket


def test_the_weekly_summary_names_estates_and_counts_each():
    community = estate_community()
    created = datetime(2026, 11, 17, 2, 0, tzinfo=UTC)  # Tuesday of W47
    tickets = [ticket_at(1, Location("y5", "1"), created), ticket_at(2, Location("y5", "2"), created),
               ticket_at(3, Location("j5", "1"), created), ticket_at(4, Location("s3"), created)]
    week = Week(2026, 47, "Asia/Shanghai")
    s = summarize("XK", week, week_items(tickets), estate_of=summary.estate_of(community))
    assert {code: f.new for code, f in s.by_estate.items()} == {"yy": 2, "jx": 1, "": 1}
    text = summary.render_text(Texts(), community, s)
    print(text)
    assert "· 雅悦花园5栋：2 件" in text  # the hotspot: which 5栋 it is
    assert "<b>按小区</b>\n· 雅悦花园：新增 2 · 办结 0 · 在办 2 · 超期 2\n· 锦绣家园：新增 1" in text
    assert "· 其他位置：新增 1" in text
    assert "锦绣家园5栋，超期" in text and "沿街商铺3号，超期" in text  # the overdue list
    # Without estates (the example community) there is no estate line and buildings read as before.
    plain = summarize("XK", week, week_items([ticket_at(5, Location("3", "1"), created)] * 2))
    assert plain.by_estate == {}
    plain_text = summary.render_text(Texts(), example_community(), plain)
    assert "按小区" not in plain_text and "· 3号楼：2 件" in plain_text


async def test_the_progress_board_groups_by_estate_then_building(uow_factory):
    board = Announcement(AnnouncementKind.PROGRESS_BOARD, time(10, 0), days=(1,),
                         targets=(AnnouncementTarget.PUBLIC,))
    await load(uow_factory, estate_community(board))
    clock = FakeClock(T0)
    bot = make_conversations(uow_factory, clock)
    for serial, location in enumerate([Location("y5", "1"), Location("y5", "2"), Location("yg8"),
                                       Location("j5", "1"), Location("s3"), Location(None)], start=1):
        await store(uow_factory, serial, location, resolved=True)
    clock.now = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # 1 December, 10:00 local
    [text] = [m.text for m in await sweep(bot, announcements.send_due) if m.chat_id == PUBLIC]
    print(text)
    assert "<b>按小区、楼栋</b>：\n• 雅悦花园 3 件（5栋 2 件、8号车库 1 件）\n" in text
    # Ties: estates first, then single buildings and shops, the places of no building last.
    assert "• 锦绣家园 1 件（5栋 1 件）\n• 沿街商铺3号 1 件\n• 其他位置 1 件\n" in text
    for personal in ("张阿姨", "13912345678", "堆放杂物", "XK-2026", "王芳"):
        assert personal not in text


def big_community(estates: int, per_estate: int, singles: int, long: str = "") -> Community:
    """A 翠湖-like community: garden estates of numbered buildings and old single buildings outside them
    (`long` lengthens every name)."""
    estate_list = tuple(Estate(f"e{k}", f"第{k}花园小区{long}") for k in range(estates))
    buildings = tuple(Building(f"e{k}b{n}", f"{long}{n}栋", "1", units=("1", "2"), estate_code=f"e{k}")
                      for k in range(estates) for n in range(1, per_estate + 1))
    buildings += tuple(Building(f"s{n}", f"幸福路{long}{n}号楼", "1") for n in range(singles))
    return replace(example_community(), estates=estate_list, buildings=buildings)


LONG = "老旧小区改造安置房<b>&</b>" * 6  # markup in a roster name is text: escaped, and counted as text


@pytest.mark.parametrize(("estates", "per_estate", "singles", "long"),
                         [(7, 5, 205, ""), (0, 0, 240, ""), (12, 20, 0, ""), (7, 5, 205, LONG),
                          (12, 20, 0, LONG), (0, 0, 240, LONG)])
def test_a_board_of_240_buildings_fits_one_telegram_message(estates, per_estate, singles, long):
    from sandbox.html_check import parse_html

    community = big_community(estates, per_estate, singles, long)
    assert len(community.buildings) == 240
    resolved = [b for k, b in enumerate(community.buildings) for _ in range(1 + k % 3)] + [None]
    places = announcements.board_places(community, resolved)
    texts = Texts()
    board = announcements.fit_board(texts, community=community, month=datetime(2026, 11, 1),
                                    total=len(resolved), by_category=[("环境卫生", len(resolved))],
                                    places=places, estates=bool(community.estates), note="")
    text = texts.render("announce_board", **board)
    plain, _ = parse_html(text)
    assert telegram_length(text) <= TEXT_LIMIT and len(plain) <= TEXT_LIMIT
    assert board["rows"] > 0  # still lists the busiest places
    assert not long or board["rows"] < announcements.BOARD_LIMITS[0][0]  # long names: shorter lists
    assert f"<b>{len(resolved)}</b> 件" in text
    listed = sum(p.count for p in places[:board["rows"]])
    rest = sum(p.count for p in places[board["rows"]:])
    assert listed + rest == len(resolved) and (not rest or f"共 {rest} 件" in text)
