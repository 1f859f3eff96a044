"""The staff console as a grid worker uses it, in Debian's chromium at phone and desktop width, through the
real bot polling the sandbox: a resident files in chat, the worker sends /console, opens the one-time
link (a second time it is refused), filters the list, opens the ticket (a <script> in the resident's
words stays text), 签收 and 办结 with a note (the resident hears both in chat), downloads the ledgers;
another grid's ticket is neither listed nor openable. Every page is screenshotted at both widths
(GRIDBOT_SCREENSHOTS, default tests/.screenshots)."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from browser_support import VIEWPORT_NAMES, VIEWPORTS, PageFactory, screenshot
from console_support import LINK
from dialog_support import FakeClock, load_example
from e2e_support import Resident, free_port, live, roster_sandbox
from openpyxl import load_workbook
from playwright.async_api import Dialog, Locator, Page, expect

from gridcore.ticket import TicketStatus
from sandbox.client import SandboxClient

pytest_plugins = ["browser_fixtures"]

RESIDENT, NEIGHBOUR, UPSTAIRS, WORKER = 5001, 5002, 5003, 1011  # 王芳: grid 1's worker (3号楼); 6号楼: grid 2
SECRETARY = 1001  # 李建国, 书记: community staff
SESSION_COOKIE = "gridbot_console"
SCRIPT = "<script>alert(1)</script>"
OWN_WORDS = f"3号楼2单元楼道灯坏了{SCRIPT}晚上看不见"
OTHER_WORDS = "6号楼1单元门口的垃圾堆了三天没人清"
DISPUTE_WORDS = "3号楼2单元楼上半夜装修噪音太大，说不通"  # 噪音扰民: a 矛盾纠纷 category
RESOLUTION = "已换新灯，楼道亮了"


@dataclass
class Town:
    client: SandboxClient
    console: str  # http://127.0.0.1:<port>/console
    clock: FakeClock  # the bot's and the console's


@pytest.fixture
async def town(engine, uow_factory):
    await load_example(uow_factory)
    port, clock = free_port(), FakeClock()
    async with live(engine, clock, sandbox=roster_sandbox(),
                    console_listen=f"127.0.0.1:{port}") as (client, _):
        yield Town(client, f"http://127.0.0.1:{port}/console", clock)


async def file(resident: Resident, text: str, *taps: str) -> None:
    """A resident reports in their private chat, as tests/test_e2e_staff.py does."""
    await resident.say(text)
    await resident.expect("对吗")
    for label in ("是的", *taps, "没有照片", "实名反映", "确认提交"):
        await resident.tap_when(label)
    await resident.expect("已提交")


async def number_of(uow_factory, user_id: int) -> str:
    async with uow_factory() as uow:
        [ticket] = await uow.tickets.for_resident(user_id)
    return ticket.number


async def downloaded(page: Page, trigger: Locator) -> tuple[str, bytes]:
    """What the browser saves when `trigger` is clicked: its file name and bytes."""
    async with page.expect_download() as started:
        await trigger.click()
    download = await started.value
    return download.suggested_filename, Path(await download.path()).read_bytes()


def xlsx_rows(data: bytes) -> list[list[object]]:
    book = load_workbook(io.BytesIO(data), read_only=True)
    return [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]


async def login_link(town: Town, staff: Resident) -> str:
    """The link the bot sends `staff` for /console now (newer than any they read before)."""
    await staff.say("/console")
    found = LINK.search(await staff.expect("/console/login/"))
    assert found
    return f"{town.console}/login/{found.group(1)}"


# The first elements reaching past the screen's right edge, to name the culprit when a page is too wide.
STICKING_OUT = """(width) => [...document.querySelectorAll("body *")]
    .filter((element) => element.getBoundingClientRect().right > width + 1).slice(0, 8)
    .map((element) => `${element.tagName}.${element.className} ${element.getBoundingClientRect().right}`)"""


async def fits_the_screen(page: Page, viewport_name: str) -> None:
    """Nothing makes the page scroll sideways (a phone's finger would drag the whole page)."""
    width = await page.evaluate("document.scrollingElement.scrollWidth")
    inner = await page.evaluate("window.innerWidth")
    screen = VIEWPORTS[viewport_name].width
    wide = await page.evaluate(STICKING_OUT, screen)
    assert width <= inner == screen, f"{page.url}: {width}px wide in {inner}px: {wide}"


# Tables whose box is narrower than they are (they scroll sideways inside it).
CUT_TABLES = """() => [...document.querySelectorAll("table")]
    .filter((table) => table.parentElement.scrollWidth > table.parentElement.clientWidth + 1)
    .map((table) => (table.querySelector("th") || table).textContent.trim().slice(0, 20))"""


# Visible text set smaller than a phone's readable minimum (12 CSS px), with its size.
TINY_TEXT = """() => [...document.querySelectorAll("body *")]
    .filter((element) => element.getClientRects().length > 0 && [...element.childNodes].some(
        (node) => node.nodeType === Node.TEXT_NODE && node.textContent.trim()))
    .filter((element) => parseFloat(getComputedStyle(element).fontSize) < 12)
    .map((element) => `${element.textContent.trim().slice(0, 20)} ${getComputedStyle(element).fontSize}`)"""


async def shot(page: Page, name: str, viewport_name: str) -> None:
    await screenshot(page, f"console-{name}-{viewport_name}")  # first: the picture shows what is wrong
    await fits_the_screen(page, viewport_name)
    assert await page.evaluate(TINY_TEXT) == [], page.url
    if viewport_name == "desktop":  # a PC has room: every column in sight (a phone may scroll a table)
        assert await page.evaluate(CUT_TABLES) == [], page.url


@pytest.mark.parametrize("viewport_name", VIEWPORT_NAMES)
async def test_a_grid_worker_handles_a_ticket_in_the_browser(
        town: Town, uow_factory, page_at: PageFactory, viewport_name: str) -> None:
    resident, worker = Resident(town.client, RESIDENT), Resident(town.client, WORKER)
    await file(resident, OWN_WORDS, "跳过")
    await worker.expect("新工单")
    await file(Resident(town.client, NEIGHBOUR), OTHER_WORDS, "跳过")
    await file(Resident(town.client, UPSTAIRS), DISPUTE_WORDS, "跳过")
    own, other = await number_of(uow_factory, RESIDENT), await number_of(uow_factory, NEIGHBOUR)
    dispute = await number_of(uow_factory, UPSTAIRS)

    link = await login_link(town, worker)
    page = await page_at(viewport_name)
    dialogs: list[str] = []

    def dialog_opened(dialog: Dialog) -> None:  # an alert() from the resident's words would land here
        dialogs.append(dialog.message)

    page.on("dialog", dialog_opened)
    await page.goto(link)
    await expect(page).to_have_url(f"{town.console}/tickets")
    await expect(page.locator(".who")).to_have_text("王芳")

    again = await page_at(viewport_name)  # the link forwarded, or opened twice: a fresh browser
    refused = await again.goto(link)
    assert refused is not None and refused.status == 403
    await expect(again.get_by_role("heading", level=1)).to_have_text("这个登录链接已经失效")
    await shot(again, "login-refused", viewport_name)

    # The list: grid 1's ticket only; filters by status and by words.
    rows = page.locator("table.tickets tbody tr")
    await expect(rows).to_have_count(2)  # grid 1's two, newest first
    await expect(rows.nth(1)).to_contain_text(own)
    await expect(page.locator("table.tickets")).not_to_contain_text(other)
    await page.locator("select[name=status]").select_option(label="未办结")
    await page.get_by_label("搜索").fill("楼道灯")
    await page.get_by_role("button", name="筛选").click()
    await expect(page).to_have_url(re.compile(r"/tickets\?status=open&.*q=%E6%A5%BC%E9%81%93%E7%81%AF"))
    await expect(rows).to_have_count(1)
    await expect(rows.first.locator(".summary")).to_contain_text(SCRIPT)
    category = page.locator("select[name=category]")
    if viewport_name == "phone":  # folded away on a phone, so the tickets start on the first screen
        await expect(category).to_be_hidden()
        await page.get_by_text("更多条件").click()
    await category.select_option(label="公共设施")
    await page.get_by_role("button", name="筛选").click()
    await expect(rows).to_have_count(1)
    await expect(category).to_be_visible()  # a condition in use keeps 更多条件 open
    await category.select_option(label="全部")
    await page.get_by_label("搜索").fill("垃圾")  # the other grid's words: nothing of theirs shows
    await page.get_by_role("button", name="筛选").click()
    await expect(page.locator("p.count")).to_have_text("共 0 张")
    await page.get_by_label("搜索").fill(own[-4:])  # by number, as a worker types it from the chat card
    await page.get_by_role("button", name="筛选").click()
    await expect(rows).to_have_count(1)
    await shot(page, "list", viewport_name)

    elsewhere = await page.goto(f"{town.console}/tickets/{other}")
    assert elsewhere is not None and elsewhere.status == 403
    await expect(page.get_by_role("heading", level=1)).to_have_text("没有找到这张工单")
    await shot(page, "ticket-refused", viewport_name)

    await page.go_back()
    await page.get_by_role("link", name=own).click()
    await expect(page).to_have_url(f"{town.console}/tickets/{own}")
    await expect(page.locator(".description")).to_have_text(OWN_WORDS)  # the tag as text, not markup
    assert await page.locator("main script").count() == 0
    await shot(page, "ticket", viewport_name)

    await page.get_by_role("button", name="签收").click()
    await expect(page.locator(".flash")).to_have_text("已签收，居民会收到通知。")
    await resident.expect("王** 签收")
    await page.get_by_label("办结结果（居民会收到并评价）").fill(RESOLUTION)
    await page.get_by_role("button", name="办结").click()
    await expect(page.locator(".flash")).to_have_text("已办结，居民会收到结果并评价。")
    await expect(page.locator("h1 .status")).to_have_text("已办结")
    await expect(page.locator(".timeline")).to_contain_text(RESOLUTION)
    assert RESOLUTION in await resident.expect(RESOLUTION)
    await shot(page, "ticket-resolved", viewport_name)
    async with uow_factory() as uow:
        assert (await uow.tickets.get(own)).status is TicketStatus.RESOLVED

    # The list's export takes its filters along: the ticket ledger of just this ticket, both formats.
    await page.goto(f"{town.console}/tickets")
    await page.get_by_label("搜索").fill(own)
    await page.get_by_role("button", name="筛选").click()
    await expect(rows).to_have_count(1)
    name, data = await downloaded(page, page.get_by_role("link", name="Excel", exact=True))
    assert name.startswith("工单台账_兴康社区_") and name.endswith(".xlsx")
    [header, line] = xlsx_rows(data)
    ledger = dict(zip(header, line, strict=True))
    assert ledger["编号"] == own and ledger["状态"] == "已办结" and ledger["处理人"] == "王芳"
    assert SCRIPT in ledger["问题描述"] and "张阿姨" not in map(str, line)  # a grid worker's: redacted
    name, data = await downloaded(page, page.get_by_role("link", name="CSV", exact=True))
    assert name.endswith(".csv") and data.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads Chinese
    [header, line] = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert header[:2] == ["编号", "反映时间"] and line[0] == own and "已办结" in line

    await page.goto(f"{town.console}/exports")
    await page.locator("select[name=kind]").select_option(label="矛盾纠纷台账")
    name, data = await downloaded(page, page.get_by_role("button", name="下载"))
    assert name.startswith("矛盾纠纷台账_") and name.endswith(".xlsx")
    [header, *lines] = xlsx_rows(data)
    assert header[:3] == ["编号", "受理时间", "小区"]
    assert [line[0] for line in lines] == [dispute]  # only the dispute, only grid 1's

    # Four days on, the dispute is past its 3 days to feedback; the idle session has ended: a new link.
    town.clock.advance(days=4)
    await page.goto(await login_link(town, worker))
    await expect(page).to_have_url(f"{town.console}/tickets")
    late = page.locator("table.tickets tbody tr.late")
    await expect(late).to_have_count(1)
    await expect(late).to_contain_text(dispute)
    await expect(late.locator(".badge")).to_have_text("超期")
    await shot(page, "list-overdue", viewport_name)
    response = await page.goto(town.console + "/")
    await expect(page.locator(".dash-attention")).to_contain_text(dispute)  # 需要关注的工单
    for name, path in (("dashboard", "/"), ("roster", "/roster"), ("qr", "/qr"), ("exports", "/exports")):
        response = await page.goto(town.console + path)
        assert response is not None and response.status == 200
        await shot(page, name, viewport_name)
    assert dialogs == []  # the resident's <script> never ran


async def test_the_session_cookie_is_out_of_scripts_reach_and_a_forged_form_changes_nothing(
        town: Town, uow_factory, page_at: PageFactory) -> None:
    resident, worker = Resident(town.client, RESIDENT), Resident(town.client, WORKER)
    await file(resident, OWN_WORDS, "跳过")
    own = await number_of(uow_factory, RESIDENT)
    page = await page_at("desktop")
    await page.goto(await login_link(town, worker))
    await expect(page).to_have_url(f"{town.console}/tickets")

    [cookie] = [c for c in await page.context.cookies() if c["name"] == SESSION_COOKIE]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["path"] == "/console"
    assert SESSION_COOKIE not in await page.evaluate("document.cookie")

    await page.goto(f"{town.console}/tickets/{own}")
    accept = page.locator(f"form[action='/console/tickets/{own}/accept']")
    await accept.locator("input[name=csrf]").evaluate("field => { field.value = 'forged'; }")
    async with page.expect_response(f"{town.console}/tickets/{own}/accept") as answer:
        await accept.get_by_role("button", name="签收").click()
    assert (await answer.value).status == 403
    await expect(page.get_by_role("heading", level=1)).to_have_text("这个表单已过期")
    async with uow_factory() as uow:
        assert (await uow.tickets.get(own)).status is TicketStatus.ASSIGNED


async def test_the_community_secretary_on_a_pc_sees_every_grid_and_downloads_the_full_ledger(
        town: Town, uow_factory, page_at: PageFactory) -> None:
    await file(Resident(town.client, RESIDENT), OWN_WORDS, "跳过")
    await file(Resident(town.client, NEIGHBOUR), OTHER_WORDS, "跳过")
    own, other = await number_of(uow_factory, RESIDENT), await number_of(uow_factory, NEIGHBOUR)
    page = await page_at("desktop")
    await page.goto(await login_link(town, Resident(town.client, SECRETARY)))
    await expect(page.locator(".who")).to_have_text("李建国")
    rows = page.locator("table.tickets tbody tr")
    await expect(rows).to_have_count(2)
    await expect(page.locator("table.tickets")).to_contain_text(other)
    await page.locator("select[name=grid]").select_option(label="第二网格")
    await page.get_by_role("button", name="筛选").click()
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text(other)
    await shot(page, "list-secretary", "desktop")

    await page.goto(f"{town.console}/exports")
    await expect(page.locator("main")).to_contain_text("含个人信息")
    await page.locator("select[name=format]").select_option(label="CSV")
    await shot(page, "exports-secretary", "desktop")
    name, data = await downloaded(page, page.get_by_role("button", name="下载"))
    assert name.startswith("工单台账_兴康社区_") and name.endswith(".csv")
    [header, *lines] = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    by_number = {line[0]: dict(zip(header, line, strict=True)) for line in lines}
    assert set(by_number) == {own, other}  # the whole community, oldest first
    assert by_number[own]["反映人"] == "张阿姨" and by_number[other]["反映人"] == "李叔"  # the archive's
