"""`gridbot triage eval`: how often the suggestion is right on messages the model never trained on —
our evaluation set (triage/eval.tsv) and the shared resident messages — as a resident of a roster's
community would meet it (gridcore.triage.suggest: model, keywords, emergency rule)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from gridcore.community import Category
from gridcore.triage import CorrectionMemory, TopicModel, suggest


@dataclass
class Figures:
    """Counts over labelled messages whose topic is one of the roster's categories."""

    total: int = 0
    right: int = 0  # the suggestion, or the first of the two offered, is the label
    offered: int = 0  # the label is among what is offered (one or two)
    sure: int = 0  # one suggestion, asked as 是…吗
    sure_right: int = 0
    none: int = 0  # no suggestion: the whole list
    skipped: int = 0  # labelled with a topic the roster has no category for
    misses: list[tuple[str, str, str]] = field(default_factory=list)  # text, label, suggested
    per_topic: Counter[str] = field(default_factory=Counter)
    per_topic_right: Counter[str] = field(default_factory=Counter)

    @property
    def accuracy(self) -> float:
        return self.right / self.total if self.total else 0.0

    def line(self, name: str) -> str:
        def share(n: int) -> str:
            return f"{n / self.total:.1%}" if self.total else "-"

        sure_right = f"{self.sure_right / self.sure:.1%}" if self.sure else "-"
        return (f"{name}: {self.right}/{self.total} right = {share(self.right)} "
                f"(offered: {share(self.offered)}; "
                f"one suggestion: {share(self.sure)}, right {sure_right} of those; none: {share(self.none)}; "
                f"{self.skipped} skipped, of topics the roster has no category for)")


def category_for_label(label: str, categories: tuple[Category, ...]) -> Category | None:
    return next((c for c in categories if c.name == label or c.topic == label), None)


def evaluate(rows: list[tuple[str, str]], categories: tuple[Category, ...], model: TopicModel | None,
             memory: CorrectionMemory | None = None) -> Figures:
    figures = Figures()
    for text, label in rows:
        expected = category_for_label(label, categories)
        if expected is None:
            figures.skipped += 1
            continue
        found = suggest(text, categories, model, memory)
        figures.total += 1
        figures.per_topic[label] += 1
        codes = [c.code for c in found.categories]
        if not codes:
            figures.none += 1
        if found.sure:
            figures.sure += 1
        if codes and codes[0] == expected.code:
            figures.right += 1
            figures.per_topic_right[label] += 1
            figures.sure_right += found.sure
        else:
            figures.misses.append((text, label, "/".join(c.name for c in found.categories) or "-"))
        figures.offered += expected.code in codes
    return figures


def read_shared(path: Path) -> list[tuple[str, str]]:
    """../shared/data/resident_messages.tsv: text, topic, location; a header line and # comments."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#") or line.startswith("text\t"):
            continue
        parts = line.split("\t")
        rows.append((parts[0].strip(), parts[1].strip()))
    return rows
