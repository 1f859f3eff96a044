"""The roster's optional `announcements:` section (scheduled posts), validated with line numbers.

Called by gridcore.roster.parse_roster() with its reader; the format is documented in
examples/roster.yaml.
"""

from __future__ import annotations

import re
from datetime import time

from yaml.nodes import Node, ScalarNode, SequenceNode

from gridcore.community import Announcement, AnnouncementKind, AnnouncementTarget
from gridcore.roster_reader import Reader

_ENTRY = ({"kind", "schedule"}, {"enabled", "targets", "note", "checklist"})
_SCHEDULE = ({"time"}, {"days", "weekdays"})
_TIME = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])")
# Who each kind goes to: the group kinds take `targets` (this default when absent); the private
# kinds go to people (日排查: each grid worker, 周研判: each grid leader) and take no targets.
DEFAULT_TARGETS = {
    AnnouncementKind.COUNCIL_DAY: (AnnouncementTarget.GRIDS,),
    AnnouncementKind.FOURS: (AnnouncementTarget.GRIDS,),
    AnnouncementKind.PROGRESS_BOARD: (AnnouncementTarget.PUBLIC,),
}


def _numbers(r: Reader, node: Node | None, what: str, low: int, high: int) -> tuple[int, ...]:
    out: list[int] = []
    for item in r.items(node, what):
        value = r.integer(item, f"each of {what}", lambda v: low <= v <= high, f"{low}-{high}")
        if value is not None:
            if value in out:
                r.problem(item, f"{what} lists {value} twice")
            else:
                out.append(value)
    if isinstance(node, SequenceNode) and not node.value:
        r.problem(node, f"{what} must list at least one")
    return tuple(out)


def _time(r: Reader, node: Node | None, what: str) -> time | None:
    if node is None:
        return None
    raw = str(node.value).strip() if isinstance(node, ScalarNode) else ""
    match = _TIME.fullmatch(raw)
    if match is None:
        r.problem(node, f'{what} must be a time of day like "09:00" (24-hour, community time zone)')
        return None
    return time(int(match.group(1)), int(match.group(2)))


def _entry(r: Reader, item: Node, i: int, *, public_chat: bool) -> Announcement | None:
    what = f"announcement #{i + 1}"
    f = r.fields(item, what, _ENTRY)
    if f is None:
        return None
    kind_text = r.text(f.get("kind"), f"{what} kind")
    kind = None
    if kind_text is not None:
        if kind_text in {k.value for k in AnnouncementKind}:
            kind = AnnouncementKind(kind_text)
            what = f'announcement "{kind_text}" (#{i + 1})'
        else:
            choices = ", ".join(k.value for k in AnnouncementKind)
            r.problem(f["kind"], f'{what}: kind "{kind_text}" is not one of {choices}')
    at, days, weekdays = None, (), ()
    if "schedule" in f:
        s = r.fields(f["schedule"], f"{what} schedule", _SCHEDULE)
        if s is not None:
            at = _time(r, s.get("time"), f"{what} schedule time")
            days = _numbers(r, s.get("days"), f"{what} schedule days", 1, 31)
            weekdays = _numbers(r, s.get("weekdays"), f"{what} schedule weekdays", 1, 7)
            if "days" in s and "weekdays" in s:
                r.problem(s["weekdays"], f"{what} schedule: give days (of the month) or weekdays, not both")
    enabled = r.boolean(f.get("enabled"), f"{what} enabled") if "enabled" in f else True
    targets: list[AnnouncementTarget] = []
    if "targets" in f and kind is not None and kind not in DEFAULT_TARGETS:
        r.problem(f["targets"], f"{what} goes to people privately and takes no targets")
    for value, node in r.texts(f.get("targets"), f"{what} targets"):
        if value not in {t.value for t in AnnouncementTarget}:
            r.problem(node, f'{what}: target "{value}" is not one of grids, public, staff')
        elif AnnouncementTarget(value) in targets:
            r.problem(node, f'{what}: target "{value}" is listed twice')
        else:
            targets.append(AnnouncementTarget(value))
    if isinstance(f.get("targets"), SequenceNode) and not f["targets"].value:
        r.problem(f["targets"], f"{what} targets must list at least one")
    if kind in DEFAULT_TARGETS and not targets and "targets" not in f:
        targets = list(DEFAULT_TARGETS[kind])
    if AnnouncementTarget.PUBLIC in targets and not public_chat:
        r.problem(f.get("targets", item), f'{what} goes to the public group: set community "public_chat_id"')
    checklist = tuple(c for c, _ in r.texts(f.get("checklist"), f"{what} checklist"))
    if "checklist" in f and kind is not None and kind is not AnnouncementKind.DAILY_PATROL:
        r.problem(f["checklist"], f"{what}: only 日排查 has a checklist")
    note = r.text(f.get("note"), f"{what} note") or ""
    if kind is None or at is None or enabled is None:
        return None
    return Announcement(kind, at, days, weekdays, tuple(targets), enabled, note, checklist)


def parse_announcements(r: Reader, node: Node | None, *, public_chat: bool) -> list[Announcement]:
    """The entries of `announcements:`; none when the section is absent (nothing is sent unless listed).
    The same kind may appear more than once (e.g. two 日排查 rounds), but not with the same schedule."""
    out: list[Announcement] = []
    seen: dict[tuple, int] = {}
    for i, item in enumerate(r.items(node, "announcements")):
        announcement = _entry(r, item, i, public_chat=public_chat)
        if announcement is None:
            continue
        key = (announcement.kind, announcement.at, announcement.days, announcement.weekdays)
        line = item.start_mark.line + 1
        if key in seen:
            r.problem(item, f'announcement "{announcement.kind}" with this schedule is listed twice '
                            f"(first on line {seen[key]})")
            continue
        seen[key] = line
        out.append(announcement)
    return out
