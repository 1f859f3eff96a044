"""What residents may see of a ticket's ledger.

The reporter sees their own ticket (what they wrote, their photos, what was sent back to them) and the
ledger without the staff-internal entries. Anyone else outside the handling chain — a follower who
pressed "也是我反映的", a resident offered the duplicate — sees only what is public about a ticket:
its number, category, building/unit, dates and its phase in neutral words (已受理 / 处理中 / 已办结 /
已撤回). Never another resident's words, name, phone, room or photos, nor a worker's note or name.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from gridcore.ticket import Action, Ticket, TicketEvent, TicketStatus

# Ledger entries for the handling chain only: routing notes, who looked at the phone number, deadline
# reminders to the handler, messages that could not be delivered, hand-overs between workers (with
# their reasons), a changed level (调整等级: how the office works it, with its reason). The reporter sees
# the ASSIGN that follows a transfer as 派单, without a name.
INTERNAL = frozenset({Action.NOTE, Action.REVEAL_CONTACT, Action.REMIND, Action.DELIVERY_FAILED,
                      Action.TRANSFER, Action.SET_PRIORITY})


def reporter_events(events: Iterable[TicketEvent]) -> list[TicketEvent]:
    """The reporter's own timeline: the ledger less the staff-internal entries."""
    return [e for e in events if e.action not in INTERNAL]


class Phase(StrEnum):
    RECEIVED = "received"  # 已受理
    IN_PROGRESS = "in_progress"  # 处理中
    DONE = "done"  # 已办结
    WITHDRAWN = "withdrawn"  # 已撤回


S = TicketStatus
PHASE_OF = {S.SUBMITTED: Phase.RECEIVED, S.ASSIGNED: Phase.RECEIVED, S.ACCEPTED: Phase.IN_PROGRESS,
            S.ESCALATED: Phase.IN_PROGRESS, S.TRANSFERRED: Phase.IN_PROGRESS, S.REOPENED: Phase.IN_PROGRESS,
            S.RESOLVED: Phase.DONE, S.CLOSED: Phase.DONE, S.WITHDRAWN: Phase.WITHDRAWN}
_ORDER = (Phase.RECEIVED, Phase.IN_PROGRESS, Phase.DONE, Phase.WITHDRAWN)


def phase_of(status: TicketStatus) -> Phase:
    return PHASE_OF[status]


@dataclass(frozen=True)
class PublicTicket:
    """Everything about a ticket that may be shown to a resident who did not report it."""

    number: str
    category_code: str
    building_code: str | None
    unit: str | None
    phase: Phase
    created_at: datetime
    updated_at: datetime  # the last phase change
    followers: int
    history: tuple[tuple[datetime, Phase], ...]  # each phase change, oldest first


def phase_history(events: Iterable[TicketEvent]) -> list[tuple[datetime, Phase]]:
    """When the ticket entered each public phase. A phase never goes back (a transfer after 处理中 is
    still 处理中), except that a reopened ticket is 处理中 again after 已办结."""
    history: list[tuple[datetime, Phase]] = []
    for event in events:
        phase = phase_of(event.to_status)
        if history:
            current = history[-1][1]
            reopened = event.action is Action.REOPEN
            if phase == current or (not reopened and _ORDER.index(phase) < _ORDER.index(current)):
                continue
        history.append((event.at, phase))
    return history


def public_ticket(ticket: Ticket, events: Iterable[TicketEvent] = ()) -> PublicTicket:
    """The public view; with the ledger, the phase is the history's (monotonic), else the status's."""
    history = phase_history(events) or [(ticket.created_at, phase_of(ticket.status))]
    return PublicTicket(ticket.number, ticket.category_code, ticket.location.building_code,
                        ticket.location.unit, history[-1][1], ticket.created_at, history[-1][0],
                        len(ticket.followers), tuple(history))
