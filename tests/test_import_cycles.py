"""No import cycle among the modules of any of our packages, read with grimp (import-linter's library).

Imports under `if TYPE_CHECKING:` count too (docs/DECISIONS.md): such an import hides a cycle from
the interpreter, not from the reader, and moving the shared type down a module removes it for both.
Imports inside functions count as well. Between packages, the import-linter contracts in pyproject.toml
already keep the layers one way.
"""

from __future__ import annotations

from collections import deque

import grimp
import pytest

PACKAGES = ("gridcore", "handlers", "storage", "bot", "sandbox")


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(*PACKAGES, exclude_type_checking_imports=False)


def imports_inside(graph: grimp.ImportGraph, module: str, package: str) -> set[str]:
    return {m for m in graph.find_modules_directly_imported_by(module)
            if m == package or m.startswith(package + ".")}


def tangles(graph: grimp.ImportGraph, package: str) -> list[list[str]]:
    """The strongly connected groups of two or more modules (Tarjan), each sorted."""
    modules = sorted(m for m in graph.modules if m == package or m.startswith(package + "."))
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for imported in sorted(imports_inside(graph, module, package)):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in modules:
        if module not in index:
            visit(module)
    return found


def one_cycle(graph: grimp.ImportGraph, group: list[str], package: str) -> list[str]:
    """A shortest cycle through the group's first module, as a chain of imports back to it."""
    start, members = group[0], set(group)
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        module = queue.popleft()
        for imported in sorted(imports_inside(graph, module, package) & members):
            if imported == start:
                chain = [module]
                while chain[-1] != start:
                    chain.append(came_from[chain[-1]])
                return [*reversed(chain), start]
            if imported not in came_from:
                came_from[imported] = module
                queue.append(imported)
    raise AssertionError(f"no cycle through {start} in {group}")


def describe(graph: grimp.ImportGraph, package: str) -> list[str]:
    lines = []
    for group in tangles(graph, package):
        lines.append(" -> ".join(one_cycle(graph, group, package)))
        if len(group) > 2:
            lines.append(f"    (all of these reach each other: {', '.join(group)})")
    return lines


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_cycle_among_the_modules_of(graph, package):
    cycles = describe(graph, package)
    assert not cycles, f"import cycles in {package}/:\n  " + "\n  ".join(cycles)


def test_a_cycle_is_found_and_named():
    graph = grimp.ImportGraph()
    for module in ("pkg", "pkg.a", "pkg.b", "pkg.c", "pkg.d"):
        graph.add_module(module)
    imports = (("pkg.a", "pkg.b"), ("pkg.b", "pkg.c"), ("pkg.c", "pkg.a"), ("pkg.c", "pkg.d"))
    for importer, imported in imports:
        graph.add_import(importer=importer, imported=imported)
    assert describe(graph, "pkg") == ["pkg.a -> pkg.b -> pkg.c -> pkg.a",
                                      "    (all of these reach each other: pkg.a, pkg.b, pkg.c)"]
    graph.remove_import(importer="pkg.c", imported="pkg.a")
    assert describe(graph, "pkg") == []
