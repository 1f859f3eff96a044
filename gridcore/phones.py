"""A phone number as residents type it: "138 1234 5678", "+86-138-1234-5678", "１３８１２３４５６７８",
"(010) 8765-4321", "0571-87654321", "87654321", and read out digit by digit in Chinese ("幺三八 一二三四
五六七八", 两 = 2, 洞 = 0). Pure functions, no I/O."""

from __future__ import annotations

import re
import unicodedata

from gridcore.redact import CHINESE_DIGITS

_SEPARATORS = re.compile(r"[\s\-‐‑‒–—―.()（）·]")
_MOBILE = re.compile(r"1[3-9]\d{9}")
# A landline without its area code: 7 or 8 digits, not starting with 0 or 1 (a mobile or an area code).
_LOCAL = re.compile(r"[2-9]\d{6,7}")


def parse_phone(text: str) -> str | None:
    """A mainland mobile ("13812345678") or landline ("010-87654321", "87654321") number, written the
    one way the bot keeps it; None when the text is no such number."""
    typed = _SEPARATORS.sub("", unicodedata.normalize("NFKC", text))
    typed = "".join(CHINESE_DIGITS.get(char, char) for char in typed)
    for prefix in ("+86", "0086", "86"):
        if typed.startswith(prefix) and _MOBILE.fullmatch(typed[len(prefix):]):
            typed = typed[len(prefix):]
            break
    if _MOBILE.fullmatch(typed):
        return typed
    if typed.startswith("+86"):
        typed = "0" + typed[3:]  # +86 10 87654321: the area code loses its 0 abroad
    if _LOCAL.fullmatch(typed):
        return typed
    if not typed.isdigit() or not typed.startswith("0") or len(typed) < 3:
        return None
    area_length = 3 if typed[1] in "12" else 4  # 010 and 02x; every other area code has 4 digits
    area, number = typed[:area_length], typed[area_length:]
    return f"{area}-{number}" if _LOCAL.fullmatch(number) else None


def dialable(phone: str) -> str:
    """The number as Telegram links it for a tap-to-call (a country code in front): a mainland mobile or
    landline as +86 and the digits, the landline's trunk 0 dropped; a number already international (+ or
    00 in front, not +86) keeps its country code; a local number without its area code stays as it is."""
    mainland = parse_phone(phone)
    if mainland is not None and not mainland.isdigit():
        return "+86" + mainland.replace("-", "")[1:]  # 010-87654321 → +861087654321
    if mainland is not None and _MOBILE.fullmatch(mainland):
        return "+86" + mainland
    digits = "".join(c for c in unicodedata.normalize("NFKC", phone) if c.isdigit())
    international = phone.strip().startswith(("+", "＋"))
    if not international and digits.startswith("00"):
        return "+" + digits[2:]
    return "+" + digits if international else digits
