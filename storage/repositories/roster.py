"""RosterRepository: the community as the roster declares it.

upsert() diffs against what is stored, so loading the same roster twice writes nothing; a load that
changes something bumps communities.roster_version (storage.roster_cache revalidates with it).
Grids, buildings and categories missing from a newer roster are deactivated (kept for the tickets
and ledger lines that name them; get() no longer returns them); a returning code is reactivated.
Staff rows are matched by their position in the roster and surplus rows are deleted.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from gridcore.community import (
    Building,
    Category,
    Community,
    Estate,
    Grid,
    HandlingMode,
    Person,
    PlaceKind,
    Role,
)
from gridcore.directory import CommunityDirectory, DirectoryEntry
from gridcore.ticket import Urgency
from gridcore.workdays import parse_office_hours
from storage.models import (
    BuildingRow,
    CategoryRow,
    CommunityRow,
    EstateRow,
    GridRow,
    StaffBindingRow,
    StaffRow,
)
from storage.repositories._sql import bump_roster_version
from storage.repositories.roster_rows import (
    announcement,
    announcement_json,
    building_values,
    category_values,
    estate_values,
    grid_values,
    person_values,
    policy_from_json,
    policy_json,
    replies_from_json,
    replies_json,
    with_binding,
)
from storage.repositories.staff import SqlStaffRepository
from storage.roster_cache import CODES, DIRECTORY, RosterView

KeyedModel = type[GridRow] | type[EstateRow] | type[BuildingRow] | type[CategoryRow]


class _Shared:
    """One copy of each repeated code, name and tuple of a roster as it is read: a city's rosters repeat
    the same grid, estate and building codes, building names ("5栋") and unit lists thousands of times,
    and the bot keeps every roster it read (storage.roster_cache). Strings are interned process-wide
    (sys.intern: freed again once nothing uses them); equal tuples are shared within one read."""

    def __init__(self) -> None:
        self._tuples: dict[tuple[str, ...], tuple[str, ...]] = {}

    @staticmethod
    def text(value: str) -> str:
        return sys.intern(value)

    def optional(self, value: str | None) -> str | None:
        return None if value is None else sys.intern(value)

    def texts(self, values: Iterable[str] | None) -> tuple[str, ...]:
        read = tuple(sys.intern(v) for v in values or ())
        return self._tuples.setdefault(read, read)


def _assign(row: Any, values: dict[str, Any]) -> bool:
    """True if a value changed."""
    changed = False
    for key, value in values.items():
        if getattr(row, key) != value:  # only real changes reach the UPDATE
            setattr(row, key, value)
            changed = True
    return changed


class SqlRosterRepository:
    def __init__(self, session: AsyncSession, cache: RosterView | None = None) -> None:
        """`cache`: the engine's roster cache as this unit of work sees it (storage.roster_cache)."""
        self._session = session
        self._cache = cache

    async def upsert(self, community: Community) -> None:
        session = self._session
        if self._cache is not None:
            self._cache.dirty = True
        values = {
            "name": community.name,
            "staff_chat_id": community.staff_chat_id,
            "timezone": community.timezone,
            "rating_days": community.rating_days,
            "public_chat_id": community.public_chat_id,
            "announcements": [announcement_json(a) for a in community.announcements],
            "reminders": policy_json(community.reminders),
            "office_hours": (community.reminders.office_hours.text()
                             if community.reminders.office_hours is not None else None),
            "street": community.street,
            "street_chat_id": community.street_chat_id,
            "replies": replies_json(community.replies),
        }
        row = await session.get(CommunityRow, community.code)
        if row is None:
            session.add(CommunityRow(code=community.code, roster_version=0, **values))
            await session.flush()  # the parent row first: children reference it
            changed = True
        else:
            changed = _assign(row, values)
        code = community.code
        # Every table is synced (no short-circuit): each call brings its rows up to date.
        sync = self._sync
        changes = (
            await sync(GridRow, code, ((g.code, grid_values(g)) for g in community.grids)),
            await sync(EstateRow, code, ((e.code, estate_values(e)) for e in community.estates)),
            await sync(BuildingRow, code, ((b.code, building_values(b)) for b in community.buildings)),
            await sync(CategoryRow, code, ((c.code, category_values(c)) for c in community.categories)),
            await self._sync_staff(code, community.staff),
        )
        await session.flush()
        if changed or any(changes):
            await bump_roster_version(session, code)

    async def _sync(self, model: KeyedModel, community_code: str, items: Iterable[tuple[str, dict]]) -> bool:
        """Brings the community's rows of `model` to `items`; True if anything changed."""
        result = await self._session.scalars(select(model).where(model.community_code == community_code))
        stored: dict[str, Any] = {row.code: row for row in result}
        seen: set[str] = set()
        changed = False
        for position, (code, values) in enumerate(items):
            if code in seen:
                raise ValueError(f"{model.__tablename__}: code {code!r} appears twice in {community_code}")
            seen.add(code)
            values = {**values, "position": position, "active": True}
            row = stored.get(code)
            if row is None:
                self._session.add(model(community_code=community_code, code=code, **values))
                changed = True
            else:
                changed = _assign(row, values) or changed
        for code, row in stored.items():
            if code not in seen and row.active:
                row.active = False
                changed = True
        return changed

    async def _sync_staff(self, community_code: str, people: Sequence[Person]) -> bool:
        result = await self._session.scalars(
            select(StaffRow).where(StaffRow.community_code == community_code)
        )
        stored = {row.position: row for row in result}
        changed = False
        for position, person in enumerate(people):
            row = stored.get(position)
            if row is None:
                self._session.add(
                    StaffRow(community_code=community_code, position=position, **person_values(person))
                )
                changed = True
            else:
                changed = _assign(row, person_values(person)) or changed
        if len(stored) > len(people):
            await self._session.execute(
                delete(StaffRow).where(
                    StaffRow.community_code == community_code, StaffRow.position >= len(people)
                )
            )
            changed = True
        return changed

    async def _cached(self, key: str) -> Any | None:
        """The cached value of `key`; one that has outlived the cache's ttl is revalidated first."""
        view = self._cache
        if view is None:
            return None
        value = view.lookup(key)
        if value is None and view.expired(key):
            await self._revalidate()
            value = view.lookup(key)
        return value

    async def _revalidate(self) -> None:
        """One query for every community's version (and the list of codes): the cache keeps what is
        unchanged for another ttl, drops the rest."""
        assert self._cache is not None
        rows = await self._session.execute(
            select(CommunityRow.code, CommunityRow.roster_version).order_by(CommunityRow.code))
        versions = {code: version for code, version in rows}
        current: dict[str, Any] = {**versions, CODES: tuple(versions), DIRECTORY: tuple(versions.items())}
        self._cache.revalidate(current)

    async def get(self, code: str) -> Community | None:
        cached = await self._cached(code)
        if cached is not None:
            return cached
        community = await self._read(code)
        if community is not None and self._cache is not None and not self._cache.dirty:
            # _read loaded the row first, so this version is no newer than what was read with it.
            row = await self._session.get(CommunityRow, code)  # from the identity map: no query
            assert row is not None
            self._cache.store(code, community, row.roster_version)
        return community

    async def _read(self, code: str) -> Community | None:
        session = self._session
        row = await session.get(CommunityRow, code)
        if row is None:
            return None
        grids = await session.scalars(
            select(GridRow).where(GridRow.community_code == code, GridRow.active).order_by(GridRow.position)
        )
        estates = await session.scalars(
            select(EstateRow).where(EstateRow.community_code == code, EstateRow.active)
            .order_by(EstateRow.position)
        )
        shared = _Shared()
        estates_read = tuple(Estate(shared.text(e.code), shared.text(e.name), shared.texts(e.aliases),
                                    shared.optional(e.grid_code)) for e in estates)
        buildings = await session.scalars(
            select(BuildingRow)
            .where(BuildingRow.community_code == code, BuildingRow.active)
            .order_by(BuildingRow.position)
        )
        categories = await session.scalars(
            select(CategoryRow)
            .where(CategoryRow.community_code == code, CategoryRow.active)
            .order_by(CategoryRow.position)
        )
        staff = await session.scalars(
            select(StaffRow).where(StaffRow.community_code == code).order_by(StaffRow.position)
        )
        bound = await SqlStaffRepository(session, "").bound(code)
        return Community(
            code=row.code,
            name=row.name,
            staff_chat_id=row.staff_chat_id,
            timezone=row.timezone,
            rating_days=row.rating_days,
            public_chat_id=row.public_chat_id,
            announcements=tuple(announcement(a) for a in row.announcements or ()),
            reminders=replace(policy_from_json(row.reminders), office_hours=(
                parse_office_hours(row.office_hours, row.timezone) if row.office_hours else None)),
            street=row.street,
            street_chat_id=row.street_chat_id,
            replies=replies_from_json(row.replies),
            estates=estates_read,
            grids=tuple(Grid(shared.text(g.code), g.name, g.group_chat_id) for g in grids),
            buildings=tuple(
                Building(shared.text(b.code), shared.text(b.name), shared.text(b.grid_code),
                         shared.texts(b.aliases), shared.texts(b.units), shared.optional(b.estate_code),
                         PlaceKind(b.kind)) for b in buildings
            ),
            staff=tuple(with_binding(
                Person(p.name, Role(p.role), p.grid_code, p.telegram_user_id, p.username, p.phone,
                       building_code=p.building_code, title=p.title, away=p.away), bound)
                for p in staff
            ),
            categories=tuple(
                Category(
                    code=c.code,
                    name=c.name,
                    keywords=tuple(c.keywords),
                    feedback_deadline=timedelta(seconds=c.feedback_deadline_seconds),
                    emergency=c.emergency,
                    mode=HandlingMode(c.mode),
                    emergency_numbers=tuple(c.emergency_numbers),
                    co_handler=c.co_handler,
                    dispute=c.dispute,
                    replies=replies_from_json(c.replies),
                    feedback_workdays=c.feedback_workdays, topic=c.topic,
                    priority=Urgency(c.priority),
                )
                for c in categories
            ),
        )

    async def list_codes(self) -> list[str]:
        cached = await self._cached(CODES)
        if cached is not None:
            return list(cached)
        result = await self._session.scalars(select(CommunityRow.code).order_by(CommunityRow.code))
        codes = list(result)
        if codes and self._cache is not None:
            self._cache.store(CODES, tuple(codes), tuple(codes))
        return codes

    async def directory(self) -> CommunityDirectory:
        """Every community's entry, from four set-based reads (not each roster), cached like a roster."""
        cached = await self._cached(DIRECTORY)
        if cached is not None:
            return cached
        directory, stamp = await self._read_directory()
        if directory and self._cache is not None:
            self._cache.store(DIRECTORY, directory, stamp)
        return directory

    async def _read_directory(self) -> tuple[CommunityDirectory, tuple[tuple[str, int], ...]]:
        """The directory, and its cache stamp: every community's version as its first statement read them
        (no newer than the data read after; a change in between costs one more read, never a stale one)."""
        session = self._session
        communities = (await session.execute(
            select(CommunityRow.code, CommunityRow.name, CommunityRow.street, CommunityRow.staff_chat_id,
                   CommunityRow.public_chat_id, CommunityRow.street_chat_id, CommunityRow.roster_version)
            .order_by(CommunityRow.code))).all()
        stamp = tuple((row.code, row.roster_version) for row in communities)
        chats: dict[str, list[int]] = {}
        for code, chat_id in await session.execute(
                select(GridRow.community_code, GridRow.group_chat_id)
                .where(GridRow.active, GridRow.group_chat_id.is_not(None))):
            chats.setdefault(code, []).append(chat_id)
        bound: dict[str, dict[str, int]] = {}
        for code, key, user_id in await session.execute(
                select(StaffBindingRow.community_code, StaffBindingRow.person_key,
                       StaffBindingRow.telegram_user_id)):
            bound.setdefault(code, {})[key] = user_id
        # Street staff in full (few); everybody else by role and account only.
        staff: dict[str, list[Person]] = {}
        for p in await session.execute(
                select(StaffRow.community_code, StaffRow.name, StaffRow.role, StaffRow.grid_code,
                       StaffRow.telegram_user_id, StaffRow.username, StaffRow.phone, StaffRow.building_code,
                       StaffRow.title, StaffRow.away).order_by(StaffRow.community_code, StaffRow.position)):
            role = Role(p.role)
            person = (Person(p.name, role, p.grid_code, p.telegram_user_id, p.username, p.phone,
                             building_code=p.building_code, title=p.title, away=p.away)
                      if role is Role.STREET_STAFF else Person(p.name, role, p.grid_code, p.telegram_user_id))
            bindings = bound.get(p.community_code, {})
            staff.setdefault(p.community_code, []).append(with_binding(person, bindings))
        return CommunityDirectory(
            DirectoryEntry.build(c.code, c.name, c.street,
                                 (c.staff_chat_id, c.public_chat_id, *chats.get(c.code, ())),
                                 c.street_chat_id, staff.get(c.code, ()))
            for c in communities), stamp
