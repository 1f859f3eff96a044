"""The roster's places: its estates (小区) and its buildings, garages, shops and public areas.

Names are claimed per namespace: the buildings of one estate share one, the buildings without an estate
another, so two estates may each have a 5栋 while a name two buildings of one estate claim is an error.
Estate names and aliases are unique across the roster. Building codes are unique in the roster.
"""

from __future__ import annotations

from collections.abc import Collection

from yaml.nodes import MappingNode, Node, ScalarNode

from gridcore.community import Building, Estate, PlaceKind
from gridcore.intake import normalise, standard_aliases
from gridcore.roster_reader import Reader, line_of

_ESTATE = ({"code", "name"}, {"aliases", "grid"})
_BUILDING = ({"code", "name"}, {"grid", "aliases", "units", "estate", "kind"})
_KINDS = ", ".join(k.value for k in PlaceKind)


def label(kind: str, item: Node, index: int, key: str = "code") -> str:
    """'building "3"' from the entry's code (or name) if it has a plain one, else 'building #4'."""
    if isinstance(item, MappingNode):
        for key_node, value_node in item.value:
            if key_node.value == key and isinstance(value_node, ScalarNode) and value_node.value.strip():
                return f'{kind} "{value_node.value.strip()}"'
    return f"{kind} #{index + 1}"


def unique_codes(r: Reader, kind: str, entries: list[tuple[str | None, Node | None]]) -> None:
    seen: dict[str, int] = {}
    for code, node in entries:
        if code is None or node is None:
            continue
        if code in seen:
            r.problem(node, f'{kind} code "{code}" is used twice (first on line {seen[code]})')
        else:
            seen[code] = line_of(node)


def _report_clashes(r: Reader, what: str, clashes: dict[tuple[str, int], list[tuple[str, int]]]) -> None:
    for (other, other_line), taken in clashes.items():
        listed = ", ".join(f'"{a}"' for a, _ in taken)
        verb = "is" if len(taken) == 1 else "are"
        r.problem(taken[0][1], f"{what}: {listed} {verb} already taken by {other} (line {other_line})")


def _claim(claimed: dict[str, tuple[str, int]], what: str, name: str | None,
           names: list[tuple[str, int]], r: Reader) -> list[str]:
    """Claim each name for `what` in one namespace; report those another entry holds; the aliases kept
    (every claimed name but the entry's own name, each once)."""
    aliases: list[str] = []
    clashes: dict[tuple[str, int], list[tuple[str, int]]] = {}
    for alias, line in names:
        owner = claimed.setdefault(normalise(alias), (what, line))
        if owner[0] != what:
            clashes.setdefault(owner, []).append((alias, line))
        elif alias != name and alias not in aliases:
            aliases.append(alias)
    _report_clashes(r, what, clashes)
    return aliases


def parse_estates(r: Reader, node: Node | None, grid_codes: set[str]) -> tuple[list[Estate], dict[str, Node]]:
    """The estates and, by code, the node of each entry that gives one (for warnings at its line, and
    so a building naming an estate whose entry has a problem is not reported a second time)."""
    estates, codes = [], []
    claimed: dict[str, tuple[str, int]] = {}  # normalised estate name/alias -> (estate label, line)
    for i, item in enumerate(r.items(node, "estates")):
        what = label("estate", item, i)
        f = r.fields(item, what, _ESTATE)
        if f is None:
            continue
        code = r.code(f.get("code"), "estate code")
        codes.append((code, f.get("code")))
        name = r.text(f.get("name"), f"{what} name")
        grid = r.code(f.get("grid"), f"{what} grid")
        if grid is not None and grid not in grid_codes:
            r.problem(f["grid"], f'{what} names unknown grid "{grid}"')
        names = [(name, line_of(f["name"]))] if name else []
        names.extend((a, line_of(n)) for a, n in r.texts(f.get("aliases"), f"{what} aliases"))
        aliases = _claim(claimed, what, name, names, r)
        # An entry with a problem still takes its code: its buildings are not "in an unknown estate" too.
        estates.append((Estate(code, name, tuple(aliases), grid) if code and name else None, code, item))
    unique_codes(r, "estate", codes)
    first: dict[str, Node] = {}
    for _, code, item in estates:
        if code:
            first.setdefault(code, item)
    return [e for e, _, _ in estates if e is not None], first


def default_kind(name: str) -> PlaceKind:
    """A place without `kind:` is a 楼栋, unless its name ends in 车库 ("8号车库", "地下车库")."""
    return PlaceKind.GARAGE if normalise(name).endswith("车库") else PlaceKind.BUILDING


def _kind(r: Reader, node: Node | None, what: str, name: str | None) -> PlaceKind:
    text = r.text(node, f"{what} kind")
    if text is None:
        return default_kind(name or "")
    if text not in {k.value for k in PlaceKind}:
        r.problem(node, f'{what}: kind "{text}" is not one of {_KINDS}')
        return PlaceKind.BUILDING
    return PlaceKind(text)


def parse_buildings(r: Reader, node: Node | None, grid_codes: set[str], estates: dict[str, Estate],
                    declared: Collection[str] = ()) -> list[Building]:
    """The buildings; `declared` are the estate codes the roster lists, valid entries or not."""
    buildings, codes = [], []
    # per estate code (None: the buildings without one): normalised name/alias -> (building label, line)
    claimed: dict[str | None, dict[str, tuple[str, int]]] = {}
    for i, item in enumerate(r.items(node, "buildings")):
        what = label("building", item, i)
        f = r.fields(item, what, _BUILDING)
        if f is None:
            continue
        code = r.code(f.get("code"), "building code")
        codes.append((code, f.get("code")))
        name = r.text(f.get("name"), f"{what} name")
        estate_code = r.code(f.get("estate"), f"{what} estate")
        estate = estates.get(estate_code or "")
        estate_ok = estate_code is None or estate is not None
        if not estate_ok and estate_code not in declared:
            r.problem(f["estate"], f'{what} names unknown estate "{estate_code}"')
        grid = r.code(f.get("grid"), f"{what} grid")
        if grid is not None and grid not in grid_codes:
            r.problem(f["grid"], f'{what} names unknown grid "{grid}"')
        elif "grid" not in f and estate is not None:
            grid = estate.grid_code
            if grid is None:
                r.problem(item, f'{what}: "grid" is missing (its estate "{estate.code}" has no grid either)')
        elif "grid" not in f and estate_ok:
            r.problem(item, f'{what}: "grid" is missing')
        kind = _kind(r, f.get("kind"), what, name)
        units = [u for u, _ in r.texts(f.get("units"), f"{what} units", number_ok=True)]
        if len(set(units)) != len(units):
            r.problem(f["units"], f"{what} lists a unit twice")
        names: list[tuple[str, int]] = []
        if name:
            names.append((name, line_of(f["name"])))
            names.extend((a, line_of(f["name"])) for a in standard_aliases(name))
        names.extend((a, line_of(n)) for a, n in r.texts(f.get("aliases"), f"{what} aliases"))
        namespace = claimed.setdefault(estate_code if estate_ok else "", {})
        aliases = _claim(namespace, what, name, names, r)
        if code and name and grid and estate_ok:
            buildings.append(Building(code, name, grid, tuple(aliases), tuple(units), estate_code, kind))
    unique_codes(r, "building", codes)
    return buildings
