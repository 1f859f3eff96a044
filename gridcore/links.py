"""Deep-link payloads of the QR codes posted in stairwells: t.me/<bot>?start=<payload>.

A payload is 1-64 characters of [A-Za-z0-9_-]. A building's link names its community as well, so one
bot can serve a whole street office: "b-<community>-<building>" (community codes are letters and
digits, building codes letters, digits and "_", so "-" separates them). Links printed before, for a
bot of one community, read "b_<building>" and keep working there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_BUILDING_LINK = re.compile(r"b-([A-Za-z0-9]{1,10})-([A-Za-z0-9_]{1,40})")
_OLD_BUILDING_LINK = re.compile(r"b_([A-Za-z0-9_-]{1,40})")


@dataclass(frozen=True)
class BuildingLink:
    building_code: str
    community_code: str | None  # None: an old link, meaning the bot's only community


def building_link(community_code: str, building_code: str) -> str:
    """The payload of a building's QR code."""
    payload = f"b-{community_code}-{building_code}"
    if not _BUILDING_LINK.fullmatch(payload) or len(payload) > 64:
        raise ValueError(f"no deep link for building {building_code!r} of community {community_code!r}")
    return payload


def read_building_link(payload: str) -> BuildingLink | None:
    """The building a /start payload points at, or None if it is no building link."""
    match = _BUILDING_LINK.fullmatch(payload)
    if match:
        return BuildingLink(match.group(2), match.group(1))
    match = _OLD_BUILDING_LINK.fullmatch(payload)
    return BuildingLink(match.group(1), None) if match else None
