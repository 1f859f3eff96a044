"""The ticket lifecycle: every legal transition works, every illegal one raises and changes nothing."""

from datetime import UTC, date, datetime, timedelta

import pytest

from gridcore.errors import DomainError, IllegalTransition
from gridcore.ticket import (
    TRANSITIONS,
    Action,
    Location,
    Reporter,
    Ticket,
    TicketStatus,
    Urgency,
    format_ticket_number,
)

AT = datetime(2026, 11, 22, 8, 30, tzinfo=UTC)
LIFECYCLE_ACTIONS = list(TRANSITIONS)


def new_ticket(**overrides) -> Ticket:
    args = dict(number="XK-20261122-0001", community_code="XK", category_code="env",
                feedback_deadline=timedelta(days=3), description="一楼堆放杂物，楼道都堵了",
                location=Location("3", "2", "1楼"), reporter=Reporter(501, 501, "张阿姨"), at=AT)
    args.update(overrides)
    return Ticket.file(**args)


def test_filing_sets_deadline_status_and_first_ledger_event():
    ticket = new_ticket()
    assert ticket.status is TicketStatus.SUBMITTED
    assert ticket.feedback_due_at == AT + timedelta(days=3)
    assert ticket.urgency is Urgency.NORMAL
    [event] = ticket.new_events
    assert (event.action, event.from_status, event.to_status) == (Action.SUBMIT, None, TicketStatus.SUBMITTED)
    assert event.actor == "resident:501"


def test_urgent_ticket_and_custom_deadline():
    ticket = new_ticket(urgent=True, feedback_deadline=timedelta(hours=24))
    assert ticket.urgency is Urgency.URGENT
    assert ticket.feedback_due_at == AT + timedelta(hours=24)


def test_empty_description_is_refused():
    with pytest.raises(DomainError):
        new_ticket(description="   ")


@pytest.mark.parametrize(
    ("number", "expected"),
    [(1, "XK-20261122-0001"), (7, "XK-20261122-0007"), (12345, "XK-20261122-12345")],
)
def test_ticket_number_format(number, expected):
    assert format_ticket_number("XK", date(2026, 11, 22), number) == expected


def test_ticket_number_sequence_starts_at_one():
    with pytest.raises(DomainError):
        format_ticket_number("XK", date(2026, 11, 22), 0)


def ticket_in(status: TicketStatus) -> Ticket:
    ticket = new_ticket()
    ticket.status = status
    ticket.new_events.clear()
    return ticket


@pytest.mark.parametrize("status", list(TicketStatus))
@pytest.mark.parametrize("action", LIFECYCLE_ACTIONS)
def test_every_transition_is_legal_or_raises(status, action):
    ticket = ticket_in(status)
    sources, target = TRANSITIONS[action]
    if status in sources:
        event = ticket.apply(action, actor="staff:9", at=AT, reason="r")
        assert ticket.status is target
        assert (event.from_status, event.to_status, event.action) == (status, target, action)
        assert event.details == {"reason": "r"}
        assert ticket.new_events == [event]
    else:
        with pytest.raises(IllegalTransition):
            ticket.apply(action, actor="staff:9", at=AT)
        assert ticket.status is status
        assert ticket.new_events == []


def test_happy_path_through_the_loop():
    ticket = new_ticket()
    for action in (Action.ASSIGN, Action.ACCEPT, Action.RESOLVE, Action.CLOSE):
        ticket.apply(action, actor="staff:9", at=AT, assignee=1001)
    assert ticket.status is TicketStatus.CLOSED
    assert not ticket.is_open
    assert [e.action for e in ticket.new_events] == [
        Action.SUBMIT, Action.ASSIGN, Action.ACCEPT, Action.RESOLVE, Action.CLOSE]


def test_closed_and_withdrawn_are_terminal():
    for status in (TicketStatus.CLOSED, TicketStatus.WITHDRAWN):
        for action in LIFECYCLE_ACTIONS:
            with pytest.raises(IllegalTransition):
                ticket_in(status).apply(action, actor="x", at=AT)


def test_assign_records_the_assignee():
    ticket = new_ticket()
    ticket.apply(Action.ASSIGN, actor="system", at=AT, assignee=1001)
    assert ticket.assignee == 1001


def test_follow_adds_once_and_never_the_reporter():
    ticket = new_ticket()
    ticket.new_events.clear()
    assert ticket.follow(502, at=AT) is not None
    assert ticket.follow(502, at=AT) is None
    assert ticket.follow(501, at=AT) is None  # the reporter already gets updates
    assert ticket.followers == (502,)
    [event] = ticket.new_events
    assert event.action is Action.FOLLOW
    assert event.from_status == event.to_status == TicketStatus.SUBMITTED


def test_follow_a_closed_ticket_is_refused():
    with pytest.raises(DomainError):
        ticket_in(TicketStatus.CLOSED).follow(502, at=AT)


def test_status_neutral_actions_cannot_be_applied():
    with pytest.raises(DomainError):
        new_ticket().apply(Action.FOLLOW, actor="x", at=AT)


def test_record_keeps_status():
    ticket = new_ticket()
    event = ticket.record("staff:1", AT, note="已电话联系")
    assert event.action is Action.NOTE and ticket.status is TicketStatus.SUBMITTED
