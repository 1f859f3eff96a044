"""二维码: the QR posters of the viewer's community's buildings (handlers.posters), to print.

    GET <base>/qr                                  estates and their buildings, with links (?community=)
    GET <base>/qr/<community>/<building>.png|.pdf  one building's A4 poster
    GET <base>/qr/<community>/estate/<estate>.pdf  an estate's posters, one page a building
    GET <base>/qr/<community>/others/all.pdf       the buildings outside any estate, in one PDF

Who: whoever may see the community's roster (Viewer.roster_communities). Never a whole community in one
file (hundreds of pages, a hundred MB): an estate or a building at a time. Drawing is CPU work (~0.3 s a
page), done in a thread so the bot's event loop goes on; handlers.posters (Pillow, segno) is imported
only when someone downloads.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiohttp import web

from gridcore.community import Building, Community
from gridcore.posters import check_bot_username
from handlers.texts import Texts
from web.choosing import attachment, chosen, community_choices
from web.state import Console, console_of, viewer_of

OTHERS = ""  # the group of buildings outside any estate
MEDIA = {"png": "image/png", "pdf": "application/pdf"}


@dataclass(frozen=True)
class PlaceLink:
    code: str
    name: str  # as the bot names it: "雅悦花园5栋"


@dataclass(frozen=True)
class EstateGroup:
    code: str  # OTHERS for the buildings outside any estate
    name: str
    buildings: list[PlaceLink]


def groups(community: Community, texts: Texts) -> list[EstateGroup]:
    """Each estate with its buildings (roster order), then the buildings outside any estate."""
    known = {e.code for e in community.estates}
    found = [EstateGroup(e.code, e.name, [PlaceLink(b.code, community.place_name(b))
                                          for b in community.buildings if b.estate_code == e.code])
             for e in community.estates]
    others = [PlaceLink(b.code, community.place_name(b)) for b in community.buildings
              if b.estate_code not in known]
    if others:
        found.append(EstateGroup(OTHERS, texts.label_in("console", "buildings_outside_estates",
                                                        has_estates=bool(community.estates)), others))
    return [g for g in found if g.buildings]


def bot_username(console: Console) -> str:
    """The bot's username when Telegram would take it as one, else "" (no posters can be drawn)."""
    try:
        return check_bot_username(console.config.conversations.bot_username)
    except ValueError:
        return ""


async def qr_page(request: web.Request) -> web.StreamResponse:
    console, viewer = console_of(request), viewer_of(request)
    communities = viewer.roster_communities()
    community = chosen(communities, request.query.get("community", ""))
    return console.page(request, "qr", nav="qr", community=community,
                        community_options=community_choices(communities),
                        groups=groups(community, console.config.texts) if community else [],
                        bot_ready=bool(bot_username(console)))


def community_for(request: web.Request) -> Community | None:
    return viewer_of(request).roster_communities().get(request.match_info["community"])


def file_title(console: Console, community: str, place: str) -> str:
    return console.config.texts.label_in("console", "poster_file", community=community, place=place)


async def drawn(request: web.Request, draw, filename: str, fallback: str, ext: str) -> web.StreamResponse:
    console = console_of(request)
    username = bot_username(console)
    if not username:
        return console.refuse(request, "no_bot", status=404)
    body = await asyncio.to_thread(draw, username)
    return web.Response(body=body, content_type=MEDIA[ext], headers=attachment(filename, fallback))


async def building_poster(request: web.Request) -> web.StreamResponse:
    from handlers import posters  # Pillow and segno load on the first download, not with the bot

    console = console_of(request)
    community = community_for(request)
    building = community.building(request.match_info["building"]) if community else None
    ext = request.match_info["ext"]
    if community is None or building is None:
        return console.refuse(request, "file", status=404)
    write = posters.poster_png if ext == "png" else posters.poster_pdf
    return await drawn(request, lambda username: write(community, building, username),
                       file_title(console, community.name, community.place_name(building)) + f".{ext}",
                       f"{community.code}-{building.code}.{ext}", ext)


async def group_pdf(request: web.Request) -> web.StreamResponse:
    from handlers import posters

    console = console_of(request)
    community = community_for(request)
    code = request.match_info.get("estate", OTHERS)
    found = groups(community, console.config.texts) if community else []
    group = next((g for g in found if g.code == code), None)
    if community is None or group is None:
        return console.refuse(request, "file", status=404)
    buildings: list[Building] = [b for link in group.buildings if (b := community.building(link.code))]
    return await drawn(request, lambda username: posters.posters_pdf(community, buildings, username),
                       file_title(console, community.name, group.name) + ".pdf",
                       f"{community.code}-{group.code or 'others'}.pdf", "pdf")


def add_routes(app: web.Application, base: str) -> None:
    app.router.add_get(base + "/qr", qr_page)
    app.router.add_get(base + "/qr/{community}/estate/{estate}.pdf", group_pdf)
    app.router.add_get(base + "/qr/{community}/others/all.pdf", group_pdf)
    app.router.add_get(base + "/qr/{community}/{building}.{ext:png|pdf}", building_poster)
