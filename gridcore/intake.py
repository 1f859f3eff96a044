"""Intake: read what a resident typed — which category, which building and unit.

Everything here is a pure function of text and the roster's categories and buildings:
- normalise(): fullwidth -> halfwidth (NFKC), whitespace removed;
- suggest_category(): keyword scoring, longest keyword first; a live emergency always wins;
- extract_place(): "3号楼2单元", "5栋", "8号车库", "三号楼", "3-2-302", roster names like "老干部楼";
- match_building(): a typed name, alias or number to the roster's building.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from gridcore.community import Building, Category
from gridcore.numerals import CHINESE_NUMERAL_CHARS, chinese_to_int, int_to_chinese, parse_number


def normalise(text: str) -> str:
    """Fullwidth letters, digits and signs to halfwidth (NFKC); all whitespace removed."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def normalise_with_origin(text: str) -> tuple[str, list[int]]:
    """normalise(), plus for each character of the result the index of the typed character it came from."""
    chars: list[str] = []
    origin: list[int] = []
    for index, typed in enumerate(text):
        for char in unicodedata.normalize("NFKC", typed):
            if not char.isspace():
                chars.append(char)
                origin.append(index)
    return "".join(chars), origin


# ---------------------------------------------------------------------------------------------- category

# Words that make an emergency keyword hypothetical when they come before it in the same clause:
# "万一着火怎么办" asks about fire safety, it does not report a fire.
_HYPOTHETICAL = ("万一", "如果", "要是", "假如", "假设", "一旦", "担心", "怕", "以防", "防止", "预防", "避免")
_CLAUSE_END = re.compile(r"[,.!?;:，。！？；：…\n]")


def _hypothetical(text: str, start: int) -> bool:
    clause = _CLAUSE_END.split(text[:start])[-1][-8:]
    return any(word in clause for word in _HYPOTHETICAL)


@dataclass(frozen=True)
class _Hit:
    start: int
    end: int
    index: int  # of the category


T = TypeVar("T")
R = TypeVar("R")


def _per_roster(compute: Callable[[tuple[T, ...]], R]) -> Callable[[Sequence[T]], R]:
    """`compute` once per distinct roster part (the same categories or buildings come with every
    message); unhashable input is computed every time."""
    cached = functools.lru_cache(maxsize=16)(compute)

    def lookup(items: Sequence[T]) -> R:
        key = tuple(items)
        try:
            return cached(key)
        except TypeError:
            return compute(key)

    return lookup


@_per_roster
def _keywords(categories: tuple[Category, ...]) -> tuple[tuple[str, ...], ...]:
    """Each category's keywords, normalised, lower-case, without repeats."""
    return tuple(tuple(sorted({normalise(k).lower() for k in c.keywords} - {""})) for c in categories)


def _occurrences(keyword: str, text: str) -> list[int]:
    """Where the keyword starts in the text, left to right, without overlaps (like re.finditer)."""
    found = []
    start = text.find(keyword)
    while start >= 0:
        found.append(start)
        start = text.find(keyword, start + len(keyword))
    return found


def _hits(text: str, categories: Sequence[Category]) -> list[_Hit]:
    hits = []
    for index, keywords in enumerate(_keywords(categories)):
        for keyword in keywords:
            if keyword in text:  # most are not: a roster has hundreds of keywords, a message a few
                hits.extend(_Hit(start, start + len(keyword), index) for start in _occurrences(keyword, text))
    return hits


def category_scores(text: str, categories: Sequence[Category]) -> list[int]:
    """Score per category: the length of its keywords found in the text, longest keyword first,
    a stretch of text counting once ("楼道灯" for 公共设施 hides "楼道" of another category)."""
    normal = normalise(text).lower()
    return _scores(normal, _hits(normal, categories), categories)


