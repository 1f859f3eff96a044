"""The staff console under test: the example roster, the conversations (a fake clock) and the console's
aiohttp app behind aiohttp's TestClient, in the test's own event loop; staff log in as in real life
(/console in their private chat, then the link)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

from aiohttp.test_utils import TestClient, TestServer
from dialog_support import FakeClock, ResidentChat, World, load_example

from gridcore.ticket import Action, Location, Reporter, Ticket
from handlers.app import Conversations
from handlers.texts import Texts
from web.app import console_app
from web.state import ConsoleConfig

CONSOLE_URL = "http://127.0.0.1/console"
LINK = re.compile(r"/console/login/([A-Za-z0-9_-]+)")
RESIDENT, WORKER_1, WORKER_2, LEADER_1, STAFF, STREET = 5001, 1011, 1012, 1021, 1001, 9001


class FakeFiles:
    """Telegram's files as the bot would download them; remembers what was asked for."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def __call__(self, file_id: str) -> bytes:
        self.asked.append(file_id)
        return f"bytes of {file_id}".encode()


@dataclass
class Setup:
    bot: Conversations
    clock: FakeClock
    world: World
    files: FakeFiles
    uow_factory: object

    def chat(self, user_id: int, name: str = "", chat_id: int | None = None) -> ResidentChat:
        return ResidentChat(self.bot, user_id, name, world=self.world, chat_id=chat_id)

    def app(self, url: str = CONSOLE_URL):
        return console_app(ConsoleConfig(self.uow_factory, self.bot, url, self.files, clock=self.clock))


async def setup(uow_factory) -> Setup:
    await load_example(uow_factory)
    clock = FakeClock()
    bot = Conversations(uow_factory, Texts(), clock=clock, bot_username="gridbot_test_bot",
                        console_url=CONSOLE_URL)
    return Setup(bot, clock, World(), FakeFiles(), uow_factory)


async def client_for(app) -> AsyncIterator[TestClient]:
    client = TestClient(TestServer(app))
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()


async def link_for(staff: ResidentChat) -> str:
    await staff.send("/console")
    found = LINK.search(staff.last_text)
    assert found, staff.last_text
    return found.group(1)


async def log_in(client: TestClient, staff: ResidentChat) -> None:
    """A fresh browser (no cookies) opening the link the staff member got."""
    client.session.cookie_jar.clear()
    response = await client.get(f"/console/login/{await link_for(staff)}", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/console/tickets"


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


async def csrf(client: TestClient) -> str:
    response = await client.get("/console/")
    assert response.status == 200
    return csrf_of(await response.text())


async def file_ticket(uow_factory, clock: FakeClock, number: str, *, grid: str = "1", building: str = "3",
                      category: str = "env", description: str = "楼道堆放杂物", days_ago: float = 0,
                      reporter: int = RESIDENT, assignee: int | None = None,
                      photos: tuple[str, ...] = (), phone: str | None = None) -> Ticket:
    """A ticket straight into storage, filed (and assigned to `assignee`), for lists and filters."""
    at = clock.now - timedelta(days=days_ago)
    ticket = Ticket.file(number=number, community_code="XK", category_code=category,
                         feedback_deadline=timedelta(days=3), description=description,
                         location=Location(building, "1"),
                         reporter=Reporter(reporter, reporter, "张阿姨", phone),
                         at=at, grid_code=grid, photos=photos)
    if assignee is not None:
        ticket.apply(Action.ASSIGN, actor="system", at=at, assignee=assignee)
    async with uow_factory() as uow:
        await uow.tickets.add(ticket)
        await uow.commit()
    return ticket


async def stored(uow_factory, number: str) -> Ticket:
    async with uow_factory() as uow:
        found = await uow.tickets.get(number)
    assert found is not None
    return found
