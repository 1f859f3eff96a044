"""`gridbot qr`: the QR posters of a community's buildings, as files to print.

One file per building, named by community and building code (CH-YY5.pdf, CH-YY5.png), and, when more
than one building is asked for, every poster in one PDF to print in one go (CH-YY-all.pdf for estate YY,
CH-all.pdf for the whole community). The buildings are found before anything is written: a name the
roster does not know writes nothing.
"""

from __future__ import annotations

from pathlib import Path

from gridcore.community import Community, Estate
from gridcore.posters import check_bot_username, find_estate_named, posters, select_buildings

FORMATS = {"pdf": ("pdf",), "png": ("png",), "both": ("png", "pdf")}


def given_username(username: str | None) -> str | None:
    """--bot-username or BOT_USERNAME without "@", checked; None when neither is given."""
    return check_bot_username(username) if username else None


def all_in_one_name(community: Community, estate: Estate | None) -> str:
    return f"{community.code}-{estate.code}-all.pdf" if estate else f"{community.code}-all.pdf"


def write_qr_posters(community: Community, bot_username: str, estate: str | None, building: str | None,
                     out: Path, file_format: str) -> list[Path]:
    """The posters of the buildings asked for, written into `out` (created if missing); the paths.
    ValueError (gridcore.posters.PosterSelectionError) before any file is written when the estate or
    building is not in the roster."""
    from handlers.posters import write_posters

    buildings = select_buildings(community, estate, building)
    facts = posters(community, buildings, bot_username)
    chosen_estate = find_estate_named(community, estate) if estate and not building else None
    combined = all_in_one_name(community, chosen_estate) if len(facts) > 1 else None
    out.mkdir(parents=True, exist_ok=True)
    return write_posters(facts, out, FORMATS[file_format], combined)


def describe_written(community: Community, written: list[Path]) -> str:
    """What `gridbot qr` prints: one line per file, then how many."""
    lines = [str(path) for path in written]
    return "\n".join([*lines, f"{community.name} ({community.code}): wrote {len(written)} files"])
