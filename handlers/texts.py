"""Every text the bot sends comes from templates/ (Jinja2, Telegram HTML, autoescaped)."""

from __future__ import annotations

import html
import re
from functools import cached_property
from pathlib import Path
from typing import Any

import jinja2

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
LABELS = "labels.html"
TEXT_LIMIT = 4096  # Telegram: characters of a message's text after entity parsing, in UTF-16 code units
_TAG = re.compile(r"<[^>]+>")


def plain(text: str) -> str:
    """The text as Telegram counts it (after entity parsing), and as the CLI prints it."""
    return html.unescape(_TAG.sub("", text))


def telegram_length(text: str) -> int:
    """How long Telegram finds a Telegram-HTML text: its plain text in UTF-16 code units (an emoji is 2)."""
    return len(plain(text).encode("utf-16-le")) // 2


class Texts:
    def __init__(self, directory: Path = TEMPLATES_DIR, language: str = "zh") -> None:
        self._env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(directory / language),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
            auto_reload=False,  # compiled once: no stat() of the template file on every message
        )
        self._macro_files: dict[str, Any] = {}

    def render(self, template: str, /, **context: Any) -> str:
        """A whole message, Telegram HTML. User text in `context` is escaped by autoescape."""
        return self._env.get_template(f"{template}.html").render(**context).strip()

    @cached_property
    def _labels(self) -> Any:
        return self._env.get_template(LABELS).module

    def label(self, name: str, /, **context: Any) -> str:
        """A plain-text label (button text, status name): a macro of templates/<lang>/labels.html."""
        macro = getattr(self._labels, name)
        return html.unescape(str(macro(**context))).strip()

    def label_in(self, template: str, name: str, /, **context: Any) -> str:
        """A plain-text label from another file of macros, e.g. ledger.html (the ledgers' column heads)."""
        if template not in self._macro_files:  # a ledger asks thousands of times
            self._macro_files[template] = self._env.get_template(f"{template}.html").module
        macro = getattr(self._macro_files[template], name)
        return html.unescape(str(macro(**context))).strip()
