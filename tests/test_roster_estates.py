"""Estates (小区), place kinds and the street office in the roster: names unique per estate, grids by
estate with per-building exceptions, street_staff only with a street; both example rosters parse."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from test_roster import VALID, line_of, only_problem, problems

from gridcore.community import PlaceKind, Role
from gridcore.roster import check_roster, parse_roster
from gridcore.roster_checks import MAX_ENTRIES

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

ESTATES = """\
community: {code: CH, name: 翠湖社区, street: 信江街道, street_chat_id: -1001000000900}
grids:
  - {code: "1", name: 第一网格}
  - {code: "2", name: 第二网格}
estates:
  - {code: YY, name: 雅悦花园, aliases: [雅悦], grid: "1"}
  - {code: WL, name: 蔚蓝香廷, aliases: [蔚蓝, 香廷]}
buildings:
  - {code: YY5, name: 5栋, estate: YY, units: ["1", "2"]}
  - {code: YY6, name: 6号楼, estate: YY, grid: "2"}
  - {code: YYG8, name: 8号车库, estate: YY}
  - {code: WL5, name: 5栋, estate: WL, grid: "2"}
  - {code: WLG8, name: 8号车库, estate: WL, grid: "2", kind: 车库}
  - {code: OLD5, name: 5栋, grid: "2"}
  - {code: SP1, name: 沿街商铺1号, kind: 商铺, grid: "2"}
  - {code: GY, name: 翠湖公园, kind: 公共区域, grid: "1", aliases: [湖边公园]}
staff:
  - {name: 王芳, role: grid_worker, grid: "1", telegram_user_id: 2001}
  - {name: 刘洋, role: grid_leader, grid: "2", telegram_user_id: 2002}
  - {name: 周主任, role: street_staff, title: 街道网格办主任, telegram_user_id: 9001}
categories:
  - {code: env, name: 环境卫生, keywords: [垃圾]}
