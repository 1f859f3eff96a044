"""End-to-end helpers: the sandbox, the real bot polling it over HTTP, and a person at a chat."""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from dialog_support import FakeClock, example_community
from pii_scan import watch_sandbox
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.runtime import assemble, run_polling
from bot.sandbox_world import groups_for, personas_for
from bot.settings import Settings
from sandbox.client import SandboxClient
from sandbox.server import Sandbox, SandboxServer

TOKEN = "7000000001:e2e_sandbox_token"


def roster_sandbox() -> Sandbox:
    """A sandbox like `make run` builds: the example roster's people have started the bot and its
    staff and grid groups exist."""
    community = example_community()
    return Sandbox(personas_for(community), groups=groups_for(community), personas_started=True)


@contextlib.asynccontextmanager
async def live(engine: AsyncEngine, clock: FakeClock | None = None, sandbox: Sandbox | None = None,
               **settings: Any) -> AsyncIterator[tuple[SandboxClient, SandboxServer]]:
    """The sandbox and the real bot polling it until the block ends (`settings`: more of the bot's Settings).
    On a clean exit, no group message the bot sent may show a resident's name or phone number
    (tests/pii_scan.py)."""
    async with SandboxServer(sandbox=sandbox) as server, SandboxClient(server.base_url) as client:
        check_groups = watch_sandbox(server.sandbox, example_community().staff)
        bot_settings = Settings(bot_token=SecretStr(TOKEN), telegram_api_url=server.base_url,
                                database_url="unused://", _env_file=None,
                                **({"console_listen": "off"} | settings))
        # Telegram's pacing (1 message/s per chat) is proven by tests/test_delivery_*; here it would
        # only make every step wait.
        async with assemble(bot_settings, engine=engine, clock=clock or FakeClock(), limits=None) as app:
            task = asyncio.create_task(run_polling(app, timeout=1))
            try:
                yield client, server
                check_groups()
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task


class Resident:
    """A person at a sandbox chat (their private chat, or a group they are in): acts through the
    control API and reads what the bot sent to that chat."""

    def __init__(self, client: SandboxClient, user_id: int, chat_id: int | None = None) -> None:
        self.client, self.user_id = client, user_id
        self.chat_id = user_id if chat_id is None else chat_id
        self.seen = 0

    async def expect(self, fragment: str, timeout: float = 10) -> str:
        """Wait for a bot message, newer than the last one read, containing `fragment`."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            messages = await self.client.bot_messages(self.chat_id)
            for index in range(self.seen, len(messages)):
                if fragment in messages[index].text:
                    self.seen = index + 1
                    return messages[index].text
            if asyncio.get_running_loop().time() > deadline:
                answers = [(a.get("text"), a.get("show_alert")) for a in await self.client.callback_answers()]
                raise AssertionError(f"no {fragment!r}:\n{await self.client.transcript(self.chat_id)}\n"
                                     f"button answers: {answers[-5:]}")
            await asyncio.sleep(0.05)

    async def say(self, text: str) -> None:
        await self.client.send_text(self.user_id, text, chat_id=None if self.chat_id == self.user_id
                                    else self.chat_id)

    async def _press_newest(self, label: str) -> bool:
        for message in reversed(await self.client.bot_messages(self.chat_id)):
            text = next((t for t in message.button_texts if label in t), None)
            if text is not None:
                await self.client.press(self.user_id, message.raw["message_id"], message.button_data(text),
                                        chat_id=None if self.chat_id == self.user_id else self.chat_id)
                return True
        return False

    async def tap(self, label: str) -> None:
        """Press the newest button whose text contains `label`; it must be there now."""
        if not await self._press_newest(label):
            raise AssertionError(f"no button {label!r}:\n{await self.client.transcript(self.chat_id)}")

    async def tap_when(self, label: str, timeout: float = 10) -> None:
        """Wait until a button with `label` is there, then press the newest one."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not await self._press_newest(label):
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"no button {label!r}:\n{await self.client.transcript(self.chat_id)}")
            await asyncio.sleep(0.05)


def free_port() -> int:
    """A port nothing listens on, for a server a test starts by its port number (a webhook listener, a
    `gridbot run` child). Taken below the kernel's ephemeral range: a port the kernel hands out for port 0
    comes from that range, where an outgoing connection (a database client's) may take it before the
    server binds it."""
    ranges = Path("/proc/sys/net/ipv4/ip_local_port_range")
    first_ephemeral = int(ranges.read_text().split()[0]) if ranges.exists() else 32768
    for _ in range(200):
        port = random.randint(10_000, first_ephemeral - 1)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port found below the ephemeral range")
