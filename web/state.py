"""What every console request handler shares: the configuration, the pages, the cookies, the viewer."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from gridcore.console import SESSION_MAX
from gridcore.ports import UnitOfWork
from handlers.app import Conversations
from handlers.clock import Clock, system_clock
from handlers.texts import Texts
from web.dashboard_cache import DashboardCache
from web.pages import Pages
from web.viewer import Viewer

SESSION_COOKIE = "gridbot_console"
FLASH_COOKIE = "gridbot_flash"
FetchFile = Callable[[str], Awaitable[bytes]]  # a Telegram file's bytes by file id (the bot provides it)


@dataclass(frozen=True)
class ConsoleConfig:
    """What the console is built from (bot/console.py makes it from the running bot)."""

    units: Callable[[], UnitOfWork]  # reads (and the session tables); changes go through `conversations`
    conversations: Conversations
    url: str  # CONSOLE_URL: the address people open; its path is where the console is served
    fetch_file: FetchFile
    texts: Texts = field(default_factory=Texts)
    clock: Clock = system_clock
    community_code: str | None = None  # the deployment serves only this community


@dataclass(frozen=True)
class CookiePolicy:
    path: str  # the console's base path
    secure: bool  # the console is reached over https

    def set_session(self, response: web.StreamResponse, session_id: str) -> None:
        response.set_cookie(SESSION_COOKIE, session_id, path=self.path, httponly=True, samesite="Lax",
                            secure=self.secure, max_age=int(SESSION_MAX.total_seconds()))

    def clear_session(self, response: web.StreamResponse) -> None:
        response.del_cookie(SESSION_COOKIE, path=self.path)

    def set_flash(self, response: web.StreamResponse, text: str, ok: bool) -> None:
        """A one-line notice for the next page (成功, or why not): UTF-8 in base64 (a cookie is ASCII)."""
        value = base64.urlsafe_b64encode(f"{'1' if ok else '0'}{text[:300]}".encode()).decode()
        response.set_cookie(FLASH_COOKIE, value, path=self.path, httponly=True, samesite="Lax",
                            secure=self.secure, max_age=120)

    @staticmethod
    def read_flash(request: web.Request) -> tuple[str, bool]:
        raw = request.cookies.get(FLASH_COOKIE)
        if not raw:
            return "", True
        try:
            text = base64.urlsafe_b64decode(raw.encode()).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return "", True
        return text[1:], text[:1] == "1"


class Console:
    def __init__(self, config: ConsoleConfig) -> None:
        self.config = config
        self.base = urlsplit(config.url).path.rstrip("/") or "/console"
        self.pages = Pages(self.base)
        self.cookies = CookiePolicy(self.base, urlsplit(config.url).scheme == "https")
        self.dashboards = DashboardCache()  # per console, not global: each app its own

    def page(self, request: web.Request, template: str, *, status: int = 200, nav: str = "",
             **context: Any) -> web.Response:
        """A page for the viewer (the flash left by the last POST shown once)."""
        viewer = request.get(VIEWER)
        flash, flash_ok = self.cookies.read_flash(request)
        response = self.pages.render(template, status=status, nav=nav, flash=flash, flash_ok=flash_ok,
                                     viewer_name=viewer.name() if viewer else "",
                                     csrf=viewer.csrf_token if viewer else "", **context)
        if FLASH_COOKIE in request.cookies:
            response.del_cookie(FLASH_COOKIE, path=self.base)
        return response

    def refuse(self, request: web.Request, reason: str, status: int = 403) -> web.Response:
        """The 403 (or 404) page: nothing was shown or changed."""
        return self.page(request, "refused", status=status, reason=reason)

    def redirect(self, path: str, *, flash: str = "", ok: bool = True) -> web.Response:
        response = web.Response(status=303, headers={"Location": self.base + path})
        if flash:
            self.cookies.set_flash(response, flash, ok)
        return response


CONSOLE = web.AppKey("console", Console)
VIEWER = web.RequestKey("console_viewer", Viewer)  # set by the session guard (web.sessions)


def console_of(request: web.Request) -> Console:
    return request.app[CONSOLE]


def viewer_of(request: web.Request) -> Viewer:
    return request[VIEWER]
