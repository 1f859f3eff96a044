"""The report dialog's table read as data (handlers.report): a broken table fails here, before any
dialog test runs it. No database: each question is asked against a stand-in unit of work."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from dialog_support import example_community

from gridcore.conversation import Conversation
from gridcore.ticket import Location, Reporter, Ticket
from handlers import report
from handlers.context import DIALOG_BUTTON, Context
from handlers.dialog_table import CANCEL, END, NEXT, SAME, Answer, State
from handlers.draft import ReportDraft
from handlers.inputs import Incoming, InputKind, Sender
from handlers.texts import Texts

TABLE = report.REPORT
WRONG_INPUT = Path(__file__).resolve().parents[1] / "templates" / "zh" / "wrong_input.html"


def test_every_gap_and_the_complete_draft_name_a_state():
    assert [gap.state for gap in TABLE.gaps if gap.state not in TABLE.states] == []
    assert TABLE.complete in TABLE.states
    assert len({gap.state for gap in TABLE.gaps}) == len(TABLE.gaps), "a state filled by two gaps"


def test_every_answer_leads_to_a_state_or_the_walk():
    for name, state in TABLE.states.items():
        for leads_to in state.leads():
            assert leads_to in (NEXT, SAME, END) or leads_to in TABLE.states, (name, leads_to)


def test_every_state_is_reachable_from_an_entry_point():
    # An entry point starts the walk over the gaps; an answer goes on with it (NEXT, END) or names a state.
    assert TABLE.entry_points
    reachable = {gap.state for gap in TABLE.gaps} | {TABLE.complete}
    reachable |= {to for state in TABLE.states.values() for to in state.leads() if to in TABLE.states}
    assert set(TABLE.states) - reachable == set()


def test_every_state_asks_and_has_a_fallback_for_what_it_does_not_take():
    fallbacks = TABLE.fallbacks
    assert all(callable(f) for f in (fallbacks.cancel, fallbacks.refused_button, fallbacks.wrong_input,
                                     fallbacks.unknown_step))
    template = WRONG_INPUT.read_text(encoding="utf-8")
    for name, state in TABLE.states.items():
        assert callable(state.ask), name
        takes_something = state.text or state.photo or state.voice or state.contact or state.buttons
        assert bool(takes_something) != bool(state.every_input), f"{name}: answers, or every input itself"
        # wrong_input says what the question wants: the hint must be one the template words.
        assert state.hint == "use_buttons" or f'"{state.hint}"' in template, name
        assert all(key == key.strip() and key != CANCEL for key in state.buttons), name


def test_a_button_value_finds_its_own_answer_before_the_longest_prefix():
    own, short, long = Answer(), Answer(leads_to=SAME), Answer(leads_to=END)
    state = State(report.resume, buttons={"u:": short, "u:x:": long, "u:x:1": own})  # type: ignore[arg-type]
    assert state.answer_to_button("u:x:1") is own
    assert state.answer_to_button("u:x:2") is long
    assert state.answer_to_button("u:y") is short
    assert state.answer_to_button("b:1") is None


# --- every button a question shows is one its state takes -----------------------------------------


@dataclass
class Lookup:
    value: Any

    async def get(self, key: object) -> Any:
        return self.value


class Outbox:
    def __init__(self) -> None:
        self.ids = itertools.count(1)

    async def add(self, message: object) -> int:
        return next(self.ids)


@dataclass
class StandInUnitOfWork:
    residents: Lookup
    tickets: Lookup
    outbox: Outbox


def open_ticket(category_code: str, building_code: str) -> Ticket:
    at = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
    return Ticket.file(number="20261120-001", community_code="demo", category_code=category_code,
                       feedback_deadline=timedelta(days=3), description="楼道堆放杂物",
                       location=Location(building_code, None, ""), reporter=Reporter(5002, 5002, "邻居"),
                       at=at)


def draft_that_reaches_every_question() -> ReportDraft:
    community = example_community()
    category = next(c for c in community.categories if not c.emergency)
    building = next(b for b in community.buildings if b.units)
    return ReportDraft(suggested_category_code=category.code, category_code=category.code,
                       description="楼道堆放杂物", building_code=building.code, anonymous=False,
                       duplicate_number="20261120-001")


@pytest.mark.parametrize("name", [name for name, state in TABLE.states.items() if state.every_input is None])
async def test_every_button_a_question_shows_is_taken_by_its_state(name):
    community = example_community()
    draft = draft_that_reaches_every_question()
    ticket = open_ticket(draft.category_code or "", draft.building_code or "")
    conversation = Conversation(chat_id=5001, user_id=5001, dialog=report.DIALOG, step=name, turn=7)
    ctx = Context(StandInUnitOfWork(Lookup(None), Lookup(ticket), Outbox()),  # type: ignore[arg-type]
                  Incoming(1, 5001, Sender(5001), InputKind.COMMAND, command="report"),
                  community, conversation, Texts(), datetime(2026, 11, 22, 1, 30, tzinfo=UTC))
    state = TABLE.states[name]
    await state.ask(ctx, draft)
    pressed = [b.data.removeprefix(f"{DIALOG_BUTTON}7:") for m in ctx.sent for row in m.buttons for b in row
               if b.data.startswith(DIALOG_BUTTON)]
    assert pressed, f"{name} asks with no button"  # every question here offers at least one
    assert [v for v in pressed if v != CANCEL and state.answer_to_button(v) is None] == []


def test_the_home_table_walks_the_place_questions_to_its_end():
    table = report.HOME
    assert [gap.state for gap in table.gaps if gap.state not in table.states] == []
    assert table.complete in table.states and table.name == report.DIALOG
    for name, state in table.states.items():
        for leads_to in state.leads():
            assert leads_to in (NEXT, SAME, END) or leads_to in table.states, (name, leads_to)
    assert report.table_for_draft(ReportDraft(home_only=True)) is table
    assert report.table_for_draft(ReportDraft()) is report.REPORT
