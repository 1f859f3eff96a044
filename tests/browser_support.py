"""Browser tests' plain helpers (no fixtures here; those are in tests/browser_fixtures.py).

The browser is Debian's chromium (/usr/bin/chromium, `make browser` installs it), never one Playwright
downloads: GRIDBOT_CHROMIUM points at another binary. GRIDBOT_REQUIRE_BROWSER=1 (CI) turns a missing
chromium from a skip into a failure. Screenshots go to GRIDBOT_SCREENSHOTS (default tests/.screenshots).
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestServer
from playwright.async_api import Page

CHROMIUM_ENV = "GRIDBOT_CHROMIUM"
REQUIRE_BROWSER_ENV = "GRIDBOT_REQUIRE_BROWSER"
SCREENSHOTS_ENV = "GRIDBOT_SCREENSHOTS"
DEFAULT_CHROMIUM = Path("/usr/bin/chromium")
DEFAULT_SCREENSHOTS = Path(__file__).parent / ".screenshots"

# Headless and quiet: no GPU, no background calls home (updates, sync, QUIC probes), /tmp instead of a
# small /dev/shm in containers; --no-sandbox because CI runs as root.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)


@dataclass(frozen=True)
class Viewport:
    width: int
    height: int
    device_scale_factor: float
    is_mobile: bool  # a phone honours <meta name="viewport"> and has touch, as a grid worker's phone does


# `page_at("phone")` / `page_at("desktop")`; parametrize over VIEWPORT_NAMES for ids [phone]/[desktop].
VIEWPORTS = {
    "phone": Viewport(width=390, height=844, device_scale_factor=2, is_mobile=True),
    "desktop": Viewport(width=1366, height=900, device_scale_factor=1, is_mobile=False),
}
VIEWPORT_NAMES = tuple(VIEWPORTS)
LOCALE = "zh-CN"
TIMEZONE = "Asia/Shanghai"

# page_at's type: `await page_at(viewport_name, base_url=None) -> Page`.
PageFactory = Callable[..., Awaitable[Page]]


def chromium_path() -> Path:
    return Path(os.environ.get(CHROMIUM_ENV) or DEFAULT_CHROMIUM)


def chromium_missing_reason() -> str | None:
    """Why the browser tests cannot run here, or None when chromium is there."""
    path = chromium_path()
    if path.is_file() and os.access(path, os.X_OK):
        return None
    return (
        f"no chromium at {path}: run `make browser` (apt-get install chromium) "
        f"or point {CHROMIUM_ENV} at a chromium binary"
    )


def browser_required() -> bool:
    return os.environ.get(REQUIRE_BROWSER_ENV) == "1"


def screenshots_dir() -> Path:
    return Path(os.environ.get(SCREENSHOTS_ENV) or DEFAULT_SCREENSHOTS)


_UNSAFE_IN_FILE_NAME = re.compile(r"[^\w.-]+")


async def screenshot(page: Page, name: str) -> Path:
    """A full-page PNG of `page` as <screenshots dir>/<name>.png (name made file-safe); returns its path."""
    directory = screenshots_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{_UNSAFE_IN_FILE_NAME.sub('_', name).strip('_')}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path


@asynccontextmanager
async def served(app: web.Application) -> AsyncIterator[str]:
    """Serves `app` on 127.0.0.1 at a free port in the running event loop; yields its base URL
    (no trailing slash)."""
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()
