"""Reading a roster's YAML nodes: typed values out of composed nodes, and every problem found with the
line of the file it is on (RosterProblem); RosterError lists them all. gridcore.roster and its section
parsers (roster_announcements, roster_reminders) read through one Reader."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from gridcore.errors import DomainError

_CODE = re.compile(r"[A-Za-z0-9_]{1,20}")


@dataclass(frozen=True)
class RosterProblem:
    filename: str
    line: int
    message: str
    warning: bool = False  # loads all the same; printed as "file:line: warning: message"

    def __str__(self) -> str:
        return f"{self.filename}:{self.line}: {'warning: ' if self.warning else ''}{self.message}"


class RosterError(DomainError):
    def __init__(self, problems: list[RosterProblem]) -> None:
        self.problems = sorted(problems, key=lambda p: p.line)
        super().__init__("\n".join(str(p) for p in self.problems))


def line_of(node: Node) -> int:
    """The file's line (from 1) a YAML node starts on."""
    return node.start_mark.line + 1


class Reader:
    """Reads typed values out of composed YAML nodes and collects the problems, each with its line."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.problems: list[RosterProblem] = []
        self._constructor = SafeConstructor()

    def problem(self, where: Node | int, message: str) -> None:
        line = where if isinstance(where, int) else line_of(where)
        self.problems.append(RosterProblem(self.filename, line, message))

    def fields(self, node: Node, what: str, keys: tuple[set[str], set[str]]) -> dict[str, Node] | None:
        required, optional = keys
        if not isinstance(node, MappingNode):
            self.problem(node, f"{what} must be a mapping (key: value)")
            return None
        found: dict[str, Node] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in found:
                self.problem(key_node, f'{what}: key "{key}" appears twice')
            elif key not in required | optional:
                close = difflib.get_close_matches(key, sorted(required | optional), n=1)
                hint = f' (did you mean "{close[0]}"?)' if close else ""
                self.problem(key_node, f'{what}: unknown key "{key}"{hint}')
            else:
                found[key] = value_node
        for key in sorted(required - found.keys()):
            self.problem(node, f'{what}: "{key}" is missing')
        return found

    def items(self, node: Node | None, what: str) -> list[Node]:
        if node is None:
            return []
        if not isinstance(node, SequenceNode):
            self.problem(node, f"{what} must be a list")
            return []
        return list(node.value)

    def _scalar(self, node: Node) -> Any:
        try:
            return self._constructor.construct_object(node) if isinstance(node, ScalarNode) else node
        except yaml.YAMLError:  # an unknown tag such as !!python/object
            return node

    def text(self, node: Node | None, what: str, *, number_ok: bool = False) -> str | None:
        if node is None:
            return None
        value = self._scalar(node)
        if number_ok and isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        if not isinstance(value, str) or not value.strip():
            self.problem(node, f"{what} must be a non-empty text")
            return None
        return value.strip()

    def code(self, node: Node | None, what: str) -> str | None:
        value = self.text(node, what, number_ok=True)
        if value is not None and node is not None and not _CODE.fullmatch(value):
            self.problem(node, f'{what} "{value}" must be 1-20 letters, digits or _ (it goes into buttons)')
        return value

    def integer(self, node: Node | None, what: str, check: Callable[[int], bool] = bool,
                rule: str = "") -> int | None:
        if node is None:
            return None
        value = self._scalar(node)
        if not isinstance(value, int) or isinstance(value, bool):
            self.problem(node, f"{what} must be a whole number")
            return None
        if not check(value):
            self.problem(node, f"{what} must be {rule}")
            return None
        return value

    def hours(self, node: Node | None, what: str, most: float) -> float | None:
        """A positive number of hours, whole or not (0.5), at most `most`."""
        if node is None:
            return None
        value = self._scalar(node)
        if not isinstance(value, int | float) or isinstance(value, bool) or not 0 < value <= most:
            self.problem(node, f"{what} must be a positive number of hours (e.g. 1 or 0.5), at most {most:g}")
            return None
        return float(value)

    def boolean(self, node: Node | None, what: str) -> bool | None:
        """False when absent, None when it is not a boolean (reported)."""
        value = False if node is None else self._scalar(node)
        if not isinstance(value, bool):
            self.problem(node, f"{what} must be true or false")
            return None
        return value

    def texts(self, node: Node | None, what: str, *, number_ok: bool = False) -> list[tuple[str, Node]]:
        out = []
        for item in self.items(node, what):
            value = self.text(item, f"each of {what}", number_ok=number_ok)
            if value is not None:
                out.append((value, item))
        return out
