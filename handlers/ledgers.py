"""The ledgers (台账) as files: the tickets a TicketQuery selects, as rows in Chinese
(templates/zh/ledger.html), written as CSV (UTF-8 with a BOM, so Excel opens it as Chinese)
or XLSX (openpyxl).

The CLI (`gridbot export`) and the staff console call build_ledger, then write_csv or write_xlsx. Rows are
in filing order (oldest first, then by number); times are the community's local time. What a row shows of
a resident depends on `full` (gridcore.ledger: redacted unless the viewer has the full right).
"""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import BinaryIO
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from gridcore.community import Community
from gridcore.ledger import (
    DisputeLine,
    TicketLine,
    dispute_line,
    dispute_totals,
    is_dispute,
    ticket_line,
    ticket_totals,
)
from gridcore.metrics import Rate
from gridcore.ports import UnitOfWork
from gridcore.ticket import Ticket, TicketEvent
from gridcore.ticket_query import Sort, TicketQuery
from handlers.texts import Texts

TEMPLATE = "ledger"
Cell = str | int | datetime | None
TotalValue = str | int | Rate
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"  # Excel's number format of the time columns
CSV_DATETIME = "%Y-%m-%d %H:%M"
MAX_WIDTH = 60  # characters (a Chinese one counts two); longer cells wrap
MIN_WIDTH = 6

TICKET_COLUMNS = ("number", "filed_at", "channel", "community", "estate", "building", "unit", "category",
                  "urgency", "mode", "description", "reporter", "phone", "handler", "accepted_at",
                  "resolved_at", "feedback_due_at", "deadline", "supervised", "transferred", "reopened",
                  "contacted", "solved", "satisfaction", "status", "closed_at")
DISPUTE_COLUMNS = ("number", "received_at", "estate", "building", "dispute_category", "parties", "summary",
                   "mediation", "mediator", "resolved_at", "outcome")


class LedgerKind(StrEnum):
    TICKETS = "tickets"  # 工单台账
    DISPUTES = "disputes"  # 矛盾纠纷台账


@dataclass(frozen=True)
class Ledger:
    kind: LedgerKind
    title: str  # the first sheet's name
    headers: tuple[str, ...]
    rows: list[tuple[Cell, ...]]  # datetimes naive, in the community's local time
    totals_title: str
    totals_headers: tuple[str, str]
    totals: list[tuple[str, TotalValue]]


@dataclass(frozen=True)
class Selected:
    ticket: Ticket
    events: Sequence[TicketEvent]
    community: Community


async def communities_of(uow: UnitOfWork, query: TicketQuery) -> list[Community]:
    """The communities the query reaches (its community, else every one its scope covers), by code."""
    codes = ({query.community} if query.community is not None
             else query.scope.communities | {code for code, _ in query.scope.grids})
    found = [await uow.roster.get(code) for code in sorted(codes)]
    return [community for community in found if community is not None]


async def select(uow: UnitOfWork, query: TicketQuery, now: datetime,
                 communities: Sequence[Community]) -> list[Selected]:
    """The tickets the query selects (TicketRepository.search, all of them) with their ledgers, in filing
    order whatever the query's sort: a ledger reads from the oldest. Events come for all the tickets in
    a few queries (TicketRepository.ledgers), not one per ticket."""
    page = await uow.tickets.search(replace(query, sort=Sort.OLDEST), now, limit=None)
    ledgers = await uow.tickets.ledgers([t.id for t in page.tickets if t.id is not None])
    known = {community.code: community for community in communities}
    found: list[Selected] = []
    for ticket in page.tickets:
        if ticket.community_code not in known:  # a grid of another community in the scope
            community = await uow.roster.get(ticket.community_code)
            if community is None:
                continue
            known[community.code] = community
        found.append(Selected(ticket, ledgers.get(ticket.id or 0, []), known[ticket.community_code]))
    return found


