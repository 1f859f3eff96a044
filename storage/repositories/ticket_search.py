"""gridcore.ticket_query.TicketQuery in SQL: the same rule as TicketQuery.matches (tests compare them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Table, and_, exists, false, func, or_, select

from gridcore.ticket import Action, TicketStatus
from gridcore.ticket_query import Sort, TicketQuery
from storage.models import TicketEventRow, TicketRow

tickets: Table = TicketRow.__table__  # type: ignore[assignment]
events: Table = TicketEventRow.__table__  # type: ignore[assignment]

_RATED_STATUSES = (TicketStatus.RESOLVED.value, TicketStatus.CLOSED.value)


def conditions(query: TicketQuery, now: datetime) -> list[Any]:
    c = tickets.c
    scope = query.scope
    in_scope = [c.community_code.in_(sorted(scope.communities))] if scope.communities else []
    in_scope += [and_(c.community_code == community, c.grid_code == grid)
                 for community, grid in sorted(scope.grids)]
    found: list[Any] = [or_(*in_scope) if in_scope else false()]
    if query.statuses:
        found.append(c.status.in_(sorted(status.value for status in query.statuses)))
    if query.community is not None:
        found.append(c.community_code == query.community)
    if query.grid is not None:
        found.append(c.grid_code == query.grid)
    if query.buildings is not None:
        found.append(c.building_code.in_(sorted(query.buildings)) if query.buildings else false())
    if query.category is not None:
        found.append(c.category_code == query.category)
    if query.categories is not None:
        found.append(c.category_code.in_(sorted(query.categories)) if query.categories else false())
    if query.handler is not None:
        found.append(c.assignee == query.handler)
    if query.urgency is not None:
        found.append(c.urgency == query.urgency.value)
    start, end = query.filed_bounds()
    if start is not None:
        found.append(c.created_at >= start)
    if end is not None:
        found.append(c.created_at < end)
    if query.overdue:
        found += [c.resolved_at.is_(None), c.status != TicketStatus.WITHDRAWN.value, c.feedback_due_at < now]
    if query.unrated:
        found += [c.status.in_(_RATED_STATUSES),
                  or_(c.rating.is_(None), c.rating["satisfaction"].as_string().is_(None))]
    if query.reopened:
        found.append(exists(select(events.c.id).where(events.c.ticket_id == c.id,
                                                      events.c.action == Action.REOPEN.value)))
    for term in query.word_terms():
        term = term.lower()
        found.append(or_(func.lower(c.number).contains(term, autoescape=True),
                         func.lower(c.description).contains(term, autoescape=True),
                         func.lower(c.location_detail).contains(term, autoescape=True)))
    return found


def order(sort: Sort) -> list[Any]:
    c = tickets.c
    return {
        Sort.NEWEST: [c.created_at.desc(), c.id.desc()],
        Sort.OLDEST: [c.created_at, c.id],
        Sort.DUE: [c.feedback_due_at, c.id],
        Sort.NUMBER: [c.number],
        Sort.STATUS: [c.status, c.created_at.desc(), c.id.desc()],
    }[sort]
