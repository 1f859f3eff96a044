"""`gridbot export tickets|disputes` end to end on SQLite and PostgreSQL: tickets stored by the real
repositories, the command run as a person runs it, the file read back."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import openpyxl
from ledger_support import NAME, PHONE, T0, WORDS, filed, mediated
from test_cli import gridbot

from bot.roster_files import read_roster
from gridcore.redact import find
from gridcore.ticket import Solved

CUIHU = read_roster("examples/cuihu.yaml")
XINGKANG = read_roster("examples/roster.yaml")


async def seed(uow_factory) -> None:
    async with uow_factory() as uow:
        await uow.roster.upsert(CUIHU)
        await uow.roster.upsert(XINGKANG)
        for ticket in (mediated(CUIHU),
                       mediated(CUIHU, "CH-20261201-0002", "property", solved=Solved.UNSOLVED),
                       filed(CUIHU, "CH-20261201-0003", "env"),
                       filed(CUIHU, "CH-20261203-0001", "neighbour", at=T0 + timedelta(days=2)),
                       filed(XINGKANG, "XK-20261201-0001", "neighbour", building="1")):
            await uow.tickets.add(ticket)
        await uow.commit()


def env_of(database_url: str) -> dict[str, str]:
    return {"DATABASE_URL": database_url, "LOG_LEVEL": "WARNING", "COMMUNITY": ""}


async def test_tickets_as_csv_redacted(database_url, uow_factory, tmp_path):
    await seed(uow_factory)
    out = tmp_path / "工单台账.csv"
    result = gridbot("export", "tickets", "--community", "CH", "--from", "2026-12-01", "--to", "2026-12-01",
                     "--format", "csv", "--out", str(out), env=env_of(database_url))
    assert result.returncode == 0, result.stderr
    assert "翠湖社区 工单台账：3 行，个人信息已遮盖" in result.stdout and str(out) in result.stdout
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    header = rows[0]
    assert header[:4] == ["编号", "反映时间", "渠道", "社区"] and header[-1] == "关闭时间"
    assert [row[0] for row in rows[1:]] == ["CH-20261201-0001", "CH-20261201-0002", "CH-20261201-0003"]
    first = dict(zip(header, rows[1], strict=True))
    assert (first["反映人"], first["联系电话"], first["处理人"], first["督办次数"]) == (
        "王**", "139****5678", "彭丽华", "2")
    assert first["反映时间"] == "2026-12-01 09:30" and first["状态"] == "已关闭"
    for cell in (cell for row in rows for cell in row):
        assert find(cell, [NAME]) == [] and PHONE not in cell, cell


async def test_disputes_as_xlsx_full(database_url, uow_factory, tmp_path):
    await seed(uow_factory)
    out = tmp_path / "disputes.xlsx"
    result = gridbot("export", "disputes", "--community", "CH", "--format", "xlsx", "--out", str(out),
                     "--full", env=env_of(database_url))
    assert result.returncode == 0, result.stderr
    assert "矛盾纠纷台账：3 行，含完整个人信息" in result.stdout
    book = openpyxl.load_workbook(out)
    sheet = book["矛盾纠纷台账"]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [row[0] for row in rows] == ["CH-20261201-0001", "CH-20261201-0002", "CH-20261203-0001"]
    assert rows[0][1] == datetime(2026, 12, 1, 9, 30)  # a real date cell, in Shanghai time
    assert rows[0][6] == WORDS and PHONE in rows[0][7]  # --full: the resident's own words
    assert rows[1][5] == "居民（反映人）与物业公司" and rows[1][-1] == "未化解"
    totals = dict(book["汇总"].iter_rows(min_row=2, values_only=True))
    assert (totals["件数"], totals["化解"], totals["未化解"]) == (3, 1, 2)


async def test_several_communities_need_community_and_a_period_must_be_in_order(database_url, uow_factory,
                                                                                 tmp_path):
    await seed(uow_factory)
    out = tmp_path / "x.csv"
    env = env_of(database_url)
    unclear = gridbot("export", "tickets", "--format", "csv", "--out", str(out), env=env)
    assert unclear.returncode == 1 and "--community" in unclear.stderr and not out.exists()
    backwards = gridbot("export", "tickets", "--community", "XK", "--from", "2026-12-02",
                        "--to", "2026-12-01", "--format", "csv", "--out", str(out), env=env)
    assert backwards.returncode == 1 and "is after --to" in backwards.stderr and not out.exists()
    bad_day = gridbot("export", "tickets", "--from", "2026-13-01", "--format", "csv", "--out", str(out),
                      env=env)
    assert bad_day.returncode == 2 and "2026-13-01" in bad_day.stderr
    xk = gridbot("export", "disputes", "--community", "XK", "--format", "csv", "--out", str(out), env=env)
    assert xk.returncode == 0 and "兴康社区 矛盾纠纷台账：1 行" in xk.stdout, xk.stderr