async def build_ledger(uow: UnitOfWork, kind: LedgerKind | str, query: TicketQuery, *, full: bool,
                       now: datetime, texts: Texts) -> Ledger:
    """The ledger of the tickets `query` selects (the dispute ledger: only those of dispute categories);
    `full`: names, phones and the residents' own words as filed (the caller checked the right)."""
    kind = LedgerKind(kind)
    communities = await communities_of(uow, query)
    if kind is LedgerKind.DISPUTES:  # read only the dispute categories' tickets (is_dispute decides below)
        codes = frozenset(c.code for community in communities for c in community.categories if is_dispute(c))
        query = replace(query, categories=codes if query.categories is None else query.categories & codes)
    selected = await select(uow, query, now, communities)
    names = LedgerTexts(texts)
    heading: list[tuple[str, TotalValue]] = [
        (names.get("totals_community"), "、".join(c.name for c in communities)),
        (names.get("totals_period"),
         names.get("period", first=_day(query.filed_from), last=_day(query.filed_to))),
        (names.get("totals_exported_at"), f"{now.astimezone(ZoneInfo(query.timezone)):%Y-%m-%d %H:%M}"),
        (names.get("totals_redacted"), names.get("redacted", full=full)),
    ]
    if kind is LedgerKind.TICKETS:
        lines = [(ticket_line(s.ticket, s.events, s.community, full=full, now=now), s.community)
                 for s in selected]
        totals = ticket_totals(line for line, _ in lines)
        return Ledger(kind, names.get("title_tickets"), names.headers(TICKET_COLUMNS),
                      [names.ticket_row(line, ZoneInfo(c.timezone)) for line, c in lines],
                      names.get("title_totals"), (names.get("totals_item"), names.get("totals_value")), [
                          *heading,
                          (names.get("totals_count"), totals.count),
                          (names.get("totals_resolved"), totals.resolved),
                          (names.get("totals_overdue"), totals.overdue),
                          (names.get("totals_satisfaction"), totals.satisfaction),
                      ])
    disputes = [(dispute_line(s.ticket, s.events, s.community, full=full), s.community) for s in selected
                if is_dispute(s.community.category(s.ticket.category_code))]
    settled = dispute_totals(line for line, _ in disputes)
    return Ledger(kind, names.get("title_disputes"), names.headers(DISPUTE_COLUMNS),
                  [names.dispute_row(line, ZoneInfo(c.timezone)) for line, c in disputes],
                  names.get("title_totals"), (names.get("totals_item"), names.get("totals_value")), [
                      *heading,
                      (names.get("totals_count"), settled.count),
                      (names.get("totals_settled"), settled.settled),
                      (names.get("totals_unsettled"), settled.unsettled),
                      (names.get("totals_withdrawn"), settled.withdrawn),
                      (names.get("totals_settle_rate"), settled.settle_rate),
                  ])


def _day(day: object) -> str:
    return "" if day is None else str(day)


def _local(at: datetime | None, zone: ZoneInfo) -> datetime | None:
    return at.astimezone(zone).replace(tzinfo=None) if at is not None else None


class LedgerTexts:
    """The ledger's words: templates/zh/ledger.html, and labels.html's status and rating names."""

    def __init__(self, texts: Texts) -> None:
        self._texts = texts

    def get(self, name: str, **context: object) -> str:
        return self._texts.label_in(TEMPLATE, name, **context)

    def headers(self, columns: Sequence[str]) -> tuple[str, ...]:
        return tuple(self.get(f"column_{column}") for column in columns)

    def ticket_row(self, line: TicketLine, zone: ZoneInfo) -> tuple[Cell, ...]:
        rating = line.rating
        label = self._texts.label
        anonymous = self.get("anonymous") if line.anonymous else ""
        return (
            line.number, _local(line.filed_at, zone),
            self.get("channel_on_behalf" if line.on_behalf else "channel_telegram"), line.community,
            line.place.estate, line.place.building, line.place.unit, line.category,
            self.get(f"urgency_{line.urgency.value}"), line.mode.value if line.mode else "", line.description,
            line.reporter or anonymous, line.phone, line.handler, _local(line.accepted_at, zone),
            _local(line.resolved_at, zone), _local(line.feedback_due_at, zone),
            self.get(f"deadline_{line.deadline.value}") if line.deadline else "",
            line.supervised, line.transferred, line.reopened,
            label(f"rate_c_{int(rating.contacted)}") if rating and rating.contacted is not None else "",
            label(f"rate_s_{rating.solved.value}") if rating and rating.solved else "",
            label(f"rate_f_{rating.satisfaction.value}") if rating and rating.satisfaction else "",
            label(f"status_{line.status.value}"), _local(line.closed_at, zone),
        )

    def dispute_row(self, line: DisputeLine, zone: ZoneInfo) -> tuple[Cell, ...]:
        place = line.place
        building = place.building + (self.get("unit", unit=place.unit) if place.unit else "")
        parties = self.get("parties", joined=line.parties.joined, on_behalf=line.parties.on_behalf,
                           counterpart=line.parties.counterpart)
        return (line.number, _local(line.filed_at, zone), place.estate, building, line.category, parties,
                line.summary, "\n".join(line.mediation), line.mediator, _local(line.resolved_at, zone),
                self.get(f"outcome_{line.outcome.value}"))


