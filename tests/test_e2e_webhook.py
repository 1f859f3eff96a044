"""End to end in webhook mode: the sandbox POSTs updates to the real bot's listener, on both databases.

What must hold: only requests carrying the secret are handled; a request is acknowledged (2xx) only
after its update committed, so a failed one is redelivered; a redelivered update does nothing twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from dialog_support import FakeClock, load_example
from e2e_support import Resident, free_port
from pydantic import SecretStr
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.runtime import BotApp, assemble, run_webhook
from bot.settings import Mode, Settings
from sandbox.client import SandboxClient
from sandbox.server import SandboxServer
from storage.models import OutboxRow, ProcessedUpdateRow
from storage.outbox_store import OutboxStore

TOKEN = "7000000001:e2e_webhook_token"
SECRET = "gridbot-e2e_webhook-secret"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
TIMEOUT = 10.0
REPORT = "一楼堆放杂物，楼道都堵了"
_forged_ids = itertools.count(900_001)  # far above the sandbox's own update ids


def webhook_settings(server: SandboxServer, port: int, **changes: Any) -> Settings:
    values: dict[str, Any] = {
        "bot_token": SecretStr(TOKEN), "telegram_api_url": server.base_url, "database_url": "unused://",
        "mode": Mode.WEBHOOK, "webhook_url": f"http://127.0.0.1:{port}/webhook",
        "webhook_secret": SecretStr(SECRET), "webhook_listen": f"127.0.0.1:{port}", "console_listen": "off",
    }
    return Settings(**(values | changes), _env_file=None)


async def eventually(check, what: str, timeout: float = TIMEOUT) -> Any:
    """Poll an async `check` every 20 ms until it returns something truthy."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


@dataclass
class Live:
    client: SandboxClient
    server: SandboxServer
    app: BotApp
    engine: AsyncEngine
    url: str
    http: aiohttp.ClientSession

    async def post(self, update: dict[str, Any], secret: str | None = SECRET) -> int:
        """POST an update to the bot's webhook as Telegram would; the HTTP status it answered."""
        headers = {} if secret is None else {SECRET_HEADER: secret}
        async with self.http.post(self.url, json=update, headers=headers) as response:
            await response.read()
            return response.status

    async def forge(self, user_id: int, text: str) -> dict[str, Any]:
        """A new text update from `user_id`, shaped like the sandbox's, that the sandbox never queued."""
        template = next(u for u in reversed(await self.client.updates())
                        if u.get("message", {}).get("from", {}).get("id") == user_id)
        update = copy.deepcopy(template)
        update["update_id"] = next(_forged_ids)
        message = update["message"]
        message["message_id"] += 10_000
        message["text"] = text
        message.pop("entities", None)
        return update

    async def outbox_rows(self, chat_id: int) -> int:
        """Messages ever queued for the chat, delivered or not."""
        async with self.engine.connect() as connection:
            return int(await connection.scalar(
                select(func.count()).select_from(OutboxRow).where(OutboxRow.chat_id == chat_id)) or 0)

    async def recorded(self, update_id: int) -> bool:
        async with self.engine.connect() as connection:
            return await connection.scalar(
                select(ProcessedUpdateRow.update_id).where(ProcessedUpdateRow.update_id == update_id)
            ) is not None

    async def delivered(self, chat_id: int) -> list[str]:
        """Once the outbox holds nothing pending for the chat: the texts of the bot's messages there."""
        store = OutboxStore(self.engine)
        await eventually(lambda: _empty(store.peek(chat_id)), f"the outbox of chat {chat_id} to drain")
        return [m.text for m in await self.client.bot_messages(chat_id)]

    async def webhook_info(self) -> dict[str, Any] | None:
        return (await self.client.info())["webhook"]


async def _empty(rows) -> bool:
    return not await rows


@pytest.fixture
async def live_webhook(engine, uow_factory) -> AsyncIterator[Live]:
    """The sandbox, and the real bot serving a webhook it delivers to, with the example community."""
    await load_example(uow_factory)
    port = free_port()
    async with SandboxServer() as server, SandboxClient(server.base_url) as client, \
            aiohttp.ClientSession() as http:
        settings = webhook_settings(server, port)
        async with assemble(settings, engine=engine, clock=FakeClock(), limits=None) as app:
            task = asyncio.create_task(run_webhook(app, settings))
            try:
                async def webhook_set() -> bool:
                    if task.done():
                        task.result()  # raises what stopped run_webhook
                    info = await client.info()
                    return info["webhook"] is not None

                await eventually(webhook_set, "run_webhook to call setWebhook")
                yield Live(client, server, app, engine, settings.webhook_url, http)
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task


async def test_a_resident_talks_to_the_bot_through_the_webhook(live_webhook):
    live = live_webhook
    info = await live.webhook_info()
    assert info["url"] == live.url
    resident = Resident(live.client, 5001)
    await resident.say(REPORT)
    await resident.expect("环境卫生")
    await resident.tap("是的")
    await resident.expect("问题在哪栋楼")  # the dialog moved on to the building
    info = await live.webhook_info()
    assert info["delivered"] >= 2 and info["last_error"] is None  # every delivery answered 2xx at once
    # The sandbox sent the secret with every delivery: the press was a callback_query over the webhook.
    assert any("callback_query" in u for u in await live.client.updates())


