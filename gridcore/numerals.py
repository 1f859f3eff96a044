"""Small Chinese numerals (零..九十九) as residents type them in building and unit names."""

from __future__ import annotations

import re

_NAMES = "零一二三四五六七八九"
_DIGITS = {**{name: value for value, name in enumerate(_NAMES)}, "〇": 0, "两": 2}

# Characters that can make up a Chinese numeral below a hundred (for building regular expressions).
CHINESE_NUMERAL_CHARS = "零〇一二两三四五六七八九十"

_FORM = re.compile(r"(?:([一二两三四五六七八九])?十([一二三四五六七八九])?|([零〇一二两三四五六七八九]))")


def chinese_to_int(text: str) -> int | None:
    """三 -> 3, 十 -> 10, 十三 -> 13, 二十 -> 20, 二十八 -> 28; anything else (一二, 三十十) -> None."""
    match = _FORM.fullmatch(text)
    if match is None:
        return None
    tens, ones, single = match.groups()
    if single is not None:
        return _DIGITS[single]
    if tens == "两":  # 两十 is not how anyone writes twenty
        return None
    return (_DIGITS[tens] if tens else 1) * 10 + (_DIGITS[ones] if ones else 0)


def int_to_chinese(number: int) -> str:
    """3 -> 三, 10 -> 十, 13 -> 十三, 20 -> 二十, 28 -> 二十八 (0..99)."""
    if not 0 <= number <= 99:
        raise ValueError(f"{number} is outside 0..99")
    tens, ones = divmod(number, 10)
    if tens == 0:
        return _NAMES[ones]
    head = "" if tens == 1 else _NAMES[tens]
    return head + "十" + (_NAMES[ones] if ones else "")


def parse_number(text: str) -> int | None:
    """Arabic digits ("12", leading zeros allowed) or a Chinese numeral ("十二"); else None."""
    if text.isascii() and text.isdigit():
        return int(text)
    return chinese_to_int(text)
