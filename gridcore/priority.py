"""分级响应: a ticket's level (一般 / 紧急 / 重大) — its names in the roster, the feedback promise it makes
at filing, and the clocks recomputed when a handler changes it (调整等级).

    level  签收 window             feedback due                          told at once
    一般   accept_hours (office)   the category's deadline                the handler
    紧急   紧急's (on the clock)   the earlier of the category's and      + a copy to the grid leader,
                                   filed + 紧急's feedback_hours            a card to community staff
    重大   重大's (on the clock)   as 紧急 with 重大's feedback_hours      + the street office; 督办 climbs
                                                                           in half the time

A changed level moves the clocks from now: raised, each due is the earlier of the current one and now +
the new level's window; lowered, the new level's promise counted from filing, never earlier than the
current due nor than MIN_NOTICE from now. A done reminder stage whose time now lies ahead may fire again;
a reminder to the handler whose time the change put behind is marked done (the change itself told them).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from gridcore.community import Category, Community
from gridcore.deadlines import SUPERVISION, reopen_stages, stage_times
from gridcore.ticket import Ticket, TicketEvent, TicketStatus, Urgency

# The roster's words for the levels, also what staff read (templates say the same).
PRIORITY_NAMES = {"一般": Urgency.NORMAL, "紧急": Urgency.URGENT, "重大": Urgency.MAJOR}
LEVEL_NAMES = {level: name for name, level in PRIORITY_NAMES.items()}
MIN_NOTICE = timedelta(hours=1)  # a lowered level never leaves less than this to the next deadline


def feedback_due(community: Community, category: Category | None, urgency: Urgency, at: datetime) -> datetime:
    """When feedback on a ticket of this category and level, filed (or reopened) `at`, falls due."""
    promised = (category.feedback_due(at, community.timezone) if category is not None
                else at + timedelta(days=3))
    window = community.reminders.feedback_window(urgency)
    return min(promised, at + window) if window is not None else promised


def reprioritise(ticket: Ticket, urgency: Urgency, *, community: Community, actor: str, at: datetime,
                 reason: str, assigned_at: datetime | None = None) -> TicketEvent:
    """调整等级: the ledger event, then the clocks of the new level (see the module's rule).
    `assigned_at`: when the ticket reached its handler (the lowered 签收 window counts from it)."""
    raised = urgency.rank > ticket.urgency.rank
    event = ticket.set_priority(urgency, actor=actor, at=at, reason=reason)
    policy = community.reminders
    waiting = ticket.status is TicketStatus.ASSIGNED and ticket.accept_due_at is not None
    if raised:
        window = policy.feedback_window(urgency)
        assert window is not None  # only 紧急 and 重大 are above another level
        ticket.feedback_due_at = min(ticket.feedback_due_at, at + window)
        if waiting:
            assert ticket.accept_due_at is not None
            ticket.accept_due_at = min(ticket.accept_due_at, at + policy.level_accept_window(urgency))
    else:
        category = community.category(ticket.category_code)
        promised = feedback_due(community, category, urgency, ticket.created_at)
        ticket.feedback_due_at = max(ticket.feedback_due_at, promised, at + MIN_NOTICE)
        if waiting:
            assert ticket.accept_due_at is not None
            counted = policy.accept_due(ticket, assigned_at) if assigned_at is not None else at
            ticket.accept_due_at = max(ticket.accept_due_at, counted, at + MIN_NOTICE)
    reopen_stages(ticket, at, policy)
    # A reminder to the handler whose moment the change put behind is not sent late: the change told
    # them (their card shows the new deadline). 督办 stages are never skipped.
    behind = [stage for stage, when in stage_times(ticket, policy).items()
              if when <= at and stage not in SUPERVISION]
    ticket.reminders = (*ticket.reminders, *behind)
    return event

