"""Inline keyboards Telegram accepts for any roster: long lists are paged, long keys are shortened.

Telegram answers 400 "reply markup is too long" to an inline keyboard with more than 100 buttons, more
than 8 in a row or more than ~10 kB of markup, and refuses callback data outside 1–64 bytes. A page built
here holds at most `rows` rows of `width` choices, then a ‹ 上一页 / 下一页 › row (only when there is more
than one page), then the fixed rows (公共区域, 取消, ...), and stays inside every one of those limits
whatever the list: a choice's label is cut to MAX_LABEL characters and a page takes fewer choices when
their labels are long (MARKUP_BUDGET). Pages are cut the same way every time from the same list, so a
page number in a button names the same choices when it is pressed.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from gridcore.messages import Button

MAX_BUTTONS = 100
MAX_PER_ROW = 8
MAX_MARKUP_BYTES = 10_240  # Telegram's "~10 kB", measured as compact UTF-8 JSON (see markup_bytes)
MARKUP_BUDGET = 8_192  # what a page may use: a margin under Telegram's own counting
MAX_DATA_BYTES = 64
MAX_LABEL = 32  # characters of a roster name shown on a button
MAX_FIXED = 4  # buttons in the rows under the choices (公共区域, 取消, ...)
KEY_ROOM = 24  # bytes of a key (unit, code) carried as itself in callback data; longer ones are digested
DIGEST_MARK = "~"

Keyboard = Sequence[Sequence[Button]]


def markup_json(rows: Keyboard) -> dict[str, object]:
    """The keyboard as the Bot API's InlineKeyboardMarkup (what the sender puts on the wire)."""
    return {"inline_keyboard": [
        [{"text": b.text, "url": b.url} if b.url else {"text": b.text, "callback_data": b.data} for b in row]
        for row in rows
    ]}


def markup_bytes(rows: Keyboard) -> int:
    """The keyboard's size as Telegram's limit counts it: compact JSON, UTF-8."""
    return len(json.dumps(markup_json(rows), ensure_ascii=False, separators=(",", ":")).encode())


def telegram_refusal(rows: Keyboard) -> str | None:
    """Why Telegram would refuse this keyboard with a 400, or None when it is accepted."""
    if sum(len(row) for row in rows) > MAX_BUTTONS or any(len(row) > MAX_PER_ROW for row in rows):
        return "reply markup is too long"
    if markup_bytes(rows) > MAX_MARKUP_BYTES:
        return "reply markup is too long"
    for button in (b for row in rows for b in row):
        if not button.text.strip():
            return "empty button text"
        if not button.url and not 1 <= len(button.data.encode()) <= MAX_DATA_BYTES:
            return "BUTTON_DATA_INVALID"
    return None


def short_label(text: str) -> str:
    """A name fit for a button: at most MAX_LABEL characters (the end cut, marked with …)."""
    text = " ".join(text.split())
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def compact_key(key: str) -> str:
    """A key (a unit, a code) as callback data can carry it: itself when short, else a stable digest.

    Resolved back with `find_key`; the digest is the same on every run and for every roster order."""
    if len(key.encode()) <= KEY_ROOM and not key.startswith(DIGEST_MARK):
        return key
    digest = hashlib.sha256(key.encode()).digest()
    return DIGEST_MARK + base64.b32encode(digest).decode()[:12].lower()


def find_key(value: str, keys: Sequence[str]) -> str | None:
    """The key among `keys` that `compact_key` turned into `value`, or None."""
    return next((key for key in keys if compact_key(key) == value), None)


@dataclass(frozen=True)
class Page:
    rows: list[list[Button]]  # the whole keyboard: choices, the page row, the fixed rows
    number: int  # 0-based, after clamping
    count: int  # pages in all (at least 1)


def page_bounds(choices: Sequence[Button], *, per_page: int, reserved: int) -> list[tuple[int, int]]:
    """[start, end) of each page (at least one, maybe empty): at most `per_page` choices, and at most
    MARKUP_BUDGET - reserved bytes of them (the page row and the fixed rows take `reserved`)."""
    bounds: list[tuple[int, int]] = []
    start = 0
    while start < len(choices) or not bounds:
        end, used = start, 0
        while end < len(choices) and end - start < per_page:
            size = markup_bytes([[choices[end]]]) - markup_bytes([[]]) + 4  # with a comma and a row's "],["
            if end > start and used + size + reserved > MARKUP_BUDGET:
                break
            used += size
            end += 1
        bounds.append((start, end))
        start = end
        if start >= len(choices):
            break
    return bounds


def paged(choices: Sequence[Button], number: int, *, width: int, rows: int,
          turn: Callable[[int, bool], Button], fixed: Keyboard = ()) -> Page:
    """Page `number` (clamped) of `choices`, `width` to a row, with a row to turn pages when there is
    more than one, then the `fixed` rows. `turn(page, forward)` makes the button that shows `page`."""
    choices = [replace(b, text=short_label(b.text)) for b in choices]
    fixed_rows = [[replace(b, text=short_label(b.text)) for b in row] for row in fixed if row]
    fixed_count = sum(len(row) for row in fixed_rows)
    assert 1 <= width <= MAX_PER_ROW and rows >= 1 and fixed_count <= MAX_FIXED
    assert all(len(row) <= MAX_PER_ROW for row in fixed_rows)
    per_page = min(width * rows, MAX_BUTTONS - 2 - fixed_count)
    # The widest a page row can be: two buttons naming a page number far beyond any list's.
    widest_turn = [turn(10**9, False), turn(10**9, True)]
    reserved = markup_bytes([widest_turn, *fixed_rows]) + 8
    bounds = page_bounds(choices, per_page=per_page, reserved=reserved)
    number = min(max(number, 0), len(bounds) - 1)
    start, end = bounds[number]
    shown = choices[start:end]
    keyboard = [shown[i : i + width] for i in range(0, len(shown), width)]
    if len(bounds) > 1:
        turns = []
        if number > 0:
            turns.append(turn(number - 1, False))
        if number < len(bounds) - 1:
            turns.append(turn(number + 1, True))
        keyboard.append(turns)
    return Page([*keyboard, *fixed_rows], number, len(bounds))


def page_number(value: str, prefix: str) -> int | None:
    """The page a page-turning button's value ("pg:3") names, or None when it is no such button."""
    rest = value.removeprefix(prefix)
    return int(rest) if value.startswith(prefix) and rest.isdigit() and len(rest) <= 9 else None


def typed_target(text: str, targets: list[tuple[str, str]]) -> str | None:
    """The target a typed name means: the exact name, else the only one that contains it. Spaces and
    a closing full stop are not part of a name ("王 芳。" is 王芳)."""
    def plain(name: str) -> str:
        return "".join(name.split()).rstrip("。.!！")

    typed = plain(text)
    exact = list(dict.fromkeys(target for label, target in targets if plain(label) == typed))
    inside = list(dict.fromkeys(target for label, target in targets if typed and typed in plain(label)))
    return exact[0] if len(exact) == 1 else inside[0] if not exact and len(inside) == 1 else None
