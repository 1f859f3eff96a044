"""统计: the dashboard (handlers.dashboard) of the viewer's scope, and its two charts.

    GET <base>/                    the dashboard page (?community=<code> picks one of several)
    GET <base>/chart/weeks.png     近13周工单数 (the same ?community=)
    GET <base>/chart/rates.png     近13周三率

What is shown: a community the viewer sees whole (community or street staff) is shown whole; in a
community where they are a grid worker or leader, only their grids. One community at a time (a viewer
can be staff in one community and a grid worker in another; the selector offers each, the first by
code by default); when every one of them is seen whole, "全部" adds them up as the weekly summary would.

A dashboard takes seconds on a big community, so it is computed once per (communities, grids, minute of
the console's clock) and kept in a small cache on the Console: the page and its two images, and anyone
else with the same scope in that minute, share one computation.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import urlencode

from aiohttp import web

from handlers.dashboard import Dashboard, dashboard
from handlers.dashboard_chart import trend_chart_png
from handlers.texts import Texts
from web.filters import Choice
from web.state import Console, console_of, viewer_of
from web.viewer import Viewer

ALL = "all"
CHART_HEADERS = {"Cache-Control": "private, max-age=60", "X-Content-Type-Options": "nosniff"}


@dataclass(frozen=True)
class Selection:
    codes: tuple[str, ...]  # the communities shown
    grids: frozenset[tuple[str, str]] | None  # None: each shown whole
    value: str  # the selector's value


def options(viewer: Viewer, texts: Texts) -> list[Choice]:
    """One choice per community the viewer sees anything of, "全部" first when all are seen whole."""
    scope = viewer.scope
    seen = [code for code in viewer.communities
            if code in scope.communities or any(c == code for c, _ in scope.grids)]
    choices = [Choice(code, viewer.communities[code].name) for code in seen]
    if len(seen) > 1 and all(code in scope.communities for code in seen):
        choices.insert(0, Choice(ALL, texts.label_in("console", "all_communities")))
    return choices


def selection(viewer: Viewer, wanted: str, texts: Texts) -> Selection | None:
    offered = options(viewer, texts)
    if not offered:
        return None
    value = wanted if any(o.value == wanted for o in offered) else offered[0].value
    if value == ALL:
        return Selection(tuple(o.value for o in offered if o.value != ALL), None, ALL)
    if value in viewer.scope.communities:
        return Selection((value,), None, value)
    return Selection((value,), frozenset(p for p in viewer.scope.grids if p[0] == value), value)


async def dashboard_for(console: Console, chosen: Selection) -> Dashboard:
    config = console.config
    minute = config.clock().replace(second=0, microsecond=0)

    async def compute() -> Dashboard:
        async with config.units() as uow:
            communities = [c for c in [await uow.roster.get(code) for code in chosen.codes] if c is not None]
            return await dashboard(uow, communities, minute, grids=chosen.grids)

    return await console.dashboards.get((chosen.codes, chosen.grids, minute), compute)


async def dashboard_page(request: web.Request) -> web.StreamResponse:
    console, viewer = console_of(request), viewer_of(request)
    chosen = selection(viewer, request.query.get("community", ""), console.config.texts)
    if chosen is None:
        return console.page(request, "dashboard", nav="dashboard", dashboard=None)
    query = "?" + urlencode({"community": chosen.value})
    return console.page(
        request, "dashboard", nav="dashboard", dashboard=await dashboard_for(console, chosen),
        community_options=options(viewer, console.config.texts), community=chosen.value,
        chart_urls={kind: f"{console.base}/chart/{kind}.png{query}" for kind in ("weeks", "rates")},
        ticket_url=lambda number: f"{console.base}/tickets/{number}")


async def chart(request: web.Request) -> web.StreamResponse:
    console, viewer = console_of(request), viewer_of(request)
    chosen = selection(viewer, request.query.get("community", ""), console.config.texts)
    kind = request.match_info["kind"]
    if chosen is None or kind not in ("weeks", "rates"):
        return console.refuse(request, "file", status=404)
    shown = await dashboard_for(console, chosen)
    png = await asyncio.to_thread(trend_chart_png, shown, console.config.texts, kind)
    return web.Response(body=png, content_type="image/png", headers=CHART_HEADERS)
