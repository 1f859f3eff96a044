"""parse_html: Telegram's HTML subset to plain text + entities with UTF-16 offsets."""

from __future__ import annotations

import pytest

from sandbox.html_check import HtmlParseError, parse_html, utf16_len


def test_utf16_offsets_count_astral_characters_twice() -> None:
    text, entities = parse_html("😀<b>好</b><i>x</i>")
    assert text == "😀好x"
    assert entities == [
        {"type": "bold", "offset": 2, "length": 1},
        {"type": "italic", "offset": 3, "length": 1},
    ]
    assert utf16_len(text) == 4


def test_nested_entities_and_case_insensitive_tags() -> None:
    text, entities = parse_html(
        "<B>粗<I>斜</I></B><u>下</u><ins>x</ins><s>删</s><del>y</del><strike>z</strike>"
    )
    assert text == "粗斜下x删yz"
    assert [(e["type"], e["offset"], e["length"]) for e in entities] == [
        ("bold", 0, 2),
        ("italic", 1, 1),
        ("underline", 2, 1),
        ("underline", 3, 1),
        ("strikethrough", 4, 1),
        ("strikethrough", 5, 1),
        ("strikethrough", 6, 1),
    ]


def test_entities_and_attributes() -> None:
    text, entities = parse_html("&lt;&gt;&amp;&quot;&#65;&#x42; <a href='tg://user?id=1'>u</a>")
    assert text == '<>&"AB u'
    assert entities == [{"type": "text_link", "offset": 7, "length": 1, "url": "tg://user?id=1"}]


def test_code_pre_and_custom_emoji() -> None:
    text, entities = parse_html(
        '<code>a</code><pre>b</pre><tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>'
    )
    assert text == "ab👍"
    assert entities == [
        {"type": "code", "offset": 0, "length": 1},
        {"type": "pre", "offset": 1, "length": 1},
        {"type": "custom_emoji", "offset": 2, "length": 2, "custom_emoji_id": "5368324170671202286"},
    ]


def test_empty_entities_and_bad_links_are_dropped() -> None:
    assert parse_html("<b></b>x<a>y</a>") == ("xy", [])


@pytest.mark.parametrize(
    "bad",
    [
        "<p>x</p>",
        "<b>",
        "</b>",
        "a < b",
        "a & b",
        "&copy;",
        "&amp",
        "<a href=x",
        "<b><i></b></i>",
        "<tg-emoji>x</tg-emoji>",
        "<script>alert(1)</script>",
        "&#0;",
    ],
)
def test_rejected(bad: str) -> None:
    with pytest.raises(HtmlParseError):
        parse_html(bad)


def test_byte_offsets_are_utf8() -> None:
    with pytest.raises(HtmlParseError, match="at byte offset 6"):
        parse_html("网格<div>")