"""


def parsed():
    return parse_roster(ESTATES, "r.yaml")


# ------------------------------------------------------------------------------------------------ estates

def test_estates_parse_with_their_aliases_and_grid() -> None:
    community = parsed()
    assert [(e.code, e.name, e.aliases, e.grid_code) for e in community.estates] == [
        ("YY", "雅悦花园", ("雅悦",), "1"), ("WL", "蔚蓝香廷", ("蔚蓝", "香廷"), None)]
    assert community.estate("YY").all_names() == ("雅悦花园", "雅悦")
    assert (community.street, community.street_chat_id) == ("信江街道", -1001000000900)


def test_a_building_takes_its_estates_grid_unless_it_names_its_own() -> None:
    community = parsed()
    grids = {b.code: (b.estate_code, b.grid_code) for b in community.buildings}
    assert grids["YY5"] == ("YY", "1")  # the estate's grid
    assert grids["YYG8"] == ("YY", "1")
    assert grids["YY6"] == ("YY", "2")  # the exception
    assert grids["OLD5"] == (None, "2")
    assert community.place_name(community.building("YY5"), "2") == "雅悦花园5栋2单元"


def test_the_same_name_in_two_estates_and_outside_them_is_fine() -> None:
    community = parsed()
    fives = [(b.code, b.estate_code) for b in community.buildings if b.name == "5栋"]
    assert fives == [("YY5", "YY"), ("WL5", "WL"), ("OLD5", None)]
    garages = {b.code: b.kind for b in community.buildings if b.name == "8号车库"}
    assert garages == {"YYG8": PlaceKind.GARAGE, "WLG8": PlaceKind.GARAGE}
    assert "八号车库" in community.building("YYG8").aliases  # standard aliases still added per building


def test_kinds_default_to_building_and_to_garage_by_name() -> None:
    kinds = {b.code: b.kind for b in parsed().buildings}
    assert kinds["YY5"] is PlaceKind.BUILDING and kinds["OLD5"] is PlaceKind.BUILDING
    assert kinds["YYG8"] is PlaceKind.GARAGE  # no kind: its name ends in 车库
    assert kinds["SP1"] is PlaceKind.SHOP and kinds["GY"] is PlaceKind.PUBLIC
    text = ESTATES.replace("name: 沿街商铺1号, kind: 商铺", "name: 地下车库, kind: 公共区域")
    assert parse_roster(text, "r").building("SP1").kind is PlaceKind.PUBLIC  # an explicit kind wins


def test_a_roster_without_estates_has_none_and_plain_buildings() -> None:
    community = parse_roster(VALID, "r.yaml")
    assert community.estates == () and community.street is None
    assert {(b.estate_code, b.kind) for b in community.buildings} == {(None, PlaceKind.BUILDING)}


def test_the_example_garages_are_garages() -> None:
    community = parse_roster((EXAMPLES / "roster.yaml").read_text(encoding="utf-8"), "roster.yaml")
    assert community.building("G8").kind is PlaceKind.GARAGE
    assert community.building("8").kind is PlaceKind.BUILDING


# ------------------------------------------------------------------------------------------------ errors

def test_a_name_two_buildings_of_one_estate_claim_is_an_error_on_its_line() -> None:
    text = ESTATES.replace("{code: YY6, name: 6号楼, estate: YY", "{code: YY6, name: 5栋, estate: YY")
    problem = only_problem(text)
    assert problem.line == line_of(text, "code: YY6")
    assert '"5栋" is already taken by building "YY5"' in problem.message
    assert f"(line {line_of(text, 'code: YY5')})" in problem.message


def test_an_alias_clash_within_an_estate_counts_standard_aliases() -> None:
    text = ESTATES.replace("{code: WL5, name: 5栋, estate: WL", "{code: WL5, name: 六号楼, estate: YY")
    problem = only_problem(text)
    assert problem.line == line_of(text, "code: WL5") and 'building "YY6"' in problem.message


def test_buildings_without_estate_share_one_namespace() -> None:
    text = ESTATES.replace("{code: SP1, name: 沿街商铺1号", "{code: SP1, name: 5栋")
    problem = only_problem(text)
    assert problem.line == line_of(text, "code: SP1") and 'building "OLD5"' in problem.message


@pytest.mark.parametrize(
    ("old", "new", "needle", "words"),
    [
        ("estate: WL, grid: \"2\"}", "estate: XX, grid: \"2\"}", "code: WL5", ['names unknown estate "XX"']),
        ("{code: WL5, name: 5栋, estate: WL, grid: \"2\"}", "{code: WL5, name: 5栋, estate: WL}", "code: WL5",
         ['"grid" is missing', 'its estate "WL" has no grid']),
        ('{code: OLD5, name: 5栋, grid: "2"}', "{code: OLD5, name: 5栋}", "code: OLD5",
         ['"grid" is missing']),
        ("kind: 商铺", "kind: 店铺", "沿街商铺", ['kind "店铺" is not one of 楼栋, 车库, 商铺, 公共区域']),
        ("aliases: [蔚蓝, 香廷]", "aliases: [蔚蓝, 雅悦]", "code: WL,",
         ['"雅悦" is already taken by estate "YY"']),
        ("name: 蔚蓝香廷", "name: 雅 悦", "code: WL,", ['"雅 悦" is already taken by estate "YY"']),
        ("code: WLG8", "code: YYG8", "estate: WL, grid: \"2\", kind", ['building code "YYG8" is used twice']),
        ("street_chat_id: -1001000000900", "street_chat_id: 900", "community", ["negative"]),
        ("title: 街道网格办主任,", 'grid: "1", title: 街道网格办主任,', "周主任", ["has no grid"]),
        ("title: 街道网格办主任,", 'building: YY5, title: 街道网格办主任,', "周主任",
         ["only a building_leader has a building"]),
    ],
)
def test_each_problem_is_on_its_line(old: str, new: str, needle: str, words: list[str]) -> None:
    assert old in ESTATES
    text = ESTATES.replace(old, new, 1)
    problem = only_problem(text)
    assert problem.line == line_of(text, needle), problem
    for word in words:
        assert word in problem.message, problem


@pytest.mark.parametrize(
    ("old", "new", "needle", "words"),
    [
        ("{code: WL, name: 蔚蓝香廷", "{code: YY, name: 蔚蓝香廷", "code: YY, name: 蔚蓝",
         ['estate code "YY" is used twice (first on line 6)']),
        ("{code: YY, name", "{code: Y-Y, name", "code: Y-Y", ["must be 1-20 letters"]),
        ("estate: YY, units", "estat: YY, units", "code: YY5", ['unknown key "estat"', '"estate"']),
        ("street: 信江街道, ", "", "community", ['street_chat_id needs the "street"']),
    ],
)
def test_problems_that_bring_others_come_first_on_their_line(old: str, new: str, needle: str,
                                                            words: list[str]) -> None:
    """A duplicate or broken estate leaves its buildings unplaced too; every problem is still on its line."""
    text = ESTATES.replace(old, new, 1)
    found = [p for p in problems(text) if all(word in p.message for word in words)]
    assert [p.line for p in found] == [line_of(text, needle)], problems(text)


def test_buildings_of_an_estate_entry_with_a_problem_are_not_reported_again() -> None:
    text = ESTATES.replace("{code: WL, name: 蔚蓝香廷,", "{code: WL,")
    problem = only_problem(text)
    assert problem.line == line_of(text, "code: WL,") and '"name" is missing' in problem.message
    text = ESTATES.replace('aliases: [雅悦], grid: "1"', 'aliases: [雅悦], grid: "9"')
    problem = only_problem(text)
    assert problem.line == line_of(text, "code: YY,") and 'unknown grid "9"' in problem.message


def test_a_street_staff_needs_the_communitys_street() -> None:
    text = ESTATES.replace(", street: 信江街道, street_chat_id: -1001000000900", "")
    problem = only_problem(text)
    assert problem.line == line_of(text, "周主任")
    assert "street_staff" in problem.message and '"street"' in problem.message
    community = parse_roster(text.replace("role: street_staff", "role: community_staff"), "r")
    assert community.street is None


def test_a_street_without_street_staff_is_fine() -> None:
    street_staff = "  - {name: 周主任, role: street_staff, title: 街道网格办主任, telegram_user_id: 9001}\n"
    text = ESTATES.replace(street_staff, "")
    assert text != ESTATES
    community = parse_roster(text, "r")
    assert community.street == "信江街道" and not community.people(Role.STREET_STAFF)
    assert parsed().people(Role.STREET_STAFF)[0].grid_code is None


def test_an_empty_estates_list_and_estates_over_the_limit_are_problems() -> None:
    empty = ESTATES.replace("estates:\n", "estates: []\nx:\n", 1)
    assert any(p.message == "estates must list at least one entry" for p in problems(empty))
    many = "".join(f"  - {{code: E{i}, name: 小区{i}}}\n" for i in range(MAX_ENTRIES["estates"] + 1))
    text = ESTATES.replace("estates:\n", "estates:\n" + many, 1)
    problem = only_problem(text)
    assert problem.line == line_of(text, "code: E0,") and "estates lists 1,003 entries" in problem.message


def test_an_estate_without_buildings_is_a_warning_on_its_line() -> None:
    text = ESTATES.replace("  - {code: WL, name", "  - {code: JX, name: 锦绣华庭}\n  - {code: WL, name")
    community, warnings = check_roster(text, "r.yaml")
    assert [e.code for e in community.estates] == ["YY", "JX", "WL"]
    (warning,) = warnings
    assert warning.warning and warning.line == line_of(text, "锦绣华庭")
    assert 'estate "JX" has no buildings' in warning.message


# ------------------------------------------------------------------------------------------------ examples

def example(name: str):
    return check_roster((EXAMPLES / name).read_text(encoding="utf-8"), f"examples/{name}")


def test_the_cuihu_example_is_a_real_communitys_shape() -> None:
    community, warnings = example("cuihu.yaml")
    assert warnings == []
    assert (community.code, community.name, community.street) == ("CH", "翠湖社区", "信江街道")
    assert len(community.estates) == 7 and len(community.buildings) >= 200
    kinds = Counter(b.kind for b in community.buildings)
    assert kinds[PlaceKind.SHOP] >= 10 and kinds[PlaceKind.GARAGE] >= 2 and kinds[PlaceKind.PUBLIC] >= 1
    in_estates = Counter(b.estate_code for b in community.buildings)
    assert set(in_estates) - {None} == {e.code for e in community.estates} and in_estates[None] >= 100
    fives = [b.estate_code for b in community.buildings if b.name == "5栋"]
    assert len(fives) >= 5  # "5栋" alone is ambiguous between estates
    by_estate = {e.code: e for e in community.estates}
    exceptions = [b for b in community.buildings
                  if b.estate_code and b.grid_code != by_estate[b.estate_code].grid_code]
    assert 1 <= len(exceptions) <= 10
    assert community.estate("YY").name == "雅悦花园" and "雅悦" in community.estate("YY").aliases
    for grid in community.grids:
        roles = {p.role for p in community.staff if p.grid_code == grid.code}
        assert {Role.GRID_WORKER, Role.GRID_LEADER} <= roles, grid
    assert [p.telegram_user_id for p in community.people(Role.STREET_STAFF)] == [9001]


def test_both_examples_share_a_street_and_no_telegram_id() -> None:
    (xinkang, xk_warnings), (cuihu, _) = example("roster.yaml"), example("cuihu.yaml")
    assert xk_warnings == []
    assert xinkang.street == cuihu.street == "信江街道"
    assert xinkang.street_chat_id == cuihu.street_chat_id
    assert xinkang.code != cuihu.code
    ids = [{p.telegram_user_id for p in c.staff} - {None} for c in (xinkang, cuihu)]
    assert not ids[0] & ids[1]
    chats = [{c.staff_chat_id, c.public_chat_id, *(g.group_chat_id for g in c.grids)}
             for c in (xinkang, cuihu)]
    assert not chats[0] & chats[1]
