"""Intake: categories and places read from what residents actually type."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridcore.community import Building, Category, Community
from gridcore.intake import (
    PlaceMention,
    building_key,
    category_scores,
    extract_place,
    match_building,
    normalise,
    shows_words,
    standard_aliases,
    suggest_category,
    visible_length,
)
from gridcore.numerals import chinese_to_int, int_to_chinese, parse_number
from gridcore.phones import parse_phone
from gridcore.roster import parse_roster
from gridcore.spots import public_area_in, spot_in

REPO = Path(__file__).resolve().parents[1]
MESSAGES = REPO.parent / "shared" / "data" / "resident_messages.tsv"


@pytest.fixture(scope="module")
def community() -> Community:
    text = (REPO / "examples" / "roster.yaml").read_text(encoding="utf-8")
    return parse_roster(text, "examples/roster.yaml")


def read_messages() -> list[tuple[str, str, str]]:
    assert MESSAGES.is_file(), f"resident messages missing: expected {MESSAGES} (../shared beside the clone)"
    lines = [line for line in MESSAGES.read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#")]
    header, *rows = lines
    assert header.split("\t") == ["text", "topic", "location"], header
    parsed = []
    for row in rows:
        text, topic, location = ([*row.split("\t"), "", ""])[:3]
        parsed.append((text, topic, location.strip()))
    assert len(parsed) >= 20
    return parsed


# --------------------------------------------------------------------------------------- measured accuracy

def test_categories_of_real_messages(community: Community) -> None:
    rows = read_messages()
    misses = []
    for text, topic, _ in rows:
        suggested = suggest_category(text, community.categories)
        if suggested is None or suggested.name != topic:
            misses.append(f"  {text}  | labelled {topic}, suggested {suggested.name if suggested else None}")
    share = 1 - len(misses) / len(rows)
    print(f"\ncategory accuracy: {len(rows) - len(misses)}/{len(rows)} = {share:.1%}", *misses, sep="\n")
    assert share >= 0.90


def test_places_of_real_messages(community: Community) -> None:
    rows = read_messages()
    misses = []
    for text, _, location in rows:
        place = extract_place(text, community.buildings)
        found = normalise(place.mention) if place else ""
        if found != location:
            misses.append(f"  {text}  | labelled {location!r}, extracted {found!r}")
    share = 1 - len(misses) / len(rows)
    print(f"\nplace accuracy: {len(rows) - len(misses)}/{len(rows)} = {share:.1%}", *misses, sep="\n")
    assert share >= 0.90


def test_every_extracted_place_of_real_messages_is_a_roster_building(community: Community) -> None:
    for text, _, location in read_messages():
        if location:
            assert match_building(location, community.buildings) is not None, location
            assert match_building(text, community.buildings) is not None, text


# ------------------------------------------------------------------------------------------------ numerals

@pytest.mark.parametrize(
    ("text", "number"),
    [("一", 1), ("两", 2), ("九", 9), ("十", 10), ("十一", 11), ("十九", 19), ("二十", 20), ("二十八", 28),
     ("九十九", 99), ("零", 0), ("28", 28), ("03", 3)],
)
def test_numerals(text: str, number: int) -> None:
    assert parse_number(text) == number


@pytest.mark.parametrize("text", ["", "一二", "十十", "两十", "百", "三天", "十二三", "3a"])
def test_not_numerals(text: str) -> None:
    assert parse_number(text) is None
    assert chinese_to_int(text) is None


def test_numerals_round_trip() -> None:
    assert [int_to_chinese(n) for n in (3, 10, 13, 20, 28)] == ["三", "十", "十三", "二十", "二十八"]
    assert all(chinese_to_int(int_to_chinese(n)) == n for n in range(100))
    with pytest.raises(ValueError):
        int_to_chinese(100)


# -------------------------------------------------------------------------------------------------- places

@pytest.mark.parametrize(
    ("text", "building", "unit", "mention"),
    [
        ("3号楼2单元楼道灯坏了", "3号楼", "2", "3号楼2单元"),
        ("三号楼二单元门口", "三号楼", "2", "三号楼二单元"),
        ("5栋门口垃圾桶满了", "5栋", None, "5栋"),
        ("二十八栋1单元", "二十八栋", "1", "二十八栋1单元"),
        ("8号车库路面破损", "8号车库", None, "8号车库"),
        ("我住3号2单元", "3号", "2", "3号2单元"),
        ("12#楼3单元", "12#楼", "3", "12#楼3单元"),
        ("15幢，2单元楼下", "15幢", "2", "15幢，2单元"),
        ("３号楼２单元", "3号楼", "2", "３号楼２单元"),
        ("3 号楼 2 单元 302 漏水", "3号楼", "2", "3 号楼 2 单元"),
        ("万一三号楼着火", "三号楼", None, "三号楼"),
        ("第十二栋二单元", "十二栋", "2", "十二栋二单元"),
        ("就在十二幢楼下", "十二幢", None, "十二幢"),
        ("三栋楼道里灯坏了", "三栋", None, "三栋"),
        ("二十八栋楼门口煤气味很大", "二十八栋", None, "二十八栋"),
    ],
)
def test_extract_place(text: str, building: str, unit: str | None, mention: str) -> None:
    place = extract_place(text)
    assert place is not None
    assert (place.building_text, place.unit, place.mention) == (building, unit, mention)


def test_a_unit_alone_a_room_and_the_dashed_form() -> None:
    assert extract_place("我们二单元电梯坏了") == PlaceMention(None, "2", "二单元")
    assert extract_place("3号楼2单元302室漏水").room == "302"
    assert extract_place("3-2-302漏水") == PlaceMention("3", "2", "3-2-302", "302")


def test_roster_names_without_numbers_are_found_with_the_buildings(community: Community) -> None:
    assert extract_place("老干部楼门口有积水") is None
    place = extract_place("老干部楼1单元门口有积水", community.buildings)
    assert (place.building_text, place.unit, place.mention) == ("老干部楼", "1", "老干部楼1单元")
    assert extract_place("供销楼后面的路灯不亮", community.buildings).building_text == "供销楼"


@pytest.mark.parametrize(
    "text",
    [
        "楼道里有一股煤气味，好像是302家里",
        "电梯三天两头停，老人上不去楼",
        "我妈八十多了，不会在手机上做养老认证",
        "一楼堆放杂物，楼道都堵了",
        "我住5楼，楼上漏水",
        "上个月15号报的，到现在没人管",
        "这一栋都停水了",
        "那两栋楼之间的路灯坏了",
        "三栋楼都停水了",
        "每个单元门口都有垃圾",
        "打了12345也没用",
        "2024-05-12那天",
    ],
)
def test_no_false_places(community: Community, text: str) -> None:
    assert extract_place(text) is None
    assert extract_place(text, community.buildings) is None


# ---------------------------------------------------------------------------------------------- buildings

@pytest.mark.parametrize(
    ("typed", "code"),
    [("3", "3"), ("3号楼", "3"), ("三号楼", "3"), ("3 号楼", "3"), ("３号楼", "3"), ("3栋", "3"), ("3#", "3"),
     ("三栋楼", "3"), ("第3栋", "3"), ("28幢", "28"), ("二十八号楼", "28"), ("8号车库", "G8"),
     ("八号库", "G8"), ("8号", "8"), ("老干部楼", "LG"), ("干休楼", "LG"), ("供销楼", "GX"), ("LG", "LG"),
     ("3号楼2单元楼道灯坏了", "3"), ("8号车库路面破损", "G8"), ("  ５栋  ", "5")],
)
def test_match_building(community: Community, typed: str, code: str) -> None:
    found = match_building(typed, community.buildings)
    assert found is not None and found.code == code


@pytest.mark.parametrize("typed", [None, "", "99号楼", "30栋", "物业", "三天两头", "楼道", "9号车库"])
def test_match_building_finds_nothing(community: Community, typed: str | None) -> None:
    assert match_building(typed, community.buildings) is None


def test_an_ambiguous_name_matches_nothing() -> None:
    buildings = [Building("3a", "3号楼", "1"), Building("3b", "3号楼", "2")]
    assert match_building("三栋", buildings) is None


# A roster whose buildings carry a district in their names, beside plain numbered ones.
DISTRICTS = [Building("E12", "东区12栋", "12", units=("1", "2")), Building("W3", "西区3号楼", "11"),
             Building("12", "12号楼", "1", aliases=standard_aliases("12号楼")),
             Building("3", "3号楼", "1", aliases=standard_aliases("3号楼"))]


@pytest.mark.parametrize(("typed", "code"), [
    ("东区十二栋", "E12"), ("东区12栋", "E12"), ("东区 １２ 栋", "E12"), ("西区三号楼", "W3"),
    ("十二栋", "12"), ("12号楼", "12"), ("三号楼", "3"),
    ("东区十二栋楼道灯坏了", "E12"), ("西区三号楼门口有垃圾", "W3"), ("十二栋楼道灯坏了", "12"),
])
def test_a_name_with_a_district_is_matched_however_its_number_is_written(typed, code):
    """"东区十二栋" is 东区12栋, not 12号楼: a number inside a roster name is read in Chinese numerals too."""
    found = match_building(typed, DISTRICTS)
    assert found is not None and found.code == code
    place = extract_place(typed, DISTRICTS)
    assert place is not None and match_building(place.building_text, DISTRICTS).code == code


def test_building_key_and_normalise() -> None:
    assert building_key("三栋") == building_key("3#楼") == building_key("3") == ("楼", 3)
    assert building_key("八号车库") == ("车库", 8)
    assert building_key("老干部楼") is None
    assert normalise("３号楼　２单元 ＃") == "3号楼2单元#"


# ---------------------------------------------------------------------------------------------- categories

def named(categories: tuple[Category, ...], text: str) -> str | None:
    found = suggest_category(text, categories)
    return found.name if found else None


@pytest.mark.parametrize(
    "text",
    ["楼道里有一股煤气味", "厨房燃气泄漏了", "3号楼着火了！", "楼下冒烟了，好像是电动车", "电梯口有人晕倒了",
     "有人被困电梯里", "物业不管，楼道着火了"],
)
def test_emergencies_win(community: Community, text: str) -> None:
    assert named(community.categories, text) == "紧急险情"


@pytest.mark.parametrize(
    ("text", "topic"),
    [("万一着火怎么办，消防通道都堵了", "消防安全"), ("如果燃气泄漏了怎么办", "消防安全"),
     ("担心电动车充电起火", "消防安全")],
)
def test_hypothetical_emergencies_do_not(community: Community, text: str, topic: str) -> None:
    assert named(community.categories, text) == topic


@pytest.mark.parametrize(
    ("text", "topic"),
    [("楼道灯坏了", "公共设施"), ("楼道堆物太多", "环境卫生"), ("楼上装修噪音太大", "噪音扰民"),
     ("邻居装修", "邻里纠纷"), ("门口乱停车", "停车管理"), ("物业费太贵", "物业服务")],
)
def test_longer_keywords_win(community: Community, text: str, topic: str) -> None:
    assert named(community.categories, text) == topic


def test_nothing_matches_nothing(community: Community) -> None:
    assert suggest_category("你好", community.categories) is None
    assert suggest_category("", community.categories) is None
    assert suggest_category("垃圾", ()) is None


def test_scores_count_a_stretch_of_text_once() -> None:
    cats = (Category("a", "A", ("楼道",)), Category("b", "B", ("楼道灯",)))
    assert category_scores("楼道灯坏了", cats) == [0, 3]
    assert named(cats, "楼道") == "A"
    tie = (Category("a", "A", ("垃圾",)), Category("b", "B", ("停车",)))
    assert named(tie, "垃圾停车") == "A"  # a tie goes to the category listed first
    assert named(tuple(reversed(tie)), "垃圾停车") == "B"


# --- spots (the detail question) and public areas; phone numbers as typed; blank text ---------------

@pytest.mark.parametrize(("text", "spot"), [
    ("一楼堆放杂物，楼道都堵了", "一楼"),
    ("我家住十二楼，电梯里灯不亮", "十二楼 电梯里"),
    ("8号楼2单元302室漏水", "302室"),
    ("2单元1502门口有垃圾", "1502"),
    ("3楼302门口", "3楼302"),
    ("负一层车库积水", "负一层"),
    ("地下室进水了", "地下室"),
    ("楼顶的防水层坏了", "楼顶"),
    ("楼道里堆满纸箱", "楼道里"),
    ("５层走廊灯不亮", "5层走廊"),
    ("3号楼楼道灯坏了", None),  # a building's name is no floor; 楼道 alone names no spot
    ("三栋楼都停水了", None),
    ("13幢楼下有车乱停", None),
    ("楼房漏水", None),
])
def test_spot_in_finds_floors_rooms_and_spots_but_no_building_names(text, spot):
    assert spot_in(text) == spot


@pytest.mark.parametrize(("text", "place"), [
    ("小区门口垃圾没人清", "小区门口"), ("大门的道闸坏了", "大门"), ("广场上有人跳舞太吵", "广场"),
    ("停车场有僵尸车", "停车场"), ("北门外路灯坏了", "北门"), ("3号楼单元门口有垃圾", None),
    ("楼道灯坏了", None), ("小区花园里的长椅坏了", "小区花园"), ("雅悦花园的电梯又坏了", None),
    ("阳光花园北门外路灯坏了", "北门"),
])
def test_public_area_in(text, place):
    assert public_area_in(text) == place


@pytest.mark.parametrize(("typed", "kept"), [
    ("13812345678", "13812345678"), ("138 1234 5678", "13812345678"), ("138-1234-5678", "13812345678"),
    ("+86 138 1234 5678", "13812345678"), ("+86-13812345678", "13812345678"),
    ("8613812345678", "13812345678"),
    ("0086 138 1234 5678", "13812345678"), ("１３８１２３４５６７８", "13812345678"),
    ("010-87654321", "010-87654321"), ("(010) 8765 4321", "010-87654321"),
    ("0571-8765-4321", "0571-87654321"),
    ("幺三八 一二三四 五六七八", "13812345678"), ("一三九八七六五四三二一", "13987654321"),
    ("零五七一 八七六五 四三二一", "0571-87654321"), ("+86 幺三八两二三三四四五五", "13822334455"),
    ("021 6666 8888", "021-66668888"), ("+86 10 8765 4321", "010-87654321"), ("87654321", "87654321"),
    ("1381234567", None), ("123456789012", None), ("12812345678", None), ("abc", None), ("110", None),
    ("010-123", None), ("我的电话是", None), ("", None),
    ("一二三", None), ("三号楼", None),
])
def test_parse_phone_accepts_the_ways_people_write_numbers(typed, kept):
    assert parse_phone(typed) == kept


@pytest.mark.parametrize("text", ["\u200b\u200b\u200b", "👍👍👍👍", "？？？！！", "\u200d\u2060\ufeff",
                                  "🙏🏻🙏🏻", "   \u3000  ", "…—…", "\u202e\u202d"])
def test_text_that_shows_no_words(text):
    assert not shows_words(text)


def test_text_that_shows_words_and_its_visible_length():
    assert shows_words("灯坏了👍") and shows_words("a") and shows_words("３")
    assert visible_length("灯\u200b\u200b") == 1 and visible_length("路灯 坏了") == 4
