"""The staff console as a grid worker uses it, in Debian's chromium at phone and desktop width, through the
real bot polling the sandbox: a resident files in chat, the worker sends /console, opens the one-time
link (a second time it is refused), filters the list, opens the ticket (a <script> in the resident's
words stays text), 签收 and 办结 with a note (the resident hears both in chat), downloads the ledgers;
another grid's ticket is neither listed nor openable. Every page is screenshotted at both widths
(GRIDBOT_SCREENSHOTS, default tests/.screenshots)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from browser_support import VIEWPORT_NAMES, VIEWPORTS, PageFactory, screenshot
from console_support import LINK
from dialog_support import FakeClock, load_example
from e2e_support import Resident, free_port, live, roster_sandbox
from playwright.async_api import Dialog, Page, expect

from gridcore.ticket import TicketStatus
from sandbox.client import SandboxClient

pytest_plugins = ["browser_fixtures"]

RESIDENT, NEIGHBOUR, WORKER = 5001, 5002, 1011  # 王芳: grid 1's worker (3号楼); 6号楼 is grid 2's
SESSION_COOKIE = "gridbot_console"
SCRIPT = "<script>alert(1)</script>"
OWN_WORDS = f"3号楼2单元楼道灯坏了{SCRIPT}晚上看不见"
OTHER_WORDS = "6号楼1单元门口的垃圾堆了三天没人清"
RESOLUTION = "已换新灯，楼道亮了"


@dataclass
class Town:
    client: SandboxClient
    console: str  # http://127.0.0.1:<port>/console


@pytest.fixture
async def town(engine, uow_factory):
    await load_example(uow_factory)
    port = free_port()
    async with live(engine, FakeClock(), sandbox=roster_sandbox(),
                    console_listen=f"127.0.0.1:{port}") as (client, _):
        yield Town(client, f"http://127.0.0.1:{port}/console")


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


async def login_link(town: Town, user_id: int) -> str:
    staff = Resident(town.client, user_id)
    await staff.say("/console")
    found = LINK.search(await staff.expect("/console/login/"))
    assert found
    return f"{town.console}/login/{found.group(1)}"


async def fits_the_screen(page: Page, viewport_name: str) -> None:
    """Nothing makes the page scroll sideways (a phone's finger would drag the whole page)."""
    width = await page.evaluate("document.scrollingElement.scrollWidth")
    inner = await page.evaluate("window.innerWidth")
    assert width <= inner == VIEWPORTS[viewport_name].width, f"{page.url}: {width}px wide in {inner}px"


async def shot(page: Page, name: str, viewport_name: str) -> None:
    await fits_the_screen(page, viewport_name)
    await screenshot(page, f"console-{name}-{viewport_name}")


@pytest.mark.parametrize("viewport_name", VIEWPORT_NAMES)
async def test_a_grid_worker_handles_a_ticket_in_the_browser(
        town: Town, uow_factory, page_at: PageFactory, viewport_name: str) -> None:
    resident, worker = Resident(town.client, RESIDENT), Resident(town.client, WORKER)
    await file(resident, OWN_WORDS, "跳过")
    await worker.expect("新工单")
    await file(Resident(town.client, NEIGHBOUR), OTHER_WORDS, "跳过")
    own, other = await number_of(uow_factory, RESIDENT), await number_of(uow_factory, NEIGHBOUR)

    link = await login_link(town, WORKER)
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
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text(own)
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
    await expect(page.locator(".flash")).to_have_text("成功")
    await resident.expect("王** 签收")
    await page.get_by_label("办结结果（居民会收到并评价）").fill(RESOLUTION)
    await page.get_by_role("button", name="办结").click()
    await expect(page.locator(".flash")).to_have_text("成功")
    await expect(page.locator("h1 .status")).to_have_text("已办结")
    await expect(page.locator(".timeline")).to_contain_text(RESOLUTION)
    assert RESOLUTION in await resident.expect(RESOLUTION)
    await shot(page, "ticket-resolved", viewport_name)
    async with uow_factory() as uow:
        assert (await uow.tickets.get(own)).status is TicketStatus.RESOLVED

    for name, path in (("dashboard", "/"), ("roster", "/roster"), ("qr", "/qr"), ("exports", "/exports")):
        response = await page.goto(town.console + path)
        assert response is not None and response.status == 200
        await shot(page, name, viewport_name)
    assert dialogs == []  # the resident's <script> never ran


async def test_the_session_cookie_is_out_of_scripts_reach_and_a_forged_form_changes_nothing(
        town: Town, uow_factory, page_at: PageFactory) -> None:
    resident = Resident(town.client, RESIDENT)
    await file(resident, OWN_WORDS, "跳过")
    own = await number_of(uow_factory, RESIDENT)
    page = await page_at("desktop")
    await page.goto(await login_link(town, WORKER))
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
