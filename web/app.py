"""The staff console as an aiohttp application, served by the bot process (bot/console.py).

    app = console_app(ConsoleConfig(units, conversations, url="http://127.0.0.1:8082/console",
                                    fetch_file=fetch))
Routes (under the path of the console's address, /console by default):

    GET  /                     统计 (the dashboard; its figures come later)
    GET  /login, /login/<t>    how to log in; a one-time /console link (web.sessions)
    POST /logout               退出
    GET  /tickets              the ticket list (web.tickets)
    GET  /tickets/<number>     one ticket, with its actions
    POST /tickets/<number>/<act>            签收 进展 办结 转派 上报 指派 (web.actions)
    GET  /tickets/<number>/photo/<i>, /voice  its files (web.media)
    GET  /roster, /qr, /exports             网格名册, 二维码, 台账下载 (pages to come)
    GET  /static/console.css
"""

from __future__ import annotations

from aiohttp import web

from web import actions, media, sessions, tickets
from web.pages import STATIC_DIR
from web.state import CONSOLE, Console, ConsoleConfig, console_of


def section(template: str, nav: str):
    async def show(request: web.Request) -> web.StreamResponse:
        return console_of(request).page(request, template, nav=nav)

    return show


async def to_dashboard(request: web.Request) -> web.StreamResponse:
    return web.Response(status=303, headers={"Location": console_of(request).base + "/"})


def console_app(config: ConsoleConfig) -> web.Application:
    console = Console(config)
    app = web.Application(middlewares=[sessions.guard])
    app[CONSOLE] = console
    base = console.base
    app.router.add_get(base, to_dashboard)
    app.router.add_get(base + "/", section("dashboard", "dashboard"))
    app.router.add_get(base + "/login", sessions.login_page)
    app.router.add_get(base + "/login/{token}", sessions.login)
    app.router.add_post(base + "/logout", sessions.logout)
    app.router.add_get(base + "/tickets", tickets.ticket_list)
    app.router.add_get(base + "/tickets/{number}", tickets.ticket_page)
    app.router.add_get(base + "/tickets/{number}/photo/{index}", media.photo)
    app.router.add_get(base + "/tickets/{number}/voice", media.voice)
    app.router.add_post(base + "/tickets/{number}/{act}", actions.act)
    app.router.add_get(base + "/roster", section("roster", "roster"))
    app.router.add_get(base + "/qr", section("qr", "qr"))
    app.router.add_get(base + "/exports", section("exports", "exports"))
    app.router.add_static(base + "/static/", STATIC_DIR)
    return app
