"""What goes on the QR posters put up in each building's lobby: which buildings, the deep link of each,
the place as the bot names it, the feedback promise. Pure; handlers/posters.py draws the page.

A poster's link is https://t.me/<bot username>?start=b-<community>-<building> (gridcore.links): the
resident who scans it starts a report with the building already filled in.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import timedelta

from gridcore.community import Building, Community, Estate
from gridcore.intake import normalise
from gridcore.links import building_link
from gridcore.places import buildings_of, estate_spellings, find_place, match_building

DEFAULT_FEEDBACK_DAYS = 3
# Telegram usernames: 5-32 characters of letters, digits and "_", starting with a letter.
_BOT_USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{4,31}")


class PosterSelectionError(ValueError):
    """--estate / --building name nothing in the roster, or more than one building: the message says
    what there is to choose from."""


@dataclass(frozen=True)
class Poster:
    """One building's poster, as text: the drawing adds no facts of its own."""

    community_code: str
    community_name: str
    building_code: str
    place: str  # as the bot names it on cards: "雅悦花园5栋", "3号楼"
    link: str  # what the QR code holds
    feedback_days: int
    emergency_numbers: tuple[str, ...]  # "119", "110", "120": the roster's emergency categories'

    @property
    def file_stem(self) -> str:
        """The poster's file name without extension: "CH-YY5" (community and building codes)."""
        return f"{self.community_code}-{self.building_code}"


def check_bot_username(username: str) -> str:
    """The username without "@"; ValueError when Telegram would not accept it as one."""
    bare = username.strip().removeprefix("@")
    if not _BOT_USERNAME.fullmatch(bare):
        raise ValueError(f"{username!r} is not a Telegram username (5-32 letters, digits or _)")
    return bare


def deep_link(bot_username: str, community_code: str, building_code: str) -> str:
    """https://t.me/<bot>?start=b-<community>-<building>."""
    payload = building_link(community_code, building_code)
    return f"https://t.me/{check_bot_username(bot_username)}?start={payload}"


@dataclass(frozen=True)
class FeedbackPromise:
    """What the bot promises residents about feedback: within `days` (working days when `working_days`)."""

    days: int
    working_days: bool


def feedback_promise(community: Community) -> FeedbackPromise:
    """The promise that holds for every ordinary (non-emergency) category: the longest deadline in whole
    days (rounded up). In working days as soon as one category counts them: N calendar days never end
    after N working days, so the clock categories keep the promise too. DEFAULT_FEEDBACK_DAYS (calendar
    days) for a roster without such categories."""
    ordinary = [c for c in community.categories if not c.emergency]
    if not ordinary:
        return FeedbackPromise(DEFAULT_FEEDBACK_DAYS, False)
    days = [c.feedback_workdays if c.feedback_workdays is not None
            else math.ceil(c.feedback_deadline / timedelta(days=1)) for c in ordinary]
    return FeedbackPromise(max(1, *days), any(c.feedback_workdays is not None for c in ordinary))


def feedback_days(community: Community) -> int:
    """The days the poster promises feedback within (feedback_promise; the poster says 个工作日, which
    holds for calendar-day deadlines too)."""
    return feedback_promise(community).days


def emergency_numbers(community: Community) -> tuple[str, ...]:
    """The numbers the roster's emergency categories tell residents to call, each once, in roster order."""
    return tuple(dict.fromkeys(n for c in community.categories if c.emergency for n in c.emergency_numbers))


def poster(community: Community, building: Building, bot_username: str) -> Poster:
    return Poster(community.code, community.name, building.code, community.place_name(building),
                  deep_link(bot_username, community.code, building.code), feedback_days(community),
                  emergency_numbers(community))


def posters(community: Community, buildings: tuple[Building, ...], bot_username: str) -> list[Poster]:
    return [poster(community, building, bot_username) for building in buildings]


def find_estate_named(community: Community, typed: str) -> Estate:
    """The estate a code, name or alias means ("YY", "雅悦花园", "雅悦小区"); PosterSelectionError if none."""
    for estate in community.estates:
        if typed == estate.code:
            return estate
    normal = normalise(typed)
    for estate in community.estates:
        if normal in estate_spellings(estate):
            return estate
    if not community.estates:
        raise PosterSelectionError(f"{community.name} ({community.code}) has no estates (小区)")
    known = ", ".join(f"{e.code} {e.name}" for e in community.estates)
    raise PosterSelectionError(f"no estate {typed!r} in {community.name} ({community.code}); its estates: "
                               f"{known}")


def find_building_named(community: Community, typed: str, estate: Estate | None) -> Building:
    """The building a code or name means, within `estate` when given ("YY5", "5栋"; "雅悦花园5栋" without
    an estate); PosterSelectionError when none matches or several estates have one of that name."""
    own = buildings_of(community, estate.code) if estate is not None else community.buildings
    exact = next((b for b in own if b.code == typed), None)
    if exact is not None:
        return exact
    if estate is not None:
        found = match_building(typed, own)
        if found is not None:
            return found
        raise PosterSelectionError(f"no building {typed!r} in {estate.name} ({estate.code})")
    place = find_place(typed, community)
    if place is not None and place.building is not None:
        return place.building
    if place is not None and place.ambiguous:
        choices = ", ".join(f"{b.code} {community.place_name(b)}" for b in place.candidates)
        raise PosterSelectionError(f"{typed!r} is a building of several estates ({choices}): give its code "
                                   "or --estate")
    raise PosterSelectionError(f"no building {typed!r} in {community.name} ({community.code})")


def select_buildings(community: Community, estate: str | None = None,
                     building: str | None = None) -> tuple[Building, ...]:
    """The buildings to print posters for, in roster order: one building; an estate's buildings; or
    every place of the community (garages, shops and public areas too: residents report there as well)."""
    chosen_estate = find_estate_named(community, estate) if estate else None
    if building:
        return (find_building_named(community, building, chosen_estate),)
    if chosen_estate is not None:
        return buildings_of(community, chosen_estate.code)
    return community.buildings
