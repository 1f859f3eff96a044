"""Roster limits and warnings: an oversized roster is refused with a clear message by `roster check` and
`roster load`; a grid nobody can handle is a warning (file:line: warning: ...) that fails nothing."""

from __future__ import annotations

import pytest
from test_cli import gridbot
from test_roster import VALID, line_of

from gridcore.roster import RosterError, check_roster, parse_roster
from gridcore.roster_checks import MAX_ENTRIES, MAX_ROSTER_BYTES


def with_buildings(count: int) -> str:
    listed = "".join(f'  - {{code: "B{i}", name: "{i}号楼B", grid: "1"}}\n' for i in range(count))
    return VALID.replace('buildings:\n', f"buildings:\n{listed}", 1)


def test_a_grid_nobody_can_handle_is_a_warning_on_its_line():
    community, warnings = check_roster(VALID, "r.yaml")
    assert [g.code for g in community.grids] == ["1", "2"]  # it parses, grid 2 included
    (warning,) = warnings
    assert warning.warning and warning.line == line_of(VALID, '{code: "2"')
    assert str(warning).startswith(f'r.yaml:{warning.line}: warning: grid "2" has no grid_worker or '
                                   "grid_leader")


@pytest.mark.parametrize("person", [
    '{name: 赵, role: grid_worker, grid: "2", telegram_user_id: 2003}',
    '{name: 赵, role: grid_leader, grid: "2", username: zhao_leader}',
])
def test_a_reachable_worker_or_leader_silences_the_warning(person):
    text = VALID.replace("  - {name: 李书记", f"  - {person}\n  - {{name: 李书记", 1)
    assert check_roster(text, "r.yaml")[1] == []


def test_a_building_leader_alone_does_not_handle_a_grid():
    text = VALID.replace("  - {name: 李书记", '  - {name: 赵, role: building_leader, grid: "2", '
                                              'telegram_user_id: 2003}\n  - {name: 李书记', 1)
    assert [w.message.split(" has")[0] for w in check_roster(text, "r.yaml")[1]] == ['grid "2"']


def test_too_many_buildings_are_refused_with_a_clear_message():
    parse_roster(with_buildings(MAX_ENTRIES["buildings"] - 2), "r.yaml")  # at the limit: fine
    with pytest.raises(RosterError) as caught:
        parse_roster(with_buildings(MAX_ENTRIES["buildings"]), "r.yaml")
    (problem,) = caught.value.problems
    assert problem.line == line_of(VALID, "buildings:") + 1
    assert "buildings lists 5,002 entries; at most 5,000" in problem.message


def test_a_text_over_the_size_limit_is_refused_before_parsing():
    text = VALID + "#" * MAX_ROSTER_BYTES
    with pytest.raises(RosterError) as caught:
        parse_roster(text, "r.yaml")
    assert "at most 5 MB" in str(caught.value) and str(caught.value).startswith("r.yaml:1: ")


def test_roster_check_and_load_print_the_warning_and_succeed(tmp_path):
    roster = tmp_path / "roster.yaml"
    roster.write_text(VALID, encoding="utf-8")
    line = line_of(VALID, '{code: "2"')
    check = gridbot("roster", "check", str(roster), env={})
    assert check.returncode == 0, check.stderr
    assert check.stderr.startswith(f"{roster}:{line}: warning: grid \"2\"") and "OK" in check.stdout
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'g.db'}", "LOG_LEVEL": "WARNING"}
    load = gridbot("roster", "load", str(roster), env=env)
    assert load.returncode == 0 and f"{roster}:{line}: warning:" in load.stderr
    assert "2 个网格" in load.stdout


@pytest.mark.parametrize("command", ["check", "load"])
def test_an_oversized_roster_file_is_refused_by_check_and_load(tmp_path, command):
    big = tmp_path / "big.yaml"
    big.write_text(VALID + ("# padding\n" * (MAX_ROSTER_BYTES // 10 + 1)), encoding="utf-8")
    huge = tmp_path / "huge.yaml"
    huge.write_text(with_buildings(6000), encoding="utf-8")
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'g.db'}", "LOG_LEVEL": "WARNING"}
    for path, says in ((big, "at most 5 MB"), (huge, "at most 5,000")):
        result = gridbot("roster", command, str(path), env=env)
        assert result.returncode == 1 and says in result.stderr, result.stderr
        assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
