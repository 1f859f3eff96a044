"""The console's 统计, 网格名册, 二维码 and 台账下载 pages, on SQLite and PostgreSQL: each for community
staff and for a grid worker (their grid only), none without a session; the charts are PNGs, a poster's
code opens the bot at its building, a ledger downloads as CSV (BOM, Chinese header) or XLSX, with the
residents' names and phones only for community staff."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from urllib.parse import quote, unquote

import openpyxl
import zxingcpp
from console_support import STAFF, STREET, WORKER_1, client_for, file_ticket, log_in
from PIL import Image
from pypdf import PdfReader

from gridcore.posters import deep_link
from gridcore.roster import parse_roster
from handlers.app import Conversations
from handlers.texts import Texts
from web.app import console_app
from web.state import CONSOLE, ConsoleConfig

pytest_plugins = ["console_fixtures"]

CUIHU = Path(__file__).resolve().parents[1] / "examples" / "cuihu.yaml"
BUILDING_LEADER = 1031  # 徐长海, 楼栋长 of 3号楼: may log in, sees no roster
PNG = b"\x89PNG\r\n\x1a\n"
PAGES = ("/console/", "/console/roster", "/console/qr", "/console/exports", "/console/chart/weeks.png",
         "/console/qr/XK/3.png", "/console/qr/XK/3.pdf", "/console/exports/download?format=csv")


async def page(client, path: str) -> str:
    response = await client.get(path)
    assert response.status == 200, (path, response.status)
    return await response.text()


async def two_grids(console, uow_factory):
    """Overdue tickets in grid 1 (王芳's) and grid 2, the resident named with a phone."""
    one = await file_ticket(uow_factory, console.clock, "XK-20261117-0001", days_ago=5, assignee=WORKER_1,
                            description="3号楼楼道堆放杂物，张阿姨电话13812345678", phone="13812345678")
    two = await file_ticket(uow_factory, console.clock, "XK-20261117-0002", grid="2", building="5",
                            days_ago=5, description="<script>alert(1)</script>垃圾没人清")
    return one, two


async def test_every_page_needs_a_session(client):
    for path in PAGES:
        response = await client.get(path, allow_redirects=False)
        assert response.status == 303 and response.headers["Location"] == "/console/login", path


async def test_the_dashboard_shows_the_viewers_scope_and_escapes_descriptions(console, client, uow_factory):
    one, two = await two_grids(console, uow_factory)
    await log_in(client, console.chat(STAFF, "李建国"))
    html = await page(client, "/console/")
    assert one.number in html and two.number in html and "工作看板：兴康社区" in html
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "13812345678" not in html  # the attention list is redacted
    charts = re.findall(r'src="(/console/chart/(?:weeks|rates)\.png\?[^"]+)"', html)
    assert len(charts) == 2
    for url in charts:
        response = await client.get(url.replace("&amp;", "&"))
        assert response.status == 200 and response.content_type == "image/png"
        assert response.headers["Cache-Control"].startswith("private")
        assert (await response.read()).startswith(PNG)
    cached = console_app_of(client).dashboards
    assert len(cached) == 1  # the page and its two images: one computation

    await log_in(client, console.chat(WORKER_1, "王芳"))
    html = await page(client, "/console/")
    assert one.number in html and two.number not in html and "兴康社区 第一网格" in html
    assert (await client.get("/console/chart/rates.png?community=XK")).status == 200


def console_app_of(client):
    return client.server.app[CONSOLE]


async def test_the_roster_is_for_staff_and_grid_workers_not_building_leaders(console, client):
    await log_in(client, console.chat(STAFF, "李建国"))
    html = await page(client, "/console/roster")
    assert "名册：兴康社区" in html and "刘洋" in html and "13800001012" in html
    await log_in(client, console.chat(WORKER_1, "王芳"))
    html = await page(client, "/console/roster")
    assert "名册：兴康社区" in html and "第二网格" in html  # whom to call next door
    await log_in(client, console.chat(BUILDING_LEADER, "徐长海"))
    html = await page(client, "/console/roster")
    assert "13800001012" not in html and "名册只给" in html


async def test_a_buildings_poster_opens_the_bot_at_that_building(console, client):
    await log_in(client, console.chat(WORKER_1, "王芳"))
    html = await page(client, "/console/qr")
    assert "3号楼" in html and 'href="/console/qr/XK/3.png"' in html
    assert "<h2>楼栋（" in html and "无小区" not in html  # a community without estates: just its buildings
    response = await client.get("/console/qr/XK/3.png")
    assert response.status == 200 and response.content_type == "image/png"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and quote("兴康社区-3号楼-二维码.png") in disposition
    image = Image.open(io.BytesIO(await response.read()))
    assert [r.text for r in zxingcpp.read_barcodes(image)] == [deep_link("gridbot_test_bot", "XK", "3")]
    pdf = await client.get("/console/qr/XK/G8.pdf")
    assert pdf.content_type == "application/pdf" and len(PdfReader(io.BytesIO(await pdf.read())).pages) == 1
    assert (await client.get("/console/qr/XK/nowhere.png")).status == 404
    assert (await client.get("/console/qr/CH/1.png")).status == 404  # not a roster of hers


async def test_an_estates_posters_come_in_one_pdf(console, client, uow_factory):
    async with uow_factory() as uow:
        await uow.roster.upsert(parse_roster(CUIHU.read_text(encoding="utf-8"), str(CUIHU)))
        await uow.commit()
    await log_in(client, console.chat(STREET, "周文斌"))
    html = await page(client, "/console/qr?community=CH")
    assert 'href="/console/qr/CH/estate/XZ.pdf"' in html and "香樟苑" in html
    response = await client.get("/console/qr/CH/estate/XZ.pdf")
    assert response.status == 200 and len(PdfReader(io.BytesIO(await response.read())).pages) == 8


async def test_without_the_bots_username_the_page_says_so(console, uow_factory):
    bot = Conversations(uow_factory, Texts(), clock=console.clock, bot_username="",
                        console_url="http://127.0.0.1/console")
    app = console_app(ConsoleConfig(uow_factory, bot, "http://127.0.0.1/console", console.files,
                                    clock=console.clock))
    async for client in client_for(app):
        await log_in(client, console.chat(STAFF, "李建国"))
        html = await page(client, "/console/qr")
        assert "需要机器人的 Telegram 用户名" in html and "/console/qr/XK/3.png" not in html
        assert (await client.get("/console/qr/XK/3.png")).status == 404


def filename_of(response) -> str:
    found = re.search(r"filename\*=UTF-8''([^;]+)", response.headers["Content-Disposition"])
    assert found
    return unquote(found.group(1))


async def test_ledgers_download_with_personal_information_only_for_community_staff(console, client,
                                                                                  uow_factory):
    one, two = await two_grids(console, uow_factory)
    await log_in(client, console.chat(STAFF, "李建国"))
    assert "含个人信息" in await page(client, "/console/exports")
    response = await client.get("/console/exports/download",
                                params={"kind": "tickets", "format": "csv", "from": "2026-11-01",
                                        "to": "2026-11-30"})
    assert response.status == 200 and response.content_type == "text/csv"
    assert filename_of(response) == "工单台账_兴康社区_2026-11-01_2026-11-30.csv"
    body = await response.read()
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:3] == ["编号", "反映时间", "渠道"]
    assert {r[0] for r in rows[1:]} == {one.number, two.number}
    assert "13812345678" in body.decode("utf-8-sig") and "张阿姨" in body.decode("utf-8-sig")

    response = await client.get("/console/exports/download?kind=tickets&format=xlsx")
    assert filename_of(response) == "工单台账_兴康社区_最早_2026-11-22.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(await response.read()))
    sheet = book["工单台账"]
    assert sheet["A1"].value == "编号"
    assert {sheet.cell(r, 1).value for r in (2, 3)} == {one.number, two.number}

    await log_in(client, console.chat(WORKER_1, "王芳"))
    html = await page(client, "/console/tickets")
    assert "/console/exports/download?kind=tickets&amp;format=xlsx" in html
    assert "已脱敏" in await page(client, "/console/exports")
    response = await client.get("/console/exports/download?kind=tickets&format=csv")
    text = (await response.read()).decode("utf-8-sig")
    assert one.number in text and two.number not in text  # her grid only
    assert "13812345678" not in text and "张阿姨" not in text


async def test_the_ticket_lists_export_link_keeps_its_filters(console, client, uow_factory):
    one, two = await two_grids(console, uow_factory)
    await log_in(client, console.chat(STAFF, "李建国"))
    html = await page(client, "/console/tickets?grid=XK:2")
    link = re.search(r'href="(/console/exports/download\?[^"]+format=csv[^"]*)"', html)
    assert link and "grid=XK%3A2" in link.group(1)
    text = (await (await client.get(link.group(1).replace("&amp;", "&"))).read()).decode("utf-8-sig")
    assert two.number in text and one.number not in text


def test_the_console_loads_no_spreadsheet_or_qr_library_until_a_download():
    import subprocess
    import sys

    probe = ("import sys, web.app; print(sorted(m for m in ('openpyxl', 'segno', 'handlers.posters', "
             "'handlers.ledgers') if m in sys.modules))")
    found = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "[]"