@pytest.mark.parametrize("secret", [None, "", "wrong-secret", SECRET + "x"],
                         ids=["no-header", "empty", "wrong", "longer"])
async def test_requests_without_the_right_secret_are_refused_and_change_nothing(live_webhook, secret):
    live = live_webhook
    resident = Resident(live.client, 5002)
    await resident.say("/help")  # opens the chat; the sandbox delivers it with the right secret
    [*_, last] = await live.client.wait_for_bot_messages(5002, 1)
    update = await live.forge(5002, REPORT)
    queued = await live.outbox_rows(5002)

    status = await live.post(update, secret=secret)
    assert status == 401  # Unauthorized (bot.webhook)
    assert not await live.recorded(update["update_id"])
    assert await live.outbox_rows(5002) == queued
    assert (await live.client.bot_messages(5002))[-1].message_id == last.message_id

    # The refused update was not remembered: delivered properly, it is handled.
    assert await live.post(update) == 200
    assert await live.recorded(update["update_id"])
    await resident.expect("环境卫生")


async def test_a_repeated_delivery_is_answered_once(live_webhook):
    live = live_webhook
    resident = Resident(live.client, 5003)
    await resident.say("/help")
    await live.client.wait_for_bot_messages(5003, 1)
    before = len(await live.delivered(5003))
    update = await live.forge(5003, REPORT)

    # Both acknowledged (a 2xx, or Telegram would keep redelivering), in turn and at the same time.
    assert await live.post(update) == 200
    assert await live.post(update) == 200
    assert await asyncio.gather(live.post(update), live.post(update)) == [200, 200]

    assert await live.outbox_rows(5003) == before + 1
    texts = await live.delivered(5003)
    assert len(texts) == before + 1 and "环境卫生" in texts[-1]


@pytest.mark.parametrize("missing", [
    {"webhook_url": ""}, {"webhook_secret": None}, {"webhook_secret": SecretStr("")},
], ids=["no-url", "no-secret", "empty-secret"])
async def test_run_webhook_refuses_to_start_without_url_or_secret(engine, missing):
    port = free_port()
    async with SandboxServer() as server, SandboxClient(server.base_url) as client:
        settings = webhook_settings(server, port, **missing)
        async with assemble(settings, engine=engine, clock=FakeClock(), limits=None) as app:
            with pytest.raises(ValueError, match="WEBHOOK_URL and WEBHOOK_SECRET"):
                await asyncio.wait_for(run_webhook(app, settings), TIMEOUT)
        assert (await client.info())["webhook"] is None  # Telegram was told nothing
    with socket.socket() as probe:  # and nothing was left listening
        assert probe.connect_ex(("127.0.0.1", port)) != 0


def fail_first_insert_into_processed_updates(engine: AsyncEngine) -> list[str]:
    """The database refuses the first update's transaction once (as if the connection dropped)."""
    failures: list[str] = []

    def before_cursor_execute(conn, cursor, statement, parameters, context, executemany):
        # (on PostgreSQL the insert is the CTE of the update's first statement: storage.uow.begin_update)
        if not failures and "INSERT INTO PROCESSED_UPDATES" in statement.upper():
            failures.append(statement)
            raise OperationalError(statement, None, ConnectionResetError("database went away"))

    event.listen(engine.sync_engine, "before_cursor_execute", before_cursor_execute)
    return failures


async def test_a_failed_update_is_not_acknowledged_and_telegram_redelivers_it(live_webhook):
    live = live_webhook
    failures = fail_first_insert_into_processed_updates(live.engine)
    resident = Resident(live.client, 5004)
    await resident.say(REPORT)
    await resident.expect("环境卫生")
    assert len(failures) == 1
    info = await live.webhook_info()
    assert "500" in (info["last_error"] or "")  # the failed try was answered non-2xx, then redelivered
    texts = await live.delivered(5004)
    assert sum("环境卫生" in text for text in texts) == 1


async def test_a_slow_failing_update_is_not_acknowledged_early(live_webhook):
    """An update that takes long and then fails gets its 500, not an early 200 with the work left to run
    in the background (where a failure would lose the update). The first try takes 300 ms, then fails."""
    live = live_webhook
    tries: list[int] = []

    async def slow_then_failing(handler, update, data):
        tries.append(update.update_id)
        if len(tries) == 1:
            await asyncio.sleep(0.3)
            raise ConnectionResetError("database went away")
        return await handler(update, data)

    live.app.dispatcher.update.outer_middleware.register(slow_then_failing)
    resident = Resident(live.client, 5005)
    await resident.say(REPORT)
    await resident.expect("环境卫生")
    assert len(tries) == 2 and tries[0] == tries[1]  # the same update, redelivered after the failure
    assert "500" in ((await live.webhook_info())["last_error"] or "")
