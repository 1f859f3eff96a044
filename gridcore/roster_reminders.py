"""The roster's reminder settings (community keys accept_hours, urgent_accept_hours, reminder_hours,
staff_after_hours, street_after_hours, priorities) and a category's `priority`, validated like the rest
of the roster.

    priorities: {紧急: {accept_hours: 1, feedback_hours: 24}, 重大: {accept_hours: 0.5, feedback_hours: 12}}

Each level's hours may be fractions (0.5); a level or key left out keeps its default. 一般 has no entry:
its clocks are accept_hours and the category's own deadline. urgent_accept_hours is the older spelling
of 紧急's accept_hours (give one of them).
"""

from __future__ import annotations

from datetime import timedelta

from yaml.nodes import Node

from gridcore.deadlines import ReminderPolicy
from gridcore.priority import LEVEL_NAMES, PRIORITY_NAMES
from gridcore.roster_reader import Reader
from gridcore.ticket import Urgency

_POSITIVE = (lambda v: v > 0), "positive"
_LEVELS = (set(), {LEVEL_NAMES[Urgency.URGENT], LEVEL_NAMES[Urgency.MAJOR]})
_CLOCKS = (set(), {"accept_hours", "feedback_hours"})
MAX_LEVEL_HOURS = 24 * 30  # a level's window longer than a month is a typo


def parse_reminders(r: Reader, f: dict[str, Node]) -> ReminderPolicy:
    """The deadline clocks' settings (gridcore.deadlines), in hours; defaults where left out."""
    hours = {key: r.integer(f.get(key), f"community {key}", *_POSITIVE)
             for key in ("accept_hours", "urgent_accept_hours", "staff_after_hours",
                        "street_after_hours")}
    listed = r.texts(f.get("reminder_hours"), "community reminder_hours", number_ok=True)
    before = [int(value) for value, _ in listed if value.isdigit() and int(value) > 0]
    if len(before) != len(listed):
        r.problem(f["reminder_hours"], "community reminder_hours must list positive hours (e.g. [24, 4])")
    default = ReminderPolicy()

    def span(key: str, fallback: timedelta) -> timedelta:
        return timedelta(hours=hours[key]) if hours[key] else fallback

    levels = _priorities(r, f.get("priorities"))
    urgent, major = levels.get(Urgency.URGENT, {}), levels.get(Urgency.MAJOR, {})
    if "accept_hours" in urgent and "urgent_accept_hours" in f:
        r.problem(f["urgent_accept_hours"], "community urgent_accept_hours is priorities 紧急 accept_hours: "
                                            "give one of them")
    policy = ReminderPolicy(
        accept_within=span("accept_hours", default.accept_within),
        accept_within_urgent=urgent.get("accept_hours",
                                        span("urgent_accept_hours", default.accept_within_urgent)),
        feedback_within_urgent=urgent.get("feedback_hours", default.feedback_within_urgent),
        accept_within_major=major.get("accept_hours", default.accept_within_major),
        feedback_within_major=major.get("feedback_hours", default.feedback_within_major),
        feedback_reminders=(tuple(timedelta(hours=h) for h in before) if "reminder_hours" in f
                            else default.feedback_reminders),
        staff_after=span("staff_after_hours", default.staff_after),
        street_after=span("street_after_hours", default.street_after),
    )
    pairs = (("accept_hours", policy.accept_within_major, policy.accept_within_urgent),
             ("feedback_hours", policy.feedback_within_major, policy.feedback_within_urgent))
    slower = [key for key, major_span, urgent_span in pairs if major_span > urgent_span]
    if slower and "priorities" in f:
        r.problem(f["priorities"], f"community priorities: 重大's {' and '.join(slower)} longer than 紧急's "
                                   "(重大 is the more pressing level)")
    return policy


def _priorities(r: Reader, node: Node | None) -> dict[Urgency, dict[str, timedelta]]:
    """`priorities:` per level (紧急, 重大) its accept_hours and feedback_hours."""
    if node is None:
        return {}
    f = r.fields(node, "community priorities", _LEVELS)
    if f is None:
        return {}
    levels: dict[Urgency, dict[str, timedelta]] = {}
    for name, level_node in f.items():
        what = f"community priorities {name}"
        clocks = r.fields(level_node, what, _CLOCKS) or {}
        spans = {key: r.hours(value, f"{what} {key}", MAX_LEVEL_HOURS) for key, value in clocks.items()}
        levels[PRIORITY_NAMES[name]] = {key: timedelta(hours=h) for key, h in spans.items() if h is not None}
        accept, feedback = spans.get("accept_hours"), spans.get("feedback_hours")
        if accept is not None and feedback is not None and accept > feedback:
            r.problem(clocks["accept_hours"], f"{what}: accept_hours is longer than feedback_hours")
    return levels


def parse_priority(r: Reader, node: Node | None, what: str, *, emergency: bool) -> Urgency:
    """A category's `priority: 一般|紧急|重大`; left out, 一般 (an emergency category: 紧急)."""
    default = Urgency.URGENT if emergency else Urgency.NORMAL
    name = r.text(node, f"{what} priority")
    if name is None:
        return default
    level = PRIORITY_NAMES.get(name)
    if level is None:
        assert node is not None
        r.problem(node, f'{what}: priority "{name}" is not one of {", ".join(PRIORITY_NAMES)}')
        return default
    if emergency and not level.raised:
        assert node is not None
        r.problem(node, f"{what}: an emergency category is 紧急 or 重大, not {name}")
        return default
    return level
