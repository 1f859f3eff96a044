"""网格名册: who answers for which grid, building and category (handlers.roster_view), for staff.

    GET <base>/roster              the first of the viewer's communities (?community=<code> another)

Staff see staff (names, phones, open tickets): the roster of a community the viewer is community staff,
grid leader or grid worker of, or street staff over (Viewer.roster_communities). A grid worker sees the
whole community's roster, not only their grid: it is whom to call in the next grid. Residents are not in
a roster.
"""

from __future__ import annotations

from aiohttp import web

from handlers.roster_view import roster_view
from web.choosing import chosen, community_choices
from web.state import console_of, viewer_of


async def roster_page(request: web.Request) -> web.StreamResponse:
    console, viewer = console_of(request), viewer_of(request)
    communities = viewer.roster_communities()
    community = chosen(communities, request.query.get("community", ""))
    if community is None:
        return console.page(request, "roster", nav="roster", roster=None)
    async with console.config.units() as uow:
        open_counts = await uow.tickets.open_counts(community.code)
    return console.page(request, "roster", nav="roster", roster=roster_view(community, open_counts),
                        community_options=community_choices(communities), community=community.code)
