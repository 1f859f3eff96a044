"""The staff console's login, sessions and request checks, on SQLite and PostgreSQL: /console links
only for bound staff in private chats, a link works once and for 10 minutes, cookie flags, idle and
absolute expiry, logout, CSRF and Origin on every POST."""

from __future__ import annotations

import aiohttp
from console_support import (
    LEADER_1,
    LINK,
    RESIDENT,
    STAFF,
    WORKER_1,
    client_for,
    csrf,
    file_ticket,
    link_for,
    log_in,
    stored,
)
from dialog_support import load_example
from e2e_support import Resident, free_port, live, roster_sandbox

from bot.settings import Settings
from gridcore.ticket import TicketStatus

pytest_plugins = ["console_fixtures"]

STAFF_GROUP = -1001000000001


async def test_console_gives_a_link_only_to_bound_staff_in_a_private_chat(console, uow_factory):
    resident = console.chat(RESIDENT, "张阿姨")
    await resident.send("/console")
    assert "login" not in resident.last_text and "网格员和社区工作人员" in resident.last_text
    in_group = console.chat(STAFF, "李建国", chat_id=STAFF_GROUP)
    await in_group.send("/console")
    assert "私聊" in in_group.last_text and "login" not in in_group.last_text
    for staff_id in (WORKER_1, LEADER_1, STAFF):
        staff = console.chat(staff_id)
        token = await link_for(staff)
        assert len(token) >= 40 and "10 分钟" in staff.last_text
        async with uow_factory() as uow:  # only its hash is stored
            assert await uow.console.take_login(token, console.clock.now) is None


async def test_a_link_works_once_and_sets_a_safe_session_cookie(console, client):
    worker = console.chat(WORKER_1, "王芳")
    token = await link_for(worker)
    first = await client.get(f"/console/login/{token}", allow_redirects=False)
    assert first.status == 303 and first.headers["Location"] == "/console/tickets"
    cookie = first.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/console" in cookie
    assert "Secure" not in cookie  # http://: a Secure cookie would never come back
    page = await client.get("/console/")
    assert page.status == 200 and "王芳" in await page.text()

    client.session.cookie_jar.clear()
    again = await client.get(f"/console/login/{token}", allow_redirects=False)
    assert again.status == 403 and "/console" in await again.text() and "Set-Cookie" not in again.headers
    unknown = await client.get("/console/login/not-a-token", allow_redirects=False)
    assert unknown.status == 403
    assert (await client.get("/console/", allow_redirects=False)).headers["Location"] == "/console/login"


async def test_an_expired_link_is_refused(console, client):
    worker = console.chat(WORKER_1, "王芳")
    token = await link_for(worker)
    console.clock.advance(minutes=10, seconds=1)
    response = await client.get(f"/console/login/{token}", allow_redirects=False)
    assert response.status == 403 and "重新发送" in await response.text()


async def test_an_https_console_sets_secure_cookies(console):
    async for client in client_for(console.app("https://console.example.org/console")):
        token = await link_for(console.chat(STAFF))
        response = await client.get(f"/console/login/{token}", allow_redirects=False)
        assert response.status == 303 and "Secure" in response.headers["Set-Cookie"]


async def test_sessions_end_when_idle_at_the_latest_after_twelve_hours_and_on_logout(console, client):
    worker = console.chat(WORKER_1, "王芳")
    await log_in(client, worker)
    console.clock.advance(hours=1, minutes=59)
    assert (await client.get("/console/", allow_redirects=False)).status == 200  # used: idle again
    console.clock.advance(hours=2, minutes=1)
    assert (await client.get("/console/", allow_redirects=False)).status == 303

    await log_in(client, worker)
    for _ in range(11):
        console.clock.advance(hours=1)
        assert (await client.get("/console/", allow_redirects=False)).status == 200
    console.clock.advance(hours=1)
    assert (await client.get("/console/", allow_redirects=False)).status == 303  # 12 h after login

    await log_in(client, worker)
    token = await csrf(client)
    cookie = client.session.cookie_jar.filter_cookies(client.make_url("/console/"))["gridbot_console"]
    bye = await client.post("/console/logout", data={"csrf": token}, allow_redirects=False)
    assert bye.status == 303 and bye.headers["Location"] == "/console/login?bye=1"
    assert "已退出" in await (await client.get("/console/login?bye=1")).text()
    assert (await client.get("/console/", allow_redirects=False)).status == 303
    replayed = await client.get("/console/", allow_redirects=False,
                                cookies={"gridbot_console": cookie.value})
    assert replayed.status == 303  # the ended session's cookie opens nothing


async def test_a_post_without_the_sessions_csrf_token_or_from_another_origin_changes_nothing(
        console, client, uow_factory):
    ticket = await file_ticket(uow_factory, console.clock, "XK-20261122-0001", assignee=WORKER_1)
    worker = console.chat(WORKER_1, "王芳")
    await log_in(client, worker)
    token = await csrf(client)
    url = f"/console/tickets/{ticket.number}/accept"
    for data, headers in (({}, {}), ({"csrf": "wrong"}, {}),
                          ({"csrf": token}, {"Origin": "https://evil.example"})):
        response = await client.post(url, data=data, headers=headers, allow_redirects=False)
        assert response.status == 403
    client.session.cookie_jar.clear()  # no session at all, the token of another
    assert (await client.post(url, data={"csrf": token}, allow_redirects=False)).status == 403
    assert (await stored(uow_factory, ticket.number)).status is TicketStatus.ASSIGNED


def test_the_console_address_follows_the_listener_unless_set():
    assert Settings(_env_file=None).console_address == "http://127.0.0.1:8082/console"
    assert Settings(_env_file=None, console_listen="0.0.0.0:9000").console_address == \
        "http://127.0.0.1:9000/console"
    assert Settings(_env_file=None, console_url="https://grid.example.org/console/").console_address == \
        "https://grid.example.org/console"
    for off in ("off", "", "OFF"):
        settings = Settings(_env_file=None, console_listen=off)
        assert not settings.console_enabled and settings.console_address == ""


async def test_help_tells_staff_about_the_console(console):
    worker, resident = console.chat(WORKER_1, "王芳"), console.chat(RESIDENT, "张阿姨")
    await worker.send("/help")
    await resident.send("/help")
    assert "/console" in worker.last_text and "/console" not in resident.last_text


async def test_the_running_bot_serves_the_console_and_its_links(engine, uow_factory):
    await load_example(uow_factory)
    port = free_port()
    async with live(engine, sandbox=roster_sandbox(), console_listen=f"127.0.0.1:{port}") as (client, _):
        staff = Resident(client, STAFF)
        await staff.say("/console")
        text = await staff.expect("/console/login/")
        link = LINK.search(text)
        assert link and f"http://127.0.0.1:{port}/console/login/" in text
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
            async with browser.get(f"http://127.0.0.1:{port}/console/login/{link.group(1)}") as page:
                assert page.status == 200 and str(page.url).endswith("/console/tickets")
                assert "李建国" in await page.text()
            async with browser.get(f"http://127.0.0.1:{port}/console/static/console.css") as css:
                assert css.status == 200 and "text/css" in css.headers["Content-Type"]
