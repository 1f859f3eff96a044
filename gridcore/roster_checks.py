"""Roster limits and warnings: what is refused for its size, and what loads but deserves a look.

Limits keep one roster file from tying up the bot (every message reads the community): a file over
MAX_ROSTER_BYTES, or a section over its MAX_ENTRIES, is a problem (RosterError), not a slow start.
Warnings never fail a check or a load; they carry the line they are about, like problems.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from yaml.nodes import Node, SequenceNode

from gridcore.community import Community, Role
from gridcore.workdays import calendar_gaps

MAX_ROSTER_BYTES = 5 * 1024 * 1024
MAX_ENTRIES = {"grids": 1_000, "estates": 1_000, "buildings": 5_000, "staff": 10_000, "categories": 500,
               "announcements": 200}
HANDLER_ROLES = frozenset({Role.GRID_WORKER, Role.GRID_LEADER})  # who a grid's tickets go to


def too_big(size: int) -> str | None:
    """Why a roster of `size` bytes (UTF-8) is refused, or None when it is within the limit."""
    if size <= MAX_ROSTER_BYTES:
        return None
    return (f"the roster is {size / 1024 / 1024:.1f} MB; at most {MAX_ROSTER_BYTES // 1024 // 1024} MB is "
            "accepted (one community's roster is far smaller: is this the right file?)")


def too_many(top: Mapping[str, Node]) -> list[tuple[Node, str]]:
    """Sections with more entries than MAX_ENTRIES allows, each with the node it starts at."""
    found = []
    for section, limit in MAX_ENTRIES.items():
        node = top.get(section)
        if isinstance(node, SequenceNode) and len(node.value) > limit:
            found.append((node, f"{section} lists {len(node.value):,} entries; at most {limit:,} are "
                                f"accepted in one roster (split the community, or check the file)"))
    return found


def unhandled_grids(community: Community) -> list[str]:
    """Codes of the grids whose tickets nobody can handle: no grid worker and no grid leader that the bot
    can reach (with a telegram_user_id or a username). Their tickets go to community staff."""
    reachable = {p.grid_code for p in community.staff
                 if p.role in HANDLER_ROLES and (p.telegram_user_id is not None or p.username)}
    return [grid.code for grid in community.grids if grid.code not in reachable]


def empty_estates(community: Community) -> list[str]:
    """Codes of the estates no building names: residents could pick them and find nothing to report at."""
    used = {b.estate_code for b in community.buildings}
    return [estate.code for estate in community.estates if estate.code not in used]


def roster_warnings(community: Community, lines: Mapping[tuple[str, str], int]) -> list[tuple[int, str]]:
    """(line, message) of each warning, at the line of the entry it is about; `lines` maps ("grid", code)
    and ("estate", code) to the line of that entry."""
    found = [(lines.get(("grid", code), 1),
              f'grid "{code}" has no grid_worker or grid_leader with a telegram_user_id or username: nobody '
              "in it can handle its tickets (they will wait for community staff)")
             for code in unhandled_grids(community)]
    found.extend((lines.get(("estate", code), 1),
                  f'estate "{code}" has no buildings: no building names it with `estate: {code}`')
                 for code in empty_estates(community))
    return sorted(found, key=lambda warning: warning[0])


def calendar_warnings(community: Community, today: date) -> list[str]:
    """The years (this one, the next) whose statutory holidays the installed calendar does not know, for a
    community that counts working days or office hours; its deadlines then skip weekends only."""
    counts_workdays = (community.reminders.office_hours is not None
                       or any(c.feedback_workdays is not None for c in community.categories))
    if not counts_workdays:
        return []
    return [f"the holiday calendar (chinese-calendar package) does not cover {year} yet: working-day "
            f"deadlines and office hours in {year} skip weekends only, not holidays or 调休 "
            "(upgrade chinese-calendar once the State Council publishes the year's holidays)"
            for year in calendar_gaps(today)]
