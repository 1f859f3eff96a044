"""The console's ticket list and page, on SQLite and PostgreSQL: filters and paging, who sees what
(another grid: 403, street staff: read-only), escaping, and accept / resolve through ticket_actions
(the ledger names the staff member, the resident hears in chat)."""

from __future__ import annotations

import re
from pathlib import Path

from console_support import (
    RESIDENT,
    STAFF,
    STREET,
    WORKER_1,
    WORKER_2,
    csrf,
    file_ticket,
    log_in,
    stored,
)

from gridcore.roster import parse_roster
from gridcore.ticket import Action, TicketStatus

pytest_plugins = ["console_fixtures"]

CUIHU = Path(__file__).resolve().parents[1] / "examples" / "cuihu.yaml"
NUMBER = re.compile(r'href="/console/tickets/(XK-[0-9-]+)"')


async def listed(client, query: str = "") -> tuple[list[str], int]:
    response = await client.get("/console/tickets" + query)
    assert response.status == 200
    html = await response.text()
    total = re.search(r"共 <strong>(\d+)</strong> 张", html)
    assert total, html[:300]
    return NUMBER.findall(html), int(total.group(1))


async def ledger(uow_factory, number: str):
    async with uow_factory() as uow:
        return list(await uow.tickets.ledger(number))


async def test_filters_and_paging_return_the_right_tickets(console, client, uow_factory):
    clock = console.clock
    numbers = [f"XK-20261122-{n:04d}" for n in range(1, 56)]
    for n, number in enumerate(numbers):  # 55 in grid 1, 3号楼, filed a minute apart
        clock.advance(minutes=1)
        await file_ticket(uow_factory, clock, number, assignee=WORKER_1 if n % 2 else None)
    fire = [await file_ticket(uow_factory, clock, f"XK-20261122-{n:04d}", grid="2", building="5",
                              category="fire", description="消防通道被电动车堵住")
            for n in (91, 92, 93)]
    late = await file_ticket(uow_factory, clock, "XK-20261110-0001", grid="2", building="6", days_ago=12)

    await log_in(client, console.chat(STAFF, "李建国"))
    first, total = await listed(client)
    assert total == 59 and len(first) == 50 and first[0] == fire[-1].number  # newest first
    second, _ = await listed(client, "?page=2")
    assert len(second) == 9 and set(first).isdisjoint(second) and late.number == second[-1]
    assert (await listed(client, "?grid=XK:2"))[1] == 4
    assert sorted((await listed(client, "?category=fire"))[0]) == sorted(t.number for t in fire)
    assert (await listed(client, "?building=XK:6"))[0] == [late.number]
    assert (await listed(client, "?overdue=1"))[0] == [late.number]
    assert (await listed(client, f"?handler={WORKER_1}"))[1] == 27
    assert (await listed(client, "?q=0007"))[0] == ["XK-20261122-0007"]
    assert (await listed(client, "?q=电动车"))[1] == 3
    assert (await listed(client, "?status=assigned&grid=XK:1"))[1] == 27
    assert (await listed(client, "?status=accepted"))[1] == 0
    assert (await listed(client, "?sort=oldest"))[0][0] == late.number
    assert (await listed(client, "?from=2026-11-10&to=2026-11-10"))[0] == [late.number]
    page_two = await client.get("/console/tickets?grid=XK:1&page=1")
    assert "page=2" in await page_two.text() and "grid=XK%3A1" in await page_two.text()

    await log_in(client, console.chat(WORKER_2, "刘洋"))  # grid 2 only, whatever the form asks
    assert sorted((await listed(client))[0]) == sorted([*(t.number for t in fire), late.number])
    assert (await listed(client, "?grid=XK:1"))[1] == 0


async def test_a_grid_worker_can_neither_see_nor_act_on_another_grids_ticket(console, client, uow_factory,
                                                                                outbox_store):
    ticket = await file_ticket(uow_factory, console.clock, "XK-20261122-0001", assignee=WORKER_1)
    events = await ledger(uow_factory, ticket.number)
    await log_in(client, console.chat(WORKER_2, "刘洋"))
    assert (await listed(client))[0] == []
    page = await client.get(f"/console/tickets/{ticket.number}")
    assert page.status == 403 and "楼道堆放杂物" not in await page.text()
    assert (await client.get(f"/console/tickets/{ticket.number}/photo/0")).status == 403
    token = await csrf(client)
    for act, data in (("accept", {}), ("resolve", {"note": "好了"}), ("assign", {"target": str(WORKER_2)}),
                      ("view", {}), ("reveal", {}), ("close", {})):
        response = await client.post(f"/console/tickets/{ticket.number}/{act}", data={"csrf": token, **data},
                                     allow_redirects=False)
        assert response.status == 403
    assert (await stored(uow_factory, ticket.number)).status is TicketStatus.ASSIGNED
    assert await ledger(uow_factory, ticket.number) == events
    assert await outbox_store.peek(RESIDENT) == []


