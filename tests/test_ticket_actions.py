"""The worker card's actions as use cases outside the chat (handlers.ticket_actions through
Conversations.as_staff, as a web console calls them), on both databases and the memory backend: each
changes the ticket, records its ledger event with the actor, tells the resident and edits the cards;
each refusal says why and changes nothing."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from dialog_support import EXAMPLE_ROSTER, FakeClock, ResidentChat, World, load_example, make_conversations

from gridcore.messages import OutgoingMessage
from gridcore.roster import parse_roster
from gridcore.ticket import Action, Ticket, TicketStatus
from handlers import ticket_actions
from handlers.app import Conversations
from handlers.context import Context
from handlers.ticket_actions import MAX_NOTE, Outcome

pytestmark = pytest.mark.memory

COMMUNITY = "XK"
RESIDENT, WORKER_1, WORKER_2, LEADER_1, STAFF, PARTNER = 5001, 1011, 1012, 1021, 1001, 1041
STAFF_GROUP = -1001000000001


@dataclass
class Done:
    """What a use case returned, said and queued, and the ticket and its ledger afterwards."""

    outcome: Outcome
    message: str
    sent: list[OutgoingMessage]


class Desk:
    """A bot with the example roster, a resident's light report (grid 1, assigned to 王芳), and a
    console: `act(user_id, use_case, *args)` runs ticket_actions.<use_case> as that staff member."""

    def __init__(self, bot: Conversations, uow_factory) -> None:
        self.bot, self.uow_factory = bot, uow_factory
        self.world = World()
        self.ticket_id = 0

    def chat(self, user_id: int, name: str, chat_id: int | None = None) -> ResidentChat:
        return ResidentChat(self.bot, user_id, name, world=self.world, chat_id=chat_id)

    async def file_report(self) -> None:
        resident = self.chat(RESIDENT, "张阿姨")
        await resident.contact("13812345678")
        await resident.send("3号楼2单元楼道灯坏了一个星期了")
        await resident.presses("是的", "跳过", "没有照片", "实名反映", "确认提交")
        async with self.uow_factory() as uow:
            ticket = (await uow.tickets.for_resident(RESIDENT))[0]
        assert ticket.id is not None and ticket.assignee == WORKER_1
        self.ticket_id = ticket.id

    async def act(self, user_id: int, use_case: str, *args: object,
                  community: str = COMMUNITY) -> Done | None:
        async def work(ctx: Context) -> Done:
            ticket = await ctx.uow.tickets.get_by_id(self.ticket_id)
            assert ticket is not None
            outcome = await getattr(ticket_actions, use_case)(ctx, ticket, *args)
            return Done(outcome, outcome.message(ctx), list(ctx.sent))

        return await self.bot.as_staff(user_id, community, work)

    async def state(self) -> tuple[Ticket, list]:
        async with self.uow_factory() as uow:
            ticket = await uow.tickets.get_by_id(self.ticket_id)
            assert ticket is not None
            return ticket, list(await uow.tickets.ledger(ticket.number))


@pytest.fixture
async def desk(uow_factory) -> Desk:
    await load_example(uow_factory)
    desk = Desk(make_conversations(uow_factory, FakeClock()), uow_factory)
    await desk.file_report()
    return desk


def to(sent: list[OutgoingMessage], chat_id: int) -> list[OutgoingMessage]:
    return [m for m in sent if m.chat_id == chat_id]


def card_edits(sent: list[OutgoingMessage]) -> list[OutgoingMessage]:
    return [m for m in sent if m.edit_outbox_id is not None]


async def performed(desk: Desk, user_id: int, use_case: str, *args: object) -> Done:
    done = await desk.act(user_id, use_case, *args)
    assert done is not None and done.outcome.ok and done.message == "", done
    # Nothing new in the actor's own chat: only their card, edited in place (the caller tells them).
    assert all(m.edit_outbox_id is not None for m in to(done.sent, user_id)), done.sent
    return done


async def last_event(desk: Desk):
    _, ledger = await desk.state()
    return ledger[-1]


async def test_accept_tells_the_resident_and_edits_the_card(desk):
    done = await performed(desk, WORKER_1, "accept")
    ticket, _ = await desk.state()
    assert ticket.status is TicketStatus.ACCEPTED
    event = await last_event(desk)
    assert (event.action, event.actor) == (Action.ACCEPT, f"staff:{WORKER_1}")
    [notice] = to(done.sent, RESIDENT)
    assert "王** 签收" in notice.text
    assert any(m.chat_id == WORKER_1 and "处理中" in m.text for m in card_edits(done.sent))


async def test_progress_records_the_note_and_sends_it_to_the_resident(desk):
    await performed(desk, WORKER_1, "accept")
    done = await performed(desk, WORKER_1, "progress", "  已联系电工，明天上午来换灯 ")
    event = await last_event(desk)
    assert (event.action, event.actor, event.details["note"]) == (
        Action.PROGRESS, f"staff:{WORKER_1}", "已联系电工，明天上午来换灯")
    assert any("明天上午来换灯" in m.text for m in to(done.sent, RESIDENT))
    assert (await desk.state())[0].status is TicketStatus.ACCEPTED


async def test_resolve_sends_the_result_with_photos_and_asks_for_a_rating(desk):
    await performed(desk, WORKER_1, "accept")
    done = await performed(desk, WORKER_1, "resolve", "已更换新灯泡，楼道恢复照明", ["after-1", "after-2"])
    ticket, _ = await desk.state()
    assert ticket.status is TicketStatus.RESOLVED
    event = await last_event(desk)
    assert (event.action, event.actor) == (Action.RESOLVE, f"staff:{WORKER_1}")
    assert event.details["photos"] == ["after-1", "after-2"]
    result, rating = to(done.sent, RESIDENT)
    assert "恢复照明" in result.text and result.photos == ("after-1", "after-2")
    assert "是否有人联系您" in rating.text
    assert any(m.chat_id == WORKER_1 and "已办结" in m.text for m in card_edits(done.sent))


async def test_escalate_gives_community_staff_a_card_to_assign(desk):
    done = await performed(desk, WORKER_1, "escalate", "需要社区协调物业公司维修资金")
    ticket, _ = await desk.state()
    assert ticket.status is TicketStatus.ESCALATED
    event = await last_event(desk)
    assert (event.action, event.actor, event.details["reason"]) == (
        Action.ESCALATE, f"staff:{WORKER_1}", "需要社区协调物业公司维修资金")
    assert any("待指派" in m.text and m.edit_outbox_id is None for m in to(done.sent, STAFF_GROUP))
    assert any("已上报社区" in m.text for m in to(done.sent, RESIDENT))
    assert card_edits(done.sent)


async def test_transfer_to_another_grid_hands_it_to_that_grids_worker(desk):
    done = await performed(desk, WORKER_1, "transfer", "g2", "这栋楼去年划到第二网格了")
    assert done.outcome.detail == {"name": "刘洋", "user_id": str(WORKER_2)}
    ticket, ledger = await desk.state()
    assert (ticket.assignee, ticket.grid_code, ticket.status) == (WORKER_2, "2", TicketStatus.ASSIGNED)
    transfer, assign = ledger[-2:]
    assert (transfer.action, transfer.actor, transfer.details["to"]) == (
        Action.TRANSFER, f"staff:{WORKER_1}", WORKER_2)
    assert (assign.action, assign.actor) == (Action.ASSIGN, f"staff:{WORKER_1}")
    assert any("新工单" in m.text and m.edit_outbox_id is None for m in to(done.sent, WORKER_2))
    old_card = [m for m in card_edits(done.sent) if m.chat_id == WORKER_1]
    assert old_card and not old_card[-1].buttons


async def test_staff_assign_an_escalated_ticket(desk):
    await performed(desk, WORKER_1, "escalate", "需要社区协调")
    done = await performed(desk, STAFF, "assign", str(WORKER_1))
    assert done.outcome.detail["name"] == "王芳"
    ticket, _ = await desk.state()
    assert (ticket.status, ticket.assignee) == (TicketStatus.ASSIGNED, WORKER_1)
    event = await last_event(desk)
    assert (event.action, event.actor, event.details["assignee"]) == (Action.ASSIGN, f"staff:{STAFF}",
                                                                      WORKER_1)
    assert any(m.edit_outbox_id is None and m.buttons for m in to(done.sent, WORKER_1))  # a new card
    assert any("王芳" in m.text for m in card_edits(done.sent) if m.chat_id == STAFF_GROUP)


async def refused(desk: Desk, user_id: int, refusal: str, use_case: str, *args: object) -> Done:
    """The use case is refused with `refusal`, says so in Chinese, and changes and sends nothing."""
    before, ledger_before = await desk.state()
    done = await desk.act(user_id, use_case, *args)
    assert done is not None
    assert (done.outcome.ok, done.outcome.refusal) == (False, refusal), done.outcome
    assert done.message and done.sent == []
    after, ledger_after = await desk.state()
    def kept(t: Ticket) -> tuple:
        return t.status, t.assignee, t.grid_code, t.accepted_at, t.resolved_at, t.accept_due_at

    assert kept(after) == kept(before)
    assert [(e.action, e.at) for e in ledger_after] == [(e.action, e.at) for e in ledger_before]
    return done


@pytest.mark.parametrize(("use_case", "args"), [
    ("accept", ()), ("progress", ("看过了",)), ("resolve", ("修好了",)), ("escalate", ("要社区协调",)),
    ("transfer", ("g2", "不归我们")), ("assign", (str(WORKER_2),)),
])
async def test_another_grids_worker_and_a_resident_may_do_nothing(desk, use_case, args):
    for intruder in (WORKER_2, RESIDENT, PARTNER):
        done = await refused(desk, intruder, "not_allowed", use_case, *args)
        assert "没有权限" in done.message


async def test_an_act_the_state_no_longer_allows_is_refused_with_the_state(desk):
    await performed(desk, WORKER_1, "accept")
    done = await refused(desk, WORKER_1, "ticket_now", "accept")
    assert done.outcome.detail["status"] == "accepted" and "处理中" in done.message
    await performed(desk, WORKER_1, "resolve", "修好了")  # 进展 stays open until the ticket closes
    for use_case, args in (("resolve", ("再办一次",)), ("escalate", ("上报",)), ("transfer", ("g2", "转"))):
        done = await refused(desk, WORKER_1, "ticket_now", use_case, *args)
        assert "已办结" in done.message
    await refused(desk, STAFF, "ticket_now", "assign", str(WORKER_1))


@pytest.mark.parametrize("note", ["", "   \n ", "灯" * (MAX_NOTE + 1)])
async def test_a_blank_or_too_long_note_is_refused(desk, note):
    await performed(desk, WORKER_1, "accept")
    for use_case, args in (("progress", (note,)), ("resolve", (note,)), ("escalate", (note,)),
                           ("transfer", ("g2", note))):
        done = await refused(desk, WORKER_1, "note_invalid", use_case, *args)
        assert str(MAX_NOTE) in done.message


async def test_a_note_of_exactly_the_limit_is_taken(desk):
    await performed(desk, WORKER_1, "accept")
    await performed(desk, WORKER_1, "progress", "灯" * MAX_NOTE)


@pytest.mark.parametrize("target", ["u1011", "u1041", "u1031", "u1001", "u999999", "g1", "g99", "x", ""])
async def test_a_transfer_target_nobody_may_receive_is_refused(desk, target):
    """The handler themselves, a partner, a building leader, staff, a stranger, the own grid, no grid."""
    await refused(desk, WORKER_1, "nobody_to_transfer_to", "transfer", target, "不归我们")


@pytest.mark.parametrize("target", [str(PARTNER), "1031", "1012", "999999", "u1011", "abc", ""])
async def test_an_assign_target_nobody_may_receive_is_refused(desk, target):
    """A partner, a building leader, another grid's worker (the ticket is grid 1's), a stranger, junk."""
    await performed(desk, WORKER_1, "escalate", "需要社区协调")
    await refused(desk, STAFF, "cannot_receive", "assign", target)


async def test_a_grid_with_nobody_to_receive_is_named(uow_factory):
    roster = EXAMPLE_ROSTER.read_text(encoding="utf-8")
    for name in ("刘洋", "黄秀英"):  # grid 2's worker and leader on leave
        roster = roster.replace(f"{{name: {name}, ", f"{{name: {name}, away: true, ")
    async with uow_factory() as uow:
        await uow.roster.upsert(parse_roster(roster, "roster.yaml"))
        await uow.commit()
    desk = Desk(make_conversations(uow_factory, FakeClock()), uow_factory)
    await desk.file_report()
    done = await refused(desk, WORKER_1, "grid_has_nobody", "transfer", "g2", "不归我们")
    assert done.outcome.detail == {"grid": "第二网格"} and "第二网格" in done.message


async def test_the_targets_offered_are_the_ones_taken(desk):
    async def targets(ctx: Context) -> tuple[list, list]:
        ticket = await ctx.uow.tickets.get_by_id(desk.ticket_id)
        return ticket_actions.transfer_targets(ctx, ticket), ticket_actions.assign_targets(ctx, ticket)

    transfer, _ = await desk.bot.as_staff(WORKER_1, COMMUNITY, targets)
    assert [target for _, target in transfer] == ["g2", "g3", "g4", "g5", "g6", "g7"]  # grid 1: one worker
    _, assign = await desk.bot.as_staff(STAFF, COMMUNITY, targets)
    assert sorted(target for _, target in assign) == [str(WORKER_1), str(LEADER_1)]


async def test_an_unknown_community_runs_nothing(desk):
    assert await desk.act(WORKER_1, "accept", community="NOPE") is None
    assert await desk.act(WORKER_1, "accept", community="") is None
    assert (await desk.state())[0].status is TicketStatus.ASSIGNED


async def test_the_chat_dialog_under_way_is_left_alone(desk):
    """The worker began a progress note in the chat; an accept from the console does not touch it, and
    the note typed afterwards still goes through."""
    worker = desk.chat(WORKER_1, "王芳")
    await worker.press("签收")
    await worker.press("进展")
    await performed(desk, WORKER_1, "progress", "控制台写的进展")
    await worker.send("电工明天来")
    assert "进展已记录" in worker.last_text
    _, ledger = await desk.state()
    notes = [e.details["note"] for e in ledger if e.action is Action.PROGRESS]
    assert notes == ["控制台写的进展", "电工明天来"]


async def test_a_grid_leader_may_act_on_their_grids_ticket(desk):
    done = await performed(desk, LEADER_1, "accept")
    assert any("签收" in m.text for m in to(done.sent, RESIDENT))
    event = await last_event(desk)
    assert event.actor == f"staff:{LEADER_1}"
