"""The browser fixtures' own promises, each checked on a small test run of its own (pytester): a script
error on a page fails the test; a missing chromium skips, or fails when GRIDBOT_REQUIRE_BROWSER=1."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser_support import CHROMIUM_ENV, REQUIRE_BROWSER_ENV

pytest_plugins = ["pytester"]

INI = """[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
"""
SCRIPT_ERROR_TEST = """
pytest_plugins = ["browser_fixtures"]

async def test_page_with_a_script_error(page_at):
    page = await page_at("phone")
    await page.set_content("<script>throw new Error('脚本出错')</script><p>页面</p>")
    await page.locator("p").wait_for()
"""
ANY_BROWSER_TEST = """
pytest_plugins = ["browser_fixtures"]

async def test_needs_the_browser(browser):
    assert browser.is_connected()
"""


@pytest.fixture
def browser_test_run(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini(INI)
    pytester.syspathinsert(Path(__file__).parent)  # browser_fixtures, browser_support
    return pytester


def test_an_uncaught_script_error_on_a_page_fails_the_test(browser_test_run: pytest.Pytester) -> None:
    browser_test_run.makepyfile(SCRIPT_ERROR_TEST)
    result = browser_test_run.runpytest()
    result.assert_outcomes(passed=1, errors=1)  # the test body passes; the fixture's check fails it
    result.stdout.fnmatch_lines(["*uncaught JavaScript errors on the page*脚本出错*"])


def test_a_missing_chromium_skips_the_browser_tests(
    browser_test_run: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CHROMIUM_ENV, "/nonexistent/chromium")
    monkeypatch.delenv(REQUIRE_BROWSER_ENV, raising=False)
    browser_test_run.makepyfile(ANY_BROWSER_TEST)
    result = browser_test_run.runpytest("-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*no chromium at /nonexistent/chromium*make browser*"])


def test_a_missing_chromium_fails_where_the_browser_is_required(
    browser_test_run: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CHROMIUM_ENV, "/nonexistent/chromium")
    monkeypatch.setenv(REQUIRE_BROWSER_ENV, "1")
    browser_test_run.makepyfile(ANY_BROWSER_TEST)
    result = browser_test_run.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*{REQUIRE_BROWSER_ENV}=1 requires the browser tests*"])
