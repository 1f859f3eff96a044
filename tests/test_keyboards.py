"""handlers.keyboards: any list, paged, fits Telegram's inline keyboard limits as the sandbox enforces
them; pages cover the list exactly once, in order; long keys survive the trip through callback data."""

from __future__ import annotations

import pytest
from dialog_support import wire
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.delivery import inline_keyboard
from gridcore.messages import Button
from handlers import keyboards
from sandbox.markup import check_inline_keyboard


def turn(page: int, forward: bool) -> Button:
    return Button("下一页 ›" if forward else "‹ 上一页", f"r:123456789:pg:{page}")


def data_of(index: int, tail: str) -> str:
    """Unique callback data of 1–64 bytes, with an arbitrary tail."""
    head = f"r:9:b:{index}:"
    room = 64 - len(head.encode())
    return head + tail.encode()[:room].decode(errors="ignore")


labels = st.text(min_size=1, max_size=300).filter(lambda t: t.strip())
fixed_rows = st.lists(st.lists(st.builds(Button, labels, st.just("fixed")), min_size=1, max_size=2),
                      max_size=2)


@st.composite
def choice_lists(draw) -> list[Button]:
    texts = draw(st.lists(labels, max_size=700))
    tails = draw(st.lists(st.text(max_size=64), min_size=len(texts), max_size=len(texts)))
    return [Button(text, data_of(i, tail)) for i, (text, tail) in enumerate(zip(texts, tails, strict=True))]


def accepted(rows: list[list[Button]]) -> None:
    """What the sandbox answers a sendMessage with this keyboard (raises its 400 as ApiError)."""
    check_inline_keyboard(wire(inline_keyboard(rows))["inline_keyboard"] if rows else [])
    assert keyboards.telegram_refusal(rows) is None


@settings(max_examples=150, deadline=None)
@given(choices=choice_lists(), width=st.integers(1, 8), rows=st.integers(1, 30), fixed=fixed_rows,
       number=st.integers(-3, 10**6))
def test_any_list_pages_inside_telegrams_limits(choices, width, rows, fixed, number):
    page = keyboards.paged(choices, number, width=width, rows=rows, turn=turn, fixed=fixed)
    accepted(page.rows)
    assert 0 <= page.number < page.count
    assert sum(len(r) for r in page.rows) <= keyboards.MAX_BUTTONS
    assert keyboards.markup_bytes(page.rows) <= keyboards.MARKUP_BUDGET


@settings(max_examples=60, deadline=None)
@given(choices=choice_lists(), width=st.integers(1, 8), rows=st.integers(1, 30), fixed=fixed_rows)
def test_the_pages_show_every_choice_once_in_order(choices, width, rows, fixed):
    first = keyboards.paged(choices, 0, width=width, rows=rows, turn=turn, fixed=fixed)
    shown: list[str] = []
    for number in range(first.count):
        page = keyboards.paged(choices, number, width=width, rows=rows, turn=turn, fixed=fixed)
        on_page = [b for row in page.rows for b in row if b.data.startswith("r:9:b:")]
        assert on_page or not choices  # no empty page
        assert all(len(row) <= width for row in page.rows[: (len(on_page) + width - 1) // width])
        turns = [b for row in page.rows for b in row if ":pg:" in b.data]
        expected = [number - 1] * (number > 0) + [number + 1] * (number < page.count - 1)
        assert [int(b.data.rsplit(":", 1)[1]) for b in turns] == expected
        shown += [b.data for b in on_page]
    assert shown == [b.data for b in choices]


def test_a_page_number_past_the_end_shows_the_last_page():
    choices = [Button(f"{n}号楼", f"b:{n}") for n in range(100)]
    last = keyboards.paged(choices, 99, width=4, rows=8, turn=turn)
    assert last.number == last.count - 1 == 3
    assert [b.text for b in last.rows[-1]] == ["‹ 上一页"]


def test_a_short_list_has_no_page_row():
    page = keyboards.paged([Button("1号楼", "b:1")], 0, width=4, rows=8, turn=turn,
                           fixed=[[Button("取消", "cancel")]])
    assert page.count == 1 and [[b.text for b in row] for row in page.rows] == [["1号楼"], ["取消"]]


def test_long_labels_are_cut_and_long_pages_hold_fewer():
    long = [Button("网" * 200, f"b:{n}:" + "x" * 50) for n in range(200)]
    page = keyboards.paged(long, 0, width=8, rows=12, turn=turn)
    assert all(len(b.text) == keyboards.MAX_LABEL and b.text.endswith("…") for b in page.rows[0])
    assert 8 < sum(len(r) for r in page.rows[:-1]) < 96  # the byte budget, not the count, ended it
    accepted(page.rows)


@given(st.lists(st.text(max_size=80), unique=True, max_size=40))
def test_compact_keys_fit_and_come_back(keys):
    for key in keys:
        value = keyboards.compact_key(key)
        assert len(value.encode()) <= keyboards.KEY_ROOM
        assert keyboards.find_key(value, keys) == key


def test_short_keys_are_carried_as_they_are():
    assert keyboards.compact_key("B0300") == "B0300" and keyboards.compact_key("12") == "12"
    assert keyboards.compact_key("~x").startswith("~") and keyboards.compact_key("~x") != "~x"


@pytest.mark.parametrize("rows", [[[Button("a", "1"), Button("链接", url="https://example.org")]], []])
def test_the_size_is_measured_on_what_the_sender_sends(rows):
    assert (keyboards.markup_json(rows) if rows else None) == wire(inline_keyboard(rows))


def test_page_numbers_are_read_back():
    assert keyboards.page_number("pg:3", "pg:") == 3
    assert keyboards.page_number("pg:x", "pg:") is None and keyboards.page_number("b:3", "pg:") is None
    assert keyboards.page_number("pg:" + "9" * 40, "pg:") is None
