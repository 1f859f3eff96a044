"""What the console's pages of one community at a time share: which community (?community=), and how a
download is named."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote

from gridcore.community import Community
from web.filters import Choice

DOWNLOAD_HEADERS = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}


def chosen(communities: Mapping[str, Community], wanted: str) -> Community | None:
    """The community asked for if offered, else the first (code order); None when there is none."""
    return communities.get(wanted) or next(iter(communities.values()), None)


def community_choices(communities: Mapping[str, Community]) -> list[Choice]:
    return [Choice(code, c.name) for code, c in communities.items()]


def attachment(filename: str, fallback: str) -> dict[str, str]:
    """Headers of a download named `filename` (Chinese: RFC 5987 filename*), `fallback` (ASCII) for
    browsers without it."""
    ascii_name = fallback.encode("ascii", "replace").decode().replace('"', "").replace("?", "_")
    return {**DOWNLOAD_HEADERS, "Content-Disposition":
            f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"}
