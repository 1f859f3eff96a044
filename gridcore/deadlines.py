"""The clocks of a ticket and the reminders and 督办 they lead to. Pure: the caller passes `now`.

Two clocks run per ticket:
- acceptance (签收): due `accept_within` after the ticket reached its handler (紧急 / 重大: their own,
  shorter windows); with the community's office hours set, a 一般 window counts office time only
  (gridcore.workdays), 紧急 and 重大 run on the clock;
- feedback (反馈, the 3-day promise): due `ticket.feedback_due_at` (calendar time or working days, as the
  category says: Category.feedback_due; 紧急 / 重大: no later than their feedback window,
  gridcore.priority); met when the ticket is resolved.

Stages, each sent at most once (the ticket remembers which are done, in the same transaction as the
messages they cause):

    accept_reminder   half the acceptance time gone, not accepted        → the handler
    accept_overdue    acceptance deadline passed, not accepted           → the grid leader (督办)
    feedback_24h      24 h before feedback is due, not resolved          → the handler
    feedback_4h       4 h before                                         → the handler
    overdue_leader    feedback deadline passed, not resolved             → grid leader + resident (督办)
    overdue_staff     `staff_after` later still not resolved             → community staff (督办)
    overdue_street    `street_after` later still not resolved            → street office staff (督办)

A 重大 ticket's staff and street 督办 come after half those gaps.

When several stages of one clock are due at once (the bot was down), only the latest is sent and the
earlier ones count as done: a "24 h before" reminder is no use once the ticket is overdue.
A reopened ticket starts a new feedback clock (see restart_clock).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from gridcore.ticket import Ticket, TicketStatus, Urgency
from gridcore.workdays import OfficeHours, add_office_time


class Stage(StrEnum):
    ACCEPT_REMINDER = "accept_reminder"
    ACCEPT_OVERDUE = "accept_overdue"
    FEEDBACK_24H = "feedback_24h"
    FEEDBACK_4H = "feedback_4h"
    OVERDUE_LEADER = "overdue_leader"
    OVERDUE_STAFF = "overdue_staff"
    OVERDUE_STREET = "overdue_street"


ACCEPT_STAGES = (Stage.ACCEPT_REMINDER, Stage.ACCEPT_OVERDUE)
FEEDBACK_STAGES = (Stage.FEEDBACK_24H, Stage.FEEDBACK_4H, Stage.OVERDUE_LEADER, Stage.OVERDUE_STAFF,
                   Stage.OVERDUE_STREET)
SUPERVISION = frozenset({Stage.ACCEPT_OVERDUE, Stage.OVERDUE_LEADER, Stage.OVERDUE_STAFF,  # 督办
                         Stage.OVERDUE_STREET})
WAITING_FOR_ACCEPT = frozenset({TicketStatus.ASSIGNED})
WAITING_FOR_RESULT = frozenset({TicketStatus.SUBMITTED, TicketStatus.ASSIGNED, TicketStatus.ACCEPTED,
                                TicketStatus.REOPENED, TicketStatus.ESCALATED, TicketStatus.TRANSFERRED})


@dataclass(frozen=True)
class ReminderPolicy:
    accept_within: timedelta = timedelta(hours=4)
    accept_within_urgent: timedelta = timedelta(hours=1)  # 紧急 (roster: priorities 紧急 accept_hours)
    feedback_within_urgent: timedelta = timedelta(hours=24)
    accept_within_major: timedelta = timedelta(minutes=30)  # 重大
    feedback_within_major: timedelta = timedelta(hours=12)
    feedback_reminders: tuple[timedelta, ...] = (timedelta(hours=24), timedelta(hours=4))
    staff_after: timedelta = timedelta(hours=24)  # after the grid leader was told
    street_after: timedelta = timedelta(hours=24)  # after community staff were told
    # The community's office hours; None: the acceptance window runs on the clock.
    office_hours: OfficeHours | None = None

    def level_accept_window(self, urgency: Urgency) -> timedelta:
        return {Urgency.URGENT: self.accept_within_urgent,
                Urgency.MAJOR: self.accept_within_major}.get(urgency, self.accept_within)

    def feedback_window(self, urgency: Urgency) -> timedelta | None:
        """The longest a 紧急 / 重大 ticket's feedback may take; None for 一般 (the category's deadline)."""
        return {Urgency.URGENT: self.feedback_within_urgent,
                Urgency.MAJOR: self.feedback_within_major}.get(urgency)

    def accept_window(self, ticket: Ticket) -> timedelta:
        return self.level_accept_window(ticket.urgency)

    def counts_office_time(self, ticket: Ticket) -> bool:
        """Whether the ticket's acceptance window counts office time only (紧急 / 重大 run on the clock)."""
        return self.office_hours is not None and not ticket.urgency.raised

    def supervision_gaps(self, ticket: Ticket) -> tuple[timedelta, timedelta]:
        """(staff_after, street_after) for the ticket: a 重大 one's 督办 climbs in half the time."""
        if ticket.urgency is Urgency.MAJOR:
            return self.staff_after / 2, self.street_after / 2
        return self.staff_after, self.street_after

    def accept_due(self, ticket: Ticket, at: datetime) -> datetime:
        """When acceptance of the ticket that reached its handler `at` falls due."""
        window = self.accept_window(ticket)
        if self.office_hours is not None and self.counts_office_time(ticket):
            return add_office_time(at, window, self.office_hours)
        return at + window

    def accept_reminder_at(self, ticket: Ticket, due: datetime) -> datetime:
        """Half the acceptance window before `due` (in office time when the window counts it)."""
        half = self.accept_window(ticket) / 2
        if self.office_hours is not None and self.counts_office_time(ticket):
            return add_office_time(due, -half, self.office_hours)
        return due - half


