"""Logging in and out, and the guard every other request passes.

    GET  <base>/login/<token>   a /console link: once, within 10 minutes -> a session, then the tickets
    GET  <base>/login           how to log in (also shown after 退出)
    POST <base>/logout          the session ends

A session's id lives only in the browser's cookie (HttpOnly, SameSite=Lax, Path=<base>, Secure when the
console's address is https); the database keeps its sha256. Every POST carries the session's CSRF token
in a hidden field and, when the browser sends an Origin, comes from the console's own origin.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web

from gridcore.console import SESSION_IDLE, SESSION_MAX, new_secret, secret_hash
from gridcore.ports import ConsoleSession
from web.state import SESSION_COOKIE, VIEWER, Console, console_of
from web.viewer import Viewer, load_viewer

log = logging.getLogger(__name__)
CSRF_FIELD = "csrf"
OPEN_PATHS = ("/login", "/static/")  # under the base: reachable without a session
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def same_origin(request: web.Request, console_url: str) -> bool:
    """No Origin header (an older browser), or the console's own origin: the configured address's, or
    the one the request came to (as a proxy forwards Host)."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    return origin.lower() in {origin_of(console_url), f"{request.scheme}://{request.host}".lower()}


def csrf_matches(given: str, expected: str) -> bool:
    return bool(given) and hmac.compare_digest(given.encode(), expected.encode())


def lifetimes() -> dict[str, int]:
    return {"idle_hours": int(SESSION_IDLE.total_seconds() // 3600),
            "max_hours": int(SESSION_MAX.total_seconds() // 3600)}


async def current_viewer(console: Console, request: web.Request) -> Viewer | None:
    """The session's viewer (its last use moved to now), or None without a live session."""
    session_id = request.cookies.get(SESSION_COOKIE)
    if not session_id:
        return None
    config = console.config
    async with config.units() as uow:
        session = await uow.console.get_session(secret_hash(session_id), config.clock())
        if session is None:
            return None
        viewer = await load_viewer(uow, session.user_id, session.csrf_token, config.community_code)
        await uow.commit()
    return viewer


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every page but login and the stylesheet needs a live session of someone the rosters list as
    staff now; every POST its session's CSRF token from the console's own origin. Else 403 (a GET
    without a session goes to the login page), and nothing is read or changed."""
    console = console_of(request)
    inside = request.path.removeprefix(console.base)
    if inside.startswith(OPEN_PATHS):
        return await handler(request)
    viewer = await current_viewer(console, request)
    if viewer is None:
        if request.method in ("GET", "HEAD"):
            return web.Response(status=303, headers={"Location": f"{console.base}/login"})
        return console.refuse(request, "session")
    if not viewer.is_staff:
        return console.refuse(request, "not_staff")
    request[VIEWER] = viewer
    if request.method == "POST":
        form = await request.post()
        if not same_origin(request, console.config.url) or not csrf_matches(
                str(form.get(CSRF_FIELD, "")), viewer.csrf_token):
            log.warning("console: a POST without its session's CSRF token or from another origin refused")
            return console.refuse(request, "csrf")
    return await handler(request)


async def login_page(request: web.Request) -> web.StreamResponse:
    console = console_of(request)
    return console.page(request, "login", logged_out="bye" in request.query, **lifetimes())


async def login(request: web.Request) -> web.StreamResponse:
    """A one-time link: a session for its account, then the tickets; a used, expired or unknown link
    (or an account no longer on a roster) gets a page saying to send /console again."""
    console = console_of(request)
    config = console.config
    token = request.match_info["token"]
    now = config.clock()
    async with config.units() as uow:
        user_id = await uow.console.take_login(secret_hash(token), now) if len(token) < 100 else None
        viewer = await load_viewer(uow, user_id, "", config.community_code) if user_id is not None else None
        if viewer is None or not viewer.is_staff:
            await uow.commit()  # a link used by someone no longer on a roster is used up all the same
            return console.page(request, "login_failed", status=403, **lifetimes())
        session_id = new_secret()
        session = ConsoleSession(viewer.user_id, new_secret(), now, now, now + SESSION_MAX)
        await uow.console.add_session(secret_hash(session_id), session)
        await uow.commit()
    log.info("console: staff member logged in")
    response = console.redirect("/tickets")
    console.cookies.set_session(response, session_id)
    return response


async def logout(request: web.Request) -> web.StreamResponse:
    console = console_of(request)
    config = console.config
    async with config.units() as uow:
        await uow.console.end_session(secret_hash(request.cookies.get(SESSION_COOKIE, "")), config.clock())
        await uow.commit()
    response = console.redirect("/login?bye=1")
    console.cookies.clear_session(response)
    return response