def _scores(normal: str, found: list[_Hit], categories: Sequence[Category]) -> list[int]:
    hits = [h for h in found if not (categories[h.index].emergency and _hypothetical(normal, h.start))]
    hits.sort(key=lambda h: (h.start - h.end, h.start, h.index))
    taken = [False] * len(normal)
    scores = [0] * len(categories)
    for hit in hits:
        if any(taken[hit.start:hit.end]):
            continue
        taken[hit.start:hit.end] = [True] * (hit.end - hit.start)
        scores[hit.index] += hit.end - hit.start
    return scores


@dataclass(frozen=True)
class KeywordEvidence:
    scores: list[int]  # per category, as category_scores
    live: set[int]  # emergency categories with a live keyword ("着火了")
    hypothetical: set[int]  # emergency categories whose keywords are only supposed ("万一着火")


def keyword_evidence(text: str, categories: Sequence[Category]) -> KeywordEvidence:
    """What the roster's keywords say of the text, per category (by index)."""
    normal = normalise(text).lower()
    found = _hits(normal, categories)
    emergency = [h for h in found if categories[h.index].emergency]
    live = {h.index for h in emergency if not _hypothetical(normal, h.start)}
    hypothetical = {h.index for h in emergency} - live
    return KeywordEvidence(_scores(normal, found, categories), live, hypothetical)


def suggest_category(text: str, categories: Sequence[Category]) -> Category | None:
    """The category whose keywords best match the text, or None when no keyword matches.

    Safety first: if any emergency keyword matches (and is not hypothetical, as in "万一着火"),
    the emergency category wins whatever else matched. Ties go to the category listed first.
    (The keywords alone; gridcore.triage adds the trained model and the community's corrections.)
    """
    evidence = keyword_evidence(text, categories)
    scores, live = evidence.scores, evidence.live
    candidates = sorted(live) if live else range(len(categories))
    best = max(candidates, key=lambda i: (scores[i], -i), default=None)
    if best is None or (not live and scores[best] == 0):
        return None
    return categories[best]


# ------------------------------------------------------------------------------------------------ place

_CN = CHINESE_NUMERAL_CHARS
_NUM = rf"(?:\d{{1,3}}|[{_CN}]{{1,3}})"
# A number directly after one of these is a quantity or a pointer, not a name: 这一栋, 每个单元, 几号楼.
_NOT_A_NAME_BEFORE = "这那哪每几某另各"
_GARAGE = re.compile(rf"({_NUM})(号车库|号地库|号库|#车库|车库)")
_BUILDING = re.compile(rf"({_NUM})(号楼|#楼|栋|幢|座|#|号(?={_NUM}单元))")
_UNIT = re.compile(rf"({_NUM})单元")
# After "<numeral>栋楼" these make 楼下 / 楼道 / 楼梯… a place in one building, not a count of buildings.
_PLACE_IN_A_BUILDING = ("下", "上", "道", "梯", "顶", "门")
_ROOM = re.compile(r"(\d{3,4})(?:室|号)?(?!\d)")
_DASHED = re.compile(r"(?<!\d)(\d{1,2})-(\d{1,2})-(\d{3,4})(?!\d)")
_SEPARATORS = ",、的-"


@dataclass(frozen=True)
class PlaceMention:
    """Where a message says the problem is. building_text is normalised ("3号楼", "三栋", "8号车库"),
    unit is a number as digits ("2" from "二单元"), mention is the text exactly as typed."""

    building_text: str | None
    unit: str | None
    mention: str
    room: str | None = None


def _number_span(text: str, match: re.Match[str]) -> tuple[int, int] | None:
    """Where the number of a building/unit match really starts, or None if it is no name.

    "万一三号楼" matches "一三号楼"; the longest tail that is a numeral ("三") is the number.
    """
    start, end = match.span(1)
    digits = text[start:end]
    if not digits.isdigit():
        while start < end and chinese_to_int(text[start:end]) is None:
            start += 1
        if start == end or text[start] == "两":  # 两栋楼 is "two buildings"
            return None
    elif start > 0 and text[start - 1].isdigit():
        return None
    if start > 0 and text[start - 1] in _NOT_A_NAME_BEFORE:
        return None
    return start, match.end()


