"""Fixtures for the sandbox tests: an in-process sandbox, a real aiogram Bot on it, a control client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from sandbox_test_constants import PERSONAS, TOKEN

from sandbox import SandboxClient, SandboxServer


@pytest.fixture
async def server() -> AsyncIterator[SandboxServer]:
    async with SandboxServer(personas=PERSONAS) as srv:
        yield srv


@pytest.fixture
async def bot(server: SandboxServer) -> AsyncIterator[Bot]:
    session = AiohttpSession(api=TelegramAPIServer.from_base(server.base_url))
    bot = Bot(TOKEN, session=session)
    yield bot
    await session.close()


@pytest.fixture
async def client(server: SandboxServer) -> AsyncIterator[SandboxClient]:
    async with SandboxClient(server.base_url) as c:
        yield c
