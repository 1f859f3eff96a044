"""The ledgers (台账) a community reports upward: what each row says of a ticket, from the ticket, its
ledger events and the roster. Pure: handlers/ledgers.py loads the tickets, names the values in Chinese
(templates/zh/ledger.html, labels.html) and writes CSV / XLSX.

Privacy: without `full`, no resident's name, phone or own words leave here — the reporter's name and
phone are masked (mask_name / mask_phone) and every text a resident or worker typed goes through
gridcore.redact with the names known for the ticket. With `full` (the community's own archive) they are
as filed. Staff names (the handler) are shown either way: the ledger says who handled what.

Rules:
  deadline (是否超期)  resolved: 按时 if resolved by the feedback deadline, else 超期; not resolved: 超期
                       once the deadline has passed (gridcore.ticket_query.is_overdue), else 未到期;
                       withdrawn: none.
  督办次数             escalations (上报社区) and 督办 events (gridcore.deadlines' supervise stages).
  关闭时间             the last close or withdrawal.
  dispute              the category named 邻里纠纷, and every category the roster marks `dispute: true`.
  调解结果             化解: resolved (or closed after it) and the resident did not answer 未解决
                       (no rating yet, 已解决 and 部分解决 count as 化解); 已撤回: withdrawn, left out of
                       the 化解率; 未化解: everything else (still being handled, reopened, 未解决).
  化解率               化解 / (disputes − withdrawn).
  满意率               the weekly summary's (gridcore.metrics): 满意 + 0.9 × 基本满意 over answered ratings.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from gridcore.community import Category, Community, HandlingMode
from gridcore.metrics import BASIC_WEIGHT, Rate
from gridcore.redact import mask_name, mask_phone, redact
from gridcore.ticket import (
    Action,
    Rating,
    Satisfaction,
    Solved,
    Ticket,
    TicketEvent,
    TicketStatus,
    Urgency,
)
from gridcore.ticket_query import is_overdue

DISPUTE_CATEGORY_NAME = "邻里纠纷"  # a roster's category of this name is a dispute category without saying so
SUPERVISING = frozenset({Action.ESCALATE, Action.SUPERVISE})
ENDING = frozenset({Action.CLOSE, Action.WITHDRAW})


class Deadline(StrEnum):
    ON_TIME = "on_time"  # 按时
    OVERDUE = "overdue"  # 超期
    NOT_DUE = "not_due"  # 未到期


class Outcome(StrEnum):
    SETTLED = "settled"  # 化解
    UNSETTLED = "unsettled"  # 未化解
    WITHDRAWN = "withdrawn"  # 已撤回


@dataclass(frozen=True)
class Place:
    estate: str  # 小区 name, "" when the building has none
    building: str  # building name, "" when the ticket names none
    unit: str


@dataclass(frozen=True)
class TicketLine:
    """One row of the 工单台账. Times are aware (UTC); the writer shows them in the community's zone."""

    number: str
    filed_at: datetime
    on_behalf: bool  # 代办: a building leader filed it for a neighbour
    community: str
    place: Place
    category: str
    urgency: Urgency
    mode: HandlingMode | None  # None: the category is no longer in the roster
    description: str
    anonymous: bool  # the resident reported anonymously: no name, no phone, in either view
    reporter: str  # "" when anonymous or not given
    phone: str
    handler: str
    accepted_at: datetime | None
    resolved_at: datetime | None
    feedback_due_at: datetime
    deadline: Deadline | None
    supervised: int
    transferred: int
    reopened: int
    rating: Rating | None
    status: TicketStatus
    closed_at: datetime | None


@dataclass(frozen=True)
class Parties:
    """当事人 without personal data: the reporting resident (and how many joined), and the other side."""

    joined: int  # other residents who said "也是我反映的"
    on_behalf: bool
    counterpart: str | None  # the 共办 co-handler (物业公司) when the category has one; else a neighbour


@dataclass(frozen=True)
class DisputeLine:
    """One row of the 矛盾纠纷台账."""

    number: str
    filed_at: datetime
    place: Place
    category: str
    parties: Parties
    summary: str
    mediation: tuple[str, ...]  # "MM-DD 内容", oldest first
    mediator: str
    resolved_at: datetime | None
    outcome: Outcome


@dataclass(frozen=True)
class TicketTotals:
    count: int
    resolved: int
    overdue: int
    satisfaction: Rate


@dataclass(frozen=True)
class DisputeTotals:
    count: int
    settled: int
    unsettled: int
    withdrawn: int

    @property
    def settle_rate(self) -> Rate:  # 化解率
        return Rate(self.settled, self.count - self.withdrawn)


def is_dispute(category: Category | None) -> bool:
    return category is not None and (category.dispute or category.name == DISPUTE_CATEGORY_NAME)


def place_of(community: Community, ticket: Ticket) -> Place:
    code = ticket.location.building_code
    building = community.building(code) if code else None
    estate = community.estate(building.estate_code) if building is not None else None
    return Place(estate.name if estate else "", building.name if building else (code or ""),
                 ticket.location.unit or "")


