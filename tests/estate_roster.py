"""A community shaped like 翠湖社区: three estates, each with its own numbered buildings (every estate has a
5栋), garages, an estate of 65 buildings (more than one page of buttons), and places of no estate (the
example roster's buildings, a street shop)."""

from __future__ import annotations

from dataclasses import replace

from gridcore.community import Building, Community, Estate, PlaceKind

ESTATES = (
    Estate("yy", "雅悦花园", ("雅悦",)),
    Estate("wl", "蔚蓝香廷小区"),
    Estate("ch", "翠湖花园", ("翠湖",)),
)
BIG_ESTATE_BUILDINGS = 65


def estate_buildings(grid: str) -> tuple[Building, ...]:
    sizes = {"yy": BIG_ESTATE_BUILDINGS, "wl": 12, "ch": 8}
    buildings = []
    for estate, size in sizes.items():
        buildings += [Building(f"{estate}{n}", f"{n}栋", grid, units=("1", "2", "3"), estate_code=estate)
                      for n in range(1, size + 1)]
        buildings.append(Building(f"{estate}G8", "8号车库", grid, estate_code=estate, kind=PlaceKind.GARAGE))
    buildings.append(Building("S3", "沿街商铺3号", grid, kind=PlaceKind.SHOP))
    return tuple(buildings)


def with_estates(community: Community) -> Community:
    """The community with the estates added in front of its own buildings (which belong to no estate)."""
    grid = community.grids[0].code
    return replace(community, estates=ESTATES, buildings=(*estate_buildings(grid), *community.buildings))
