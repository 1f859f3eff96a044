"""The roster: the example parses; every problem is reported with the line it is on."""

from __future__ import annotations

import textwrap
from datetime import timedelta
from pathlib import Path

import pytest

from gridcore.community import HandlingMode, Role
from gridcore.errors import DomainError
from gridcore.roster import RosterError, RosterProblem, parse_roster, standard_aliases

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "roster.yaml"
TOPICS = ["环境卫生", "消防安全", "公共设施", "物业服务", "邻里纠纷", "治安", "民生求助", "意见建议",
          "违章搭建", "噪音扰民", "停车管理"]

VALID = """\
community: {code: XK, name: 兴康社区, staff_chat_id: -1001000000001}
grids:
  - {code: "1", name: 第一网格, group_chat_id: -1001000000011}
  - {code: "2", name: 第二网格}
buildings:
  - {code: "3", name: 3号楼, grid: "1", units: ["1", "2"]}
  - {code: LG, name: 老干部楼, grid: "2", aliases: [干休楼]}
staff:
  - {name: 王芳, role: grid_worker, grid: "1", telegram_user_id: 2001, username: "@wangfang"}
  - {name: 李书记, role: community_staff, telegram_user_id: 2002, phone: "13800001111"}
categories:
  - {code: env, name: 环境卫生, keywords: [垃圾, 堆物], feedback_days: 3}
  - {code: property, name: 物业服务, mode: 共办, co_handler: 物业公司}
  - {code: sos, name: 紧急险情, emergency: true, numbers: [119, "110"], feedback_hours: 2}
"""


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """The 1-based line of the n-th line containing needle."""
    hits = [i for i, line in enumerate(text.splitlines(), start=1) if needle in line]
    return hits[occurrence - 1]


def problems(text: str) -> list[RosterProblem]:
    with pytest.raises(RosterError) as caught:
        parse_roster(text, "roster.yaml")
    return caught.value.problems


def only_problem(text: str) -> RosterProblem:
    found = problems(text)
    assert len(found) == 1, found
    return found[0]


# ------------------------------------------------------------------------------------------------ example

def test_the_example_roster_parses() -> None:
    community = parse_roster(EXAMPLE.read_text(encoding="utf-8"), "examples/roster.yaml")
    assert (community.code, community.name, community.timezone) == ("XK", "兴康社区", "Asia/Shanghai")
    assert community.staff_chat_id == -1001000000001
    assert len(community.grids) == 7
    assert [g.group_chat_id for g in community.grids] == [-1001000000010 - i for i in range(1, 8)]
    assert len(community.buildings) >= 28
    names = {b.name for b in community.buildings}
    assert {f"{n}号楼" for n in range(1, 29)} <= names
    assert {"老干部楼", "8号车库"} <= names
    categories = {c.name: c for c in community.categories}
    assert set(TOPICS) <= set(categories)
    assert categories["物业服务"].mode is HandlingMode.JOINT
    assert categories["物业服务"].co_handler == "物业公司"
    emergencies = [c for c in community.categories if c.emergency]
    assert len(emergencies) == 1
    assert set(emergencies[0].emergency_numbers) == {"119", "110", "120"}
    assert emergencies[0].feedback_deadline < timedelta(days=1)
    assert all(c.keywords for c in community.categories)


def test_the_example_staffs_every_grid() -> None:
    community = parse_roster(EXAMPLE.read_text(encoding="utf-8"), "examples/roster.yaml")
    for grid in community.grids:
        roles = [p.role for p in community.staff if p.grid_code == grid.code]
        assert Role.GRID_WORKER in roles and Role.GRID_LEADER in roles, grid
    workers = [p.grid_code for p in community.staff if p.role is Role.GRID_WORKER]
    assert any(workers.count(g) == 2 for g in set(workers))
    office = [p for p in community.staff if p.role is Role.COMMUNITY_STAFF]
    assert len(office) == 3 and any(p.title == "书记" for p in office)
    leaders = [p for p in community.staff if p.role is Role.BUILDING_LEADER]
    assert leaders and all(community.building(p.building_code or "") for p in leaders)
    assert all(p.telegram_user_id or p.username for p in community.staff)


