"""常用回复 in the console: the 进展 and 办结 forms list the category's replies (no JavaScript); the server
takes the typed note if any, else the picked reply, through the same ticket_actions as the chat."""

from __future__ import annotations

import html

from console_support import RESIDENT, WORKER_1, csrf, file_ticket, log_in, stored

from gridcore.ticket import Action, TicketStatus

pytest_plugins = ["console_fixtures"]

# examples/roster.yaml, 环境卫生 (file_ticket's category)
CLEARED = "垃圾杂物已清理，楼道已畅通"
ON_IT = "已通知保洁，今天内清理"


async def test_the_forms_offer_the_replies_and_a_picked_one_resolves(console, client, uow_factory,
                                                                     outbox_store):
    ticket = await file_ticket(uow_factory, console.clock, "XK-20261122-0001", assignee=WORKER_1)
    await log_in(client, console.chat(WORKER_1, "王芳"))
    token = await csrf(client)
    await client.post(f"/console/tickets/{ticket.number}/accept", data={"csrf": token})
    page = html.unescape(await (await client.get(f"/console/tickets/{ticket.number}")).text())
    assert "请选择常用回复" in page
    assert f'<option value="{ON_IT}">{ON_IT}</option>' in page
    assert f'<option value="{CLEARED}">{CLEARED}</option>' in page
    assert page.index(ON_IT) < page.index("/resolve") < page.index(CLEARED)  # each in its own form

    typed = await client.post(f"/console/tickets/{ticket.number}/progress",
                              data={"csrf": token, "note": "明早八点清运", "reply": ON_IT})
    assert typed.status == 200 and "进展已发给居民" in await typed.text()
    picked = await client.post(f"/console/tickets/{ticket.number}/resolve",
                               data={"csrf": token, "note": "  ", "reply": CLEARED})
    assert picked.status == 200 and "已办结" in await picked.text()

    done = await stored(uow_factory, ticket.number)
    assert done.status is TicketStatus.RESOLVED
    async with uow_factory() as uow:
        events = list(await uow.tickets.ledger(ticket.number))
    assert [e.action for e in events[-2:]] == [Action.PROGRESS, Action.RESOLVE]
    told = [row.message.text for row in await outbox_store.peek(RESIDENT)]
    assert any("明早八点清运" in text for text in told)  # the typed note won over the picked reply
    assert not any(ON_IT in text for text in told)
    assert any(CLEARED in text for text in told)


async def test_neither_a_note_nor_a_reply_changes_nothing(console, client, uow_factory):
    ticket = await file_ticket(uow_factory, console.clock, "XK-20261122-0001", assignee=WORKER_1)
    await log_in(client, console.chat(WORKER_1, "王芳"))
    token = await csrf(client)
    await client.post(f"/console/tickets/{ticket.number}/accept", data={"csrf": token})
    refused = await client.post(f"/console/tickets/{ticket.number}/resolve",
                                data={"csrf": token, "note": "", "reply": ""})
    assert "500 字以内" in await refused.text()
    assert (await stored(uow_factory, ticket.number)).status is TicketStatus.ACCEPTED
