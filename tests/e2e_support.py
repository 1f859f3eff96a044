"""End-to-end helpers: the sandbox, the real bot polling it over HTTP, and a person at a chat."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from dialog_support import FakeClock
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.runtime import assemble, run_polling
from bot.settings import Settings
from sandbox.client import SandboxClient
from sandbox.server import SandboxServer

TOKEN = "7000000001:e2e_sandbox_token"


@contextlib.asynccontextmanager
async def live(engine: AsyncEngine, clock: FakeClock | None = None
               ) -> AsyncIterator[tuple[SandboxClient, SandboxServer]]:
    """The sandbox and the real bot polling it until the block ends."""
    async with SandboxServer() as server, SandboxClient(server.base_url) as client:
        settings = Settings(bot_token=SecretStr(TOKEN), telegram_api_url=server.base_url,
                            database_url="unused://", _env_file=None)
        # Telegram's pacing (1 message/s per chat) is proven by tests/test_delivery_*; here it would
        # only make every step wait.
        async with assemble(settings, engine=engine, clock=clock or FakeClock(), limits=None) as app:
            task = asyncio.create_task(run_polling(app, timeout=1))
            try:
                yield client, server
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task


class Resident:
    """A person at the sandbox's chat: acts through the control API and reads what the bot sent."""

    def __init__(self, client: SandboxClient, user_id: int) -> None:
        self.client, self.user_id = client, user_id
        self.seen = 0

    async def expect(self, fragment: str, timeout: float = 10) -> str:
        """Wait for a bot message, newer than the last one read, containing `fragment`."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            messages = await self.client.bot_messages(self.user_id)
            for index in range(self.seen, len(messages)):
                if fragment in messages[index].text:
                    self.seen = index + 1
                    return messages[index].text
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"no {fragment!r}:\n{await self.client.transcript(self.user_id)}")
            await asyncio.sleep(0.05)

    async def say(self, text: str) -> None:
        await self.client.send_text(self.user_id, text)

    async def tap(self, label: str) -> None:
        for message in reversed(await self.client.bot_messages(self.user_id)):
            if any(label in text for text in message.button_texts):
                text = next(t for t in message.button_texts if label in t)
                await self.client.press(self.user_id, message.raw["message_id"], message.button_data(text))
                return
        raise AssertionError(f"no button {label!r}:\n{await self.client.transcript(self.user_id)}")