async def test_street_staff_see_the_street_but_get_no_action_forms(console, client, uow_factory):
    ticket = await file_ticket(uow_factory, console.clock, "XK-20261122-0001", assignee=WORKER_1,
                               description="3楼张阿姨电话13812345678，楼道堆放杂物", reporter=RESIDENT)
    async with uow_factory() as uow:  # the street's other community, whose roster lists its street staff
        await uow.roster.upsert(parse_roster(CUIHU.read_text(encoding="utf-8"), str(CUIHU)))
        await uow.commit()
    await log_in(client, console.chat(STREET, "周文斌"))
    assert (await listed(client))[0] == [ticket.number]
    page = await client.get(f"/console/tickets/{ticket.number}")
    html = await page.text()
    assert page.status == 200 and "楼道堆放杂物" in html
    assert "13812345678" not in html and "张阿姨" not in html  # not in the handling chain: redacted
    assert 'name="note"' not in html and "/accept" not in html and "<h2>办理</h2>" not in html
    response = await client.post(f"/console/tickets/{ticket.number}/accept",
                                 data={"csrf": await csrf(client)}, allow_redirects=False)
    assert response.status == 403
    assert (await stored(uow_factory, ticket.number)).status is TicketStatus.ASSIGNED

    await log_in(client, console.chat(WORKER_1, "王芳"))  # the handler reads it in full
    assert "13812345678" in await (await client.get(f"/console/tickets/{ticket.number}")).text()


async def test_a_residents_markup_is_escaped_everywhere(console, client, uow_factory):
    script = "<script>alert(1)</script>"
    ticket = await file_ticket(uow_factory, console.clock, "XK-20261122-0001", assignee=WORKER_1,
                               description=f"{script}楼道堆物")
    await log_in(client, console.chat(WORKER_1, "王芳"))
    for url in ("/console/tickets", f"/console/tickets/{ticket.number}", "/console/tickets?q=%3Cscript%3E"):
        html = await (await client.get(url)).text()
        assert "<script" not in html and "&lt;script&gt;" in html, url
    response = await client.post(f"/console/tickets/{ticket.number}/progress",
                                 data={"csrf": await csrf(client), "note": script})
    html = await response.text()  # the redirect followed: the page with its ledger
    assert "进展已发给居民" in html and "<script" not in html and html.count("&lt;script&gt;") >= 2


async def test_accept_and_resolve_from_the_console_reach_the_ledger_and_the_resident(
        console, client, uow_factory, outbox_store):
    ticket = await file_ticket(uow_factory, console.clock, "XK-20261122-0001", assignee=WORKER_1,
                               photos=("photo-1",))
    await log_in(client, console.chat(WORKER_1, "王芳"))
    page = await (await client.get(f"/console/tickets/{ticket.number}")).text()
    assert f'action="/console/tickets/{ticket.number}/accept"' in page and "/resolve" not in page
    photo = await client.get(f"/console/tickets/{ticket.number}/photo/0")
    assert photo.status == 200 and await photo.read() == b"bytes of photo-1"
    assert (await client.get(f"/console/tickets/{ticket.number}/photo/1")).status == 404

    token = await csrf(client)
    accepted = await client.post(f"/console/tickets/{ticket.number}/accept", data={"csrf": token},
                                 allow_redirects=False)
    assert accepted.status == 303 and accepted.headers["Location"] == f"/console/tickets/{ticket.number}"
    shown = await (await client.get(accepted.headers["Location"])).text()
    assert "已签收" in shown and f"/tickets/{ticket.number}/resolve" in shown
    for not_a_form in ("view", "reveal", "nonsense"):  # the handler's own: only the console's forms
        refused = await client.post(f"/console/tickets/{ticket.number}/{not_a_form}", data={"csrf": token})
        assert refused.status == 403
    again = await client.post(f"/console/tickets/{ticket.number}/accept", data={"csrf": token})
    assert "处理中" in await again.text()  # the refusal's words: the ticket moved on, nothing changed

    resolved = await client.post(f"/console/tickets/{ticket.number}/resolve",
                                 data={"csrf": token, "note": "杂物已清运，楼道畅通"})
    assert resolved.status == 200 and "已办结" in await resolved.text()
    done = await stored(uow_factory, ticket.number)
    assert done.status is TicketStatus.RESOLVED
    events = await ledger(uow_factory, ticket.number)
    assert [(e.action, e.actor) for e in events[-2:]] == [(Action.ACCEPT, f"staff:{WORKER_1}"),
                                                          (Action.RESOLVE, f"staff:{WORKER_1}")]
    told = [row.message.text for row in await outbox_store.peek(RESIDENT)]
    assert any("签收" in text for text in told) and any("杂物已清运" in text for text in told)