def test_a_valid_roster_parses_into_the_domain() -> None:
    community = parse_roster(VALID, "roster.yaml")
    wang = community.staff[0]
    assert (wang.role, wang.grid_code, wang.telegram_user_id, wang.username) == (
        Role.GRID_WORKER, "1", 2001, "wangfang")
    env, prop, sos = community.categories
    assert env.keywords == ("垃圾", "堆物") and env.mode is HandlingMode.SELF
    assert env.feedback_deadline == timedelta(days=3)
    assert prop.feedback_deadline == timedelta(days=3)  # the default
    assert sos.emergency and sos.emergency_numbers == ("119", "110")
    assert sos.feedback_deadline == timedelta(hours=2)
    assert community.building("3").units == ("1", "2")


def test_days_and_hours_add_up() -> None:
    text = VALID.replace("feedback_days: 3}", "feedback_days: 1, feedback_hours: 12}")
    assert parse_roster(text, "r.yaml").categories[0].feedback_deadline == timedelta(hours=36)


# ------------------------------------------------------------------------------------------------ aliases

def test_numbered_buildings_get_the_usual_spellings() -> None:
    building = parse_roster(VALID, "roster.yaml").building("3")
    assert set(building.all_names()) == {"3号楼", "3栋", "3幢", "3号", "三号楼", "三栋", "三幢", "3#楼", "3#"}
    assert parse_roster(VALID, "roster.yaml").building("LG").aliases == ("干休楼",)
    assert standard_aliases("28号楼")[4] == "二十八号楼"
    assert set(standard_aliases("8号车库")) == {"8号车库", "八号车库", "8号库", "8#车库"}
    assert standard_aliases("老干部楼") == ()


def test_an_alias_two_buildings_claim_is_an_error() -> None:
    text = VALID.replace("aliases: [干休楼]", "aliases: [干休楼, 3栋]")
    problem = only_problem(text)
    assert problem.line == line_of(text, "老干部楼")
    assert '"3栋"' in problem.message and 'building "3"' in problem.message


def test_an_automatic_alias_clashes_too() -> None:
    text = VALID.replace("name: 老干部楼", "name: 三号楼")
    problem = only_problem(text)
    assert problem.line == line_of(text, "name: 三号楼")
    assert 'building "LG"' in problem.message


# ------------------------------------------------------------------------------------------------ errors

def test_the_error_lists_file_line_and_message() -> None:
    text = VALID.replace('grid: "2", aliases', 'grid: "9", aliases')
    with pytest.raises(RosterError) as caught:
        parse_roster(text, "examples/roster.yaml")
    assert isinstance(caught.value, DomainError)
    line = line_of(text, 'grid: "9"')
    assert str(caught.value) == f'examples/roster.yaml:{line}: building "LG" names unknown grid "9"'


def test_every_problem_is_reported_not_just_the_first() -> None:
    text = (VALID.replace('grid: "2", aliases', 'grid: "9", aliases')
            .replace("role: community_staff", "role: mayor")
            .replace("mode: 共办", "mode: 外包"))
    found = problems(text)
    assert [p.line for p in found] == [line_of(text, 'grid: "9"'), line_of(text, "mayor"),
                                       line_of(text, "外包")]


