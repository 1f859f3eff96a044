"""Browser fixtures, loaded by a browser test module with `pytest_plugins = ["browser_fixtures"]`.

  browser   a headless Debian chromium driven by Playwright's async API, launched for each test in the
            test's own event loop (so an aiohttp app served in the test, and the `engine` fixture, share
            that loop). One launch costs about 0.6 s here; a session-wide browser would need every async
            fixture of the test on a session loop (pytest-asyncio loop_scope), which `engine` is not.
  page_at   async factory: `page = await page_at("phone")` / `await page_at("desktop", base_url=url)` —
            a fresh context per call (its own cookies), zh-CN, Asia/Shanghai. An uncaught JavaScript
            error on any of its pages fails the test at teardown.
Missing chromium: skipped with the reason, or a failure when GRIDBOT_REQUIRE_BROWSER=1 (CI).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from browser_support import (
    CHROMIUM_ARGS,
    LOCALE,
    REQUIRE_BROWSER_ENV,
    TIMEZONE,
    VIEWPORTS,
    PageFactory,
    browser_required,
    chromium_missing_reason,
    chromium_path,
)
from playwright.async_api import Browser, Error, Page, async_playwright

# A locator waiting longer than this has failed: the pages are local, the machine is slow and shared.
ACTION_TIMEOUT_MS = 10_000


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    reason = chromium_missing_reason()
    if reason is not None:
        if browser_required():
            pytest.fail(f"{reason} — {REQUIRE_BROWSER_ENV}=1 requires the browser tests", pytrace=False)
        pytest.skip(reason)
    async with async_playwright() as playwright:
        try:
            launched = await playwright.chromium.launch(
                executable_path=str(chromium_path()), args=list(CHROMIUM_ARGS), headless=True
            )
        except Error as error:  # chromium is there but does not start: always a failure, never a skip
            pytest.fail(f"chromium at {chromium_path()} did not start: {error.message}", pytrace=False)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def page_at(browser: Browser) -> AsyncIterator[PageFactory]:
    page_errors: list[str] = []

    async def open_page(viewport_name: str, *, base_url: str | None = None) -> Page:
        viewport = VIEWPORTS[viewport_name]
        context = await browser.new_context(
            viewport={"width": viewport.width, "height": viewport.height},
            device_scale_factor=viewport.device_scale_factor,
            is_mobile=viewport.is_mobile,
            has_touch=viewport.is_mobile,
            locale=LOCALE,
            timezone_id=TIMEZONE,
            base_url=base_url,
        )
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        context.on("weberror", lambda web_error: page_errors.append(str(web_error.error)))
        return await context.new_page()

    yield open_page
    assert not page_errors, f"uncaught JavaScript errors on the page: {page_errors}"
