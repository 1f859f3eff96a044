"""QR posters: the code on the printed page opens the bot at exactly its building, on PNG and PDF pages,
for a building of an estate (翠湖社区) and one of a community without estates (兴康社区); which buildings
a --estate / --building means; what the poster promises."""

from __future__ import annotations

import dataclasses
import io
from datetime import timedelta
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader

from bot.roster_files import read_roster
from gridcore import posters as facts
from gridcore.community import Building, Category, Community
from gridcore.links import read_building_link
from gridcore.posters import PosterSelectionError, select_buildings
from handlers.posters import BAND, HEIGHT, MARGIN, WIDTH, PosterPainter, poster_pdf, poster_png, posters_pdf

ROOT = Path(__file__).resolve().parents[1]
BOT = "xinjiang_grid_bot"
A4_POINTS = (595.2, 841.92)  # 2480 × 3508 px at 300 dpi


@pytest.fixture(scope="module")
def cuihu() -> Community:
    return read_roster(str(ROOT / "examples/cuihu.yaml"))


@pytest.fixture(scope="module")
def xinkang() -> Community:
    return read_roster(str(ROOT / "examples/roster.yaml"))


@pytest.fixture(scope="module")
def painter() -> PosterPainter:
    return PosterPainter()


def decoded(image: Image.Image) -> list[str]:
    return [result.text for result in zxingcpp.read_barcodes(image)]


@pytest.mark.parametrize(("roster", "building_code", "place", "payload"), [
    ("cuihu", "YY5", "雅悦花园5栋", "b-CH-YY5"),
    ("xinkang", "3", "3号楼", "b-XK-3"),
])
def test_the_png_code_opens_the_bot_at_its_building(request, painter, roster, building_code, place,
                                                    payload) -> None:
    community = request.getfixturevalue(roster)
    building = community.building(building_code)
    assert building is not None and community.place_name(building) == place
    image = Image.open(io.BytesIO(poster_png(community, building, BOT, painter=painter)))
    assert image.format == "PNG" and image.size == (WIDTH, HEIGHT) == (2480, 3508)
    assert round(image.info["dpi"][0]) == 300
    assert decoded(image) == [f"https://t.me/{BOT}?start={payload}"]
    link = read_building_link(payload)  # what the bot reads when the resident presses Start
    assert link is not None and (link.community_code, link.building_code) == (community.code, building_code)


def test_a_pdf_has_one_a4_page_per_building_each_with_its_own_code(cuihu, painter) -> None:
    buildings = select_buildings(cuihu, "金桂园")[:3]
    reader = PdfReader(io.BytesIO(posters_pdf(cuihu, buildings, BOT, painter=painter)))
    assert len(reader.pages) == len(buildings) == 3
    for page, building in zip(reader.pages, buildings, strict=True):
        assert (float(page.mediabox.width), float(page.mediabox.height)) == pytest.approx(A4_POINTS)
        (picture,) = page.images
        assert decoded(picture.image) == [facts.deep_link(BOT, "CH", building.code)]
    single = PdfReader(io.BytesIO(poster_pdf(cuihu, buildings[0], BOT, painter=painter)))
    assert len(single.pages) == 1


def test_an_empty_selection_makes_no_pdf(cuihu, painter) -> None:
    with pytest.raises(ValueError, match="at least one"):
        posters_pdf(cuihu, [], BOT, painter=painter)


@pytest.mark.parametrize(("estate", "building", "codes"), [
    ("YY", "YY5", ["YY5"]),
    ("雅悦花园", "5栋", ["YY5"]),
    ("雅悦小区", "五栋", ["YY5"]),  # an alias; the building in Chinese numerals
    (None, "雅悦花园5栋", ["YY5"]),  # the place as a card shows it
    (None, "WL5", ["WL5"]),
    ("香樟苑", None, ["XZ1", "XZ2", "XZ3", "XZ4", "XZ5", "XZ6", "XZ7", "XZ8"]),
])
def test_estates_and_buildings_by_code_or_name(cuihu, estate, building, codes) -> None:
    assert [b.code for b in select_buildings(cuihu, estate, building)] == codes


def test_the_whole_community_is_every_place_of_the_roster(cuihu, xinkang) -> None:
    assert select_buildings(cuihu) == cuihu.buildings and len(cuihu.buildings) == 271
    assert select_buildings(xinkang, building="3号楼") == (xinkang.building("3"),)


@pytest.mark.parametrize(("roster", "estate", "building", "message"), [
    ("cuihu", "翠竹园", None, "no estate '翠竹园' in 翠湖社区 (CH); its estates: YY 雅悦花园, "),
    ("cuihu", "YY", "99栋", "no building '99栋' in 雅悦花园 (YY)"),
    ("cuihu", None, "5栋", "'5栋' is a building of several estates (YY5 雅悦花园5栋, CHHY5 翠湖花园5栋,"),
    ("cuihu", None, "火星基地", "no building '火星基地' in 翠湖社区 (CH)"),
    ("xinkang", "YY", None, "兴康社区 (XK) has no estates (小区)"),
])
def test_what_the_roster_lacks_is_named(request, roster, estate, building, message) -> None:
    with pytest.raises(PosterSelectionError) as raised:
        select_buildings(request.getfixturevalue(roster), estate, building)
    assert str(raised.value).startswith(message)


def test_the_promise_holds_for_every_ordinary_category(cuihu, xinkang) -> None:
    # The emergency categories (2 hours) and 1-day ones do not shorten it; the longest deadline sets it.
    assert facts.feedback_days(cuihu) == facts.feedback_days(xinkang) == 3
    slow = dataclasses.replace(xinkang, categories=(*xinkang.categories, Category(
        "green", "绿化", feedback_deadline=timedelta(days=4, hours=6))))
    assert facts.feedback_days(slow) == 5
    assert facts.feedback_days(dataclasses.replace(xinkang, categories=())) == 3
    yy5 = facts.poster(cuihu, cuihu.building("YY5"), "@" + BOT)
    assert (yy5.place, yy5.file_stem, yy5.feedback_days) == ("雅悦花园5栋", "CH-YY5", 3)
    assert yy5.emergency_numbers == ("119", "110", "120")


@pytest.mark.parametrize("username", ["", "ab", "has space", "1starts_with_digit", "a" * 33, "t.me/x_bot"])
def test_a_bot_username_telegram_would_refuse_is_refused(username) -> None:
    with pytest.raises(ValueError, match="is not a Telegram username"):
        facts.check_bot_username(username)


def test_a_long_link_breaks_in_two_lines_and_stays_on_the_page(cuihu, painter) -> None:
    longest = Building("QWERTYUIOPASDFGHJKLZ", "沿街商铺东区临时菜市场", "1")
    community = dataclasses.replace(cuihu, buildings=(*cuihu.buildings, longest))
    username = "a" + "b" * 31  # Telegram's longest username
    image = Image.open(io.BytesIO(poster_png(community, longest, username, painter=painter))).convert("L")
    assert decoded(image) == [f"https://t.me/{username}?start=b-CH-QWERTYUIOPASDFGHJKLZ"]
    # Nothing drawn into the side margins below the red band: every text fitted between them.
    for left in (0, WIDTH - MARGIN // 2):
        margin = image.crop((left, BAND + 1, left + MARGIN // 2, HEIGHT))
        assert margin.getextrema() == (255, 255)
