"""StaffRepository: one-time invites and the bindings they create (roster entry -> Telegram account)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gridcore.ports import Invite
from storage.models import StaffBindingRow, StaffInviteRow
from storage.repositories._sql import bump_roster_version, dialect_insert
from storage.roster_cache import RosterView

invites: Table = StaffInviteRow.__table__  # type: ignore[assignment]
bindings: Table = StaffBindingRow.__table__  # type: ignore[assignment]


class SqlStaffRepository:
    def __init__(self, session: AsyncSession, dialect_name: str, cache: RosterView | None = None) -> None:
        self._session = session
        self._dialect = dialect_name
        self._cache = cache  # a binding changes the community's staff: its commit drops the cache,
        # and its roster_version tells other processes

    async def add_invite(self, invite: Invite) -> None:
        await self._session.execute(insert(invites).values(
            code=invite.code, community_code=invite.community_code, person_key=invite.person_key,
            created_at=invite.created_at, expires_at=invite.expires_at))

    async def take_invite(self, code: str, user_id: int, at: datetime) -> Invite | None:
        # One statement marks it used, so two people opening the same link can't both get it.
        result = await self._session.execute(
            update(invites)
            .where(invites.c.code == code, invites.c.used_at.is_(None), invites.c.expires_at > at)
            .values(used_at=at, used_by=user_id)
            .returning(invites.c.code, invites.c.community_code, invites.c.person_key,
                       invites.c.created_at, invites.c.expires_at)
        )
        row = result.first()
        if row is None:
            return None
        return Invite(row.code, row.community_code, row.person_key, row.created_at, row.expires_at)

    async def bind(self, community_code: str, person_key: str, user_id: int, at: datetime) -> None:
        if self._cache is not None:
            self._cache.dirty = True
        values = {"telegram_user_id": user_id, "bound_at": at}
        stmt = dialect_insert(self._dialect, bindings).values(
            community_code=community_code, person_key=person_key, **values)
        stmt = stmt.on_conflict_do_update(index_elements=[bindings.c.community_code, bindings.c.person_key],
                                          set_=values)
        await self._session.execute(stmt)
        await bump_roster_version(self._session, community_code)

    async def bound(self, community_code: str) -> dict[str, int]:
        """person_key -> Telegram user id, for every entry bound by an invite."""
        result = await self._session.execute(
            select(bindings.c.person_key, bindings.c.telegram_user_id)
            .where(bindings.c.community_code == community_code))
        return {key: int(user_id) for key, user_id in result}
