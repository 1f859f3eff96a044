"""Every library through its public API (issue 17): an AST scan of the production packages.

It fails on
  (a) an attribute `x._name` (one leading underscore, not a dunder) that the project does not define
      itself: a library's private attribute, whether read off a library object or inherited (`self._x`);
  (b) a keyword argument starting with `_` in a call (a library's private parameter);
  (c) an import of a private module or name of another package (`pydantic._internal`, `from x import _y`);
  (d) an assignment to an attribute of an imported module or class (monkeypatching: `BaseModel.x = ...`,
      `setattr(aiogram.types, ...)`).
The allowlists name what a library documents as public despite its underscore.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "handlers", "gridcore", "storage", "sandbox", "bench")
FIRST_PARTY = frozenset(PACKAGES)
# pydantic-settings documents `_env_file` (and its siblings) as the way to pick the .env file per instance.
PUBLIC_UNDERSCORE_KEYWORDS = frozenset({"_env_file"})
# SQLAlchemy's Row (like namedtuple) documents these as public: the underscore keeps them from clashing
# with a column name.
PUBLIC_UNDERSCORE_ATTRIBUTES = frozenset({"_fields", "_mapping", "_asdict"})


@dataclass(frozen=True)
class Hit:
    path: str
    line: int
    rule: str
    code: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.rule}: {self.code}"


def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def python_files(package: str) -> list[Path]:
    return sorted(p for p in (ROOT / package).rglob("*.py") if "__pycache__" not in p.parts)


def parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def defined_names(tree: ast.AST) -> Iterator[str]:
    """Private names a module defines: functions, classes, and what it assigns (`_x = `, `self._x = `)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            yield node.name
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                for part in ast.walk(target):
                    if isinstance(part, ast.Name):
                        yield part.id
                    elif isinstance(part, ast.Attribute):
                        yield part.attr
        elif isinstance(node, ast.arg):
            yield node.arg


@cache
def project_names() -> frozenset[str]:
    """Every private name the production packages define somewhere."""
    return frozenset(name for package in PACKAGES for path in python_files(package)
                     for name in defined_names(parse(path)) if is_private(name))


def first_party(module: str | None, level: int = 0) -> bool:
    return level > 0 or (module or "").split(".")[0] in FIRST_PARTY


def root_name(node: ast.expr) -> str | None:
    """`a` of `a.b.c`; None when the chain starts with a call, a subscript, ..."""
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def scan(path: Path, own: frozenset[str]) -> list[Hit]:
    """The rule breaks in one file; `own` is the private names the project defines."""
    tree = parse(path)
    shown = str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
    hits: list[Hit] = []
    imported: set[str] = set()  # names bound to another package's modules or classes

    def hit(node: ast.AST, rule: str) -> None:
        hits.append(Hit(shown, getattr(node, "lineno", 0), rule, ast.unparse(node)[:100]))

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if not first_party(alias.name):
                    imported.add(alias.asname or alias.name.split(".")[0])
                    if any(is_private(part) for part in alias.name.split(".")):
                        hit(node, "(c) private module")
        elif isinstance(node, ast.ImportFrom) and not first_party(node.module, node.level):
            if any(is_private(part) for part in (node.module or "").split(".")):
                hit(node, "(c) private module")
            for alias in node.names:
                imported.add(alias.asname or alias.name)
                if is_private(alias.name):
                    hit(node, "(c) private name")

    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and is_private(node.attr):
            if node.attr not in own and node.attr not in PUBLIC_UNDERSCORE_ATTRIBUTES:
                hit(node, "(a) private attribute")
        elif isinstance(node, ast.Call):
            for keyword in node.keywords:
                name = keyword.arg or ""
                if name.startswith("_") and name not in PUBLIC_UNDERSCORE_KEYWORDS:
                    hit(node, f"(b) private keyword {name}")
            if (isinstance(node.func, ast.Name) and node.func.id in {"setattr", "delattr"} and node.args
                    and root_name(node.args[0]) in imported):
                hit(node, "(d) monkeypatch")
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign | ast.Delete):
            targets = node.targets if isinstance(node, ast.Assign | ast.Delete) else [node.target]
            for target in targets:
                for part in ast.walk(target):
                    if isinstance(part, ast.Attribute) and root_name(part) in imported:
                        hit(node, "(d) monkeypatch")
                        break
    return sorted(hits, key=lambda h: h.line)


@pytest.mark.parametrize("package", PACKAGES)
def test_the_package_uses_libraries_through_their_public_api(package):
    own = project_names()
    hits = [hit for path in python_files(package) for hit in scan(path, own)]
    assert not hits, "\n".join(map(str, hits))


@pytest.mark.parametrize(("code", "rule"), [
    ("from aiogram.client.session.aiohttp import AiohttpSession\n"
     "class S(AiohttpSession):\n    def f(self):\n        return self._connector_init['limit']\n",
     "(a)"),
    ("def f(session):\n    return session._should_reset_connector\n", "(a)"),
    ("def f(handler, dp, bot):\n    handler(dp, bot, _timeout=1)\n", "(b)"),
    ("from pydantic._internal import _model_construction\n", "(c)"),
    ("import sqlalchemy.engine._processors\n", "(c)"),
    ("from pydantic import BaseModel\nBaseModel.model_rebuild = classmethod(lambda cls: None)\n", "(d)"),
    ("import aiogram.types\nsetattr(aiogram.types.Message, 'x', 1)\n", "(d)"),
])
def test_the_scan_finds_each_kind_of_break(tmp_path, code, rule):
    path = tmp_path / "sample.py"
    path.write_text(code, encoding="utf-8")
    assert {hit.rule[:3] for hit in scan(path, project_names())} == {rule}


def test_the_scan_leaves_the_projects_own_names_alone(tmp_path):
    path = tmp_path / "sample.py"
    path.write_text("from bot import runtime\nfrom storage.repositories import _sql\n"
                    "class A:\n    def __init__(self):\n        self._own = 1\n"
                    "def f(a: A, b: A):\n    return a._own, runtime.__name__, _sql\n"
                    "runtime.RESTART_DELAY = 0\n", encoding="utf-8")
    assert scan(path, project_names() | {"_own"}) == []
