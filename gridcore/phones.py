"""A phone number as residents type it: "138 1234 5678", "+86-138-1234-5678", "１３８１２３４５６７８",
"(010) 8765-4321", "0571-87654321", "87654321", and read out digit by digit in Chinese ("幺三八 一二三四
五六七八", 两 = 2, 洞 = 0). Pure functions, no I/O.

A number is read the one way the redactor (gridcore.redact) reads it: the same digits (full-width and
Chinese ones too), the same separators, the same prefixes and the same checks; this only asks that the
whole text is one such number, and writes it the one way the bot keeps it.
"""

from __future__ import annotations

import unicodedata

from gridcore.redact import SEPARATORS, Kind, classify, digit_of, split_landline


def parse_phone(text: str) -> str | None:
    """A mainland mobile ("13812345678") or landline ("010-87654321", "87654321") number, written the
    one way the bot keeps it; None when the text is no such number."""
    typed = unicodedata.normalize("NFKC", text).strip()
    international = typed.startswith("+")
    body = typed[1:] if international else typed
    digits = [digit_of(char) for char in body if char not in SEPARATORS]
    if not digits or None in digits:
        return None
    number = "".join(digits)  # type: ignore[arg-type]
    if international and not number.startswith("86"):
        return None
    found = classify(number, labelled=True)  # the whole text is the number: it needs no label
    if found is None or found[0] not in (Kind.MOBILE, Kind.LANDLINE):
        return None
    kind, value = found
    area, local = split_landline(value) if kind is Kind.LANDLINE else ("", value)
    return f"{area}-{local}" if area else local


def dialable(phone: str) -> str:
    """The number as Telegram links it for a tap-to-call (a country code in front): a mainland mobile or
    landline as +86 and the digits, the landline's trunk 0 dropped; a number already international (+ or
    00 in front, not +86) keeps its country code; a local number without its area code stays as it is."""
    mainland = parse_phone(phone)
    if mainland is not None and not mainland.isdigit():
        return "+86" + mainland.replace("-", "")[1:]  # 010-87654321 → +861087654321
    if mainland is not None and len(mainland) == 11:  # a mobile; a local landline has 7 or 8 digits
        return "+86" + mainland
    digits = "".join(c for c in unicodedata.normalize("NFKC", phone) if c.isdigit())
    international = phone.strip().startswith(("+", "＋"))
    if not international and digits.startswith("00"):
        return "+" + digits[2:]
    return "+" + digits if international else digits
