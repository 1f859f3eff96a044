"""`gridbot qr` as a community secretary runs it: rosters loaded into the database (SQLite and
PostgreSQL), posters written for an estate or one building, and names the roster lacks refused with
one line and nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader
from test_cli import gridbot

BOT = "xinjiang_grid_bot"
# No username from the environment: the command must take it from --bot-username or refuse.
NO_BOT = {"BOT_USERNAME": "", "BOT_TOKEN": "", "LOG_LEVEL": "WARNING"}


@pytest.fixture
def env(database_url: str) -> dict[str, str]:
    env = {**NO_BOT, "DATABASE_URL": database_url}
    for roster in ("examples/cuihu.yaml", "examples/roster.yaml"):
        loaded = gridbot("roster", "load", roster, env=env)
        assert loaded.returncode == 0, loaded.stderr
    return env


def decoded(path: Path) -> list[str]:
    return [result.text for result in zxingcpp.read_barcodes(Image.open(path))]


def test_an_estate_gets_a_file_per_building_and_one_pdf_of_all(env, tmp_path) -> None:
    out = tmp_path / "posters"
    result = gridbot("qr", "--community", "CH", "--estate", "香樟苑", "--out", str(out), "--format", "both",
                     "--bot-username", "@" + BOT, env=env)
    assert result.returncode == 0, result.stderr
    codes = [f"XZ{n}" for n in range(1, 9)]
    per_building = [out / f"CH-{code}.{ext}" for code in codes for ext in ("png", "pdf")]
    expected = [*per_building, out / "CH-XZ-all.pdf"]
    assert result.stdout.splitlines() == [*map(str, expected), "翠湖社区 (CH): wrote 17 files"]
    assert sorted(out.iterdir()) == sorted(expected)
    assert decoded(out / "CH-XZ3.png") == [f"https://t.me/{BOT}?start=b-CH-XZ3"]
    assert len(PdfReader(out / "CH-XZ-all.pdf").pages) == 8
    assert len(PdfReader(out / "CH-XZ3.pdf").pages) == 1


def test_one_building_of_a_community_without_estates(env, tmp_path) -> None:
    out = tmp_path / "posters"
    result = gridbot("qr", "--community", "XK", "--building", "5号楼", "--out", str(out), "--format", "png",
                     "--bot-username", BOT, env=env)
    assert result.returncode == 0, result.stderr
    assert sorted(out.iterdir()) == [out / "XK-5.png"]  # one building: no all-in-one PDF
    assert decoded(out / "XK-5.png") == [f"https://t.me/{BOT}?start=b-XK-5"]


REFUSED = [  # (arguments, the start of the one line on stderr)
    (("--estate", "翠竹园", "--bot-username", BOT), "no estate '翠竹园' in 翠湖社区 (CH)"),
    (("--estate", "雅悦", "--building", "99栋", "--bot-username", BOT),
     "no building '99栋' in 雅悦花园 (YY)"),
    (("--building", "5栋", "--bot-username", BOT), "'5栋' is a building of several estates"),
    (("--building", "YY5", "--bot-username", "t.me/x"), "'t.me/x' is not a Telegram username"),
    (("--building", "YY5"), "which bot should the QR codes open? give --bot-username"),
]


def test_what_the_roster_lacks_writes_nothing(env, tmp_path) -> None:
    out = tmp_path / "posters"
    for args, message in REFUSED:
        result = gridbot("qr", "--community", "CH", *args, "--out", str(out), env=env)
        assert result.returncode == 1, args
        (line,) = result.stderr.strip().splitlines()
        assert line.startswith(f"gridbot qr: {message}"), line
        assert result.stdout == "" and not out.exists()
