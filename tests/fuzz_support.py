"""What the conversation fuzzer checks after every input: an independent authorization table (issue 3's
matrix, written out here, not gridcore.authorization), the ticket state rules, the ledger replay.

The oracle works from a mirror of every ticket as it was BEFORE the input that wrote a ledger event
(one input is one transaction, so that is the state the bot decided on).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from gridcore.ticket import OPEN_STATUSES, STATUS_NEUTRAL, TRANSITIONS, Action, TicketStatus
from storage.models import TicketEventRow, TicketFollowerRow, TicketRow

S = TicketStatus

# The example roster's staff, as issue 3's matrix needs them: id -> (role, grid). Written out here so
# the oracle does not lean on the code it checks (tests/test_fuzz_conversation.py compares it with
# examples/roster.yaml, so a roster change cannot make it silently wrong).
STAFF: dict[int, tuple[str, str | None]] = {
    1001: ("community_staff", None), 1002: ("community_staff", None), 1003: ("community_staff", None),
    1011: ("grid_worker", "1"), 1012: ("grid_worker", "2"), 1013: ("grid_worker", "3"),
    1014: ("grid_worker", "3"), 1015: ("grid_worker", "4"), 1016: ("grid_worker", "5"),
    1017: ("grid_worker", "6"), 1018: ("grid_worker", "7"),
    1021: ("grid_leader", "1"), 1022: ("grid_leader", "2"), 1023: ("grid_leader", "3"),
    1024: ("grid_leader", "4"), 1025: ("grid_leader", "5"), 1026: ("grid_leader", "6"),
    1027: ("grid_leader", "7"),
    1031: ("building_leader", "1"), 1032: ("building_leader", "2"), 1033: ("building_leader", "3"),
    1035: ("building_leader", "6"), 1036: ("building_leader", "7"),
    1041: ("partner", None),
}
HANDLING_ROLES = {"grid_worker", "grid_leader", "community_staff"}  # whom a ticket may be assigned to
NUMBER = re.compile(r"^XK-\d{8}-\d{4}$")


@dataclass
class Mirror:
    status: TicketStatus
    assignee: int | None
    grid: str | None


def handler(user: int, t: Mirror) -> bool:
    return t.assignee is not None and t.assignee == user and user in STAFF


def leads(user: int, t: Mirror) -> bool:
    return t.grid is not None and STAFF.get(user) == ("grid_leader", t.grid)


def community_staff(user: int) -> bool:
    return STAFF.get(user, ("", None))[0] == "community_staff"


def allowed(action: Action, user: int, t: Mirror) -> bool:
    """Issue 3's matrix: who may do what to a ticket. Residents: none of these."""
    if action in (Action.RECATEGORISE, Action.SET_PRIORITY) and t.status not in OPEN_STATUSES:
        return False  # 改类别, 调整等级: an open ticket only
    if action in (Action.ACCEPT, Action.PROGRESS, Action.RESOLVE, Action.TRANSFER,
                  Action.RECATEGORISE, Action.SET_PRIORITY):  # 签收 进展 办结 转派 改类别 调整等级
        return handler(user, t) or leads(user, t) or community_staff(user)
    if action is Action.ESCALATE:  # 上报社区
        return handler(user, t) or leads(user, t)
    if action is Action.REVEAL_CONTACT:  # 联系居民
        return handler(user, t)
    if action is Action.ASSIGN:  # 指派
        return community_staff(user) or leads(user, t)
    raise AssertionError(action)


STAFF_ACTIONS = {Action.ACCEPT, Action.PROGRESS, Action.RESOLVE, Action.TRANSFER, Action.ESCALATE,
                 Action.REVEAL_CONTACT, Action.ASSIGN, Action.RECATEGORISE, Action.SET_PRIORITY}
RESIDENT_ACTIONS = {Action.SUBMIT, Action.FOLLOW, Action.RATE, Action.CLOSE, Action.REOPEN,
                    Action.RESIDENT_UPDATE}
SYSTEM_ACTIONS = {Action.ASSIGN, Action.NOTE, Action.CLOSE, Action.REMIND, Action.SUPERVISE,
                  Action.DELIVERY_FAILED}


