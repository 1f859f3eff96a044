"""What the peer bot (bench.peer_bot) knows and keeps: the community read from gridbot's roster file, the
words it looks for in a report, and its own two tables (a filed ticket, and who else reported it)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Index, String, Text, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

DUPLICATE_WINDOW = timedelta(days=7)
NUMBERED_BUILDING = re.compile(r"(\d+)\s*(?:号楼|栋|幢|#)")
UNIT = re.compile(r"(\d+)\s*单元")
SPOT = re.compile(r"\d+室|[\d一二三四五六七八九十]+楼(?!号)|楼道里|门口|地下室|顶楼")


# --- the roster: buildings, categories and grid workers, read from gridbot's roster file -------------

@dataclass(frozen=True)
class Building:
    name: str
    names: tuple[str, ...]  # the name and its aliases
    units: tuple[str, ...]
    grid: str


@dataclass(frozen=True)
class Category:
    name: str
    keywords: tuple[str, ...]
    due_in: timedelta


@dataclass(frozen=True)
class Community:
    code: str
    zone: ZoneInfo
    buildings: tuple[Building, ...]
    categories: tuple[Category, ...]
    workers: dict[str, int]  # grid code -> the Telegram user id of its (first) grid worker


def load_community(path: Path) -> Community:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    buildings = tuple(
        Building(b["name"], (b["name"], *b.get("aliases", ())), tuple(b.get("units", ())), str(b["grid"]))
        for b in raw["buildings"])
    categories = tuple(
        Category(c["name"], tuple(c.get("keywords", ())),
                 timedelta(days=c.get("feedback_days", 0), hours=c.get("feedback_hours", 0))
                 or timedelta(days=3))
        for c in raw["categories"])
    workers: dict[str, int] = {}
    for person in raw["staff"]:
        if person["role"] == "grid_worker" and "telegram_user_id" in person:
            workers.setdefault(str(person["grid"]), int(person["telegram_user_id"]))
    return Community(raw["community"]["code"], ZoneInfo(raw["community"].get("timezone", "Asia/Shanghai")),
                     buildings, categories, workers)


def suggest_category(community: Community, text: str) -> Category | None:
    """The category with the longest keyword found in the text."""
    found = [(len(word), category) for category in community.categories
             for word in category.keywords if word in text]
    return max(found, key=lambda pair: pair[0])[1] if found else None


def find_building(community: Community, text: str) -> Building | None:
    """The building whose name or alias is the longest found in the text; else "3栋", "3#" and the like."""
    found = [(len(name), building) for building in community.buildings for name in building.names
             if name in text]
    if found:
        return max(found, key=lambda pair: pair[0])[1]
    number = NUMBERED_BUILDING.search(text)
    if number is None:
        return None
    return next((b for b in community.buildings if b.name == f"{number.group(1)}号楼"), None)


def find_unit(building: Building | None, text: str) -> str | None:
    match = UNIT.search(text)
    return match.group(1) if building and match and match.group(1) in building.units else None


def category_named(community: Community, name: str | None) -> Category | None:
    return next((c for c in community.categories if c.name == name), None)


def building_named(community: Community, name: str | None) -> Building | None:
    return next((b for b in community.buildings if b.name == name), None)


# --- the database: the filed tickets and who else reported the same -----------------------------------

class Base(DeclarativeBase):
    pass


class Ticket(Base):
    __tablename__ = "peer_ticket"
    __table_args__ = (Index("peer_ticket_place", "building", "category", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reporter_id: Mapped[int] = mapped_column(BigInteger)
    category: Mapped[str] = mapped_column(String(32))
    building: Mapped[str] = mapped_column(String(32))
    unit: Mapped[str | None] = mapped_column(String(8))
    spot: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text)
    photos: Mapped[str] = mapped_column(Text, default="")  # file ids, one a line
    anonymous: Mapped[bool] = mapped_column(Boolean)
    phone: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Follower(Base):
    __tablename__ = "peer_follower"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("peer_ticket.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)


def ticket_number(community: Community, ticket: Ticket) -> str:
    return f"{community.code}-{ticket.created_at.astimezone(community.zone):%Y%m%d}-{ticket.id:04d}"


async def open_duplicate(sessions: async_sessionmaker[AsyncSession], draft: dict[str, Any],
                         user_id: int) -> Ticket | None:
    query = (select(Ticket)
             .where(Ticket.building == draft["building"], Ticket.category == draft["category"],
                    Ticket.status == "open", Ticket.reporter_id != user_id,
                    Ticket.created_at >= datetime.now(UTC) - DUPLICATE_WINDOW)
             .order_by(Ticket.id.desc()).limit(1))
    if draft.get("unit"):
        query = query.where(Ticket.unit == draft["unit"])
    async with sessions() as session:
        return await session.scalar(query)
