"""Places read from text in a community with estates (gridcore.places): pure, no I/O."""

from __future__ import annotations

import pytest
from dialog_support import example_community
from estate_roster import BIG_ESTATE_BUILDINGS, with_estates
from test_intake import read_messages

from gridcore.community import Building, Community, Estate, PlaceKind
from gridcore.intake import extract_place, match_building, normalise
from gridcore.places import estate_spellings, find_place, match_estate, match_typed_place


@pytest.fixture(scope="module")
def community() -> Community:
    return with_estates(example_community())


@pytest.mark.parametrize(("text", "building", "estate", "unit", "room"), [
    ("雅悦花园12栋3单元楼道灯坏了", "yy12", "yy", "3", None),
    ("雅悦12栋楼下有人乱停车", "yy12", "yy", None, None),  # an alias
    ("雅悦花园小区12栋", "yy12", "yy", None, None),  # with 小区 although the roster has none
    ("蔚蓝香廷小区8号车库路面破损严重", "wlG8", "wl", None, None),
    ("蔚蓝香廷八号车库漏水", "wlG8", "wl", None, None),  # without 小区, the number in words
    ("翠湖花园五栋二单元302漏水", "ch5", "ch", "2", "302"),
    ("ｙ雅悦花园１２栋３单元", "yy12", "yy", "3", None),  # fullwidth
    ("沿街商铺3号门口堆了很多垃圾", "S3", None, None, None),  # a shop of no estate
    ("3号楼2单元楼道灯坏了", "3", None, "2", None),  # the example's own buildings, of no estate
    ("雅悦花园对面的沿街商铺3号占道经营", "S3", None, None, None),  # the estate has no such place
])
def test_a_place_with_its_estate(community, text, building, estate, unit, room):
    found = find_place(text, community)
    assert found is not None and found.building is not None, text
    assert (found.building.code, found.estate.code if found.estate else None) == (building, estate)
    assert (found.unit, found.room) == (unit, room)


def test_a_name_several_estates_share_gives_candidates_and_no_building(community):
    found = find_place("5栋门口垃圾桶满了没人清", community)
    assert found is not None and found.building is None and found.ambiguous and found.estate is None
    assert [b.code for b in found.candidates] == ["yy5", "wl5", "ch5", "5"]  # the example's own 5号楼 too
    assert found.mention == "5栋"
    garages = find_place("8号车库积水", community)
    assert {b.code for b in garages.candidates} >= {"yyG8", "wlG8", "chG8"}
    assert all(b.kind is PlaceKind.GARAGE for b in garages.candidates if b.estate_code)


def test_an_estate_alone_is_found_and_the_building_left_to_ask(community):
    found = find_place("雅悦花园门口垃圾没人清", community)
    assert found is not None and found.building is None and not found.candidates
    assert found.estate is not None and found.estate.code == "yy" and found.mention == "雅悦花园"
    unit_only = find_place("翠湖2单元电梯坏了", community)
    assert unit_only.estate.code == "ch" and unit_only.unit == "2" and unit_only.building is None


def test_the_community_is_not_an_estate_of_the_same_name(community):
    assert find_place("翠湖社区什么时候开会", community) is None
    assert match_estate("翠湖社区", community) is None
    assert match_estate("翠湖", community).code == "ch"


def test_nothing_named_nothing_found(community):
    assert find_place("楼上太吵了", community) is None
    assert find_place("", community) is None


def test_estate_spellings_with_numbers_in_either_form():
    estate = Estate("d1", "第1小区", ("一区",))
    spelled = estate_spellings(estate)
    assert {"第1小区", "第一小区", "第1", "第一", "一区", "1区", "一区小区"} <= set(spelled)
    community = Community("c", "c", estates=(estate,),
                          buildings=(Building("d1-3", "3栋", "g", estate_code="d1"),
                                     Building("x3", "3栋", "g")))
    found = find_place("第一小区3栋楼道灯坏了", community)
    assert found.building.code == "d1-3"


def test_a_typed_answer_within_an_estate(community):
    assert match_typed_place("12栋", community, "wl").building.code == "wl12"
    assert match_typed_place("十二栋", community, "yy").building.code == "yy12"
    assert match_typed_place("12", community, "yy").building.code == "yy12"
    named = match_typed_place("雅悦12栋", community, "wl")  # another estate named outright wins
    assert named.building.code == "yy12" and named.estate.code == "yy"
    switch = match_typed_place("翠湖", community, "wl")
    assert switch.building is None and switch.estate.code == "ch"
    assert match_typed_place("沿街商铺3号", community, "yy").building.code == "S3"  # only one has it
    assert match_typed_place("99栋", community, "yy") == type(named)()
    assert match_typed_place("12栋", community, None).building.code == "12"  # the example's 12号楼
    assert match_typed_place("40栋", community, None).building.code == "yy40"  # only 雅悦 has one


def test_a_community_without_estates_reads_places_as_before():
    example = example_community()
    for text, _, _ in read_messages():
        found = find_place(text, example)
        mention = extract_place(text, example.buildings)
        assert (found is None) == (mention is None), text
        if found is not None:
            assert found.mention == mention.mention
            named = mention.building_text
            expected = match_building(named, example.buildings) if named else None
            assert found.building == expected and found.candidates == ()


def test_places_of_real_messages_in_a_community_with_estates(community):
    """The measured messages against the estate roster: each labelled place is still found (as a building
    or as the candidates a shared name gives), and 蔚蓝香廷小区8号车库 is that estate's garage."""
    misses = []
    rows = read_messages()
    for text, _, location in rows:
        found = find_place(text, community)
        if location and (found is None or not (found.building or found.candidates)):
            misses.append(text)
        if location and found is not None and normalise(location) not in normalise(found.mention):
            misses.append(text)
    assert len(misses) <= len(rows) // 10, misses
    garage = find_place(next(t for t, _, _ in rows if "蔚蓝香廷" in t), community)
    assert garage.building.code == "wlG8"


def test_the_big_estate_has_more_buildings_than_a_page():
    assert BIG_ESTATE_BUILDINGS > 60
