"""One bot for a street office (街道): two communities (and more) in one database, on both databases.

Each update finds its community: a new resident is asked (their first words kept), a QR link names it,
a group chat or a ticket button belongs to one; staff act only in their own; the periodic jobs run for
each; street staff see the street, get a 督办 after community staff and the street's weekly summary.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta

import pytest
from dialog_support import FakeClock, ResidentChat, World, example_community, make_conversations

from gridcore.community import Community, Person, Role
from gridcore.deadlines import ReminderPolicy, Stage, due_stages
from gridcore.metrics import summarize
from handlers import street_summary, summary
from handlers.texts import Texts

pytestmark = pytest.mark.memory

STREET = "城东街道"
STREET_STAFF = 9001
RESIDENT, NEIGHBOUR = 5001, 5002
A_WORKER, A_LEADER, A_STAFF = 1011, 1021, 1001  # 兴康社区 (XK), grid 1 holds 3号楼
B_WORKER, B_LEADER, B_STAFF = 2011, 2021, 2001  # 和祥社区 (HX): the same shape, other people and chats
A_STAFF_GROUP, B_STAFF_GROUP = -1001000000001, -1002000000001
ASKED = "哪个社区"
NUMBER = re.compile(r"(?:XK|HX)-\d{8}-\d{4}")


def second_community(code: str = "HX", name: str = "和祥社区", shift: int = 1000,
                     chats: int = 1) -> Community:
    """The example community again under another code and name: every person and chat its own."""
    base = example_community()
    staff = tuple(dataclasses.replace(p, telegram_user_id=p.telegram_user_id + shift if p.telegram_user_id
                                      else None, username=None) for p in base.staff)
    grids = tuple(dataclasses.replace(g, group_chat_id=g.group_chat_id - chats * 1_000_000_000
                                      if g.group_chat_id else None) for g in base.grids)
    return dataclasses.replace(
        base, code=code, name=name, staff=staff, grids=grids, announcements=(), street=STREET,
        street_chat_id=None,
        staff_chat_id=base.staff_chat_id - chats * 1_000_000_000 if base.staff_chat_id else None,
        public_chat_id=base.public_chat_id - chats * 1_000_000_000 if base.public_chat_id else None)


def first_community() -> Community:
    """兴康社区 in the street office, with the street's staff member in its roster."""
    base = example_community()
    street_person = Person("街道王", Role.STREET_STAFF, telegram_user_id=STREET_STAFF)
    return dataclasses.replace(base, street=STREET, street_chat_id=None,
                               staff=(*base.staff, street_person))


async def load(uow_factory, *communities: Community) -> None:
    async with uow_factory() as uow:
        for community in communities:
            await uow.roster.upsert(community)
        await uow.commit()


@pytest.fixture
async def street(uow_factory):
    await load(uow_factory, first_community(), second_community())
    clock = FakeClock()
    bot = make_conversations(uow_factory, clock)
    world = World()

    def chat(user_id: int, name: str = "", chat_id: int | None = None) -> ResidentChat:
        return ResidentChat(bot, user_id, name or str(user_id), world=world, chat_id=chat_id)

    return bot, clock, world, chat


async def file_in(resident: ResidentChat, community_name: str | None = None,
                  text: str = "3号楼2单元楼道堆放杂物，走不过去") -> str:
    """Report as a resident does; the community is picked first when asked. Returns the number."""
    await resident.send(text)
    if community_name is not None:
        assert ASKED in resident.last_text
        await resident.press(community_name)
    await resident.presses("是的", "跳过", "没有照片", "实名反映", "确认提交")
    number = NUMBER.search(resident.last_texts())
    assert number and "已提交" in resident.last_texts(), resident.texts[-3:]
    return number.group(0)


async def resident_community(uow_factory, user_id: int) -> str | None:
    async with uow_factory() as uow:
        resident = await uow.residents.get(user_id)
    return resident.community_code if resident else None


