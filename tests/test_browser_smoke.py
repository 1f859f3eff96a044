"""The browser fixtures work on this machine, in the suite's event loop: an aiohttp app served in the
test, Debian's chromium at phone and desktop width, a form posted, an HttpOnly session cookie, Chinese
drawn as glyphs (not boxes), screenshots written."""

from __future__ import annotations

import html
import secrets

import pytest
from aiohttp import web
from browser_support import VIEWPORT_NAMES, VIEWPORTS, PageFactory, screenshot, served
from playwright.async_api import Page, expect
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine

pytest_plugins = ["browser_fixtures"]

SESSION_COOKIE = "console_session"
PAGE_HEAD = (
    '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title></head>'
)
SIGN_IN_PAGE = PAGE_HEAD.format(title="网格工作台") + """<body>
<h1>兴康社区 网格工作台</h1>
<form method="post" action="/sign-in">
  <label>网格员姓名 <input name="name" required></label>
  <button type="submit">登录</button>
</form></body></html>"""


def sign_in_app() -> web.Application:
    """Signs a grid worker in with a form; the session lives server-side behind an HttpOnly cookie."""
    names_by_session: dict[str, str] = {}

    async def sign_in_page(request: web.Request) -> web.Response:
        return web.Response(text=SIGN_IN_PAGE, content_type="text/html")

    async def sign_in(request: web.Request) -> web.Response:
        form = await request.post()
        session = secrets.token_urlsafe(16)
        names_by_session[session] = str(form["name"])
        response = web.HTTPSeeOther("/welcome")
        response.set_cookie(SESSION_COOKIE, session, httponly=True, samesite="Lax", path="/")
        raise response

    async def welcome(request: web.Request) -> web.Response:
        name = names_by_session.get(request.cookies.get(SESSION_COOKIE, ""))
        if name is None:
            raise web.HTTPUnauthorized(text="请先登录")
        body = PAGE_HEAD.format(title="欢迎") + f"<body><h1>欢迎，{html.escape(name)}</h1></body></html>"
        return web.Response(text=body, content_type="text/html")

    app = web.Application()
    app.add_routes([web.get("/", sign_in_page), web.post("/sign-in", sign_in), web.get("/welcome", welcome)])
    return app


async def han_characters_drawn_as_glyphs(page: Page) -> bool:
    """Without a CJK font every Han character is the same missing-glyph box: two differ only as glyphs."""
    return await page.evaluate("""() => {
        const drawn = (text) => {
            const canvas = document.createElement("canvas");
            canvas.width = canvas.height = 64;
            const context = canvas.getContext("2d");
            context.font = "48px sans-serif";
            context.fillText(text, 4, 52);
            return canvas.toDataURL();
        };
        return drawn("社") !== drawn("区");
    }""")


@pytest.mark.parametrize("viewport_name", VIEWPORT_NAMES)
async def test_a_grid_worker_signs_in_with_the_form(page_at: PageFactory, viewport_name: str) -> None:
    async with served(sign_in_app()) as base_url:
        page = await page_at(viewport_name, base_url=base_url)
        await page.goto("/")
        await expect(page.get_by_role("heading", level=1)).to_have_text("兴康社区 网格工作台")
        assert await han_characters_drawn_as_glyphs(page), "Chinese shows as boxes: run `make fonts`"
        page_width = await page.evaluate("document.documentElement.scrollWidth")
        assert page_width <= VIEWPORTS[viewport_name].width  # no sideways scrolling on a phone
        await screenshot(page, f"smoke-sign-in-{viewport_name}")

        await page.get_by_label("网格员姓名").fill("王芳 <b>")
        await page.get_by_role("button", name="登录").click()

        await expect(page).to_have_url(f"{base_url}/welcome")
        await expect(page.get_by_role("heading", level=1)).to_have_text("欢迎，王芳 <b>")
        (cookie,) = [c for c in await page.context.cookies() if c["name"] == SESSION_COOKIE]
        assert cookie["httpOnly"] is True
        assert cookie["sameSite"] == "Lax"
        assert SESSION_COOKIE not in await page.evaluate("document.cookie")  # page scripts cannot read it
        await screenshot(page, f"smoke-welcome-{viewport_name}")


async def test_the_welcome_page_refuses_a_browser_without_the_session(page_at: PageFactory) -> None:
    async with served(sign_in_app()) as base_url:
        page = await page_at("desktop", base_url=base_url)
        response = await page.goto("/welcome")
        assert response is not None and response.status == 401
        await expect(page.locator("body")).to_have_text("请先登录")


async def test_a_page_served_in_the_test_reads_the_test_database(
    engine: AsyncEngine, page_at: PageFactory
) -> None:
    """The browser, the served app and the `engine` fixture share the test's event loop."""

    async def tables_page(request: web.Request) -> web.Response:
        async with engine.connect() as connection:
            table_count = len(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
        return web.Response(text=f"<p>{table_count} 张表</p>", content_type="text/html")

    app = web.Application()
    app.add_routes([web.get("/", tables_page)])
    async with served(app) as base_url:
        page = await page_at("phone", base_url=base_url)
        await page.goto("/")
        shown = await page.locator("p").inner_text()
    assert int(shown.removesuffix(" 张表")) > 0  # the migrated schema, read while the page loaded
