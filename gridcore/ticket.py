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
STATUS_NEUTRAL = frozenset({Action.FOLLOW, Action.NOTE})


class Urgency(StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"


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


def format_ticket_number(community_code: str, day: date, sequence: int) -> str:
    """XK-20261122-0007: community code, filing date (community time), daily sequence."""
    if sequence < 1:
        raise DomainError("a ticket sequence starts at 1")
    return f"{community_code}-{day:%Y%m%d}-{sequence:04d}"


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
    assignee: str | None = None
    photos: tuple[str, ...] = ()
    followers: tuple[int, ...] = ()
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
        feedback_deadline: timedelta,
        description: str,
        location: Location,
        reporter: Reporter,
        at: datetime,
        urgent: bool = False,
        photos: tuple[str, ...] = (),
        grid_code: str | None = None,
    ) -> Ticket:
        if not description.strip():
            raise DomainError("a ticket needs a description")
        ticket = cls(
            number=number,
            community_code=community_code,
            category_code=category_code,
            description=description,
            location=location,
            reporter=reporter,
            created_at=at,
            feedback_due_at=at + feedback_deadline,
            urgency=Urgency.URGENT if urgent else Urgency.NORMAL,
            grid_code=grid_code,
            photos=photos,
        )
        actor = f"resident:{reporter.user_id}"
        details = {"category": category_code, "urgent": urgent, "anonymous": reporter.anonymous}
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

    def record(self, actor: str, at: datetime, **details: Any) -> TicketEvent:
        """A note in the ledger that leaves the status as it is."""
        event = TicketEvent(at, actor, Action.NOTE, self.status, self.status, dict(details))
        self.new_events.append(event)
        return event
