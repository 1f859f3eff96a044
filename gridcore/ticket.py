"""A ticket (工单), its lifecycle state machine and its append-only ledger (台账)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from gridcore.errors import DomainError, IllegalTransition


class TicketStatus(StrEnum):
    SUBMITTED = "submitted"
    ASSIGNED = "assigned"
    ACCEPTED = "accepted"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"
    ESCALATED = "escalated"
    TRANSFERRED = "transferred"
    WITHDRAWN = "withdrawn"


S = TicketStatus
OPEN_STATUSES = frozenset(set(S) - {S.CLOSED, S.WITHDRAWN})


class Action(StrEnum):
    """Everything that can happen to a ticket; the ledger records one of these per event."""

    SUBMIT = "submit"
    ASSIGN = "assign"
    ACCEPT = "accept"
    RESOLVE = "resolve"
    CLOSE = "close"
    REOPEN = "reopen"
    ESCALATE = "escalate"
    TRANSFER = "transfer"
    WITHDRAW = "withdraw"
    # Events that leave the status as it is.
    FOLLOW = "follow"  # another resident joins ("也是我反映的", +1)
    NOTE = "note"
    PROGRESS = "progress"  # a progress note the resident sees
    RATE = "rate"  # the resident's rating (回访评价)
    REVEAL_CONTACT = "reveal_contact"  # the assigned worker looked at the resident's full phone number
    DELIVERY_FAILED = "delivery_failed"  # a message about this ticket could not be delivered, for good
    RESIDENT_UPDATE = "resident_update"  # the reporter added details after filing (text, photos, voice)
    REMIND = "remind"  # a deadline reminder went to the handler
    SUPERVISE = "supervise"  # 督办: an overdue ticket was raised to the grid leader or community staff
    RECATEGORISE = "recategorise"  # staff corrected the category: details {"from", "to"}
    SET_PRIORITY = "set_priority"  # 调整等级: details {"from", "to", "reason"} (Urgency values)


# action -> (statuses it may start from, status it leads to). Anything else is illegal.
TRANSITIONS: Mapping[Action, tuple[frozenset[TicketStatus], TicketStatus]] = MappingProxyType(
    {
        Action.ASSIGN: (frozenset({S.SUBMITTED, S.REOPENED, S.ESCALATED, S.TRANSFERRED}), S.ASSIGNED),
        Action.ACCEPT: (frozenset({S.ASSIGNED}), S.ACCEPTED),
        Action.RESOLVE: (frozenset({S.ACCEPTED}), S.RESOLVED),
        Action.CLOSE: (frozenset({S.RESOLVED}), S.CLOSED),
        Action.REOPEN: (frozenset({S.RESOLVED}), S.REOPENED),
        Action.ESCALATE: (
            frozenset({S.SUBMITTED, S.ASSIGNED, S.ACCEPTED, S.REOPENED, S.TRANSFERRED}),
            S.ESCALATED,
        ),
        Action.TRANSFER: (
            frozenset({S.SUBMITTED, S.ASSIGNED, S.ACCEPTED, S.REOPENED, S.ESCALATED}),
            S.TRANSFERRED,
        ),
        Action.WITHDRAW: (
            frozenset({S.SUBMITTED, S.ASSIGNED, S.ACCEPTED, S.REOPENED, S.ESCALATED, S.TRANSFERRED}),
            S.WITHDRAWN,
        ),
    }
)
STATUS_NEUTRAL = frozenset({Action.FOLLOW, Action.NOTE, Action.PROGRESS, Action.RATE, Action.REVEAL_CONTACT,
                            Action.DELIVERY_FAILED, Action.REMIND, Action.SUPERVISE, Action.RESIDENT_UPDATE,
                            Action.RECATEGORISE, Action.SET_PRIORITY})


class Urgency(StrEnum):
    """分级响应: the ticket's priority (一般 / 紧急 / 重大), each level with its own clocks and readers
    (gridcore.priority). The name stays from the days of two levels: the column is tickets.urgency."""

    NORMAL = "normal"  # 一般
    URGENT = "urgent"  # 紧急
    MAJOR = "major"  # 重大

    @property
    def rank(self) -> int:
        """0, 1, 2: a higher level is more pressing."""
        return URGENCY_ORDER.index(self)

    @property
    def raised(self) -> bool:
        """紧急 or 重大: on the clock, the grid leader and community staff told at once."""
        return self is not Urgency.NORMAL


URGENCY_ORDER = (Urgency.NORMAL, Urgency.URGENT, Urgency.MAJOR)


@dataclass(frozen=True)
class Location:
    building_code: str | None = None
    unit: str | None = None
    detail: str = ""  # floor / room, as the resident typed it


@dataclass(frozen=True)
class Reporter:
    user_id: int
    chat_id: int
    display_name: str = ""
    phone: str | None = None
    anonymous: bool = False


@dataclass(frozen=True)
class TicketEvent:
    """One line of the ledger. Never updated, never deleted."""

    at: datetime
    actor: str  # "resident:<user id>", "staff:<user id>", "system"
    action: Action
    from_status: TicketStatus | None
    to_status: TicketStatus
    details: Mapping[str, Any] = field(default_factory=dict)


class Solved(StrEnum):
    SOLVED = "solved"  # 已解决
    PARTLY = "partly"  # 部分解决
    UNSOLVED = "unsolved"  # 未解决


class Satisfaction(StrEnum):
    SATISFIED = "satisfied"  # 满意
    BASIC = "basic"  # 基本满意
    UNSATISFIED = "unsatisfied"  # 不满意


@dataclass(frozen=True)
class Rating:
    """回访评价: three questions, answered one after another; a reason when it went badly."""

    contacted: bool | None = None  # 是否有人联系您？
    solved: Solved | None = None  # 问题是否解决？
    satisfaction: Satisfaction | None = None  # 您是否满意？
    reason: str | None = None

    @property
    def answered(self) -> bool:
        return None not in (self.contacted, self.solved, self.satisfaction)

    @property
    def unhappy(self) -> bool:
        """未解决 or 不满意: the ticket goes back to the worker."""
        return self.solved is Solved.UNSOLVED or self.satisfaction is Satisfaction.UNSATISFIED

    @property
    def complete(self) -> bool:
        return self.answered and (not self.unhappy or self.reason is not None)


def ticket_number_prefix(community_code: str, day: date) -> str:
    """XK-20261122-: what every number of that community and filing day starts with."""
    return f"{community_code}-{day:%Y%m%d}-"


def format_ticket_number(community_code: str, day: date, sequence: int) -> str:
    """XK-20261122-0007: community code, filing date (community time), daily sequence (4 digits or more)."""
    if sequence < 1:
        raise DomainError("a ticket sequence starts at 1")
    return f"{ticket_number_prefix(community_code, day)}{sequence:04d}"


@dataclass
class Ticket:
    number: str
    community_code: str
    category_code: str
    description: str
    location: Location
    reporter: Reporter
    created_at: datetime
    feedback_due_at: datetime
    urgency: Urgency = Urgency.NORMAL
    status: TicketStatus = TicketStatus.SUBMITTED
    grid_code: str | None = None
    assignee: int | None = None  # Telegram user id of the staff member handling it
    photos: tuple[str, ...] = ()
    voice: str | None = None  # a voice note the resident sent as the description (a file id)
    followers: tuple[int, ...] = ()
    filed_by: int | None = None  # a building leader who filed it for a neighbour (代办)
    accepted_at: datetime | None = None
    resolved_at: datetime | None = None  # the last resolve; None again once reopened
    rating: Rating | None = None
    accept_due_at: datetime | None = None  # 签收 deadline, set when the ticket reaches a handler
    reminders: tuple[str, ...] = ()  # reminder / 督办 stages already done (gridcore.deadlines.Stage)
    id: int | None = None
    # Events recorded since the ticket was loaded; storage appends them and never rewrites older ones.
    new_events: list[TicketEvent] = field(default_factory=list)

    @classmethod
    def file(
        cls,
        *,
        number: str,
        community_code: str,
        category_code: str,
        description: str,
        location: Location,
        reporter: Reporter,
        at: datetime,
        urgent: bool = False,
        urgency: Urgency | None = None,
        photos: tuple[str, ...] = (),
        grid_code: str | None = None,
        voice: str | None = None,
        feedback_deadline: timedelta | None = None,
        feedback_due_at: datetime | None = None,
    ) -> Ticket:
        """A new ticket; its feedback is due at `feedback_due_at` (Category.feedback_due) or, given
        instead, `feedback_deadline` after `at`. Its level is `urgency`, else 紧急 when `urgent`."""
        if not description.strip():
            raise DomainError("a ticket needs a description")
        if (feedback_deadline is None) == (feedback_due_at is None):
            raise ValueError("give feedback_deadline or feedback_due_at, one of them")
        level = urgency if urgency is not None else Urgency.URGENT if urgent else Urgency.NORMAL
        if feedback_due_at is None:
            assert feedback_deadline is not None
            feedback_due_at = at + feedback_deadline
        ticket = cls(
            number=number,
            community_code=community_code,
            category_code=category_code,
            description=description,
            location=location,
            reporter=reporter,
            created_at=at,
            feedback_due_at=feedback_due_at,
            urgency=level,
            grid_code=grid_code,
            photos=photos,
            voice=voice,
        )
        actor = f"resident:{reporter.user_id}"
        details = {"category": category_code, "urgent": level.raised, "priority": level.value,
                   "anonymous": reporter.anonymous}
        ticket.new_events.append(TicketEvent(at, actor, Action.SUBMIT, None, S.SUBMITTED, details))
        return ticket

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def apply(self, action: Action, *, actor: str, at: datetime, **details: Any) -> TicketEvent:
        """Move the ticket along its lifecycle, or raise IllegalTransition and change nothing."""
        if action in STATUS_NEUTRAL:
            raise DomainError(f"{action} does not change the status; use record()")
        sources, target = TRANSITIONS[action]
        if self.status not in sources:
            raise IllegalTransition(self.number, self.status, action)
        event = TicketEvent(at, actor, action, self.status, target, dict(details))
        self.status = target
        if action is Action.ASSIGN:
            self.assignee = details.get("assignee")
        elif action is Action.ACCEPT:
            self.accepted_at = at
        elif action is Action.RESOLVE:
            self.resolved_at = at
        elif action is Action.REOPEN:
            self.resolved_at = None
            self.rating = None
        self.new_events.append(event)
        return event

    def follow(self, user_id: int, *, at: datetime) -> TicketEvent | None:
        """A resident says "也是我反映的": they follow the ticket; the ledger records the +1 once."""
        if not self.is_open:
            raise DomainError(f"ticket {self.number} is no longer open")
        if user_id == self.reporter.user_id or user_id in self.followers:
            return None
        self.followers = (*self.followers, user_id)
        event = TicketEvent(at, f"resident:{user_id}", Action.FOLLOW, self.status, self.status,
                            {"followers": len(self.followers)})
        self.new_events.append(event)
        return event

    def recategorise(self, category_code: str, *, actor: str, at: datetime) -> TicketEvent:
        """Correct the category (改类别). The status, the handler and the feedback deadline stay: the
        deadline is the promise made to the resident at filing, and a misfiled ticket is no reason to
        give the office more time (nor to shorten it under a worker already on it)."""
        if not self.is_open:
            raise DomainError(f"ticket {self.number} is no longer open")
        if category_code == self.category_code:
            raise DomainError(f"ticket {self.number} is already in {category_code}")
        change = {"from": self.category_code, "to": category_code}
        event = self.record(actor, at, Action.RECATEGORISE, **change)
        self.category_code = category_code
        return event

    def set_priority(self, urgency: Urgency, *, actor: str, at: datetime, reason: str) -> TicketEvent:
        """调整等级: the level changes with the reason written in the ledger. The clocks that follow from it
        are the caller's (gridcore.priority.reprioritise)."""
        if not self.is_open:
            raise DomainError(f"ticket {self.number} is no longer open")
        if urgency is self.urgency:
            raise DomainError(f"ticket {self.number} is already {urgency}")
        event = self.record(actor, at, Action.SET_PRIORITY, reason=reason,
                            **{"from": self.urgency.value, "to": urgency.value})
        self.urgency = urgency
        return event

    def record(self, actor: str, at: datetime, action: Action = Action.NOTE, **details: Any) -> TicketEvent:
        """A ledger event that leaves the status as it is (a note, a progress report, a reveal...)."""
        if action not in STATUS_NEUTRAL:
            raise DomainError(f"{action} changes the status; use apply()")
        event = TicketEvent(at, actor, action, self.status, self.status, dict(details))
        self.new_events.append(event)
        return event