def _building_spans(text: str, buildings: Sequence[Building]) -> list[tuple[int, int]]:
    spans = []
    for pattern in (_GARAGE, _BUILDING):
        for match in pattern.finditer(text):
            span = _number_span(text, match)
            if span is None:
                continue
            is_chinese = not text[span[0]].isdigit()
            if (is_chinese and match.group(2) in ("栋", "幢") and text[span[1]:span[1] + 1] == "楼"
                    and text[span[1] + 1:span[1] + 2] not in _PLACE_IN_A_BUILDING):
                continue  # 三栋楼都停水了: three buildings; 十二幢楼下 is where in one
            spans.append(span)
    for name in _unnumbered_names(buildings):  # numbered ones the patterns above find
        spans.extend((start, start + len(name)) for start in _occurrences(name, text))
    return spans


@_per_roster
def _unnumbered_names(buildings: tuple[Building, ...]) -> tuple[str, ...]:
    """The buildings' names and aliases without a number ("老干部楼"), normalised, each once; a number
    inside such a name ("东区12栋") in Chinese numerals too ("东区十二栋")."""
    return tuple(sorted(_spelled_names(buildings)))


_NUMBER_IN_NAME = re.compile(r"(?<!\d)\d{1,2}(?!\d)")


@_per_roster
def _spelled_names(buildings: tuple[Building, ...]) -> dict[str, tuple[Building, ...]]:
    """Each way the names without a number of their own form are written ("东区12栋", "东区十二栋"),
    normalised, and the buildings that carry it."""
    spelled: dict[str, list[Building]] = {}
    for building in buildings:
        for name in building.all_names():
            if building_key(name) is not None:
                continue  # "3号楼": its spellings are the roster's standard aliases
            normal = normalise(name)
            in_words = _NUMBER_IN_NAME.sub(lambda m: int_to_chinese(int(m.group())), normal)
            for spelling in {normal, in_words} - {""}:
                spelled.setdefault(spelling, []).append(building)
    return {spelling: tuple(found) for spelling, found in spelled.items()}


def _unit_at(text: str, pos: int) -> re.Match[str] | None:
    match = _UNIT.match(text, pos)
    if match is None or _number_span(text, match) != match.span():
        return None
    return match


def _unit_number(text: str) -> str:
    number = parse_number(text)
    return str(number) if number is not None else text


def extract_place(text: str, buildings: Sequence[Building] = ()) -> PlaceMention | None:
    """The first building (and the unit right after it) named in the text, else a unit alone, else None.

    Pass the roster's buildings to find names without a number as well ("老干部楼").
    """
    normal, origin = normalise_with_origin(text)

    def typed(start: int, end: int) -> str:
        return text[origin[start]:origin[end - 1] + 1]

    dashed = _DASHED.search(normal)
    spans = _building_spans(normal, buildings)
    if dashed and (not spans or dashed.start() <= min(spans)[0]):
        building, unit, room = dashed.groups()
        return PlaceMention(building, str(int(unit)), typed(*dashed.span()), room)
    if spans:
        start, end = min(spans, key=lambda s: (s[0], s[0] - s[1]))
        building_text = normal[start:end]
        unit = None
        after = end + 1 if normal[end:end + 1] in tuple(_SEPARATORS) else end
        unit_match = _unit_at(normal, after) if after < len(normal) else None
        if unit_match:
            unit, end = _unit_number(unit_match.group(1)), unit_match.end()
        room = _ROOM.match(normal, end)
        return PlaceMention(building_text, unit, typed(start, end), room.group(1) if room else None)
    for match in _UNIT.finditer(normal):
        span = _number_span(normal, match)
        if span is not None:
            room = _ROOM.match(normal, span[1])
            unit = _unit_number(normal[span[0]:match.end(1)])
            return PlaceMention(None, unit, typed(*span), room.group(1) if room else None)
    return None


