"""`gridbot triage build` and `gridbot triage eval` (bot.triage_build, bot.triage_eval)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from bot.roster_files import read_roster
from bot.triage_build import EVAL_PATH, build, read_examples
from bot.triage_eval import Figures, evaluate, read_shared
from bot.triage_model import MODEL_PATH, load_model
from gridcore.community import Community

SHARED_MESSAGES = Path(__file__).resolve().parents[2] / "shared" / "data" / "resident_messages.tsv"


def triage_command(args: argparse.Namespace) -> str:
    if args.triage_command == "build":
        meta = build()
        return (f"{MODEL_PATH}: {meta['features']} n-grams, {meta['bytes'] / 1e6:.2f} MB, trained on "
                f"{meta['examples']} messages; largest difference from scikit-learn's probabilities "
                f"after rounding {meta['largest_difference_rounded']:.1e}")
    started = time.perf_counter()
    model = load_model()
    loaded = time.perf_counter() - started
    community = read_roster(Path(args.roster))
    lines = [f"model {MODEL_PATH.name}: {MODEL_PATH.stat().st_size / 1e6:.2f} MB, {len(model.rows)} n-grams, "
             f"{len(model.topics)} topics, loaded in {loaded * 1000:.0f} ms; categories of {community.name}"]
    held_out = [(e.text, e.topic) for e in read_examples(EVAL_PATH)]
    sets = [("evaluation set (triage/eval.tsv, never trained on)", held_out)]
    if SHARED_MESSAGES.exists():
        sets.append(("shared resident messages", read_shared(SHARED_MESSAGES)))
    for name, rows in sets:
        figures = evaluate(rows, community.categories, model)
        lines.append(figures.line(name))
        lines.extend(per_topic(figures))
        if args.misses:
            lines.extend(f"    ✗ {text} | {label} → {got}" for text, label, got in figures.misses)
    keywords = evaluate([(e.text, e.topic) for e in read_examples(EVAL_PATH)], community.categories, None)
    lines.append(keywords.line("the roster's keywords alone, evaluation set"))
    return "\n".join(lines)


def print_topic_warnings(community: Community, file: str) -> list[str]:
    """The categories the shipped triage model cannot suggest (gridcore.triage.topic_warnings)."""
    from bot.triage_model import load_or_none
    from gridcore.triage import topic_warnings

    model = load_or_none()
    found = topic_warnings(community.categories, model.topics) if model is not None else []
    for warning in found:
        print(f"{file}: warning: {warning}", file=sys.stderr)
    return found


def per_topic(figures: Figures) -> list[str]:
    return [f"    {topic} {figures.per_topic_right[topic]}/{count}"
            for topic, count in sorted(figures.per_topic.items(), key=lambda item: item[0])]
