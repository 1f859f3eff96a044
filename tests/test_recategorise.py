"""改类别 (issue 20): a worker corrects a ticket's category from the card (its picker, or a typed name)
or from the console, on SQLite, PostgreSQL and the in-memory unit of work; every correction — the
worker's, or a resident picking another category than the bot suggested — is kept per community for
the triage to learn from. A refused change changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from console_support import STAFF, WORKER_1, WORKER_2, csrf, file_ticket, log_in, stored
from dialog_support import example_world
from test_worker_loop import RESIDENT, STAFF_GROUP, file_light_report, ticket

from gridcore.errors import DomainError
from gridcore.ports import TriageCorrection
from gridcore.ticket import Action, Location, Reporter, Ticket, TicketStatus

pytestmark = pytest.mark.memory
pytest_plugins = ["console_fixtures"]

LIGHT = "3号楼2单元楼道灯坏了一个星期了"  # the bot suggests 公共设施 (facility)
AT = datetime(2026, 11, 22, 1, 30, tzinfo=UTC)


@pytest.fixture
async def world(uow_factory):
    return await example_world(uow_factory)


async def corrections(uow_factory, code: str = "XK") -> list[TriageCorrection]:
    async with uow_factory() as uow:
        return await uow.corrections.for_community(code, 50)


async def ledger(uow_factory, number: str):
    async with uow_factory() as uow:
        return list(await uow.tickets.ledger(number))


def test_the_ticket_changes_category_in_the_ledger_and_keeps_its_deadline() -> None:
    filed = Ticket.file(number="XK-20261122-0001", community_code="XK", category_code="facility",
                        feedback_deadline=timedelta(days=3), description=LIGHT, location=Location("3", "2"),
                        reporter=Reporter(RESIDENT, RESIDENT), at=AT)
    event = filed.recategorise("env", actor="staff:1011", at=AT + timedelta(hours=2))
    assert filed.category_code == "env" and filed.status is TicketStatus.SUBMITTED
    assert filed.feedback_due_at == AT + timedelta(days=3)  # the promise made at filing stands
    assert (event.action, dict(event.details)) == (Action.RECATEGORISE, {"from": "facility", "to": "env"})
    assert event.from_status is event.to_status is TicketStatus.SUBMITTED
    with pytest.raises(DomainError):
        filed.recategorise("env", actor="staff:1011", at=AT)  # already env
    filed.apply(Action.WITHDRAW, actor=f"resident:{RESIDENT}", at=AT)
    with pytest.raises(DomainError):
        filed.recategorise("fire", actor="staff:1011", at=AT)  # no longer open
    assert filed.category_code == "env"


async def test_the_worker_recategorises_from_the_card_and_the_correction_is_kept(world, uow_factory):
    world, chat = world
    resident, worker = chat(RESIDENT, "张阿姨"), chat(WORKER_1, "王芳")
    await file_light_report(resident)  # the resident took the bot's 公共设施: no correction
    assert await corrections(uow_factory) == []
    filed = await ticket(uow_factory)
    heard = len(resident.received)

    await worker.press("改类别")
    picker = worker.last_message
    assert "改成哪一类" in picker.text
    offered = [b.text for row in picker.buttons for b in row]
    assert "环境卫生" in offered and "公共设施" not in offered  # not the category it has
    assert all(len(b.data.encode()) <= 64 for row in picker.buttons for b in row)
    handled = await worker.press("环境卫生")
    now = await ticket(uow_factory)
    assert now.category_code == "env" and now.status is TicketStatus.ASSIGNED
    assert now.feedback_due_at == filed.feedback_due_at and now.assignee == WORKER_1
    card = next(m for m in handled.messages if m.chat_id == WORKER_1 and m.edit_outbox_id is not None)
    assert "新工单" in card.text and "环境卫生" in card.text and "公共设施" not in card.text  # in place
    assert [b.text for row in card.buttons for b in row][-2:] == ["改类别", "调整等级"]
    assert "已改为「环境卫生」类" in worker.last_text
    events = await ledger(uow_factory, now.number)
    assert (events[-1].action, events[-1].actor) == (Action.RECATEGORISE, f"staff:{WORKER_1}")
    assert dict(events[-1].details) == {"from": "facility", "to": "env"}
    assert len(resident.received) == heard  # the resident is not told
    [kept] = await corrections(uow_factory)
    assert (kept.community_code, kept.text, kept.suggested, kept.chosen, kept.source) == (
        "XK", LIGHT, "facility", "env", "worker")

    await worker.press("改类别")  # a typed name picks too, in a private chat
    await worker.send("消防安全")
    assert (await ticket(uow_factory)).category_code == "fire"
    newest_first = [(c.suggested, c.chosen) for c in await corrections(uow_factory)]
    assert newest_first == [("env", "fire"), ("facility", "env")]


async def test_refused_changes_change_nothing(world, uow_factory):
    world, chat = world
    resident, worker, other = chat(RESIDENT, "张阿姨"), chat(WORKER_1, "王芳"), chat(WORKER_2, "刘洋")
    await file_light_report(resident)
    filed = await ticket(uow_factory)
    before = len(await ledger(uow_factory, filed.number))

    for presser, data, refusal in (
            (other, f"w:recat:{filed.id}", "没有权限"),  # another grid's worker
            (other, f"w:rc:{filed.id}:env", "没有权限"),  # a forged pick
            (worker, f"w:rc:{filed.id}:nope", "没有这个类别"),
            (worker, f"w:rc:{filed.id}:facility", "已经是「公共设施」类")):
        handled = await presser.press_data(data)
        assert handled.callback_alert and refusal in (handled.callback_answer or ""), data
    assert (await ticket(uow_factory)).category_code == "facility"
    assert len(await ledger(uow_factory, filed.number)) == before and await corrections(uow_factory) == []

    await worker.presses("签收", "办结")
    await worker.send("已更换灯泡")
    await worker.press("跳过")
    await resident.presses("有人联系了", "已解决", "满意")
    assert (await ticket(uow_factory)).status is TicketStatus.CLOSED
    handled = await worker.press_data(f"w:rc:{filed.id}:env")
    assert handled.callback_alert and "已关闭" in (handled.callback_answer or "")
    assert (await ticket(uow_factory)).category_code == "facility" and await corrections(uow_factory) == []


async def test_a_resident_picking_another_category_than_suggested_is_kept(world, uow_factory):
    world, chat = world
    resident = chat(RESIDENT, "张阿姨")
    await resident.contact("13812345678")
    await resident.send(LIGHT)
    assert "公共设施" in resident.last_text  # the bot's guess
    await resident.presses("选其他类别", "物业服务", "跳过", "没有照片", "实名反映", "确认提交")
    assert (await ticket(uow_factory)).category_code == "property"
    [kept] = await corrections(uow_factory)
    assert (kept.text, kept.suggested, kept.chosen) == (LIGHT, "facility", "property")
    assert kept.source == "resident"
    assert await corrections(uow_factory, "HY") == []


async def test_the_console_form_recategorises_through_the_same_use_case(console, client, uow_factory):
    filed = await file_ticket(uow_factory, console.clock, "XK-20261122-0001", assignee=WORKER_1)  # env
    await log_in(client, console.chat(WORKER_1, "王芳"))
    page = await (await client.get(f"/console/tickets/{filed.number}")).text()
    assert f'action="/console/tickets/{filed.number}/recategorise"' in page
    assert '<option value="fire">消防安全</option>' in page and '<option value="env">' not in page
    token = await csrf(client)
    blank = await client.post(f"/console/tickets/{filed.number}/recategorise", data={"csrf": token})
    assert "请写上内容" in await blank.text()
    unknown = await client.post(f"/console/tickets/{filed.number}/recategorise",
                                data={"csrf": token, "category": "nope"})
    assert "没有这个类别" in await unknown.text()
    done = await client.post(f"/console/tickets/{filed.number}/recategorise",
                             data={"csrf": token, "category": "fire"})
    shown = await done.text()
    assert "已改类别" in shown and "环境卫生 → 消防安全" in shown  # the flash, and the timeline's line
    now = await stored(uow_factory, filed.number)
    assert now.category_code == "fire" and now.feedback_due_at == filed.feedback_due_at
    [kept] = await corrections(uow_factory)
    assert (kept.suggested, kept.chosen, kept.source, kept.text) == ("env", "fire", "worker", "楼道堆放杂物")

    await log_in(client, console.chat(WORKER_2, "刘洋"))  # another grid's worker: not even the page
    assert (await client.get(f"/console/tickets/{filed.number}")).status == 403
    refused = await client.post(f"/console/tickets/{filed.number}/recategorise",
                                data={"csrf": await csrf(client), "category": "env"})
    assert refused.status == 403 and (await stored(uow_factory, filed.number)).category_code == "fire"

    await log_in(client, console.chat(STAFF, "李建国"))  # community staff may correct it too
    back = await client.post(f"/console/tickets/{filed.number}/recategorise",
                             data={"csrf": await csrf(client), "category": "env"})
    assert "已改类别" in await back.text()
    assert (await stored(uow_factory, filed.number)).category_code == "env"


async def test_community_staff_recategorise_a_waiting_ticket_in_their_group(world, uow_factory):
    world, chat = world
    resident, worker = chat(RESIDENT, "张阿姨"), chat(WORKER_1, "王芳")
    group = chat(STAFF, "李建国", chat_id=STAFF_GROUP)
    await file_light_report(resident)
    await worker.press("上报社区")
    await worker.send("其实是物业的事")
    assert [b.text for b in group.last_message.buttons[0]] == ["指派", "改类别"]
    await group.press("改类别")
    assert "直接输入" not in group.last_text  # a group: the bot sees no typed names there
    await group.press("物业服务")
    escalated = await ticket(uow_factory)
    assert escalated.category_code == "property" and escalated.status is TicketStatus.ESCALATED
    assert "已改为「物业服务」类" in group.last_text
    card = next(m for m in reversed(group.received) if m.edit_outbox_id is not None)
    assert "物业服务" in card.text and "待指派" in card.text
    [kept] = await corrections(uow_factory)
    assert (kept.suggested, kept.chosen, kept.source) == ("facility", "property", "worker")