async def test_a_new_resident_is_asked_and_the_first_text_goes_on_in_the_chosen_one(street, uow_factory):
    _, _, world, chat = street
    resident = chat(RESIDENT, "张阿姨")
    await resident.send("3号楼2单元楼道堆放杂物，走不过去")
    assert ASKED in resident.last_text and "已经记下" in resident.last_text
    assert {b.text for row in resident.last_message.buttons for b in row} == {"兴康社区", "和祥社区"}
    await resident.press("和祥社区")
    said = resident.last_texts()
    assert "和祥社区" in said and "环境" in said  # the kept text went on: its category is offered
    await resident.presses("是的", "跳过", "没有照片", "实名反映", "确认提交")
    assert re.search(r"HX-\d{8}-\d{4}", resident.last_texts())
    assert [m for m in world.inbox[B_WORKER] if "HX-" in (m.text or "")]  # 和祥's grid worker has the card
    assert not world.inbox[A_WORKER]
    assert await resident_community(uow_factory, RESIDENT) == "HX"
    before = len(resident.texts)
    await resident.send("5号楼门口的路灯坏了，晚上很黑")
    assert ASKED not in "\n".join(resident.texts[before:])  # asked once: the choice is remembered


async def test_many_communities_are_paged_and_a_typed_name_is_taken(uow_factory):
    others = [second_community(f"C{i:02d}", f"第{i:02d}社区", shift=10000 + 1000 * i, chats=10 + i)
              for i in range(25)]
    await load(uow_factory, first_community(), second_community(), *others)
    resident = ResidentChat(make_conversations(uow_factory), RESIDENT, "张阿姨")
    await resident.send("/start")
    assert ASKED in resident.last_text and "第 1/" in resident.last_text
    await resident.press("下一页")
    assert "第 2/" in resident.last_text
    await resident.send("不知道是哪个")
    assert "没有找到" in resident.last_text and ASKED in resident.last_text
    await resident.send("和祥")
    assert "和祥社区" in resident.last_texts() and "居民反映渠道" in resident.last_texts()  # the kept /start
    assert await resident_community(uow_factory, RESIDENT) == "HX"
    await resident.send("/community")
    assert ASKED in resident.last_text
    await resident.send("第03社区")
    assert await resident_community(uow_factory, RESIDENT) == "C03"


async def test_a_building_link_names_the_community_and_skips_the_question(street, uow_factory):
    _, _, _, chat = street
    resident = chat(RESIDENT, "张阿姨")
    await resident.send("/start b-HX-3")
    welcome = resident.last_text
    assert ASKED not in welcome and "和祥社区" in welcome and "3号楼" in welcome
    assert await resident_community(uow_factory, RESIDENT) == "HX"


async def test_staff_act_only_on_their_own_communitys_tickets(street, uow_factory):
    _, _, world, chat = street
    number = await file_in(chat(RESIDENT, "张阿姨"), "和祥社区")
    accept = next(b.data for m in world.inbox[B_WORKER] for row in m.buttons for b in row if "签收" in b.text)
    stranger = chat(A_WORKER, "王芳")
    handled = await stranger.press_data(accept)
    assert handled.callback_alert and "没有权限" in (handled.callback_answer or "")
    await chat(A_STAFF, "李建国").send(f"/ticket {number}")
    assert "没有找到" in world.inbox[A_STAFF][-1].text
    async with uow_factory() as uow:
        assert (await uow.tickets.get(number)).status.value == "assigned"
    handled = await chat(B_WORKER).press_data(accept)
    assert not handled.callback_alert
    async with uow_factory() as uow:
        assert (await uow.tickets.get(number)).status.value == "accepted"


async def test_a_group_chat_gets_its_own_communitys_messages(street):
    _, _, _, chat = street
    await file_in(chat(RESIDENT, "张阿姨"), "兴康社区")
    await file_in(chat(NEIGHBOUR, "李叔"), "和祥社区")
    in_b = chat(B_STAFF, "李建国", chat_id=B_STAFF_GROUP)
    await in_b.send("/open")
    assert "和祥社区" in in_b.last_text and "HX-" in in_b.last_text and "XK-" not in in_b.last_text
    in_a = chat(A_STAFF, "李建国", chat_id=A_STAFF_GROUP)
    await in_a.send("/open")
    assert "兴康社区" in in_a.last_text and "XK-" in in_a.last_text and "HX-" not in in_a.last_text


async def tick(bot, world: World, work, *, sweep: bool = False) -> None:
    """One tick of a periodic job as the scheduler runs it (each community served in turn, a deadline
    sweep only where tickets are due: bot.scheduler.run_job), its messages delivered into the world."""
    for code in await bot.community_codes(with_work_due=sweep):
        for message in await bot.system(work, code):
            world.inbox[message.chat_id].append(message)


