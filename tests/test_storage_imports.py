"""No import cycles among storage's modules (grimp, import-linter's graph library)."""

from __future__ import annotations

import grimp


def test_storage_modules_import_each_other_without_cycles() -> None:
    graph = grimp.build_graph("storage")
    modules = {module for module in graph.modules if module.startswith("storage")}
    cycles = [(module, other) for module in sorted(modules)
              for other in sorted(graph.find_modules_directly_imported_by(module) & modules)
              if graph.chain_exists(importer=other, imported=module)]
    assert cycles == []
