"""The roster's reminder settings (community keys accept_hours, urgent_accept_hours, reminder_hours,
staff_after_hours, street_after_hours), validated like the rest of the roster."""

from __future__ import annotations

from datetime import timedelta

from yaml.nodes import Node

from gridcore.deadlines import ReminderPolicy
from gridcore.roster_reader import Reader

_POSITIVE = (lambda v: v > 0), "positive"


def parse_reminders(r: Reader, f: dict[str, Node]) -> ReminderPolicy:
    """The deadline clocks' settings (gridcore.deadlines), in whole hours; defaults where left out."""
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

    return ReminderPolicy(
        accept_within=span("accept_hours", default.accept_within),
        accept_within_urgent=span("urgent_accept_hours", default.accept_within_urgent),
        feedback_reminders=(tuple(timedelta(hours=h) for h in before) if "reminder_hours" in f
                            else default.feedback_reminders),
        staff_after=span("staff_after_hours", default.staff_after),
        street_after=span("street_after_hours", default.street_after),
    )
