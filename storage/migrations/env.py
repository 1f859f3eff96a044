"""Alembic environment, async-capable.

Called from code (storage.migrations.upgrade): a sync Connection arrives in
config.attributes["connection"] (the caller ran it through AsyncConnection.run_sync).
Called from the alembic CLI: the URL comes from GRIDBOT_DATABASE_URL or sqlalchemy.url, and an
async engine is created here.
"""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection

from storage.db import DEFAULT_URL, create_engine
from storage.models import Base

config = context.config
if config.config_file_name is not None and config.attributes.get("connection") is None:
    from logging.config import fileConfig

    fileConfig(config.config_file_name, disable_existing_loggers=False)
target_metadata = Base.metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _url() -> str:
    return os.environ.get("GRIDBOT_DATABASE_URL") or config.get_main_option("sqlalchemy.url") or DEFAULT_URL


async def _run_async() -> None:
    engine = create_engine(_url())
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_configure)
    finally:
        await engine.dispose()


def run_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
elif (connection := config.attributes.get("connection")) is not None:
    _configure(connection)
else:
    asyncio.run(_run_async())
