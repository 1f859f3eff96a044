"""Places in a community with estates (小区): "雅悦花园12栋3单元", "雅悦12栋" (an alias),
"蔚蓝香廷小区8号车库", "翠湖花园五栋二单元302", "沿街商铺3号" (a shop of no estate).

Building names are unique only within an estate (two estates may each have a 5栋), so a place is read
in two steps: the estate named in the text (its name or an alias, with or without 小区, fullwidth, its
numbers in Chinese numerals or digits), then the building among that estate's buildings. A building
named without an estate is looked up in the whole community; when the same name is a building of
several estates, they are all returned as candidates and the resident is asked which one. A community
without estates reads places exactly as gridcore.intake does.

Pure functions of the text and the roster; no I/O.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from gridcore.community import Building, Community, Estate
from gridcore.intake import extract_place, match_building, normalise, normalise_with_origin
from gridcore.numerals import CHINESE_NUMERAL_CHARS, chinese_to_int, int_to_chinese

ESTATE_SUFFIX = "小区"
# An estate's name right before these is part of a larger name: "翠湖社区" is the community, not 翠湖花园.
_NOT_AN_ESTATE_AFTER = ("社区", "街道", "路", "街")
_DIGITS_IN_NAME = re.compile(r"(?<!\d)\d{1,2}(?!\d)")
_CHINESE_IN_NAME = re.compile(rf"[{CHINESE_NUMERAL_CHARS}]{{1,3}}")


@dataclass(frozen=True)
class PlaceFind:
    """Where a text says a problem is.

    building: the one roster building meant, else None. candidates: when the text names a building that
    several estates have and no estate (the resident is asked which). estate: the estate named, or the
    building's. unit: the unit number as the text gives it (keep it only if the building has it); room:
    "302" of "302室" or "3-2-302". mention: the place exactly as typed ("雅悦花园12栋3单元")."""

    building: Building | None = None
    candidates: tuple[Building, ...] = ()
    estate: Estate | None = None
    unit: str | None = None
    room: str | None = None
    mention: str = ""
    building_text: str | None = None  # the building as the text names it, found in the roster or not

    @property
    def ambiguous(self) -> bool:
        return self.building is None and len(self.candidates) > 1


def buildings_of(community: Community, estate_code: str | None) -> tuple[Building, ...]:
    """The buildings of one estate, in roster order; None: the buildings of no estate."""
    return tuple(b for b in community.buildings if b.estate_code == estate_code)


def estate_spellings(estate: Estate) -> tuple[str, ...]:
    """The ways residents write an estate, normalised: each name and alias, with and without 小区, its
    numbers in digits and in Chinese numerals ("第1小区", "第一小区")."""
    spelled: set[str] = set()
    for name in estate.all_names():
        normal = normalise(name)
        bare = normal.removesuffix(ESTATE_SUFFIX) or normal
        for form in (bare, bare + ESTATE_SUFFIX):
            spelled.add(form)
            spelled.add(_DIGITS_IN_NAME.sub(lambda m: int_to_chinese(int(m.group())), form))
            spelled.add(_CHINESE_IN_NAME.sub(_chinese_as_digits, form))
    return tuple(sorted(spelled - {"", ESTATE_SUFFIX}, key=lambda s: (-len(s), s)))


def _chinese_as_digits(match: re.Match[str]) -> str:
    number = chinese_to_int(match.group())
    return str(number) if number is not None else match.group()


@functools.lru_cache(maxsize=32)
def _spellings(estates: tuple[Estate, ...]) -> tuple[tuple[str, Estate], ...]:
    """Every spelling of every estate, longest first. A spelling two estates share names neither."""
    owners: dict[str, set[str]] = {}
    pairs = [(spelling, estate) for estate in estates for spelling in estate_spellings(estate)]
    for spelling, estate in pairs:
        owners.setdefault(spelling, set()).add(estate.code)
    unique = [(spelling, estate) for spelling, estate in pairs if len(owners[spelling]) == 1]
    return tuple(sorted(unique, key=lambda pair: (-len(pair[0]), pair[0])))


def find_estate(normal: str, estates: Sequence[Estate]) -> tuple[Estate, int, int] | None:
    """The first estate named in a normalised text (the longest spelling at the earliest place), with
    where it stands, or None."""
    best: tuple[int, int, Estate] | None = None
    for spelling, estate in _spellings(tuple(estates)):
        start = normal.find(spelling)
        while start >= 0:
            end = start + len(spelling)
            if not normal.startswith(_NOT_AN_ESTATE_AFTER, end):
                if best is None or (start, -end) < (best[0], -best[1]):
                    best = (start, end, estate)
                break
            start = normal.find(spelling, start + 1)
    return (best[2], best[0], best[1]) if best else None


def _in_buildings(text: str, buildings: Sequence[Building], community: Community) -> PlaceFind | None:
    """The place the text names among these buildings (None: it names none, nor a unit)."""
    mention = extract_place(text, buildings)
    if mention is None:
        return None
    building = match_building(mention.building_text, buildings)
    candidates: tuple[Building, ...] = ()
    if building is None and mention.building_text:
        candidates = same_name_in_estates(mention.building_text, buildings)
        if len(candidates) == 1:
            building, candidates = candidates[0], ()
    estate = community.estate(building.estate_code) if building else None
    return PlaceFind(building, candidates, estate, mention.unit, mention.room, mention.mention,
                     mention.building_text)


def same_name_in_estates(typed: str, buildings: Sequence[Building]) -> tuple[Building, ...]:
    """The building this name means in each estate that has one (and among the buildings of no estate)."""
    found = []
    for code in dict.fromkeys(b.estate_code for b in buildings):
        building = match_building(typed, [b for b in buildings if b.estate_code == code])
        if building is not None:
            found.append(building)
    return tuple(found)


def find_place(text: str, community: Community) -> PlaceFind | None:
    """The place a resident's text names, or None when it names no building, estate or unit.

    An estate named first ("雅悦花园12栋", "雅悦12栋", "蔚蓝香廷小区8号车库") narrows the building to that
    estate's; a building named before the estate is found too. If the estate has no such building but
    the community has exactly one, that one is meant. Without an estate, a building name several estates
    share gives candidates and no building.
    """
    if not community.estates:
        return _in_buildings(text, community.buildings, community)
    normal, origin = normalise_with_origin(text)
    named = find_estate(normal, community.estates)
    if named is None:
        return _in_buildings(text, community.buildings, community)
    estate, start, end = named
    typed_start = origin[start]
    after = origin[end] if end < len(normal) else len(text)
    own = buildings_of(community, estate.code)
    rest = text[after:]
    found = _in_buildings(rest, own, community)
    if found is None or (found.building is None and found.unit is None):
        found = _in_buildings(text, own, community) or found
    if found is not None and found.building is not None:
        at = rest.find(found.mention)
        mention = text[typed_start:after] + rest[: at + len(found.mention)] if at >= 0 else found.mention
        return PlaceFind(found.building, (), estate, found.unit, found.room, mention, found.building_text)
    elsewhere = _in_buildings(rest, community.buildings, community)
    if elsewhere is not None and elsewhere.building is not None:
        return elsewhere  # "雅悦花园对面的沿街商铺3号": the shop, of no estate
    estate_words = text[typed_start:after]
    if found is not None and found.unit is not None:  # "雅悦花园2单元": the building still to ask
        return PlaceFind(None, (), estate, found.unit, found.room, estate_words)
    return PlaceFind(None, (), estate, None, None, estate_words)


def match_typed_place(text: str, community: Community, estate_code: str | None) -> PlaceFind:
    """A typed answer to "which building" once the resident picked an estate (estate_code; None: the
    buildings of no estate): that estate's building by name, alias or number ("12栋", "十二栋", "12"); or a
    place naming another estate outright ("蔚蓝8号车库"); or a building only one estate has. An empty
    PlaceFind when nothing matches."""
    typed = text.strip()
    named = match_estate(typed, community)
    if named is not None and named.code != estate_code:
        return find_place(typed, community) or PlaceFind(estate=named)  # another estate, named outright
    own = buildings_of(community, estate_code)
    mention = extract_place(typed, own)
    building = match_building(mention.building_text if mention else typed, own) or match_building(typed, own)
    if building is not None:
        return PlaceFind(building, (), community.estate(estate_code), mention.unit if mention else None,
                         mention.room if mention else None, mention.mention if mention else typed)
    found = find_place(typed, community)
    if found is not None and (found.building is not None or found.ambiguous):
        return found
    return PlaceFind()


def match_estate(text: str, community: Community) -> Estate | None:
    """The estate a typed answer names ("雅悦", "雅悦花园小区", "翠湖花园"), or None."""
    named = find_estate(normalise(text), community.estates)
    return named[0] if named else None