# --------------------------------------------------------------------------------------------- building

_KEY_BUILDING = re.compile(rf"第?({_NUM})(号楼|栋楼|幢楼|#楼|栋|幢|座|号|#)?")
_KEY_GARAGE = re.compile(rf"({_NUM})(号车库|号地库|号库|#车库|#库|车库)")


def building_key(name: str) -> tuple[str, int] | None:
    """What a numbered name means, however it is written: "3号楼", "三栋", "3#", "3" -> ("楼", 3);
    "8号车库", "八号库" -> ("车库", 8). None for names without a number ("老干部楼")."""
    normal = normalise(name)
    for kind, pattern in (("车库", _KEY_GARAGE), ("楼", _KEY_BUILDING)):
        match = pattern.fullmatch(normal)
        if match:
            number = parse_number(match.group(1))
            return (kind, number) if number is not None else None
    return None


def standard_aliases(name: str) -> tuple[str, ...]:
    """The ways residents write a numbered building: "3号楼" -> 3号楼 3栋 3幢 3号 三号楼 三栋 三幢 3#楼 3#;
    "8号车库" -> 8号车库 八号车库 8号库 8#车库. Names without a number get none."""
    key = building_key(name)
    if key is None or not 0 < key[1] < 100 or not normalise(name).endswith(("号楼", "车库")):
        return ()
    kind, n = key
    cn = int_to_chinese(n)
    if kind == "车库":
        return (f"{n}号车库", f"{cn}号车库", f"{n}号库", f"{n}#车库")
    return (f"{n}号楼", f"{n}栋", f"{n}幢", f"{n}号", f"{cn}号楼", f"{cn}栋", f"{cn}幢", f"{n}#楼", f"{n}#")


def _unique(found: list[Building]) -> Building | None:
    distinct = {b.code: b for b in found}
    return next(iter(distinct.values())) if len(distinct) == 1 else None


def _match_exact(normal: str, buildings: Sequence[Building]) -> Building | None:
    by_code = [b for b in buildings if normalise(b.code) == normal]
    if by_code:
        return by_code[0]
    found = _unique([b for b in buildings if normal in {normalise(n) for n in b.all_names()}])
    if found:
        return found
    found = _unique(list(_spelled_names(buildings).get(normal, ())))
    if found:
        return found
    key = building_key(normal)
    if key is None:
        return None
    return _unique([b for b in buildings if key in {building_key(n) for n in b.all_names()}])


def match_building(text: str | None, buildings: Sequence[Building]) -> Building | None:
    """The roster building a typed name means: a code ("3"), the name or an alias ("三号楼", "3 号楼",
    "３号楼", "3#"), or the building named inside a longer text ("3号楼2单元楼道灯坏了").
    None when nothing matches, the text could mean more than one building, or text is None
    (so match_building(place.building_text, ...) is safe for a unit-only mention)."""
    normal = normalise(text or "").rstrip("。.!！?？,，")
    if not normal:
        return None
    found = _match_exact(normal, buildings)
    if found is not None:
        return found
    place = extract_place(text, buildings)
    if place is None or place.building_text is None or place.building_text == normal:
        return None
    return _match_exact(place.building_text, buildings)


# ---------------------------------------------------------------------------------------- blank text


def shows_words(text: str) -> bool:
    """Does the text show a reader at least one letter or digit (any script)? Text made only of
    whitespace, zero-width and other format characters, emoji, symbols or punctuation does not."""
    return any(unicodedata.category(char)[0] in "LN" for char in text)


def visible_length(text: str) -> int:
    """How many characters a reader sees: format (zero-width, bidi marks), control and combining
    characters and whitespace do not count."""
    return sum(1 for char in text if unicodedata.category(char) not in _INVISIBLE and not char.isspace())


_INVISIBLE = frozenset({"Cf", "Cc", "Co", "Cn", "Cs", "Mn", "Me", "Zs", "Zl", "Zp"})