async def test_sweeps_run_for_both_and_the_street_supervises_after_community_staff(street, uow_factory):
    from handlers import upkeep

    bot, clock, world, chat = street
    a_number = await file_in(chat(RESIDENT, "张阿姨"), "兴康社区")
    b_number = await file_in(chat(NEIGHBOUR, "李叔"), "和祥社区")
    # Filed Sunday 09:30; 兴康社区 promises 3 working days (due Wednesday 23:59:59): past both deadlines.
    clock.advance(days=3, hours=15)  # the grid leaders' 督办
    await tick(bot, world, upkeep.send_reminders, sweep=True)
    assert any(a_number in (m.text or "") for m in world.inbox[A_LEADER])
    assert any(b_number in (m.text or "") for m in world.inbox[B_LEADER])
    assert not world.inbox[STREET_STAFF]
    clock.advance(hours=24)  # community staff's
    await tick(bot, world, upkeep.send_reminders, sweep=True)
    assert any(b_number in (m.text or "") for m in world.inbox[B_STAFF_GROUP])
    assert not world.inbox[STREET_STAFF]
    clock.advance(hours=24)  # the street office's, for both communities, once each
    await tick(bot, world, upkeep.send_reminders, sweep=True)
    await tick(bot, world, upkeep.send_reminders, sweep=True)
    street_texts = [m.text for m in world.inbox[STREET_STAFF]]
    assert len(street_texts) == 2 and all("请街道督促" in t for t in street_texts)
    assert any(a_number in t and "兴康社区" in t for t in street_texts)
    assert any(b_number in t and "和祥社区" in t for t in street_texts)
    assert all("张阿姨" not in t and "李叔" not in t for t in street_texts)

    street_staff = chat(STREET_STAFF, "街道王")
    view = next(b.data for m in world.inbox[STREET_STAFF] if b_number in m.text for row in m.buttons
                for b in row)
    await street_staff.press_data(view)  # the 督办's 查看工单: the ticket, read-only
    assert b_number in street_staff.last_text and not street_staff.last_message.buttons
    await street_staff.send("/tasks")
    assert a_number in street_staff.last_text and b_number in street_staff.last_text
    await street_staff.send(f"/ticket {a_number}")
    assert "处理经过" in street_staff.last_text or a_number in street_staff.last_text
    # and the street's staff member cannot act on a card
    accept = next(b.data for m in world.inbox[B_WORKER] for row in m.buttons for b in row if "签收" in b.text)
    assert (await street_staff.press_data(accept)).callback_alert


async def test_the_street_summary_puts_each_communitys_rates_side_by_side(street, uow_factory):
    from test_summary import W47, fixture_tickets, store

    bot, clock, world, _ = street
    a_tickets = fixture_tickets()
    b_tickets = [dataclasses.replace(t, community_code="HX", number=t.number.replace("XK", "HX"),
                                     new_events=list(t.new_events))
                 for t in fixture_tickets()[:3]]
    await store(uow_factory, a_tickets + b_tickets)
    async with uow_factory() as uow:
        communities = [await uow.roster.get("XK"), await uow.roster.get("HX")]
        rows = await street_summary.street_week(uow, communities, W47)
        own = [summarize(c.code, W47, await uow.tickets.for_summary(c.code, W47.start, W47.end)).total
               for c in communities]
    assert [r.figures for r in rows] == own  # each community's own weekly figures
    assert rows[0].figures != rows[1].figures and rows[1].figures.rated == 2
    [text] = street_summary.render(Texts(), STREET, W47, rows)
    assert text.index("兴康社区") < text.index("和祥社区") and "街道合计" in text
    assert own[1].satisfaction_rate.percent in text and own[0].response_rate.percent in text

    clock.now = W47.end + timedelta(hours=1, days=0)  # Monday after the week: the scheduled send
    await tick(bot, world, summary.send_weekly)
    await tick(bot, world, summary.send_weekly)
    sent = [m.text for m in world.inbox[STREET_STAFF] if m.text]
    assert len(sent) == 1 and "兴康社区" in sent[0] and "和祥社区" in sent[0] and "满意率" in sent[0]


