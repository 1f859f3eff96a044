"""The console's HTML: Jinja2 templates of templates/web/ in their own Environment (autoescaped, strict)."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from handlers.texts import TEMPLATES_DIR

WEB_TEMPLATES = TEMPLATES_DIR / "web"
STYLE_BLOCK = re.compile(r"<style>(.*?)</style>", re.DOTALL)
STATIC_DIR = Path(__file__).resolve().parent / "static"
SECURITY_HEADERS = {
    # No script runs on these pages; the only other origin anything comes from is none.
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; media-src 'self'; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # A login link's token never leaves the console in a Referer. Not no-referrer: under it a browser
    # sends "Origin: null" with every form POST, and the session guard rightly refuses those.
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def allowing_own_styles(html: str) -> dict[str, str]:
    """The headers, the CSP allowing by hash exactly the <style> blocks of this page (the dashboard's
    and roster's partials carry their own; their text is the template's, never a value)."""
    hashes = [base64.b64encode(hashlib.sha256(block.encode()).digest()).decode()
              for block in STYLE_BLOCK.findall(html)]
    if not hashes:
        return SECURITY_HEADERS
    sources = " ".join(f"'sha256-{h}'" for h in dict.fromkeys(hashes))
    policy = SECURITY_HEADERS["Content-Security-Policy"].replace("style-src 'self'",
                                                                 f"style-src 'self' {sources}")
    return {**SECURITY_HEADERS, "Content-Security-Policy": policy}


def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(WEB_TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True, auto_reload=False)


class Pages:
    """Renders a page of templates/web/ with what every page needs (base path, viewer, flash)."""

    def __init__(self, base: str) -> None:
        self.base = base  # the console's path, "/console"
        self._env = environment()

    def render(self, template: str, *, status: int = 200, viewer_name: str = "", csrf: str = "",
               flash: str = "", flash_ok: bool = True, nav: str = "", **context: Any) -> web.Response:
        html = self._env.get_template(f"{template}.html").render(
            base=self.base, viewer_name=viewer_name, csrf=csrf, flash=flash, flash_ok=flash_ok, nav=nav,
            **context)
        return web.Response(text=html, status=status, content_type="text/html", charset="utf-8",
                            headers=allowing_own_styles(html))
