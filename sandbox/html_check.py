"""Telegram's HTML parse mode, strictly.

``parse_html(text)`` turns a Telegram-HTML string into ``(plain_text, entities)`` the way the Bot API
does (entity offsets and lengths in UTF-16 code units), or raises :class:`HtmlParseError` with a
message in Telegram's wording (the caller prefixes ``Bad Request: can't parse entities: ``).

Only Telegram's tags are accepted: b, strong, i, em, u, ins, s, strike, del, a href, code, pre,
blockquote (``expandable`` attribute allowed), tg-spoiler, span class="tg-spoiler", tg-emoji
emoji-id. Only the named entities &lt; &gt; &amp; &quot; and numeric entities are accepted. Unlike
Telegram (which tolerates a stray ``&``), a raw ``&`` that does not start a valid entity is an error
here too: Telegram's documentation says it must be escaped, and the sandbox should catch that.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["HtmlParseError", "parse_html", "utf16_len"]

_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "code": "code",
    "pre": "pre",
    "a": "text_link",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_TAG_NAME = re.compile(r"[A-Za-z0-9-]*")
_ATTR_NAME = re.compile(r"[A-Za-z0-9_-]+")
_ENTITY = re.compile(r"&(#[0-9]{1,7};|#[xX][0-9A-Fa-f]{1,6};|[A-Za-z][A-Za-z0-9]*;?)")


class HtmlParseError(ValueError):
    """The text is not valid Telegram HTML; ``str(err)`` is Telegram-style wording."""


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class _Parser:
    def __init__(self, text: str) -> None:
        self.src = text
        self.pos = 0
        self.out: list[str] = []
        self.out16 = 0  # current length of the output in UTF-16 code units
        self.stack: list[dict[str, Any]] = []
        self.entities: list[dict[str, Any]] = []

    def byte_offset(self, index: int) -> int:
        return len(self.src[:index].encode("utf-8"))

    def emit(self, chunk: str) -> None:
        self.out.append(chunk)
        self.out16 += utf16_len(chunk)

    def run(self) -> tuple[str, list[dict[str, Any]]]:
        src = self.src
        while self.pos < len(src):
            ch = src[self.pos]
            if ch == "&":
                self.emit(self.entity(self.pos))
            elif ch == "<":
                if src.startswith("</", self.pos):
                    self.end_tag()
                else:
                    self.start_tag()
            elif ch == ">":
                # Telegram tolerates a bare '>', as does HTML.
                self.emit(ch)
                self.pos += 1
            else:
                nxt = min(
                    (i for i in (src.find("<", self.pos), src.find("&", self.pos)) if i != -1),
                    default=len(src),
                )
                self.emit(src[self.pos : nxt])
                self.pos = nxt
        if self.stack:
            raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{self.stack[-1]["tag"]}"')
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.out), self.entities

    def entity(self, start: int) -> str:
        match = _ENTITY.match(self.src, start)
        if match is None:
            raise HtmlParseError(
                "Character '&' is reserved and must be escaped as &amp; "
                f"at byte offset {self.byte_offset(start)}"
            )
        body = match.group(1)
        self.pos = match.end()
        if body.startswith("#"):
            code = int(body[2:-1], 16) if body[1] in "xX" else int(body[1:-1])
            if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                raise HtmlParseError(f"Invalid numeric HTML entity at byte offset {self.byte_offset(start)}")
            return chr(code)
        name = body.rstrip(";")
        if name not in _NAMED or not body.endswith(";"):
            raise HtmlParseError(
                f'Unsupported HTML entity "&{body}" at byte offset {self.byte_offset(start)}; '
                "only &lt; &gt; &amp; &quot; and numeric entities are allowed"
            )
        return _NAMED[name]

    def start_tag(self) -> None:
        src, begin = self.src, self.pos
        match = _TAG_NAME.match(src, begin + 1)
        assert match is not None
        name = match.group(0).lower()
        if name not in _ENTITY_TYPES:
            raise HtmlParseError(f'Unsupported start tag "{name}" at byte offset {self.byte_offset(begin)}')
        i = match.end()
        attrs: dict[str, str] = {}
        while True:
            while i < len(src) and src[i] in " \t\r\n":
                i += 1
            if i >= len(src):
                raise HtmlParseError(f"Unclosed start tag at byte offset {self.byte_offset(begin)}")
            if src[i] == ">":
                i += 1
                break
            attr = _ATTR_NAME.match(src, i)
            if attr is None:
                raise HtmlParseError(
                    f'Empty attribute name in the tag "{name}" at byte offset {self.byte_offset(begin)}'
                )
            attr_name = attr.group(0).lower()
            i = attr.end()
            value = ""
            if i < len(src) and src[i] == "=":
                i += 1
                value, i = self.attr_value(i, name, begin)
            elif not (i < len(src) and (src[i] in " \t\r\n>")):
                raise HtmlParseError(
                    f'Expected equal sign in declaration of an attribute of the tag "{name}" '
                    f"at byte offset {self.byte_offset(begin)}"
                )
            attrs[attr_name] = value
        self.pos = i
        self.open(name, attrs, begin)

    def attr_value(self, i: int, tag: str, begin: int) -> tuple[str, int]:
        src = self.src
        if i < len(src) and src[i] in "\"'":
            quote = src[i]
            end = src.find(quote, i + 1)
            if end == -1:
                raise HtmlParseError(f"Unclosed start tag at byte offset {self.byte_offset(begin)}")
            raw = src[i + 1 : end]
            i = end + 1
        else:
            match = re.compile(r"[^\s>\"'=<`]*").match(src, i)
            assert match is not None
            raw, i = match.group(0), match.end()
        return _decode_attr(raw), i

    def open(self, name: str, attrs: dict[str, str], begin: int) -> None:
        etype = _ENTITY_TYPES[name]
        extra: dict[str, Any] = {}
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise HtmlParseError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {self.byte_offset(begin)}'
            )
        if name == "a":
            href = attrs.get("href", "")
            if re.match(r"(?i)^(https?://|tg://|mailto:)\S+$", href):
                extra["url"] = href
            else:
                etype = ""  # Telegram silently drops links with a missing or unusable URL
        if name == "tg-emoji":
            emoji_id = attrs.get("emoji-id", "")
            if not emoji_id.isdigit():
                raise HtmlParseError(
                    f"Custom emoji entity must contain a valid custom emoji identifier at byte offset "
                    f"{self.byte_offset(begin)}"
                )
            extra["custom_emoji_id"] = emoji_id
        if name == "blockquote" and "expandable" in attrs:
            etype = "expandable_blockquote"
        if name == "code" and self.stack and self.stack[-1]["tag"] == "pre":
            lang = attrs.get("class", "")
            if lang.startswith("language-") and len(lang) > 9:
                self.stack[-1]["extra"]["language"] = lang[9:]
        self.stack.append({"tag": name, "type": etype, "offset": self.out16, "extra": extra})

    def end_tag(self) -> None:
        src, begin = self.src, self.pos
        match = _TAG_NAME.match(src, begin + 2)
        assert match is not None
        name = match.group(0).lower()
        i = match.end()
        while i < len(src) and src[i] in " \t\r\n":
            i += 1
        if i >= len(src) or src[i] != ">":
            raise HtmlParseError(f"Unclosed end tag at byte offset {self.byte_offset(begin)}")
        if not self.stack:
            raise HtmlParseError(f"Unexpected end tag at byte offset {self.byte_offset(begin)}")
        top = self.stack[-1]
        if name != top["tag"]:
            raise HtmlParseError(
                f'Unmatched end tag at byte offset {self.byte_offset(begin)}, expected "</{top["tag"]}>", '
                f'found "</{name}>"'
            )
        self.stack.pop()
        self.pos = i + 1
        length = self.out16 - top["offset"]
        if top["type"] and length > 0:
            if top["type"] == "code" and self._is_pre_child():
                return
            self.entities.append(
                {"type": top["type"], "offset": top["offset"], "length": length, **top["extra"]}
            )

    def _is_pre_child(self) -> bool:
        # <pre><code class="language-x">…</code></pre> yields a single pre entity with a language.
        return bool(self.stack) and self.stack[-1]["tag"] == "pre" and "language" in self.stack[-1]["extra"]


def _decode_attr(raw: str) -> str:
    def repl(match: re.Match[str]) -> str:
        body = match.group(1)
        if body.startswith("#"):
            try:
                return chr(int(body[2:-1], 16) if body[1] in "xX" else int(body[1:-1]))
            except ValueError:
                return match.group(0)
        return _NAMED.get(body.rstrip(";"), match.group(0))

    return _ENTITY.sub(repl, raw)


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram HTML; return the plain text and its entities (UTF-16 offsets)."""
    return _Parser(text).run()
