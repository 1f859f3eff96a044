"""The command line as a person uses it: `gridbot run` with the sandbox, `gridbot roster ...`."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from e2e_support import free_port

from bot.cli import configure_logging
from sandbox.client import SandboxClient

ROOT = Path(__file__).resolve().parents[1]


def gridbot(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=ROOT, env={**os.environ, **env},
                          capture_output=True, text=True, timeout=120)


def test_roster_check_names_file_line_and_problem(tmp_path):
    bad = tmp_path / "roster.yaml"
    bad.write_text('community: {code: XK, name: 兴康社区}\ngrids: [{code: "1", name: 一}]\n'
                   'buildings:\n  - {code: "1", name: 1号楼, grid: "9"}\nstaff: []\n'
                   'categories: [{code: env, name: 环境卫生}]\ncolour: red\n', encoding="utf-8")
    result = gridbot("roster", "check", str(bad), env={})
    assert result.returncode == 1
    assert f'{bad}:4: building "1" names unknown grid "9"' in result.stderr
    assert f"{bad}:7:" in result.stderr and "colour" in result.stderr


def test_roster_check_reports_a_bad_reply_on_its_line(tmp_path):
    bad = tmp_path / "roster.yaml"
    bad.write_text('community: {code: XK, name: 兴康社区}\ngrids: [{code: "1", name: 一}]\n'
                   'buildings: [{code: "1", name: 1号楼, grid: "1"}]\nstaff: []\n'
                   'categories:\n  - code: env\n    name: 环境卫生\n    replies:\n'
                   '      resolve: [已清理, "  "]\n', encoding="utf-8")
    result = gridbot("roster", "check", str(bad), env={})
    assert result.returncode == 1
    assert f'{bad}:9: each of category "env" replies resolve must be a non-empty text' in result.stderr


def test_roster_load_twice_is_idempotent(tmp_path):
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'g.db'}", "LOG_LEVEL": "WARNING"}
    first = gridbot("roster", "load", "examples/roster.yaml", env=env)
    second = gridbot("roster", "load", "examples/roster.yaml", env=env)
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert "兴康社区 (XK): 7 个网格" in second.stdout


async def start_run(env: dict[str, str]) -> tuple[asyncio.subprocess.Process, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", cwd=ROOT, env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    assert process.stdout is not None
    async with asyncio.timeout(60):
        while True:
            line = (await process.stdout.readline()).decode()
            if not line:
                raise AssertionError("gridbot run ended before printing its URL")
            if "http://" in line and "浏览器" in line:
                return process, line.split("打开 ", 1)[1].split(" ")[0].rstrip("/")


async def stop(process: asyncio.subprocess.Process) -> None:
    process.terminate()  # SIGTERM, as a service manager stops it: a graceful stop
    async with asyncio.timeout(20):
        await process.communicate()
    assert process.returncode == 0


@pytest.mark.parametrize("restarts", [2])
async def test_make_run_serves_the_sandbox_and_survives_a_restart(tmp_path, restarts):
    """Without BOT_TOKEN, `gridbot run` loads the example roster, starts the sandbox and answers in it —
    also after a restart on the same database (the new sandbox's update ids must not look seen)."""
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'run.db'}", "SANDBOX_PORT": str(free_port()),
           "BOT_TOKEN": "", "LOG_LEVEL": "WARNING"}
    env.pop("BOT_TOKEN")
    for round_ in range(restarts):
        process, url = await start_run(env)
        try:
            async with SandboxClient(url) as client:
                await client.send_text(5001, "/start")
                [welcome] = await client.wait_for_bot_messages(5001, 1, timeout=20)
                assert "兴康社区" in welcome.text, round_
        finally:
            await stop(process)


@pytest.mark.parametrize(("level", "per_update_lines"),
                         [("INFO", False), ("warning", False), ("DEBUG", True)])
def test_a_line_per_update_only_at_debug(level: str, per_update_lines: bool) -> None:
    events = logging.getLogger("aiogram.event")
    try:
        configure_logging(level)
        # NOTSET: the root level (LOG_LEVEL) decides, as for every other logger.
        assert events.level == (logging.NOTSET if per_update_lines else logging.WARNING)
    finally:
        events.setLevel(logging.NOTSET)
        for name in ("aiohttp.access", "alembic", "apscheduler"):
            logging.getLogger(name).setLevel(logging.NOTSET)


@pytest.mark.parametrize("args", [
    ("summary", "--week", "0001-W01"), ("summary", "--week", "2026-W99"), ("summary", "--week", "2026-W00"),
    ("summary", "--week", "9999-W52"), ("summary", "--week", "W47"),
    ("invite", "--role", "worker", "--grid", "1", "--days", "99999999"),
    ("invite", "--role", "worker", "--grid", "1", "--days", "0"),
    ("invite", "--role", "worker", "--grid", "1", "--days", "-3"),
    ("invite", "--role", "worker", "--grid", "1", "--days", "lots"),
    ("sandbox", "--port", "70000"),
])
def test_options_out_of_range_end_in_one_line_and_status_2(tmp_path, args):
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'g.db'}", "LOG_LEVEL": "WARNING"}
    result = gridbot(*args, env=env)
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"gridbot {args[0]}: error: argument {args[-2]}: ") and args[-1] in line
    assert result.stdout == ""


def test_the_week_in_range_is_accepted(tmp_path):
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'g.db'}", "LOG_LEVEL": "WARNING"}
    assert gridbot("roster", "load", "examples/roster.yaml", env=env).returncode == 0
    result = gridbot("summary", "--week", "2020-W53", "--chart-dir", str(tmp_path), env=env)
    assert result.returncode == 0 and "2020-W53" in result.stdout, result.stderr


def test_a_week_that_has_not_begun_is_refused_in_one_line(tmp_path):
    """Its figures would count every open ticket as overdue at a moment still to come."""
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'g.db'}", "LOG_LEVEL": "WARNING"}
    assert gridbot("roster", "load", "examples/roster.yaml", env=env).returncode == 0
    result = gridbot("summary", "--week", "2100-W01", "--chart-dir", str(tmp_path), env=env)
    assert result.returncode == 1 and result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("gridbot summary: 2100-W01 has not begun yet")
    assert "the week in progress is" in line