def handler_name(community: Community, ticket: Ticket) -> str:
    """The assignee's roster name; "" when nobody (or an account no longer in the roster) has it."""
    if ticket.assignee is None:
        return ""
    people = community.roles_of(ticket.assignee)
    return people[0].name if people else ""


def resident_names(ticket: Ticket) -> tuple[str, ...]:
    """The names redaction masks in the ticket's texts."""
    return tuple(name for name in (ticket.reporter.display_name,) if name)


def deadline_of(ticket: Ticket, now: datetime) -> Deadline | None:
    if ticket.resolved_at is not None:
        return Deadline.ON_TIME if ticket.resolved_at <= ticket.feedback_due_at else Deadline.OVERDUE
    if ticket.status is TicketStatus.WITHDRAWN:
        return None
    return Deadline.OVERDUE if is_overdue(ticket, now) else Deadline.NOT_DUE


def _count(events: Iterable[TicketEvent], actions: frozenset[Action]) -> int:
    return sum(1 for event in events if event.action in actions)


def ticket_line(ticket: Ticket, events: Sequence[TicketEvent], community: Community, *, full: bool,
                now: datetime) -> TicketLine:
    category = community.category(ticket.category_code)
    reporter = ticket.reporter
    if reporter.anonymous:
        name = phone = ""
    elif full:
        name, phone = reporter.display_name, reporter.phone or ""
    else:
        name = mask_name(reporter.display_name) if reporter.display_name else ""
        phone = mask_phone(reporter.phone)
    description = ticket.description if full else redact(ticket.description, resident_names(ticket))
    ends = [event.at for event in events if event.action in ENDING]
    return TicketLine(
        number=ticket.number, filed_at=ticket.created_at, on_behalf=ticket.filed_by is not None,
        community=community.name, place=place_of(community, ticket),
        category=category.name if category else ticket.category_code, urgency=ticket.urgency,
        mode=category.mode if category else None, description=description, anonymous=reporter.anonymous,
        reporter=name, phone=phone,
        handler=handler_name(community, ticket), accepted_at=ticket.accepted_at,
        resolved_at=ticket.resolved_at, feedback_due_at=ticket.feedback_due_at,
        deadline=deadline_of(ticket, now), supervised=_count(events, SUPERVISING),
        transferred=_count(events, frozenset({Action.TRANSFER})),
        reopened=_count(events, frozenset({Action.REOPEN})), rating=ticket.rating, status=ticket.status,
        closed_at=ends[-1] if ends else None,
    )


def outcome_of(ticket: Ticket) -> Outcome:
    if ticket.status is TicketStatus.WITHDRAWN:
        return Outcome.WITHDRAWN
    done = ticket.status in (TicketStatus.RESOLVED, TicketStatus.CLOSED) and ticket.resolved_at is not None
    unsolved = ticket.rating is not None and ticket.rating.solved is Solved.UNSOLVED
    return Outcome.SETTLED if done and not unsolved else Outcome.UNSETTLED


def mediation_notes(events: Iterable[TicketEvent], timezone: str, *, names: Sequence[str],
                    full: bool) -> tuple[str, ...]:
    """Progress notes and resolve notes, oldest first, each "MM-DD 内容" (local date)."""
    zone = ZoneInfo(timezone)
    notes = []
    for event in events:
        note = event.details.get("note") if event.action in (Action.PROGRESS, Action.RESOLVE) else None
        if isinstance(note, str) and note.strip():
            text = note.strip() if full else redact(note.strip(), names)
            notes.append(f"{event.at.astimezone(zone):%m-%d} {text}")
    return tuple(notes)


def dispute_line(ticket: Ticket, events: Sequence[TicketEvent], community: Community, *,
                 full: bool) -> DisputeLine:
    category = community.category(ticket.category_code)
    names = resident_names(ticket)
    return DisputeLine(
        number=ticket.number, filed_at=ticket.created_at, place=place_of(community, ticket),
        category=category.name if category else ticket.category_code,
        parties=Parties(len(ticket.followers), ticket.filed_by is not None,
                        category.co_handler if category else None),
        summary=ticket.description if full else redact(ticket.description, names),
        mediation=mediation_notes(events, community.timezone, names=names, full=full),
        mediator=handler_name(community, ticket), resolved_at=ticket.resolved_at, outcome=outcome_of(ticket),
    )


def ticket_totals(lines: Iterable[TicketLine]) -> TicketTotals:
    count = resolved = overdue = rated = satisfied = basic = 0
    for line in lines:
        count += 1
        resolved += line.resolved_at is not None
        overdue += line.deadline is Deadline.OVERDUE
        if line.rating is not None and line.rating.answered:
            rated += 1
            satisfied += line.rating.satisfaction is Satisfaction.SATISFIED
            basic += line.rating.satisfaction is Satisfaction.BASIC
    return TicketTotals(count, resolved, overdue, Rate(round(satisfied + BASIC_WEIGHT * basic, 4), rated))


def dispute_totals(lines: Iterable[DisputeLine]) -> DisputeTotals:
    outcomes = [line.outcome for line in lines]
    return DisputeTotals(len(outcomes), outcomes.count(Outcome.SETTLED), outcomes.count(Outcome.UNSETTLED),
                         outcomes.count(Outcome.WITHDRAWN))
