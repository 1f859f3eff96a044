"""Several communities on one deployment: ROSTER_FILE with comma-separated rosters loads them all into an
empty database; `gridbot roster load` adds one community per call; commands about one community ask which."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from e2e_support import free_port
from test_cli import ROOT, gridbot, start_run, stop

from bot.roster_files import ensure_roster, read_roster
from bot.sandbox_world import groups_for_all, personas_for_all
from bot.settings import Settings
from gridcore.community import Role
from gridcore.roster import RosterError
from sandbox.client import SandboxClient
from storage.uow import uow_factory as make_uow_factory

BOTH = "examples/roster.yaml, examples/cuihu.yaml"


def settings(**values: str) -> Settings:
    return Settings(_env_file=None, **values)


def test_roster_file_takes_several_paths() -> None:
    assert settings(roster_file="a.yaml").roster_paths() == ["a.yaml"]
    assert settings(roster_file=" a.yaml, b.yaml,,").roster_paths() == ["a.yaml", "b.yaml"]


async def test_an_empty_database_loads_every_roster_at_start(engine, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    loaded = await ensure_roster(settings(roster_file=BOTH), engine)
    assert [c.code for c in loaded] == ["CH", "XK"]
    async with make_uow_factory(engine)() as uow:
        assert await uow.roster.list_codes() == ["CH", "XK"]
        cuihu = await uow.roster.get("CH")
    assert cuihu is not None and len(cuihu.estates) == 7 and len(cuihu.buildings) >= 200
    # A database that has communities loads nothing again; COMMUNITY narrows what this run serves.
    again = await ensure_roster(settings(roster_file="examples/roster.yaml"), engine)
    assert [c.code for c in again] == ["CH", "XK"]
    assert [c.code for c in await ensure_roster(settings(roster_file=BOTH, community="XK"), engine)] == ["XK"]


async def test_a_missing_file_is_skipped_and_a_repeated_community_refused(engine, monkeypatch,
                                                                          tmp_path: Path) -> None:
    monkeypatch.chdir(ROOT)
    twin = tmp_path / "twin.yaml"
    twin.write_text(Path("examples/roster.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    again = f"{twin}:1: community XK is declared again (first in examples/roster.yaml)"
    with pytest.raises(RosterError, match=re.escape(again)):
        await ensure_roster(settings(roster_file=f"examples/roster.yaml,{twin}"), engine)
    async with make_uow_factory(engine)() as uow:
        assert await uow.roster.list_codes() == []  # nothing half-loaded
    gone = tmp_path / "gone.yaml"
    loaded = await ensure_roster(settings(roster_file=f"{gone},examples/cuihu.yaml"), engine)
    assert [c.code for c in loaded] == ["CH"]


def test_the_sandbox_world_holds_both_communities(monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    xinkang, cuihu = read_roster("examples/roster.yaml"), read_roster("examples/cuihu.yaml")
    personas = personas_for_all([xinkang, cuihu])
    ids = [p["id"] for p in personas]
    assert len(ids) == len(set(ids))
    assert {1001, 2001, 9001, 5001} <= set(ids)
    labels = {p["id"]: p["role_label"] for p in personas}
    assert labels[1011] == "兴康社区 网格员 · 第一网格" and labels[9001] == "信江街道 街道工作人员"
    groups = groups_for_all([xinkang, cuihu])
    chat_ids = [g["id"] for g in groups]
    assert len(chat_ids) == len(set(chat_ids))
    (street,) = [g for g in groups if g["id"] == cuihu.street_chat_id]
    assert street["member_ids"] == [p.telegram_user_id for p in cuihu.people(Role.STREET_STAFF)] == [9001]
    assert {xinkang.staff_chat_id, cuihu.staff_chat_id} <= set(chat_ids)
    # One community alone: labels as before, without its name.
    assert personas_for_all([xinkang])[3]["role_label"] == "社区工作人员"


def test_roster_load_adds_a_second_community_and_commands_ask_which(tmp_path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'g.db'}", "LOG_LEVEL": "WARNING",
           "COMMUNITY": ""}
    check = gridbot("roster", "check", "examples/cuihu.yaml", env=env)
    assert check.returncode == 0, check.stderr
    assert "翠湖社区 (CH): 10 个网格, 7 个小区, 271 栋楼" in check.stdout
    for path in ("examples/roster.yaml", "examples/cuihu.yaml", "examples/cuihu.yaml"):
        result = gridbot("roster", "load", path, env=env)
        assert result.returncode == 0, result.stderr
    assert "已载入 examples/cuihu.yaml: 翠湖社区 (CH)" in result.stdout
    unclear = gridbot("staff", "list", env=env)
    assert unclear.returncode == 1
    (line,) = unclear.stderr.strip().splitlines()
    assert line == ("gridbot staff: several communities in the database (CH, XK): say which with "
                    "--community CH (or COMMUNITY=CH)")
    cuihu = gridbot("staff", "list", "--community", "CH", env=env)
    assert cuihu.returncode == 0 and cuihu.stdout.startswith("翠湖社区 (CH): 34 名工作人员"), cuihu.stderr
    assert "街道工作人员·街道网格办主任" in cuihu.stdout
    xinkang = gridbot("staff", "list", env={**env, "COMMUNITY": "XK"})
    assert xinkang.returncode == 0 and xinkang.stdout.startswith("兴康社区 (XK)"), xinkang.stderr
    invite = gridbot("invite", "--role", "worker", "--grid", "1", "--community", "NOPE", env=env)
    assert invite.returncode == 1 and "no community 'NOPE' in the database (CH, XK)" in invite.stderr


async def test_run_with_two_rosters_starts_the_sandbox_with_both(tmp_path) -> None:
    """`make run`'s default: both examples load into the empty database, and the sandbox page offers
    the people of both communities and the street office's staff."""
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'run.db'}", "SANDBOX_PORT": str(free_port()),
           "LOG_LEVEL": "WARNING", "ROSTER_FILE": BOTH}
    process, url = await start_run(env)
    try:
        async with SandboxClient(url) as client:
            offered = {p["id"] for p in (await client.personas())["personas"]}
            assert {1001, 2001, 9001} <= offered
            await client.send_text(5001, "/start")
            [welcome] = await client.wait_for_bot_messages(5001, 1, timeout=20)
            assert welcome.text
    finally:
        await stop(process)
    listed = gridbot("staff", "list", "--community", "CH", env=env)
    assert listed.returncode == 0, listed.stderr
