"""A community far larger than the example: hundreds of buildings with long names, many units and
categories, a grid with dozens of workers. Every list the bot shows as buttons is long here."""

from __future__ import annotations

from dataclasses import dataclass

import yaml

from gridcore.community import Community
from gridcore.roster import parse_roster


def longest_code(head: str) -> str:
    """A code as long as a roster allows (20 characters): it goes into callback data."""
    return (head + "_").ljust(20, "x")


BIG_GRID = longest_code("g1")
WORKER_IDS_FROM = 3000
LEADER_ID = 2900
STAFF_ID = 2901
STAFF_CHAT = -1009000000001


@dataclass(frozen=True)
class BigRoster:
    buildings: int = 400
    units: int = 30
    categories: int = 40
    workers: int = 60
    grids: int = 8

    def building_name(self, n: int) -> str:
        """Long and all different; every 50th very long (past any button's width)."""
        name = f"阳光花园{n}号高层住宅楼（东区第{n % 7 + 1}期商住两用综合楼）"
        return name + "，原市第三纺织机械厂职工家属院旧址改建的安置住宅" * 2 if n % 50 == 7 else name

    def unit_name(self, building: int, u: int) -> str:
        # Building 3's units are long texts: their callback data can't carry them as they are.
        return f"东侧临街商铺上方第{u}单元（原物业办公区）" if building == 3 else str(u)

    def category_name(self, n: int) -> str:
        return f"第{n}类：公共区域设施设备的日常维护与报修问题" if n % 10 == 9 else f"类别{n}号问题"

    def building_code(self, n: int) -> str:
        return longest_code(f"B{n:04d}")

    def category_code(self, n: int) -> str:
        return longest_code(f"c{n:02d}")

    def worker_name(self, n: int) -> str:
        return f"网格员{n:02d}号"

    def yaml(self) -> str:
        grids = [{"code": longest_code(f"g{g}"), "name": f"第{g}网格（阳光花园片区）"}
                 for g in range(1, self.grids + 1)]
        buildings = [{"code": self.building_code(n), "name": self.building_name(n),
                      "grid": longest_code(f"g{n % self.grids + 1}"),
                      "units": [self.unit_name(n, u) for u in range(1, self.units + 1)]}
                     for n in range(self.buildings)]
        staff = [{"name": self.worker_name(n), "role": "grid_worker", "grid": BIG_GRID,
                  "telegram_user_id": WORKER_IDS_FROM + n} for n in range(self.workers)]
        staff += [{"name": "网格长甲", "role": "grid_leader", "grid": BIG_GRID,
                   "telegram_user_id": LEADER_ID},
                  {"name": "社区书记", "role": "community_staff", "telegram_user_id": STAFF_ID}]
        categories = [{"code": self.category_code(n), "name": self.category_name(n),
                       "keywords": [f"关键词{n}号"]}
                      for n in range(self.categories)]
        roster = {"community": {"code": "YG", "name": "阳光社区", "staff_chat_id": STAFF_CHAT},
                  "grids": grids, "buildings": buildings, "staff": staff, "categories": categories}
        return yaml.safe_dump(roster, allow_unicode=True, sort_keys=False)

    def community(self) -> Community:
        return parse_roster(self.yaml(), "big-roster.yaml")


async def load_big(uow_factory, roster: BigRoster | None = None) -> Community:
    community = (roster or BigRoster()).community()
    async with uow_factory() as uow:
        await uow.roster.upsert(community)
        await uow.commit()
    return community
