"""storage — SQLAlchemy 2 async persistence for gridbot (SQLite for development, PostgreSQL in production).

    engine = create_engine(url)          # storage.db
    await migrate(engine)                # Alembic upgrade to head
    make_uow = uow_factory(engine)       # storage.uow: one transaction per update
    sender_store = OutboxStore(engine)   # storage.outbox_store: what the outbox sender uses

Nothing is created at import time.
"""

from storage.db import DEFAULT_URL, create_engine, migrate
from storage.outbox_store import OutboxStore, PendingMessage
from storage.uow import SqlUnitOfWork, uow_factory

__all__ = [
    "DEFAULT_URL",
    "OutboxStore",
    "PendingMessage",
    "SqlUnitOfWork",
    "create_engine",
    "migrate",
    "uow_factory",
]
