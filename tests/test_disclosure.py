"""gridcore.disclosure: the reporter's ledger without staff-internal entries; the public phases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gridcore.disclosure import INTERNAL, Phase, phase_history, reporter_events
from gridcore.ticket import Action, TicketEvent, TicketStatus

S = TicketStatus
T0 = datetime(2026, 11, 22, 1, 30, tzinfo=UTC)


def ledger(*steps: tuple[Action, TicketStatus]) -> list[TicketEvent]:
    events, status = [], None
    for minute, (action, to) in enumerate(steps):
        events.append(TicketEvent(T0 + timedelta(minutes=minute), "system", action, status, to, {}))
        status = to
    return events


A = Action
STORY = ledger((A.SUBMIT, S.SUBMITTED), (A.NOTE, S.SUBMITTED), (A.ASSIGN, S.ASSIGNED),
               (A.REVEAL_CONTACT, S.ASSIGNED), (A.ACCEPT, S.ACCEPTED), (A.REMIND, S.ACCEPTED),
               (A.TRANSFER, S.TRANSFERRED), (A.ASSIGN, S.ASSIGNED), (A.DELIVERY_FAILED, S.ASSIGNED),
               (A.ACCEPT, S.ACCEPTED), (A.PROGRESS, S.ACCEPTED), (A.SUPERVISE, S.ACCEPTED),
               (A.RESOLVE, S.RESOLVED), (A.REOPEN, S.REOPENED), (A.ACCEPT, S.ACCEPTED),
               (A.RESOLVE, S.RESOLVED), (A.RATE, S.RESOLVED), (A.CLOSE, S.CLOSED))


def test_the_reporter_sees_the_ledger_less_what_is_internal():
    shown = [e.action for e in reporter_events(STORY)]
    assert not set(shown) & INTERNAL
    # Routing notes, phone looks, reminders, undeliverable messages and transfers are the chain's own.
    assert shown == [A.SUBMIT, A.ASSIGN, A.ACCEPT, A.ASSIGN, A.ACCEPT, A.PROGRESS, A.SUPERVISE, A.RESOLVE,
                     A.REOPEN, A.ACCEPT, A.RESOLVE, A.RATE, A.CLOSE]


def test_a_follower_sees_phases_that_never_go_back_except_after_a_reopen():
    phases = [phase for _, phase in phase_history(STORY)]
    assert phases == [Phase.RECEIVED, Phase.IN_PROGRESS, Phase.DONE, Phase.IN_PROGRESS, Phase.DONE]
    withdrawn = ledger((Action.SUBMIT, S.SUBMITTED), (Action.WITHDRAW, S.WITHDRAWN))
    assert [phase for _, phase in phase_history(withdrawn)] == [Phase.RECEIVED, Phase.WITHDRAWN]
