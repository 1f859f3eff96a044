"""The console tests' two fixtures (a module uses them with `pytest_plugins = ["console_fixtures"]`):
`console`, the example community's console over the test's database (console_support.setup), and
`client`, an aiohttp test client on its application."""

from __future__ import annotations

import pytest
from console_support import client_for, setup


@pytest.fixture
async def console(uow_factory):
    return await setup(uow_factory)


@pytest.fixture
async def client(console):
    async for client in client_for(console.app()):
        yield client