def stage_times(ticket: Ticket, policy: ReminderPolicy) -> dict[Stage, datetime]:
    """When each stage that still applies to the ticket in its current state falls due."""
    times: dict[Stage, datetime] = {}
    if ticket.status in WAITING_FOR_ACCEPT and ticket.accept_due_at is not None:
        times[Stage.ACCEPT_REMINDER] = policy.accept_reminder_at(ticket, ticket.accept_due_at)
        times[Stage.ACCEPT_OVERDUE] = ticket.accept_due_at
    if ticket.status in WAITING_FOR_RESULT:
        due = ticket.feedback_due_at
        before = sorted(policy.feedback_reminders, reverse=True)
        for stage, offset in zip((Stage.FEEDBACK_24H, Stage.FEEDBACK_4H), before, strict=False):
            times[stage] = due - offset
        staff_after, street_after = policy.supervision_gaps(ticket)
        times[Stage.OVERDUE_LEADER] = due
        times[Stage.OVERDUE_STAFF] = due + staff_after
        times[Stage.OVERDUE_STREET] = due + staff_after + street_after
    return {stage: at for stage, at in times.items() if stage not in ticket.reminders}


def due_stages(ticket: Ticket, now: datetime, policy: ReminderPolicy) -> tuple[list[Stage], list[Stage]]:
    """(stages to send now, stages to mark done without sending), per the rule for missed ones."""
    times = stage_times(ticket, policy)
    send: list[Stage] = []
    skip: list[Stage] = []
    for clock in (ACCEPT_STAGES, FEEDBACK_STAGES):
        due = [stage for stage in clock if stage in times and times[stage] <= now]
        if not due:
            continue
        latest = due[-1]
        # A 督办 is never skipped: staff are only told after the leader was, the street after staff.
        keep = {latest} | ({stage for stage in due if stage in SUPERVISION}
                           if latest in (Stage.OVERDUE_STAFF, Stage.OVERDUE_STREET) else set())
        send.extend(stage for stage in due if stage in keep)
        skip.extend(stage for stage in due if stage not in keep)
    return send, skip


def next_reminder_at(ticket: Ticket, policy: ReminderPolicy) -> datetime | None:
    """The earliest moment a stage falls due (indexed, so a sweep finds due tickets cheaply)."""
    times = stage_times(ticket, policy)
    return min(times.values()) if times else None


@dataclass(frozen=True)
class TimeLeft:
    """How far a deadline is from a moment, rounded the way a person says it: under an hour to 5 minutes
    (1-9 exact), under 3 hours to half hours, under 2 days to hours, else days and hours. `overdue`: the
    deadline has passed and the amounts say by how much."""

    overdue: bool
    days: int = 0
    hours: int = 0
    minutes: int = 0


def time_left(due: datetime, now: datetime) -> TimeLeft:
    """The time from `now` to `due` (or past it), rounded for a reminder's text."""
    overdue = now > due
    minutes = round(abs(due - now).total_seconds() / 60)
    if minutes < 10:
        return TimeLeft(overdue, minutes=max(1, minutes))
    if minutes < 58:  # 58 and 59 round to the hour
        return TimeLeft(overdue, minutes=5 * round(minutes / 5))
    if minutes < 165:  # to half hours: 2 h 45 min and over say "3 hours"
        halves = round(minutes / 30)
        return TimeLeft(overdue, hours=halves // 2, minutes=30 * (halves % 2))
    if minutes < 47 * 60 + 30:
        return TimeLeft(overdue, hours=round(minutes / 60))
    days, rest = divmod(minutes, 24 * 60)
    hours = round(rest / 60)
    return TimeLeft(overdue, days=days + hours // 24, hours=hours % 24)


def start_accept_clock(ticket: Ticket, at: datetime, policy: ReminderPolicy) -> None:
    """The ticket reached a handler: acceptance is due within the policy's window."""
    ticket.accept_due_at = policy.accept_due(ticket, at)
    ticket.reminders = tuple(s for s in ticket.reminders if s not in ACCEPT_STAGES)


def reopen_stages(ticket: Ticket, now: datetime, policy: ReminderPolicy) -> None:
    """The clocks moved (调整等级): a stage already done whose time now lies after `now` is undone, so it
    fires again when the new time comes."""
    done = ticket.reminders
    ticket.reminders = ()
    ahead = {stage for stage, at in stage_times(ticket, policy).items() if at > now}
    ticket.reminders = tuple(stage for stage in done if stage not in ahead)


def restart_clock(ticket: Ticket, feedback_due_at: datetime) -> None:
    """Reopened (未解决/不满意): a new feedback promise (Category.feedback_due from now), and its reminders
    start afresh."""
    ticket.feedback_due_at = feedback_due_at
    ticket.reminders = tuple(s for s in ticket.reminders if s not in FEEDBACK_STAGES)
