"""分级响应 (issue 20), the core: the roster's levels (a category's `priority`, the community's
`priorities` clocks) and their validation, each level's clocks (a 重大 ticket's due times), who each
level tells, and the clocks recomputed when the level is changed (调整等级)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from dialog_support import example_community

from gridcore.community import Category, Community
from gridcore.deadlines import ReminderPolicy, Stage, stage_times, start_accept_clock
from gridcore.priority import feedback_due, reprioritise
from gridcore.roster import RosterError, parse_roster
from gridcore.routing import route
from gridcore.ticket import Action, Location, Reporter, Ticket, TicketStatus, Urgency

T = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)  # Tuesday 20:00 in Shanghai: after office hours
H = timedelta(hours=1)
ROSTER = """\
community: {{code: XK, name: 兴康社区{community}}}
grids: [{{code: "1", name: 第一网格}}]
buildings: [{{code: "3", name: 3号楼, grid: "1"}}]
staff: [{{name: 王芳, role: grid_worker, grid: "1", telegram_user_id: 1011}}]
categories:
  - {{code: env, name: 环境卫生{category}}}
"""


def roster(community: str = "", category: str = "") -> Community:
    return parse_roster(ROSTER.format(community=community, category=category), "roster.yaml")


def problems(community: str = "", category: str = "") -> list[str]:
    with pytest.raises(RosterError) as caught:
        roster(community, category)
    return [str(p) for p in caught.value.problems]


# ------------------------------------------------------------------------------------------------ roster

def test_the_example_roster_has_levels_and_their_clocks() -> None:
    community = example_community()
    levels = {c.code: c.level for c in community.categories}
    assert levels["fire"] is Urgency.URGENT  # priority: 紧急
    assert levels["emergency"] is Urgency.URGENT  # an emergency category defaults to 紧急
    assert levels["env"] is Urgency.NORMAL
    policy = community.reminders
    assert (policy.accept_within_urgent, policy.feedback_within_urgent) == (H, 24 * H)
    assert (policy.accept_within_major, policy.feedback_within_major) == (H / 2, 12 * H)


def test_a_category_priority_and_the_community_priorities_are_read() -> None:
    levels = "{紧急: {accept_hours: 2}, 重大: {accept_hours: 0.25, feedback_hours: 6}}"
    community = roster(f", priorities: {levels}", ", priority: 重大")
    assert community.categories[0].priority is Urgency.MAJOR
    policy = community.reminders
    assert policy.accept_within_urgent == 2 * H and policy.feedback_within_urgent == 24 * H  # default kept
    assert (policy.accept_within_major, policy.feedback_within_major) == (H / 4, 6 * H)
    assert roster(", urgent_accept_hours: 3").reminders.accept_within_urgent == 3 * H  # the older spelling
    assert roster().reminders == ReminderPolicy()


@pytest.mark.parametrize(("community", "category", "says"), [
    ("", ", priority: 特急", 'priority "特急" is not one of 一般, 紧急, 重大'),
    ("", ', emergency: true, numbers: ["119"], priority: 一般', "an emergency category is 紧急 or 重大"),
    (", priorities: {一般: {accept_hours: 4}}", "", 'unknown key "一般"'),
    (", priorities: {紧急: {accept_hours: -1}}", "", "accept_hours must be a positive number of hours"),
    (", priorities: {紧急: {accept_hours: 1, feedback: 2}}", "", 'unknown key "feedback"'),
    (", priorities: {重大: {accept_hours: 0.5, feedback_hours: 0.25}}", "", "is longer than feedback"),
    (", urgent_accept_hours: 2, priorities: {紧急: {accept_hours: 1}}", "", "give one of them"),
    (", priorities: {重大: {accept_hours: 2}}", "", "重大's accept_hours longer than 紧急's"),
])
def test_roster_check_names_a_wrong_level(community: str, category: str, says: str) -> None:
    found = problems(community, category)
    assert len(found) == 1 and says in found[0], found
    assert found[0].startswith("roster.yaml:")


def test_the_example_header_documents_priority() -> None:
    from dialog_support import EXAMPLE_ROSTER
    header = EXAMPLE_ROSTER.read_text(encoding="utf-8").split("\ncommunity:")[0]
    assert "priority  分级响应" in header and "priorities    分级响应" in header


# ------------------------------------------------------------------------------------------------ clocks

def ticket(urgency: Urgency, *, at: datetime = T, due: datetime | None = None) -> Ticket:
    filed = Ticket.file(number="XK-20261124-0001", community_code="XK", category_code="env",
                        description="楼道堆放杂物", location=Location("3"), reporter=Reporter(5001, 5001),
                        at=at, urgency=urgency, grid_code="1", feedback_due_at=due or at + timedelta(days=3))
    filed.apply(Action.ASSIGN, actor="system", at=at, assignee=1011)
    return filed


def office() -> Community:
    community = roster(', office_hours: "08:30-17:30"')
    return community


def test_a_major_tickets_due_times() -> None:
    community = office()
    category = community.categories[0]  # 3 days on the clock
    policy = community.reminders
    due = feedback_due(community, category, Urgency.MAJOR, T)
    assert due == T + 12 * H  # the earlier of the category's 3 days and 重大's 12 h
    major = ticket(Urgency.MAJOR, due=due)
    start_accept_clock(major, T, policy)
    assert major.accept_due_at == T + H / 2  # on the clock at 20:00, office hours or not
    times = stage_times(major, policy)
    assert times[Stage.ACCEPT_REMINDER] == T + H / 4
    assert times[Stage.OVERDUE_LEADER] == T + 12 * H
    assert times[Stage.OVERDUE_STAFF] == T + 24 * H  # half of staff_after (24 h)
    assert times[Stage.OVERDUE_STREET] == T + 36 * H  # and half of street_after


def test_urgent_and_normal_tickets_keep_their_clocks() -> None:
    community = office()
    category, policy = community.categories[0], community.reminders
    assert feedback_due(community, category, Urgency.URGENT, T) == T + 24 * H
    assert feedback_due(community, category, Urgency.NORMAL, T) == T + timedelta(days=3)
    short = replace(category, feedback_deadline=2 * H)
    assert feedback_due(community, short, Urgency.MAJOR, T) == T + 2 * H  # the category's is earlier
    urgent, normal = ticket(Urgency.URGENT), ticket(Urgency.NORMAL)
    start_accept_clock(urgent, T, policy)
    start_accept_clock(normal, T, policy)
    assert urgent.accept_due_at == T + H  # on the clock
    assert normal.accept_due_at == datetime(2026, 11, 25, 4, 30, tzinfo=UTC)  # 12:30 the next working day
    assert stage_times(urgent, policy)[Stage.OVERDUE_STAFF] == urgent.feedback_due_at + 24 * H


def test_raising_a_ticket_brings_its_deadlines_nearer() -> None:
    community = roster()
    normal = ticket(Urgency.NORMAL)
    start_accept_clock(normal, T, community.reminders)
    event = reprioritise(normal, Urgency.MAJOR, community=community, actor="staff:1011", at=T + 2 * H,
                         reason="涉及多户", assigned_at=T)
    assert normal.urgency is Urgency.MAJOR
    assert (event.action, dict(event.details)) == (
        Action.SET_PRIORITY, {"from": "normal", "to": "major", "reason": "涉及多户"})
    assert normal.feedback_due_at == T + 14 * H  # now + 重大's 12 h
    assert normal.accept_due_at == T + 2.5 * H  # now + 重大's half hour, before the 4 h it had
    # "24 h before" is behind the new deadline's start: not sent late; the 4 h one and every 督办 will be.
    assert normal.reminders == (Stage.FEEDBACK_24H,)


def test_lowering_a_ticket_goes_back_to_the_category_deadline_and_its_stages_fire_again() -> None:
    community = roster()
    policy = community.reminders
    major = ticket(Urgency.MAJOR, due=T + 12 * H)
    start_accept_clock(major, T, policy)
    major.reminders = (Stage.ACCEPT_REMINDER, Stage.ACCEPT_OVERDUE, Stage.FEEDBACK_24H, Stage.FEEDBACK_4H,
                       Stage.OVERDUE_LEADER)
    reprioritise(major, Urgency.NORMAL, community=community, actor="staff:1021", at=T + 13 * H,
                 reason="误判，普通问题", assigned_at=T)
    assert major.feedback_due_at == T + timedelta(days=3)  # the category's promise, counted from filing
    assert major.accept_due_at == T + 14 * H  # 4 h after assignment is past: now + 1 h
    # What lies ahead again may fire again; the 签收 reminder (half of 4 h before 14 h) is still behind.
    assert major.reminders == (Stage.ACCEPT_REMINDER,)
    assert set(stage_times(major, policy)) == {Stage.ACCEPT_OVERDUE, Stage.FEEDBACK_24H, Stage.FEEDBACK_4H,
                                              Stage.OVERDUE_LEADER, Stage.OVERDUE_STAFF, Stage.OVERDUE_STREET}


def test_a_lowered_deadline_is_never_less_than_an_hour_away() -> None:
    community = roster(category=", feedback_hours: 2")
    urgent = ticket(Urgency.URGENT, due=T + 2 * H)
    urgent.apply(Action.ACCEPT, actor="staff:1011", at=T)
    reprioritise(urgent, Urgency.NORMAL, community=community, actor="staff:1011", at=T + 5 * H, reason="x")
    assert urgent.feedback_due_at == T + 6 * H


def test_a_closed_ticket_or_the_same_level_is_refused_in_the_core() -> None:
    from gridcore.errors import DomainError
    filed = ticket(Urgency.URGENT)
    with pytest.raises(DomainError):
        filed.set_priority(Urgency.URGENT, actor="staff:1011", at=T, reason="x")
    filed.apply(Action.WITHDRAW, actor="resident:5001", at=T)
    with pytest.raises(DomainError):
        filed.set_priority(Urgency.MAJOR, actor="staff:1011", at=T, reason="x")
    assert filed.urgency is Urgency.URGENT and filed.status is TicketStatus.WITHDRAWN


# ------------------------------------------------------------------------------------------------ routing

@pytest.mark.parametrize(("level", "leader_copy", "staff", "street"), [
    (Urgency.NORMAL, False, False, False),
    (Urgency.URGENT, True, True, False),
    (Urgency.MAJOR, True, True, True),
])
def test_who_each_level_tells_at_filing(level: Urgency, leader_copy: bool, staff: bool, street: bool) -> None:
    community = example_community()
    filed = Ticket.file(number="XK-20261124-0001", community_code="XK", category_code="env",
                        description="楼道堆放杂物", location=Location("3"), reporter=Reporter(5001, 5001),
                        at=T, urgency=level, grid_code="1", feedback_due_at=T + 72 * H)
    routing = route(community, filed, {})
    assert routing.assignee is not None and routing.assignee.grid_code == "1"
    assert any(p.telegram_user_id == 1021 for p in routing.copies) is leader_copy  # 第一网格's leader
    assert (routing.inform_staff, routing.inform_street) == (staff, street)


def test_an_emergency_category_files_at_least_urgent() -> None:
    assert Category("x", "险情", emergency=True).level is Urgency.URGENT
    assert Category("x", "险情", emergency=True, priority=Urgency.MAJOR).level is Urgency.MAJOR
    assert Category("x", "卫生").level is Urgency.NORMAL
    filed = Ticket.file(number="XK-20261124-0001", community_code="XK", category_code="x",
                        description="着火了", location=Location("3"), reporter=Reporter(5001, 5001),
                        at=T, urgent=True, feedback_deadline=H)
    assert filed.urgency is Urgency.URGENT and filed.new_events[0].details["priority"] == "urgent"

