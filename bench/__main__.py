"""`uv run python -m bench [--quick]` (or `make bench` / `make bench-quick`): every benchmark, one after
another, each in its own process so that one's memory and warm caches don't colour the next."""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

BENCHMARKS = ("inbound", "outbound", "scale", "bot_memory", "console", "city", "city_memory")
QUICK_TICKETS = "20000"  # bench.scale's quick size, which bot_memory then reuses
QUICK_CITY = ["--communities", "20", "--tickets", "40000"]  # bench.city's quick size, for city_memory


def main() -> int:
    args = argparse.ArgumentParser(description=__doc__)
    args.add_argument("--quick", action="store_true", help="small sizes: each benchmark in under a minute")
    args.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    args.add_argument("names", nargs="*", metavar="NAME",
                      help=f"which to run (default: all of {', '.join(BENCHMARKS)})")
    options = args.parse_args()
    unknown = sorted(set(options.names) - set(BENCHMARKS))
    if unknown:
        args.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    failed = []
    for name in options.names or BENCHMARKS:
        command = [sys.executable, "-m", f"bench.{name}", "--db", options.db]
        if name == "scale":
            command += ["--reuse"]  # bot_memory measures the bot on the database scale generated
        if name == "city":  # a city is PostgreSQL's, kept for city_memory
            command = [sys.executable, "-m", "bench.city", "--db", "postgresql", "--reuse"]
        if name == "city_memory":
            command = [sys.executable, "-m", "bench.city_memory", *(QUICK_CITY if options.quick else [])]
        elif name in ("bot_memory", "console") and options.quick:
            command += ["--tickets", QUICK_TICKETS]
        elif options.quick:
            command += ["--quick"]
        print(f"\n=== {' '.join(command[1:])}", flush=True)
        started = time.monotonic()
        code = subprocess.call(command)
        print(f"=== bench.{name}: exit {code} after {time.monotonic() - started:.0f} s", flush=True)
        if code:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
