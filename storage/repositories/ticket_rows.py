"""Ticket rows <-> gridcore objects: the columns a save writes, and tickets and events from rows."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Row

from gridcore.deadlines import ReminderPolicy, next_reminder_at
from gridcore.metrics import TicketFacts
from gridcore.ticket import (
    Action,
    Location,
    Rating,
    Reporter,
    Satisfaction,
    Solved,
    Ticket,
    TicketEvent,
    TicketStatus,
    Urgency,
)
from storage.models import TicketRow

_tickets: Table = TicketRow.__table__  # type: ignore[assignment]
_TICKET_FIELDS = tuple(column.name for column in _tickets.columns)
# Stored value -> enum member by dict: calling the Enum class per column was a tenth of loading a summary.
_SOLVED = {member.value: member for member in Solved}
_SATISFACTION = {member.value: member for member in Satisfaction}
_URGENCY = {member.value: member for member in Urgency}
_STATUS = {member.value: member for member in TicketStatus}
# What the weekly summary reads of a ticket, in TicketFacts' order (status is mapped to its member).
FACT_COLUMNS = tuple(_tickets.c[name] for name in (
    "id", "number", "community_code", "category_code", "building_code", "grid_code", "status", "created_at",
    "feedback_due_at", "resolved_at", "accepted_at"))


def mutable_values(ticket: Ticket, policy: ReminderPolicy) -> dict[str, Any]:
    """Every column save() may change: all but id, number, community and created_at."""
    return {
        "category_code": ticket.category_code,
        "description": ticket.description,
        "building_code": ticket.location.building_code,
        "unit": ticket.location.unit,
        "location_detail": ticket.location.detail,
        "photos": list(ticket.photos),
        "voice": ticket.voice,
        "reporter_user_id": ticket.reporter.user_id,
        "reporter_chat_id": ticket.reporter.chat_id,
        "reporter_display_name": ticket.reporter.display_name,
        "reporter_phone": ticket.reporter.phone,
        "reporter_anonymous": ticket.reporter.anonymous,
        "urgency": ticket.urgency.value,
        "status": ticket.status.value,
        "grid_code": ticket.grid_code,
        "assignee": ticket.assignee,
        "feedback_due_at": ticket.feedback_due_at,
        "filed_by_user_id": ticket.filed_by,
        "accepted_at": ticket.accepted_at,
        "resolved_at": ticket.resolved_at,
        "rating": rating_json(ticket.rating),
        "accept_due_at": ticket.accept_due_at,
        "reminders": list(ticket.reminders),
        # Kept with every save so the reminder sweep finds due tickets by one indexed range.
        "next_reminder_at": next_reminder_at(ticket, policy),
    }


def rating_json(rating: Rating | None) -> dict[str, Any] | None:
    if rating is None:
        return None
    return {"contacted": rating.contacted, "solved": rating.solved, "satisfaction": rating.satisfaction,
            "reason": rating.reason}


def rating_from_json(data: dict[str, Any] | None) -> Rating | None:
    if data is None:
        return None
    return Rating(
        contacted=data.get("contacted"),
        solved=_SOLVED[data["solved"]] if data.get("solved") else None,
        satisfaction=_SATISFACTION[data["satisfaction"]] if data.get("satisfaction") else None,
        reason=data.get("reason"),
    )


def ticket_from_row(row: Row[Any], follower_ids: Sequence[int]) -> Ticket:
    """A row of select(tickets): all its columns, in the table's order (unpacked by position: a summary
    turns ~10,000 rows into tickets, and attribute access per column was a third of that)."""
    if row._fields != _TICKET_FIELDS:
        raise ValueError(f"not a full tickets row: {row._fields}")
    (ticket_id, number, community_code, category_code, description, building_code, unit, location_detail,
     photos, reporter_user_id, reporter_chat_id, reporter_display_name, reporter_phone, reporter_anonymous,
     urgency, status, grid_code, assignee, created_at, feedback_due_at, _updated_at, filed_by_user_id,
     accepted_at, resolved_at, rating, accept_due_at, reminders, _next_reminder_at, voice) = row
    return Ticket(
        id=ticket_id,
        number=number,
        community_code=community_code,
        category_code=category_code,
        description=description,
        location=Location(building_code, unit, location_detail),
        reporter=Reporter(
            user_id=reporter_user_id,
            chat_id=reporter_chat_id,
            display_name=reporter_display_name,
            phone=reporter_phone,
            anonymous=reporter_anonymous,
        ),
        created_at=created_at,
        feedback_due_at=feedback_due_at,
        urgency=_URGENCY[urgency],
        status=_STATUS[status],
        grid_code=grid_code,
        assignee=assignee,
        photos=tuple(photos),
        voice=voice,
        followers=tuple(follower_ids),
        filed_by=filed_by_user_id,
        accepted_at=accepted_at,
        resolved_at=resolved_at,
        rating=rating_from_json(rating),
        accept_due_at=accept_due_at,
        reminders=tuple(reminders),
    )


def facts_from_rows(rows: Iterable[tuple[Any, ...]]) -> list[TicketFacts]:
    """Rows of select(*FACT_COLUMNS) as TicketFacts."""
    status = _STATUS
    return [TicketFacts(i, n, c, cat, b, g, status[s], at, due, done, accepted)
            for i, n, c, cat, b, g, s, at, due, done, accepted in rows]


def event_from_row(row: Row[Any]) -> TicketEvent:
    return TicketEvent(
        at=row.at,
        actor=row.actor,
        action=Action(row.action),
        from_status=TicketStatus(row.from_status) if row.from_status is not None else None,
        to_status=TicketStatus(row.to_status),
        details=dict(row.details),
    )


