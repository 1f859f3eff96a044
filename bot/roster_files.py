"""Roster files as the command line and the start of `gridbot run` read them: one file checked and
parsed (gridcore.roster), or ROSTER_FILE's several, each its own community, loaded into an empty database."""

from __future__ import annotations

import logging
import sys
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.settings import Settings
from gridcore.community import Community
from gridcore.roster import RosterError, RosterProblem, check_roster
from gridcore.roster_checks import calendar_warnings, too_big

log = logging.getLogger("gridbot")


def read_roster_checked(path: str | Path, today: date | None = None) -> tuple[Community, list[RosterProblem]]:
    """Parse a roster file and its warnings (with the holiday calendar's gaps as of `today`, default the
    local date); RosterError names the file, line and problem. A file over the size limit is refused
    before it is read."""
    path = Path(path)
    if (refused := too_big(path.stat().st_size)) is not None:
        raise RosterError([RosterProblem(str(path), 1, refused)])
    community, warnings = check_roster(path.read_text(encoding="utf-8"), str(path))
    today = today or datetime.now(ZoneInfo(community.timezone)).date()
    gaps = [RosterProblem(str(path), 1, message, warning=True)
            for message in calendar_warnings(community, today)]
    return community, gaps + warnings


def read_roster(path: str | Path) -> Community:
    """Parse a roster file; RosterError names the file, line and problem. Warnings are logged."""
    community, warnings = read_roster_checked(path)
    for warning in warnings:
        log.warning("%s", warning)
    return community


def print_warnings(warnings: list[RosterProblem]) -> None:
    for warning in warnings:
        print(warning, file=sys.stderr)


async def ensure_roster(settings: Settings, engine) -> list[Community]:
    """The communities this run serves: COMMUNITY's, else every one in the database. An empty database
    first gets every roster file of ROSTER_FILE (examples/roster.yaml by default; several are
    comma-separated), each its own community, all in one transaction; a missing file is skipped."""
    from storage.uow import uow_factory

    async with uow_factory(engine)() as uow:
        codes = await uow.roster.list_codes()
        if not codes:
            loaded = read_rosters(settings.roster_paths())
            for community in loaded.values():
                await uow.roster.upsert(community)
            await uow.commit()
            for path, community in loaded.items():
                log.info("loaded roster %s (%s)", path, community.code)
            codes = sorted(c.code for c in loaded.values())  # as list_codes() orders them
        if settings.community:
            codes = [code for code in codes if code == settings.community]
        found = [await uow.roster.get(code) for code in codes]
        return [community for community in found if community is not None]


def read_rosters(paths: list[str]) -> dict[str, Community]:
    """Each existing file's community, by path (a missing file is logged and skipped); two files that
    declare the same community code are a RosterError (at the second file's first line): one would
    replace the other."""
    communities: dict[str, Community] = {}
    for path in paths:
        if not Path(path).is_file():
            log.warning("no community in the database and no roster file at %s", path)
            continue
        community = read_roster(path)
        first = next((where for where, c in communities.items() if c.code == community.code), None)
        if first is not None:
            again = f"community {community.code} is declared again (first in {first}): one roster each"
            raise RosterError([RosterProblem(path, 1, again)])
        communities[path] = community
    return communities
