"""ConsoleRepository: the web console's one-time login links and sessions (gridcore.console)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Table, insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from gridcore.console import SESSION_IDLE
from gridcore.ports import ConsoleSession
from storage.models import ConsoleLoginRow, ConsoleSessionRow

logins: Table = ConsoleLoginRow.__table__  # type: ignore[assignment]
sessions: Table = ConsoleSessionRow.__table__  # type: ignore[assignment]


class SqlConsoleRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_login(self, token_hash: str, user_id: int, created_at: datetime,
                        expires_at: datetime) -> None:
        await self._session.execute(insert(logins).values(
            token_hash=token_hash, telegram_user_id=user_id, created_at=created_at, expires_at=expires_at))

    async def take_login(self, token_hash: str, at: datetime) -> int | None:
        # One statement marks it used: two requests with the same link cannot both log in.
        result = await self._session.execute(
            update(logins)
            .where(logins.c.token_hash == token_hash, logins.c.used_at.is_(None), logins.c.expires_at > at)
            .values(used_at=at)
            .returning(logins.c.telegram_user_id))
        user_id = result.scalar_one_or_none()
        return int(user_id) if user_id is not None else None

    async def add_session(self, session_hash: str, session: ConsoleSession) -> None:
        await self._session.execute(insert(sessions).values(
            session_hash=session_hash, telegram_user_id=session.user_id, csrf_token=session.csrf_token,
            created_at=session.created_at, last_seen_at=session.last_seen_at, expires_at=session.expires_at))

    async def get_session(self, session_hash: str, at: datetime) -> ConsoleSession | None:
        result = await self._session.execute(
            update(sessions)
            .where(sessions.c.session_hash == session_hash, sessions.c.ended_at.is_(None),
                   sessions.c.expires_at > at, sessions.c.last_seen_at > at - SESSION_IDLE)
            .values(last_seen_at=at)
            .returning(sessions.c.telegram_user_id, sessions.c.csrf_token, sessions.c.created_at,
                       sessions.c.last_seen_at, sessions.c.expires_at))
        row = result.first()
        if row is None:
            return None
        return ConsoleSession(int(row.telegram_user_id), row.csrf_token, row.created_at, row.last_seen_at,
                              row.expires_at)

    async def end_session(self, session_hash: str, at: datetime) -> None:
        await self._session.execute(
            update(sessions).where(sessions.c.session_hash == session_hash, sessions.c.ended_at.is_(None))
            .values(ended_at=at))
