"""The triage model's costs (issue 20): loading the shipped file in a fresh process, its memory, a
suggestion per message with and without a community's 500 corrections, and — for comparison — what
importing scikit-learn itself would cost the bot (why the bot reads the model without it).

    uv run python -m bench.triage [--quick]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.common import machine, write_result

LOAD = """
import json, time
def rss():
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS")) / 1024
t = time.perf_counter()
from bot.triage_model import load_model  # the bot imports the core's modules anyway
imported = time.perf_counter() - t
before = rss(); t = time.perf_counter()
model = load_model()
seconds = time.perf_counter() - t
print(json.dumps({"seconds": seconds, "import_seconds": imported, "rss_before_mb": before,
                  "rss_after_mb": rss(), "ngrams": len(model.rows)}))
"""

SKLEARN = """
import json, time
def rss():
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS")) / 1024
before = rss(); t = time.perf_counter()
import sklearn.linear_model, sklearn.feature_extraction.text
print(json.dumps({"seconds": time.perf_counter() - t, "rss_added_mb": rss() - before}))
"""


def fresh(code: str) -> dict:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          cwd=Path(__file__).resolve().parents[1])
    return json.loads(done.stdout.strip().splitlines()[-1])


def per_message(texts: list[str], suggest_one) -> dict:
    timings = []
    for text in texts:
        started = time.perf_counter()
        suggest_one(text)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return {"median_ms": statistics.median(timings), "p99_ms": timings[int(len(timings) * 0.99) - 1],
            "max_ms": timings[-1], "messages": len(timings)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="3 fresh-process loads instead of 7")
    args = parser.parse_args()
    from bot.roster_files import read_roster
    from bot.triage_build import EVAL_PATH, read_corpus, read_examples
    from bot.triage_model import MODEL_PATH, load_model, weights_path
    from gridcore.triage import CorrectionMemory, suggest

    runs = 3 if args.quick else 7
    loads = [fresh(LOAD) for _ in range(runs)]
    model = load_model()
    community = read_roster(Path("examples/roster.yaml"))
    texts = [e.text for e in read_examples(EVAL_PATH)]
    plain = per_message(texts, lambda text: suggest(text, community.categories, model))
    rng = random.Random(5)
    corpus = read_corpus()
    pairs = [(e.text, rng.choice(community.categories).code) for e in rng.sample(corpus, 500)]
    started = time.perf_counter()
    memory = CorrectionMemory.of(model, pairs)
    memory_build_ms = (time.perf_counter() - started) * 1000
    remembered = per_message(texts, lambda text: suggest(text, community.categories, model, memory))
    sklearn = [fresh(SKLEARN) for _ in range(min(runs, 3))]
    result = {
        "model_files_mb": (MODEL_PATH.stat().st_size + weights_path(MODEL_PATH).stat().st_size) / 1e6,
        "ngrams": len(model.rows),
        "load_seconds_median": statistics.median(r["seconds"] for r in loads),
        "load_seconds_max": max(r["seconds"] for r in loads),
        "import_seconds_median": statistics.median(r["import_seconds"] for r in loads),
        "rss_added_mb_median": statistics.median(r["rss_after_mb"] - r["rss_before_mb"] for r in loads),
        "suggest": plain,
        "suggest_with_500_corrections": remembered,
        "memory_build_ms": memory_build_ms,
        "sklearn_import_seconds_median": statistics.median(r["seconds"] for r in sklearn),
        "sklearn_rss_added_mb_median": statistics.median(r["rss_added_mb"] for r in sklearn),
        "machine": machine(),
    }
    write_result("triage", result)
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
