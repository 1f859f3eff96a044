"""台账下载: the ledgers (handlers.ledgers) of the tickets the viewer may see, as CSV or Excel.

    GET <base>/exports             the form: 台账, 社区, 起止日期, 格式
    GET <base>/exports/download    kind=tickets|disputes, format=csv|xlsx, and the ticket list's filters
                                   (web.filters.read_form: the same fields, the viewer's scope)

Personal information (residents' names, phones, their own words) only when the viewer has that right for
every ticket the file can hold: community staff of every community it reaches (Viewer.full_ledger);
grid leaders, grid workers and street staff get it redacted. openpyxl is imported only on a download.
"""

from __future__ import annotations

import asyncio
import io
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from aiohttp import web

from gridcore.ticket_query import TicketQuery
from handlers.texts import Texts
from web.choosing import attachment, community_choices
from web.filters import read_form
from web.state import console_of, viewer_of
from web.viewer import Viewer

KINDS = ("tickets", "disputes")
FORMATS = {"csv": "CSV", "xlsx": "Excel"}
LIST_FIELDS = ("status", "community", "grid", "estate", "building", "category", "handler", "from", "to",
               "overdue", "unrated", "reopened", "q")


def reached(viewer: Viewer, query: TicketQuery) -> list[str]:
    """The communities whose tickets the query can return."""
    if query.community is not None:
        return [query.community]
    scope = query.scope
    return sorted(scope.communities | {code for code, _ in scope.grids})


def may_see_full(viewer: Viewer, query: TicketQuery) -> bool:
    codes = reached(viewer, query)
    return bool(codes) and all(viewer.full_ledger(code) for code in codes)


async def exports_page(request: web.Request) -> web.StreamResponse:
    """The form; arriving from the ticket list (its 导出 link), its filters ride along unseen."""
    console, viewer = console_of(request), viewer_of(request)
    first = next(iter(viewer.communities.values()), None)
    wanted = read_form(request.query, viewer.communities, viewer.scope,
                       first.timezone if first else "Asia/Shanghai")
    on_form = ("community", "from", "to")
    carried = {k: v for k, v in wanted.form.items() if k in LIST_FIELDS and k not in on_form}
    full_by_community = {code: viewer.full_ledger(code) for code in reached(viewer, wanted.query)}
    return console.page(request, "exports", nav="exports", nothing=viewer.scope.empty, form=wanted.form,
                        carried=carried, kinds=kind_titles(console.config.texts), formats=FORMATS,
                        community_options=community_choices(viewer.communities),
                        full_everywhere=all(full_by_community.values()),
                        full_anywhere=any(full_by_community.values()))


def kind_titles(texts: Texts) -> dict[str, str]:
    """工单台账 / 矛盾纠纷台账, as the ledgers' own titles (templates/zh/ledger.html)."""
    return {kind: texts.label_in("ledger", f"title_{kind}") for kind in KINDS}


def filename(texts: Texts, kind: str, names: list[str], query: TicketQuery, today: str, ext: str) -> str:
    first = query.filed_from.isoformat() if query.filed_from else texts.label_in("console", "from_the_start")
    last = query.filed_to.isoformat() if query.filed_to else today
    who = names[0] if len(names) == 1 else texts.label_in("console", "several_communities")
    return f"{kind_titles(texts)[kind]}_{who}_{first}_{last}.{ext}"


async def download(request: web.Request) -> web.StreamResponse:
    from handlers import ledgers  # openpyxl loads on the first download, not with the bot

    console, viewer = console_of(request), viewer_of(request)
    config = console.config
    kind, fmt = request.query.get("kind", "tickets"), request.query.get("format", "xlsx")
    if viewer.scope.empty or kind not in KINDS or fmt not in FORMATS:
        return console.refuse(request, "file", status=404)
    first = next(iter(viewer.communities.values()))
    query = read_form(request.query, viewer.communities, viewer.scope, first.timezone).query
    full = may_see_full(viewer, query)
    now = config.clock()
    async with config.units() as uow:
        ledger = await ledgers.build_ledger(uow, kind, query, full=full, now=now, texts=config.texts)
    out = io.BytesIO()
    await asyncio.to_thread(ledgers.WRITERS[fmt], ledger, out)
    names = [viewer.communities[code].name for code in reached(viewer, query) if code in viewer.communities]
    today = now.astimezone(ZoneInfo(query.timezone)).date().isoformat()
    name = filename(config.texts, kind, names, query, today, fmt)
    return web.Response(body=out.getvalue(), headers={
        **attachment(name, f"{kind}-ledger.{fmt}"), "Content-Type": ledgers.MEDIA_TYPES[fmt]})


def export_link(base: str, form: dict[str, str], fmt: str) -> str:
    """The ticket list's 导出 link: its filters, as a download of the ticket ledger."""
    fields = {k: v for k, v in form.items() if k in LIST_FIELDS and v}
    return f"{base}/exports/download?" + urlencode({"kind": "tickets", "format": fmt, **fields})


def export_form_link(base: str, form: dict[str, str]) -> str:
    """The form, filled with the ticket list's filters."""
    fields = {k: v for k, v in form.items() if k in LIST_FIELDS and v}
    return f"{base}/exports" + ("?" + urlencode(fields) if fields else "")