def test_the_street_is_told_a_day_after_community_staff():
    from test_reminders import T0, assigned

    policy = ReminderPolicy()
    ticket = assigned()
    late = T0 + timedelta(days=5, hours=1)
    assert due_stages(ticket, late, policy)[0] == [Stage.ACCEPT_OVERDUE, Stage.OVERDUE_LEADER,
                                                   Stage.OVERDUE_STAFF, Stage.OVERDUE_STREET]
    ticket.reminders = (Stage.ACCEPT_REMINDER, Stage.ACCEPT_OVERDUE, Stage.OVERDUE_LEADER,
                        Stage.OVERDUE_STAFF)
    shorter = dataclasses.replace(policy, street_after=timedelta(hours=2))
    assert due_stages(ticket, T0 + timedelta(days=4, hours=3), shorter)[0] == [Stage.OVERDUE_STREET]


def test_the_roster_sets_the_street_delay_and_old_stored_policies_still_read():
    from gridcore.roster import parse_roster
    from storage.repositories.roster_rows import policy_from_json, policy_json

    roster = ('community: {code: XK, name: 兴康社区, street_after_hours: 12}\n'
              'grids: [{code: "1", name: 一}]\nbuildings: [{code: "3", name: 3号楼, grid: "1"}]\n'
              'staff: []\ncategories: [{code: env, name: 环境卫生}]\n')
    policy = parse_roster(roster, "r.yaml").reminders
    assert policy.street_after == timedelta(hours=12)
    assert policy_from_json(policy_json(policy)) == policy
    old = {k: v for k, v in policy_json(ReminderPolicy()).items() if k != "street_after"}
    assert policy_from_json(old) == ReminderPolicy()


async def test_one_community_is_never_asked(uow_factory):
    await load(uow_factory, example_community())
    resident = ResidentChat(make_conversations(uow_factory), RESIDENT, "张阿姨")
    await resident.send("/start")
    assert ASKED not in resident.last_text and "兴康社区" in resident.last_text
    await resident.send("/community")
    assert "只服务" in resident.last_text


async def test_a_report_begun_before_a_second_community_came_resumes_after_the_choice(uow_factory):
    await load(uow_factory, first_community())
    resident = ResidentChat(make_conversations(uow_factory), RESIDENT, "张阿姨")
    await resident.send("3号楼2单元楼道堆放杂物，走不过去")
    assert "环境卫生" in resident.last_text and ASKED not in resident.last_text
    await load(uow_factory, second_community())  # the street office's second community arrives
    await resident.send("/community")
    assert ASKED in resident.last_text
    await resident.send("兴康社区")
    assert "环境卫生" in resident.last_texts()  # the report is where it was
    await resident.presses("是的", "跳过", "没有照片", "实名反映", "确认提交")
    assert re.search(r"XK-\d{8}-\d{4}", resident.last_texts()) and "已提交" in resident.last_texts()


async def test_a_staff_invite_binds_in_its_own_community_without_the_question(street, uow_factory):
    from test_onboarding import add_invite, roster_with_unbound_worker, zhoujie

    _, clock, _, chat = street
    unbound = dataclasses.replace(second_community(), staff=roster_with_unbound_worker().staff)
    await load(uow_factory, unbound)
    newcomer = chat(7777, "周杰")
    await newcomer.send(await add_invite(uow_factory, unbound, "hxjoin", clock))
    assert ASKED not in newcomer.last_texts() and "和祥社区" in newcomer.last_texts()
    async with uow_factory() as uow:
        bound = await uow.roster.get("HX")
    assert zhoujie(bound).telegram_user_id == 7777


async def test_a_home_in_one_community_is_not_asked_back_in_another(street):
    """Building codes are unique only within a roster (both communities here have a "3"): after moving,
    the home saved in the first community is not this one's."""
    _, _, _, chat = street
    resident = chat(RESIDENT, "张阿姨")
    await file_in(resident, "兴康社区")
    await resident.press("是，记住")
    await resident.send("/community")
    await resident.press("和祥社区")
    await resident.send("门口垃圾桶满了没人清")
    await resident.press("是的")
    # the building is asked, not "还是 3号楼2单元 吗？"
    assert "哪栋楼" in resident.last_text and "吗？" not in resident.last_text