@pytest.mark.parametrize(
    ("old", "new", "needle", "words"),
    [
        ("units: [", "unitz: [", "unitz", ['unknown key "unitz"', 'did you mean "units"']),
        ("name: 兴康社区,", "name: 兴康社区, colour: red,", "colour", ['unknown key "colour"']),
        ("staff:\n", "staf: []\nstaff:\n", "staf:", ['unknown key "staf"']),
        ('{code: "2", name: 第二网格}', '{code: "2", name: 第二网格}\n  - {code: "2", name: 第三网格}',
         "第三网格", ['grid code "2" is used twice']),
        ("code: LG", 'code: "3"', "老干部楼", ['building code "3" is used twice']),
        ("code: property", "code: env", "物业服务", ['category code "env" is used twice']),
        ("telegram_user_id: 2001", 'telegram_user_id: "2001"', "2001", ["must be a whole number"]),
        ("feedback_days: 3", "feedback_days: 0", "feedback_days", ["feedback_days must be positive"]),
        ("feedback_hours: 2", "feedback_hours: -2", "feedback_hours", ["feedback_hours must be positive"]),
        ("role: grid_worker", "role: gridworker", "gridworker", ['role "gridworker" is not one of']),
        ("role: community_staff", "role: resident", "resident", ['role "resident" is not one of']),
        ('role: grid_worker, grid: "1"', "role: grid_worker", "王芳", ['a grid_worker needs a "grid"']),
        ('grid: "1", telegram', 'grid: "5", telegram', "王芳", ['names unknown grid "5"']),
        ("telegram_user_id: 2002, phone", "phone", "李书记", ["telegram_user_id and/or a username"]),
        ('phone: "13800001111"', "phone: 13800001111", "phone", ["quote it"]),
        ('username: "@wangfang"', "username: wf", "username", ["not a Telegram username"]),
        ("mode: 共办", "mode: 外包", "外包", ['mode "外包" is not one of 自办, 共办, 联办']),
        ("mode: 共办, co_handler: 物业公司", "mode: 共办", "物业服务", ['needs a "co_handler"']),
        ("keywords: [垃圾, 堆物]", "keywords: 垃圾", "环境卫生", ["keywords must be a list"]),
        ('emergency: true, numbers: [119, "110"]', "emergency: true", "紧急险情", ["must list its numbers"]),
        ("emergency: true", "emergency: yes please", "紧急险情", ["emergency must be true or false"]),
        ("co_handler: 物业公司}", "co_handler: 物业公司, dispute: 是}", "物业服务",
         ["dispute must be true or false"]),
        ("staff_chat_id: -1001000000001", "staff_chat_id: 1001", "community", ["negative"]),
        ("code: XK", "code: X-K", "community", ["letters or digits"]),
        ('{code: "2", name: 第二网格}', '{code: "2"}', "code: \"2\"}", ['"name" is missing']),
        ("{code: env, name: 环境卫生,", "{code: env,", "code: env", ['"name" is missing']),
        ('grid: "1", units', "units", "3号楼", ['"grid" is missing']),
        ("name: 王芳, role", "name: 王芳, name: 王芳芳, role", "王芳", ['key "name" appears twice']),
        ("name: 第一网格,", "name: ,", "group_chat_id: -1001000000011", ["name must be a non-empty"]),
        ("telegram_user_id: 2001", "telegram_user_id: null", "王芳", ["whole number"]),
    ],
)
def test_each_problem_is_on_its_line(old: str, new: str, needle: str, words: list[str]) -> None:
    assert old in VALID
    text = VALID.replace(old, new, 1)
    problem = only_problem(text)
    assert problem.line == line_of(text, needle), problem
    for word in words:
        assert word in problem.message, problem


def test_block_style_entries_report_the_line_of_the_key() -> None:
    text = textwrap.dedent("""\
        community:
          code: XK
          name: 兴康社区
        grids:
          - code: "1"
            name: 第一网格
        buildings:
          - code: "1"
            name: 1号楼
            grid: "1"
            alias: [一号]
        staff:
          - name: 王芳
            role: grid_worker
            grid: "1"
            telegram_user_id: 1
        categories:
          - code: env
            name: 环境卫生
            feedback_days: three
        """)
    found = problems(text)
    assert [(p.line, p.message.split(":")[0]) for p in found] == [
        (11, 'building "1"'), (20, 'category "env" feedback_days must be a whole number'),
    ]


def test_a_building_leader_leads_a_building_of_their_grid() -> None:
    staff = '  - {name: 徐长海, role: building_leader, grid: "1", building: LG, telegram_user_id: 7}\n'
    text = VALID.replace("categories:\n", staff + "categories:\n")
    problem = only_problem(text)
    assert problem.line == line_of(text, "徐长海")
    assert 'building "LG" is not in grid "1"' in problem.message
    assert parse_roster(text.replace("building: LG", 'building: "3"'), "r").staff[-1].building_code == "3"


def test_broken_yaml_and_empty_text() -> None:
    broken = VALID.replace("grids:\n", "grids: [\n", 1)
    assert only_problem(broken).message.startswith("not valid YAML")
    assert only_problem("").message == "the roster is empty"
    assert only_problem("- a\n- b\n").message == "roster must be a mapping (key: value)"


def test_missing_sections_are_reported_at_the_top() -> None:
    found = problems("community: {code: XK, name: 兴康社区}\n")
    assert {p.line for p in found} == {1}
    assert {p.message for p in found} == {f'roster: "{s}" is missing' for s in
                                          ("buildings", "categories", "grids", "staff")}
