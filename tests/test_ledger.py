"""The ledgers (台账): rows from a ticket's history (gridcore.ledger), in Chinese, as CSV and XLSX
(handlers/ledgers.py), redacted unless the viewer has the full right."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from ledger_support import NAME, PHONE, T0, WORDS, filed, mediated

from bot.roster_files import read_roster
from gridcore.ledger import (
    Deadline,
    Outcome,
    dispute_line,
    dispute_totals,
    is_dispute,
    outcome_of,
    ticket_line,
)
from gridcore.redact import find
from gridcore.roster import parse_roster
from gridcore.ticket import Action, Rating, Satisfaction, Solved, TicketStatus
from gridcore.ticket_query import Scope, TicketQuery
from handlers.ledgers import (
    DISPUTE_COLUMNS,
    TICKET_COLUMNS,
    LedgerTexts,
    build_ledger,
    write_csv,
    write_xlsx,
)
from handlers.texts import Texts

pytestmark = pytest.mark.memory

CUIHU = read_roster("examples/cuihu.yaml")
XINGKANG = read_roster("examples/roster.yaml")
TEXTS = Texts()
NOW = T0 + timedelta(days=10)
STAFF_ACTOR = "staff:2011"
ROSTER_TEXT = """
community: {code: XK, name: 兴康社区}
grids: [{code: "1", name: 第一网格}]
buildings: [{code: "1", name: 1号楼, grid: "1"}]
staff: [{name: 王芳, role: grid_worker, grid: "1", telegram_user_id: 1011}]
categories: [{code: quarrel, name: 吵架, mode: 自办}]
"""


def no_personal_data(cells) -> None:
    for cell in cells:
        text = "" if cell is None else str(cell)
        assert find(text, [NAME]) == [], text
        assert NAME not in text and PHONE not in text and "5678" not in text.replace("****5678", ""), text


def test_every_column_of_a_handled_ticket_full_and_redacted():
    ticket = mediated(CUIHU)
    events = ticket.new_events
    full = ticket_line(ticket, events, CUIHU, full=True, now=NOW)
    assert (full.number, full.filed_at, full.on_behalf, full.community) == (
        "CH-20261201-0001", T0, False, "翠湖社区")
    assert (full.place.estate, full.place.building, full.place.unit) == ("雅悦花园", "5栋", "2")
    assert (full.category, full.urgency.value, full.mode.value) == ("邻里纠纷", "normal", "自办")
    assert (full.description, full.reporter, full.phone) == (WORDS, NAME, PHONE)
    assert full.handler == "彭丽华"
    assert full.accepted_at == T0 + timedelta(hours=6)
    assert full.resolved_at == T0 + timedelta(days=4)
    assert full.feedback_due_at == T0 + timedelta(days=3)
    assert full.deadline is Deadline.OVERDUE  # resolved a day after the feedback deadline
    assert (full.supervised, full.transferred, full.reopened) == (2, 1, 0)  # 督办 + 上报社区
    assert full.status is TicketStatus.CLOSED and full.closed_at == T0 + timedelta(days=5)
    redacted = ticket_line(ticket, events, CUIHU, full=False, now=NOW)
    assert redacted.reporter == "王**" and redacted.phone == "139****5678"
    assert "楼上装修漏水到我家" in redacted.description
    no_personal_data([redacted.description, redacted.reporter, redacted.phone])
    assert replace(redacted, description=WORDS, reporter=NAME, phone=PHONE) == full


def test_the_rows_in_chinese_every_column():
    ledger_row = _rows(mediated(CUIHU), full=True)[0]
    assert dict(zip(TICKET_COLUMNS, ledger_row, strict=True)) == {
        "number": "CH-20261201-0001", "filed_at": datetime(2026, 12, 1, 9, 30), "channel": "Telegram",
        "community": "翠湖社区", "estate": "雅悦花园", "building": "5栋", "unit": "2", "category": "邻里纠纷",
        "urgency": "一般", "mode": "自办", "description": WORDS, "reporter": NAME, "phone": PHONE,
        "handler": "彭丽华", "accepted_at": datetime(2026, 12, 1, 15, 30),
        "resolved_at": datetime(2026, 12, 5, 9, 30), "feedback_due_at": datetime(2026, 12, 4, 9, 30),
        "deadline": "超期", "supervised": 2, "transferred": 1, "reopened": 0, "contacted": "有人联系了",
        "solved": "已解决", "satisfaction": "基本满意", "status": "已关闭",
        "closed_at": datetime(2026, 12, 6, 9, 30)}


def _rows(ticket, *, full, now=NOW):
    line = ticket_line(ticket, ticket.new_events, CUIHU, full=full, now=now)
    return [LedgerTexts(TEXTS).ticket_row(line, ZoneInfo("Asia/Shanghai"))]


def test_deadline_channel_urgency_and_anonymity():
    fresh = filed(CUIHU, "CH-20261201-0002", "facility", urgent=True, anonymous=True)
    fresh.filed_by = 2031  # a building leader's 代办
    row = dict(zip(TICKET_COLUMNS, _rows(fresh, full=True, now=T0 + timedelta(hours=1))[0], strict=True))
    assert (row["channel"], row["urgency"], row["mode"]) == ("代办", "紧急", "共办")
    assert row["deadline"] == "未到期"
    assert (row["reporter"], row["phone"], row["handler"], row["status"]) == ("匿名", "", "", "已提交")
    late = dict(zip(TICKET_COLUMNS, _rows(fresh, full=False, now=T0 + timedelta(days=4))[0], strict=True))
    assert late["deadline"] == "超期" and late["reporter"] == "匿名"
    fresh.apply(Action.WITHDRAW, actor="resident:5001", at=T0 + timedelta(hours=2))
    gone = dict(zip(TICKET_COLUMNS, _rows(fresh, full=False)[0], strict=True))
    assert (gone["deadline"], gone["status"]) == ("", "已撤回")
    assert gone["closed_at"] == datetime(2026, 12, 1, 11, 30)
    on_time = mediated(CUIHU)
    on_time.feedback_due_at = T0 + timedelta(days=7)
    assert ticket_line(on_time, on_time.new_events, CUIHU, full=False, now=NOW).deadline is Deadline.ON_TIME


def test_reopens_are_counted_and_the_rating_cleared():
    ticket = filed(CUIHU, "CH-20261201-0003", "env")
    ticket.apply(Action.ASSIGN, actor="system", at=T0, assignee=2011)
    ticket.apply(Action.ACCEPT, actor=STAFF_ACTOR, at=T0)
    ticket.apply(Action.RESOLVE, actor=STAFF_ACTOR, at=T0 + timedelta(hours=1), note="清走了")
    ticket.apply(Action.REOPEN, actor="resident:5001", at=T0 + timedelta(hours=2))
    line = ticket_line(ticket, ticket.new_events, CUIHU, full=False, now=NOW)
    assert (line.reopened, line.resolved_at, line.rating, line.status) == (1, None, None,
                                                                          TicketStatus.REOPENED)


def test_which_categories_are_disputes():
    assert XINGKANG.category("neighbour").name == "邻里纠纷" and is_dispute(XINGKANG.category("neighbour"))
    assert XINGKANG.category("noise").dispute and is_dispute(XINGKANG.category("noise"))
    assert CUIHU.category("property").dispute and is_dispute(CUIHU.category("property"))
    assert not is_dispute(XINGKANG.category("env")) and not is_dispute(None)
    assert not CUIHU.category("noise").dispute  # each roster marks its own
    marked = parse_roster(ROSTER_TEXT.replace("mode: 自办", "mode: 自办, dispute: true"), "x.yaml")
    assert marked.categories[0].dispute
    assert not parse_roster(ROSTER_TEXT, "x.yaml").categories[0].dispute  # absent: not a dispute category


@pytest.mark.parametrize(("status", "solved", "outcome"), [
    ("closed", Solved.SOLVED, Outcome.SETTLED),
    ("closed", Solved.PARTLY, Outcome.SETTLED),
    ("closed", Solved.UNSOLVED, Outcome.UNSETTLED),
    ("resolved", None, Outcome.SETTLED),  # resolved, not rated yet
    ("accepted", None, Outcome.UNSETTLED),
    ("withdrawn", None, Outcome.WITHDRAWN),
])
def test_the_settlement_rule(status, solved, outcome):
    ticket = mediated(CUIHU, solved=solved or Solved.SOLVED)
    if solved is None:
        ticket.rating = None
    ticket.status = TicketStatus(status)
    if status in ("accepted", "withdrawn"):
        ticket.resolved_at = None
    assert outcome_of(ticket) is outcome


def test_a_dispute_row_names_no_party_and_tells_the_mediation():
    ticket = mediated(CUIHU)
    ticket.followers = (5002, 5003)
    line = dispute_line(ticket, ticket.new_events, CUIHU, full=False)
    assert line.mediation == ("12-02 已上门，王**说楼上不开门，电话139****5678", "12-03 约双方周六到调解室",
                              "12-05 双方签了调解协议，楼上负责维修")
    assert line.outcome is Outcome.SETTLED and line.mediator == "彭丽华"
    row = dict(zip(DISPUTE_COLUMNS, LedgerTexts(TEXTS).dispute_row(line, ZoneInfo("Asia/Shanghai")),
                   strict=True))
    assert row["parties"] == "居民（反映人等3户）与邻居"
    assert (row["estate"], row["building"], row["dispute_category"], row["outcome"]) == (
        "雅悦花园", "5栋2单元", "邻里纠纷", "化解")
    assert row["received_at"] == datetime(2026, 12, 1, 9, 30)
    no_personal_data(row.values())
    property_dispute = mediated(CUIHU, "CH-20261201-0004", "property")
    property_dispute.filed_by = 2031
    party = LedgerTexts(TEXTS).get("parties", **vars(dispute_line(
        property_dispute, property_dispute.new_events, CUIHU, full=True).parties))
    assert party == "居民（反映人，楼栋长代办）与物业公司"
    full = dispute_line(ticket, ticket.new_events, CUIHU, full=True)
    assert full.summary == WORDS and PHONE in full.mediation[0]


def test_the_settle_rate_leaves_withdrawn_disputes_out():
    settled, unsolved, open_, withdrawn = (mediated(CUIHU, f"CH-20261201-000{i}") for i in range(1, 5))
    unsolved.rating = Rating(True, Solved.UNSOLVED, Satisfaction.UNSATISFIED, "没人管")
    open_.status, open_.resolved_at = TicketStatus.ACCEPTED, None
    withdrawn.status, withdrawn.resolved_at = TicketStatus.WITHDRAWN, None
    totals = dispute_totals(dispute_line(t, t.new_events, CUIHU, full=False)
                            for t in (settled, unsolved, open_, withdrawn))
    assert (totals.count, totals.settled, totals.unsettled, totals.withdrawn) == (4, 1, 2, 1)
    assert totals.settle_rate.percent == "33.3%"


# --- through storage, to files ---------------------------------------------------------------------


async def seeded(uow_factory):
    async with uow_factory() as uow:
        await uow.roster.upsert(CUIHU)
        await uow.roster.upsert(XINGKANG)
        tickets = [mediated(CUIHU), mediated(CUIHU, "CH-20261201-0002", "property", solved=Solved.UNSOLVED),
                   filed(CUIHU, "CH-20261201-0003", "env"),
                   filed(CUIHU, "CH-20261210-0001", "neighbour", at=T0 + timedelta(days=9)),
                   filed(XINGKANG, "XK-20261201-0001", "neighbour", building="1")]
        for ticket in tickets:
            await uow.tickets.add(ticket)
        await uow.commit()


def cuihu_query(**filters) -> TicketQuery:
    return TicketQuery(scope=Scope(communities=frozenset({"CH"})), **filters)


async def test_csv_has_a_bom_and_reads_back(uow_factory):
    await seeded(uow_factory)
    async with uow_factory() as uow:
        ledger = await build_ledger(uow, "tickets", cuihu_query(filed_to=T0.date()), full=False, now=NOW,
                                    texts=TEXTS)
    out = io.BytesIO()
    write_csv(ledger, out)
    data = out.getvalue()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["编号", "反映时间", "渠道"] and len(rows[0]) == len(TICKET_COLUMNS)
    assert [r[0] for r in rows[1:]] == ["CH-20261201-0001", "CH-20261201-0002", "CH-20261201-0003"]
    assert rows[1][1] == "2026-12-01 09:30" and rows[1][-2] == "已关闭"
    no_personal_data(cell for row in rows for cell in row)


async def test_xlsx_has_real_dates_a_frozen_bold_header_and_the_totals(uow_factory, tmp_path):
    await seeded(uow_factory)
    async with uow_factory() as uow:
        ledger = await build_ledger(uow, "disputes", cuihu_query(), full=False, now=NOW, texts=TEXTS)
    path = tmp_path / "disputes.xlsx"
    with path.open("wb") as out:
        write_xlsx(ledger, out)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["矛盾纠纷台账", "汇总"]
    sheet = book["矛盾纠纷台账"]
    header = [c.value for c in sheet[1]]
    assert header == ["编号", "受理时间", "小区", "楼栋", "纠纷类别", "当事人", "纠纷概要", "调解经过",
                      "调解人", "办结时间", "调解结果"]
    assert all(c.font.bold for c in sheet[1]) and sheet.freeze_panes == "A2"
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert [r[0] for r in rows] == ["CH-20261201-0001", "CH-20261201-0002", "CH-20261210-0001"]
    assert rows[0][1] == datetime(2026, 12, 1, 9, 30) and sheet["B2"].number_format == "yyyy-mm-dd hh:mm"
    assert [r[-1] for r in rows] == ["化解", "未化解", "未化解"]
    assert sheet.column_dimensions["G"].width > sheet.column_dimensions["A"].width  # 纠纷概要 is wide
    no_personal_data(cell for row in rows for cell in row)
    totals = dict(book["汇总"].iter_rows(min_row=2, values_only=True))
    assert totals["社区"] == "翠湖社区" and totals["件数"] == 3 and totals["化解"] == 1
    assert totals["化解率"] == pytest.approx(1 / 3) and totals["个人信息"] == "已遮盖"


async def test_the_full_ledger_keeps_names_phones_and_words(uow_factory):
    await seeded(uow_factory)
    async with uow_factory() as uow:
        ledger = await build_ledger(uow, "tickets", cuihu_query(), full=True, now=NOW, texts=TEXTS)
    first = dict(zip(TICKET_COLUMNS, ledger.rows[0], strict=True))
    assert (first["reporter"], first["phone"], first["description"]) == (NAME, PHONE, WORDS)
    totals = dict(ledger.totals)
    assert (totals["件数"], totals["已办结"], totals["超期"]) == (4, 2, 3)
    assert totals["满意率"].percent == "90.0%"  # two 基本满意


async def test_the_query_filters_the_rows(uow_factory):
    await seeded(uow_factory)
    async with uow_factory() as uow:
        by_category = await build_ledger(uow, "tickets", cuihu_query(category="env"), full=False, now=NOW,
                                         texts=TEXTS)
        reopened = await build_ledger(uow, "tickets", cuihu_query(reopened=True), full=False, now=NOW,
                                      texts=TEXTS)
        none = await build_ledger(uow, "disputes", cuihu_query(filed_from=T0.date() + timedelta(days=30)),
                                  full=False, now=NOW, texts=TEXTS)
    assert [r[0] for r in by_category.rows] == ["CH-20261201-0003"]
    assert reopened.rows == []
    assert none.rows == [] and dict(none.totals)["化解率"].percent == "—"
    out = io.BytesIO()
    write_xlsx(none, out)  # an empty ledger is still a workbook with its header
    assert openpyxl.load_workbook(out)["矛盾纠纷台账"]["A1"].value == "编号"


async def test_a_grid_workers_scope_reaches_only_their_grids(uow_factory):
    await seeded(uow_factory)
    async with uow_factory() as uow:
        mine = await build_ledger(uow, "tickets", TicketQuery(scope=Scope(grids=frozenset({("CH", "1")}))),
                                  full=False, now=NOW, texts=TEXTS)
        other = await build_ledger(uow, "disputes", TicketQuery(scope=Scope(grids=frozenset({("CH", "2")}))),
                                   full=False, now=NOW, texts=TEXTS)
    assert [r[0] for r in mine.rows] == ["CH-20261201-0001", "CH-20261201-0002", "CH-20261201-0003",
                                         "CH-20261210-0001"]
    assert other.rows == [] and dict(other.totals)["社区"] == "翠湖社区"


def test_every_format_has_a_writer_and_a_media_type():
    from bot.cli_export import FORMATS
    from handlers.ledgers import MEDIA_TYPES, WRITERS

    assert set(WRITERS) == set(MEDIA_TYPES) == set(FORMATS)