# --- writers --------------------------------------------------------------------------------------


def _text(cell: Cell | TotalValue) -> str:
    if cell is None:
        return ""
    if isinstance(cell, datetime):
        return cell.strftime(CSV_DATETIME)
    if isinstance(cell, Rate):
        return cell.percent
    return str(cell)


def write_csv(ledger: Ledger, out: BinaryIO) -> None:
    """The rows under one header line; UTF-8 with a BOM (Excel reads it as Chinese, not GBK). The totals
    are only in the XLSX (a CSV has one table)."""
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=True)
    try:
        writer = csv.writer(text)
        writer.writerow(ledger.headers)
        writer.writerows([_text(cell) for cell in row] for row in ledger.rows)
        text.flush()
    finally:
        text.detach()  # the caller's stream stays open


def display_width(text: str) -> int:
    """Columns a text takes in a spreadsheet: a Chinese (wide) character two."""
    return max((sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)
                for line in text.split("\n")), default=0)


def _fit(headers: Sequence[str], rows: Sequence[Sequence[Cell | TotalValue]]) -> list[int]:
    widths = [display_width(h) for h in headers]
    for row in rows:
        for index, cell in enumerate(row):
            widths[index] = max(widths[index], display_width(_text(cell)))
    return [min(MAX_WIDTH, max(MIN_WIDTH, width + 2)) for width in widths]


def _sheet(sheet: Worksheet, headers: Sequence[str], rows: Sequence[Sequence[Cell | TotalValue]]) -> None:
    sheet.append(list(headers))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    wrap = Alignment(wrap_text=True, vertical="top")
    for row_index, row in enumerate(rows, start=2):
        for column_index, value in enumerate(row, start=1):
            if isinstance(value, Rate):
                shown = value.value if value.value is not None else value.percent  # "—" over nothing
                cell = sheet.cell(row_index, column_index, shown)
                cell.number_format = "0.0%"
                continue
            cell = sheet.cell(row_index, column_index, value)
            if isinstance(value, datetime):
                cell.number_format = DATETIME_FORMAT
            elif isinstance(value, str) and ("\n" in value or display_width(value) > MAX_WIDTH):
                cell.alignment = wrap
    for index, width in enumerate(_fit(headers, rows), start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width


def write_xlsx(ledger: Ledger, out: BinaryIO) -> None:
    """Sheet one: the rows (bold frozen header, fitted widths, real date cells); sheet two: 汇总."""
    book = Workbook()
    rows_sheet = book.active
    rows_sheet.title = ledger.title
    _sheet(rows_sheet, ledger.headers, ledger.rows)
    if ledger.rows:
        rows_sheet.auto_filter.ref = rows_sheet.dimensions
    _sheet(book.create_sheet(ledger.totals_title), ledger.totals_headers, ledger.totals)
    # openpyxl saves to a file name (its documented way to serve a stream: a temporary file).
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "ledger.xlsx"
        book.save(path)
        with path.open("rb") as saved:
            shutil.copyfileobj(saved, out)


# What a caller serving the file needs: the writer and the media type of each format.
WRITERS = {"csv": write_csv, "xlsx": write_xlsx}
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8",
               "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
