"""How a roster's parts are stored: the column values of grids, estates, buildings, categories and staff,
and the JSON of replies, announcements and the reminder policy (storage.repositories.roster reads and
writes them)."""

from __future__ import annotations

from dataclasses import replace
from datetime import time, timedelta
from typing import Any

from gridcore.community import (
    Announcement,
    AnnouncementKind,
    AnnouncementTarget,
    Building,
    Category,
    Estate,
    Grid,
    Person,
    Replies,
)
from gridcore.deadlines import ReminderPolicy
from gridcore.staff import person_key


def grid_values(grid: Grid) -> dict[str, Any]:
    return {"name": grid.name, "group_chat_id": grid.group_chat_id}


def estate_values(estate: Estate) -> dict[str, Any]:
    return {"name": estate.name, "aliases": list(estate.aliases), "grid_code": estate.grid_code}


def building_values(building: Building) -> dict[str, Any]:
    return {
        "name": building.name,
        "grid_code": building.grid_code,
        "aliases": list(building.aliases),
        "units": list(building.units),
        "estate_code": building.estate_code,
        "kind": building.kind.value,
    }


def category_values(category: Category) -> dict[str, Any]:
    return {
        "name": category.name,
        "keywords": list(category.keywords),
        "feedback_deadline_seconds": int(category.feedback_deadline.total_seconds()),
        "emergency": category.emergency,
        "mode": category.mode.value,
        "emergency_numbers": list(category.emergency_numbers),
        "co_handler": category.co_handler,
        "dispute": category.dispute,
        "replies": replies_json(category.replies),
        "feedback_workdays": category.feedback_workdays,
        "topic": category.topic,
        "priority": category.priority.value,
    }


def replies_json(replies: Replies) -> dict[str, Any] | None:
    if replies == Replies():
        return None
    return {"progress": list(replies.progress), "resolve": list(replies.resolve)}


def replies_from_json(data: dict[str, Any] | None) -> Replies:
    data = data or {}
    return Replies(tuple(data.get("progress", ())), tuple(data.get("resolve", ())))


def person_values(person: Person) -> dict[str, Any]:
    return {
        "name": person.name,
        "role": person.role.value,
        "grid_code": person.grid_code,
        "telegram_user_id": person.telegram_user_id,
        "username": person.username,
        "phone": person.phone,
        "building_code": person.building_code,
        "title": person.title,
        "away": person.away,
    }


def announcement_json(a: Announcement) -> dict[str, Any]:
    return {"kind": a.kind.value, "at": a.at.strftime("%H:%M"), "days": list(a.days),
            "weekdays": list(a.weekdays), "targets": [t.value for t in a.targets], "enabled": a.enabled,
            "note": a.note, "checklist": list(a.checklist)}


def announcement(data: dict[str, Any]) -> Announcement:
    return Announcement(
        kind=AnnouncementKind(data["kind"]),
        at=time.fromisoformat(data["at"]),
        days=tuple(data.get("days", ())),
        weekdays=tuple(data.get("weekdays", ())),
        targets=tuple(AnnouncementTarget(t) for t in data.get("targets", ())),
        enabled=bool(data.get("enabled", True)),
        note=data.get("note", ""),
        checklist=tuple(data.get("checklist", ())),
    )


def hours(delta: timedelta) -> float:
    return delta.total_seconds() / 3600


def policy_json(policy: ReminderPolicy) -> dict[str, Any]:
    return {"accept": hours(policy.accept_within), "urgent_accept": hours(policy.accept_within_urgent),
            "urgent_feedback": hours(policy.feedback_within_urgent),
            "major_accept": hours(policy.accept_within_major),
            "major_feedback": hours(policy.feedback_within_major),
            "before": [hours(b) for b in policy.feedback_reminders],
            "staff_after": hours(policy.staff_after), "street_after": hours(policy.street_after)}


def policy_from_json(data: dict[str, Any] | None) -> ReminderPolicy:
    if not data:
        return ReminderPolicy()
    default = ReminderPolicy()

    def level(key: str, fallback: timedelta) -> timedelta:  # stored before 分级响应: the default
        return timedelta(hours=data[key]) if key in data else fallback

    return ReminderPolicy(
        accept_within=timedelta(hours=data["accept"]),
        accept_within_urgent=timedelta(hours=data["urgent_accept"]),
        feedback_within_urgent=level("urgent_feedback", default.feedback_within_urgent),
        accept_within_major=level("major_accept", default.accept_within_major),
        feedback_within_major=level("major_feedback", default.feedback_within_major),
        feedback_reminders=tuple(timedelta(hours=h) for h in data["before"]),
        staff_after=timedelta(hours=data["staff_after"]),
        # Stored before street offices: the default street_after.
        street_after=(timedelta(hours=data["street_after"]) if "street_after" in data
                      else ReminderPolicy.street_after))


def with_binding(person: Person, bound: dict[str, int]) -> Person:
    """A roster entry without a Telegram id takes the one an invite bound to it (roster ids win)."""
    user_id = bound.get(person_key(person)) if person.telegram_user_id is None else None
    return replace(person, telegram_user_id=user_id) if user_id is not None else person
