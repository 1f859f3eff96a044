"""What every benchmark needs: the machine it ran on, a fresh database, RSS, percentiles, a result file."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import sys
import tempfile
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from storage import testing

OUT_DIR = Path(__file__).resolve().parent / "out"
BACKENDS = ("sqlite", "postgresql")


def machine() -> dict[str, Any]:
    """Cores, memory, CPU model, Python and the date: written beside every result."""
    memory_kib = 0
    with contextlib.suppress(OSError), open("/proc/meminfo", encoding="ascii") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                memory_kib = int(line.split()[1])
    cpu = platform.processor() or ""
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
        cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), cpu)
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": os.cpu_count(),
        "memory_gib": round(memory_kib / 1024 / 1024, 1),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
    }


def rss_mb(pid: int | str = "self", *, peak: bool = False) -> float:
    """Resident set size (VmRSS, or its peak VmHWM) of a process, in MiB; 0 where /proc is missing."""
    key = "VmHWM:" if peak else "VmRSS:"
    with contextlib.suppress(OSError), open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(key):
                return int(line.split()[1]) / 1024
    return 0.0


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0–100), nearest-rank on the sorted values; nan for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def latency_summary_ms(seconds: Sequence[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    return {"count": len(ms), "p50_ms": round(percentile(ms, 50), 2), "p95_ms": round(percentile(ms, 95), 2),
            "p99_ms": round(percentile(ms, 99), 2), "max_ms": round(max(ms), 2) if ms else float("nan"),
            "mean_ms": round(statistics.fmean(ms), 2) if ms else float("nan")}


def parser(description: str) -> argparse.ArgumentParser:
    """The common command line: --quick (under a minute), --db sqlite|postgresql|both."""
    args = argparse.ArgumentParser(description=description)
    args.add_argument("--quick", action="store_true", help="a small size that finishes in under a minute")
    args.add_argument("--db", choices=[*BACKENDS, "both"], default="both", help="database backend(s)")
    return args


def backends(choice: str) -> tuple[str, ...]:
    return BACKENDS if choice == "both" else (choice,)


@contextlib.asynccontextmanager
async def fresh_database(backend: str, *, keep: bool = False) -> AsyncIterator[str]:
    """The URL of a new, empty database (not migrated): a temporary SQLite file, or a new PostgreSQL
    database on GRIDBOT_TEST_PG_URL's server, dropped afterwards unless `keep`."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="gridbot-bench-") as folder:
            yield testing.sqlite_url(Path(folder) / "bench.db")
        return
    admin_url = testing.pg_admin_url()
    url = await testing.create_pg_database(admin_url)
    try:
        yield url
    finally:
        if not keep:
            await testing.drop_pg_database(admin_url, url)


def write_result(name: str, result: dict[str, Any]) -> Path:
    """bench/out/<name>.json with the machine beside the numbers; also printed."""
    OUT_DIR.mkdir(exist_ok=True)
    path = OUT_DIR / f"{name}.json"
    document = {"benchmark": name, "machine": machine(), **result}
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2), encoding="utf-8")
    print(json.dumps(document, ensure_ascii=False, indent=2))
    return path