async def test_assign_transfer_and_escalate_from_the_console(console, client, uow_factory, outbox_store):
    waiting = await file_ticket(uow_factory, console.clock, "XK-20261122-0001")  # submitted, nobody yet
    await log_in(client, console.chat(STAFF, "李建国"))
    page = await (await client.get(f"/console/tickets/{waiting.number}")).text()
    assert f'<option value="{WORKER_1}">王芳</option>' in page and "/accept" not in page  # not assigned yet
    token = await csrf(client)
    blank = await client.post(f"/console/tickets/{waiting.number}/assign", data={"csrf": token})
    assert "请写上内容" in await blank.text()
    foreign = await client.post(f"/console/tickets/{waiting.number}/assign",
                                data={"csrf": token, "target": str(WORKER_2)})
    assert "已指派" not in await foreign.text()  # 刘洋 works grid 2: not offered, not taken
    assigned = await client.post(f"/console/tickets/{waiting.number}/assign",
                                 data={"csrf": token, "target": str(WORKER_1)})
    assert "已指派" in await assigned.text()
    assert (await stored(uow_factory, waiting.number)).assignee == WORKER_1
    assert any("新工单" in row.message.text for row in await outbox_store.peek(WORKER_1))  # her card

    await log_in(client, console.chat(WORKER_1, "王芳"))
    token = await csrf(client)
    moved = await client.post(f"/console/tickets/{waiting.number}/transfer",
                              data={"csrf": token, "target": "g2", "reason": "其实在5号楼"})
    assert "已转派" in await moved.text()
    now = await stored(uow_factory, waiting.number)
    assert now.grid_code == "2" and now.assignee == WORKER_2
    assert (await client.get(f"/console/tickets/{waiting.number}")).status == 403  # no longer hers

    await log_in(client, console.chat(WORKER_2, "刘洋"))
    up = await client.post(f"/console/tickets/{waiting.number}/escalate",
                           data={"csrf": await csrf(client), "reason": "需要社区协调物业"})
    assert "已上报社区" in await up.text()
    assert (await stored(uow_factory, waiting.number)).status is TicketStatus.ESCALATED


async def test_the_voice_note_is_for_the_handling_chain_only(console, client, uow_factory):
    ticket = await file_ticket(uow_factory, console.clock, "XK-20261122-0001", assignee=WORKER_1)
    async with uow_factory() as uow:
        with_voice = await uow.tickets.get(ticket.number)
        with_voice.voice = "voice-1"
        await uow.tickets.save(with_voice)
        await uow.commit()
    await log_in(client, console.chat(WORKER_1, "王芳"))
    assert "<audio" in await (await client.get(f"/console/tickets/{ticket.number}")).text()
    heard = await client.get(f"/console/tickets/{ticket.number}/voice")
    assert heard.status == 200 and await heard.read() == b"bytes of voice-1"
    async with uow_factory() as uow:  # the street's other community, whose roster lists its street staff
        await uow.roster.upsert(parse_roster(CUIHU.read_text(encoding="utf-8"), str(CUIHU)))
        await uow.commit()
    await log_in(client, console.chat(STREET, "周文斌"))
    assert "<audio" not in await (await client.get(f"/console/tickets/{ticket.number}")).text()
    assert (await client.get(f"/console/tickets/{ticket.number}/voice")).status == 403
    assert console.files.asked == ["voice-1"]
