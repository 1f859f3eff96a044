"""The staff console as an aiohttp application, served by the bot process (bot/console.py).

    app = console_app(ConsoleConfig(units, conversations, url="http://127.0.0.1:8082/console",
                                    fetch_file=fetch))
Routes (under the path of the console's address, /console by default):

    GET  /                     统计: the dashboard of the viewer's scope (web.dashboard)
    GET  /chart/weeks.png, /chart/rates.png  its two charts
    GET  /login, /login/<t>    how to log in; a one-time /console link (web.sessions)
    POST /logout               退出
    GET  /tickets              the ticket list (web.tickets)
    GET  /tickets/<number>     one ticket, with its actions
    POST /tickets/<number>/<act>            签收 进展 办结 转派 上报 指派 (web.actions)
    GET  /tickets/<number>/photo/<i>, /voice  its files (web.media)
    GET  /roster               网格名册 (web.roster)
    GET  /qr                   二维码: the buildings' posters (web.posters)
    GET  /qr/<community>/<building>.png|.pdf, /qr/<community>/estate/<estate>.pdf,
         /qr/<community>/others/all.pdf     one building's poster, an estate's (or the rest's) in one PDF
    GET  /exports              台账下载: the form (web.exports)
    GET  /exports/download     a ledger as CSV or XLSX (the ticket list's filters, the viewer's scope)
    GET  /static/console.css
"""

from __future__ import annotations

from aiohttp import web

from web import actions, dashboard, exports, media, posters, roster, sessions, tickets
from web.pages import STATIC_DIR
from web.state import CONSOLE, Console, ConsoleConfig, console_of


async def to_dashboard(request: web.Request) -> web.StreamResponse:
    return web.Response(status=303, headers={"Location": console_of(request).base + "/"})


def console_app(config: ConsoleConfig) -> web.Application:
    console = Console(config)
    app = web.Application(middlewares=[sessions.guard])
    app[CONSOLE] = console
    base = console.base
    app.router.add_get(base, to_dashboard)
    app.router.add_get(base + "/", dashboard.dashboard_page)
    app.router.add_get(base + "/chart/{kind}.png", dashboard.chart)
    app.router.add_get(base + "/login", sessions.login_page)
    app.router.add_get(base + "/login/{token}", sessions.login)
    app.router.add_post(base + "/logout", sessions.logout)
    app.router.add_get(base + "/tickets", tickets.ticket_list)
    app.router.add_get(base + "/tickets/{number}", tickets.ticket_page)
    app.router.add_get(base + "/tickets/{number}/photo/{index}", media.photo)
    app.router.add_get(base + "/tickets/{number}/voice", media.voice)
    app.router.add_post(base + "/tickets/{number}/{act}", actions.act)
    app.router.add_get(base + "/roster", roster.roster_page)
    posters.add_routes(app, base)
    app.router.add_get(base + "/exports", exports.exports_page)
    app.router.add_get(base + "/exports/download", exports.download)
    app.router.add_static(base + "/static/", STATIC_DIR)
    return app