class Ledger:
    """Follows the ledger input by input and checks each new event."""

    def __init__(self) -> None:
        self.mirror: dict[int, Mirror] = {}
        self.reporters: dict[int, int] = {}
        self.last_event_id = 0
        self.events = 0
        self.by_action: dict[str, int] = {}

    async def check_new(self, connection: AsyncConnection, sender: int | None) -> set[int]:
        """Check the events written since the last call; `sender` made the input (None: a system job).
        Returns the tickets they touched, whose mirror is then refreshed."""
        rows = (await connection.execute(
            select(TicketEventRow).where(TicketEventRow.id > self.last_event_id).order_by(TicketEventRow.id)
        )).all()
        touched: set[int] = set()
        transferred_by: str | None = None
        for event in rows:
            self.last_event_id = event.id
            self.events += 1
            self.by_action[event.action] = self.by_action.get(event.action, 0) + 1
            touched.add(event.ticket_id)
            action, actor = Action(event.action), event.actor
            kind, _, who = actor.partition(":")
            before = self.mirror.get(event.ticket_id)
            where = f"event {action} by {actor} on ticket {event.ticket_id} ({before})"
            if action is Action.SUBMIT:
                assert before is None and event.from_status is None and event.to_status == S.SUBMITTED, where
                assert kind == "resident" and int(who) == sender, where
                ticket = (await connection.execute(
                    select(TicketRow.reporter_user_id).where(TicketRow.id == event.ticket_id))).scalar_one()
                self.reporters[event.ticket_id] = ticket
                self.mirror[event.ticket_id] = Mirror(S.SUBMITTED, None, None)
                continue
            assert before is not None, where
            assert event.from_status == before.status, where
            if action in STATUS_NEUTRAL:
                assert event.to_status == before.status, where
            else:
                sources, target = TRANSITIONS[action]
                assert before.status in sources and event.to_status == target, where
            if kind == "system":
                assert action in SYSTEM_ACTIONS, where
            elif kind == "staff":
                user = int(who)
                assert user == sender and action in STAFF_ACTIONS, where
                if action is Action.TRANSFER:
                    transferred_by = actor  # the new handler's ASSIGN follows, by the same hand
                if not (action is Action.ASSIGN and transferred_by == actor):
                    assert allowed(action, user, before), f"NOT ALLOWED: {where}"
            else:
                assert kind == "resident" and int(who) == sender and action in RESIDENT_ACTIONS, where
                if action is not Action.FOLLOW:
                    assert int(who) == self.reporters[event.ticket_id], f"not the reporter: {where}"
            before.status = S(event.to_status)
            if action is Action.ASSIGN:
                before.assignee = event.details.get("assignee")
        for ticket_id in touched:
            row = (await connection.execute(
                select(TicketRow.assignee, TicketRow.grid_code).where(TicketRow.id == ticket_id))).one()
            self.mirror[ticket_id].assignee, self.mirror[ticket_id].grid = row.assignee, row.grid_code
        return touched

    async def check_tickets(self, connection: AsyncConnection, ids: set[int] | None = None) -> None:
        """Every (or each touched) ticket is in a legal state, consistent with its ledger."""
        query = select(TicketRow)
        if ids is not None:
            if not ids:
                return
            query = query.where(TicketRow.id.in_(ids))
        for row in (await connection.execute(query)).all():
            legal_state(row, self.mirror.get(row.id))
            followers = (await connection.execute(select(TicketFollowerRow.user_id).where(
                TicketFollowerRow.ticket_id == row.id))).scalars().all()
            assert row.reporter_user_id not in followers and len(set(followers)) == len(followers), row.number
        if ids is None:
            events = (await connection.execute(select(TicketEventRow).order_by(
                TicketEventRow.ticket_id, TicketEventRow.seq))).all()
            closed: set[int] = set()
            for event in events:
                assert event.ticket_id not in closed or event.action == Action.DELIVERY_FAILED, \
                    f"an event after the ticket closed: {event.action} on {event.ticket_id}"
                if event.to_status in (S.CLOSED, S.WITHDRAWN):
                    closed.add(event.ticket_id)


def legal_state(row: Any, mirror: Mirror | None) -> None:
    status = S(row.status)
    where = f"ticket {row.number} {status} assignee={row.assignee} accepted_at={row.accepted_at} " \
            f"resolved_at={row.resolved_at} rating={row.rating}"
    assert NUMBER.match(row.number), where
    assert mirror is not None and mirror.status == status, f"{where}: the ledger says {mirror}"
    assert row.description.strip(), where
    assert status is not S.TRANSFERRED, f"{where}: a transfer always hands the ticket on at once"
    if status in (S.ASSIGNED, S.ACCEPTED, S.RESOLVED):
        assert row.assignee is not None and STAFF.get(row.assignee, ("",))[0] in HANDLING_ROLES, where
    if status is S.ASSIGNED:
        assert row.accept_due_at is not None, where
    if status in (S.ACCEPTED, S.RESOLVED):
        assert row.accepted_at is not None, where
    if status in (S.RESOLVED, S.CLOSED):
        assert row.resolved_at is not None, where
    else:
        assert row.resolved_at is None, where
    if row.rating is not None:
        assert status in (S.RESOLVED, S.CLOSED), where
    if row.grid_code is not None:
        assert row.grid_code in {"1", "2", "3", "4", "5", "6", "7"}, where
