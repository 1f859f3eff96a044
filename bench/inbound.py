"""Inbound throughput and reply latency of gridbot against a peer bot, in the same run on the same sandbox.

The peer (bench.peer_bot) is the same report dialog written the way aiogram's documentation teaches: FSM
states in Redis, the stock session, one SQLAlchemy session per filing.

    uv run python -m bench.inbound [--quick] [--db sqlite|postgresql|both] [--residents N]
                                   [--open-seconds S] [--repeat N] [--py-spy closed|open]

Set-up. This process hosts the sandbox (SandboxServer, Telegram's limits and faults off) and plays the
residents (bench.residents); each bot is its own process (bench.harness.BotProcess) long-polling the
sandbox over HTTP, on a fresh database of the backend (gridbot: migrated, with examples/roster.yaml;
the peer: its own tables, the same roster, its FSM under a fresh key prefix in the local Redis). The
residents answer both bots' questions by the same labels (bench.residents.choose). gridbot runs with
OUTBOX_RATE_LIMITS=off: with Telegram's pacing (30 messages/s overall, 1/s per chat) its outbox would cap
the closed loop at 30 replies/s whatever the inbound path costs (outbound pacing is bench.outbound); the
peer sends without pacing.

Phases, per bot, one bot after the other on the same sandbox:
1. closed loop: N residents (ids 100000+i) each file a whole report, every one sending its next input
   the moment the previous question arrived: saturation, updates/s.
2. open loop: once the bot has sent what the closed loop left queued, inputs at 30 updates/s (Telegram's
   overall send rate), each taken by a resident whose question is there: p50/p95/p99 reply latency.
The ratio is gridbot's closed-loop updates/s over the peer's. Targets (issue 17): ratio ≥ 1.0 on
PostgreSQL, open-loop p99 ≤ 100 ms on both databases. With --repeat the bots' order alternates, so a
drift in the machine's speed does not always favour the same one.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import signal
import statistics
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from bench import common, residents
from bench.harness import BotProcess
from bench.peer_bot import READY as PEER_READY
from bot.cli import read_roster
from bot.sandbox_world import groups_for, personas_for
from sandbox.server import Sandbox, SandboxServer

ROSTER = Path(__file__).resolve().parents[1] / "examples" / "roster.yaml"
OFFERED_PER_S = 30.0
RATIO_TARGET = 1.0  # on PostgreSQL
P99_TARGET_MS = 100.0
BOTS = ("gridbot", "peer")
SERVERS = {"database": "postgres", "redis": "redis-server"}  # process names whose CPU is counted


def cpu_seconds(pid: int | str = "self") -> float:
    """User + system CPU time of a process (all its threads) so far; 0 where /proc is missing."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_cpu_seconds(name: str) -> float:
    """CPU time so far of every process called `name` on this machine (0 without any): on a machine of
    two cores, a server's share (PostgreSQL's, Redis's) is CPU the bot and the sandbox cannot have."""
    total = 0.0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/comm", encoding="utf-8") as comm:
                if comm.read().strip() != name:
                    continue
        except OSError:
            continue
        total += cpu_seconds(entry.name)
    return total


@contextlib.asynccontextmanager
async def sampled(pid: int, output: Path | None) -> AsyncIterator[None]:
    """py-spy samples the process while the block runs (collapsed stacks in `output`); None: not at all."""
    if output is None:
        yield
        return
    output.parent.mkdir(exist_ok=True)
    spy = await asyncio.create_subprocess_exec(
        "py-spy", "record", "--pid", str(pid), "--rate", "200", "--format", "raw", "--nonblocking",
        "--output", str(output), stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    try:
        yield
    finally:
        spy.send_signal(signal.SIGINT)  # py-spy writes its file when interrupted
        await spy.wait()


async def with_cpu(bot: BotProcess, work: Awaitable[dict[str, Any]], spy: Path | None) -> dict[str, Any]:
    """The phase's result plus the CPU time per update of the bot, of this process (the sandbox and the
    residents) and of the database and Redis servers: unlike wall time, barely moved by other load."""
    # This process holds every message the sandbox stored; a full collection walks them all (hundreds of
    # ms) and the updates in flight would look that much slower. Its collector is off while a phase runs.
    gc.collect()
    gc.disable()
    bot_before, own_before = cpu_seconds(bot.pid), cpu_seconds()
    servers_before = {kind: server_cpu_seconds(name) for kind, name in SERVERS.items()}
    try:
        async with sampled(bot.pid, spy):
            result = await work
    finally:
        gc.enable()
    updates = max(1, result.get("updates", 0))
    result["bot_cpu_ms_per_update"] = round((cpu_seconds(bot.pid) - bot_before) * 1000 / updates, 2)
    result["sandbox_and_driver_cpu_ms_per_update"] = round((cpu_seconds() - own_before) * 1000 / updates, 2)
    for kind, name in SERVERS.items():
        spent = server_cpu_seconds(name) - servers_before[kind]
        result[f"{kind}_server_cpu_ms_per_update"] = round(spent * 1000 / updates, 2)
    return result


async def measure(sandbox: Sandbox, bot: BotProcess, residents_n: int, open_seconds: float,
                  spy: dict[str, Path]) -> dict[str, Any]:
    """The closed loop, then the open loop, against a running bot; `spy`: phase -> py-spy output."""
    sandbox.reset()
    inbox = residents.Inbox(sandbox)
    driver = residents.Driver(sandbox, inbox)
    try:
        closed = await with_cpu(bot, residents.closed_loop(driver, residents_n), spy.get("closed"))
        closed["bot_api_requests_per_update"] = round(
            sandbox.traffic.counters["requests"] / max(1, closed["updates"]), 2)
        settle_seconds = await residents.settled(sandbox)
        requests_before = sandbox.traffic.counters["requests"]
        arrivals = residents.open_loop(driver, open_seconds, OFFERED_PER_S)
        opened = await with_cpu(bot, arrivals, spy.get("open"))
        opened["waited_for_the_closed_loops_messages_s"] = settle_seconds
        opened["bot_api_requests_per_update"] = round(
            (sandbox.traffic.counters["requests"] - requests_before) / max(1, opened["updates"]), 2)
    finally:
        inbox.close()
    return {"closed_loop": closed, "open_loop": opened, "rss_mb": round(common.rss_mb(bot.pid), 1),
            "peak_rss_mb": round(common.rss_mb(bot.pid, peak=True), 1)}


def bot_process(name: str, api_url: str, database_url: str, folder: Path, redis_url: str) -> BotProcess:
    log_path = folder / f"{name}.log"
    if name == "gridbot":
        return BotProcess(api_url, database_url, log_path=log_path, env={"OUTBOX_RATE_LIMITS": "off"})
    return BotProcess(api_url, database_url, log_path=log_path, ready_marker=PEER_READY,
                      command=[sys.executable, "-m", "bench.peer_bot"],
                      env={"REDIS_URL": redis_url, "FSM_KEY_PREFIX": f"bench-peer-{uuid.uuid4().hex[:12]}"})


async def run_backend(backend: str, residents_n: int, open_seconds: float, redis_url: str, *,
                      order: tuple[str, ...] = BOTS, spy_phase: str | None = None) -> dict[str, Any]:
    community = read_roster(ROSTER)
    sandbox = Sandbox(personas_for(community), groups=groups_for(community), personas_started=True)
    folder = Path(tempfile.mkdtemp(prefix="gridbot-inbound-"))
    print(f"[{backend}] bot logs in {folder}", flush=True)
    results: dict[str, Any] = {}
    async with SandboxServer(sandbox=sandbox) as server:
        for name in order:
            spy = {}
            if spy_phase:
                spy[spy_phase] = common.OUT_DIR / f"inbound-{backend}-{name}-{spy_phase}.pyspy"
            async with common.fresh_database(backend) as url:
                bot = bot_process(name, server.base_url, url, folder, redis_url)
                await bot.start()
                try:
                    print(f"[{backend}] {name}: {residents_n} residents, closed loop, then "
                          f"{open_seconds:.0f} s at {OFFERED_PER_S:.0f} updates/s", flush=True)
                    results[name] = await measure(sandbox, bot, residents_n, open_seconds, spy)
                finally:
                    await bot.stop()
            sandbox.drop_pending()
    return report(backend, residents_n, results["gridbot"], results["peer"], order)


def report(backend: str, residents_n: int, gridbot: dict[str, Any], peer: dict[str, Any],
           order: tuple[str, ...] = BOTS) -> dict[str, Any]:
    ours, theirs = gridbot["closed_loop"]["updates_per_s"], peer["closed_loop"]["updates_per_s"]
    ratio = round(ours / theirs, 3) if ours and theirs else None
    p99 = gridbot["open_loop"]["latency"]["p99_ms"]
    targets: dict[str, Any] = {"gridbot_open_loop_p99_at_most_100ms": p99 <= P99_TARGET_MS}
    if backend == "postgresql":
        targets["ratio_at_least_1.0"] = ratio is not None and ratio >= RATIO_TARGET
    return {
        "backend": backend,
        "residents": residents_n,
        "set_up": {"residents": "in-process Sandbox actions; each bot polls the sandbox over HTTP from its "
                                "own process, on a fresh database",
                   "sandbox_limits": "off", "gridbot_outbox_rate_limits": "off (OUTBOX_RATE_LIMITS=off)",
                   "order": list(order), "open_loop_offered_per_s": OFFERED_PER_S,
                   "latency": "sandbox enqueue -> first bot message stored in the chat"},
        "throughput_ratio_vs_peer": ratio,
        "open_loop_latency_ms": {name: {key: result["open_loop"]["latency"][key]
                                        for key in ("p50_ms", "p95_ms", "p99_ms")}
                                 for name, result in (("gridbot", gridbot), ("peer", peer))},
        "targets": targets,
        "gridbot": gridbot,
        "peer": peer,
    }


def repeated(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One run's result as it is; several: the last one's, with every run's figures and the medians."""
    if len(runs) == 1:
        return runs[0]
    ratios = [run["throughput_ratio_vs_peer"] for run in runs]
    known = [ratio for ratio in ratios if ratio is not None]
    median_ratio = statistics.median(known) if known else None
    worst_p99 = max(run["gridbot"]["open_loop"]["latency"]["p99_ms"] for run in runs)
    targets: dict[str, Any] = {"gridbot_open_loop_p99_at_most_100ms_in_every_run": worst_p99 <= P99_TARGET_MS}
    if runs[-1]["backend"] == "postgresql":
        targets["median_ratio_at_least_1.0"] = median_ratio is not None and median_ratio >= RATIO_TARGET
    return {
        **runs[-1],
        "runs": [{"order": run["set_up"]["order"], "throughput_ratio_vs_peer": ratio,
                  **{f"{name}_{figure}": run[name]["closed_loop"][figure] for name in BOTS
                     for figure in ("updates_per_s", "bot_cpu_ms_per_update")},
                  **{f"{name}_open_loop_p99_ms": run[name]["open_loop"]["latency"]["p99_ms"]
                     for name in BOTS}}
                 for run, ratio in zip(runs, ratios, strict=True)],
        "median_throughput_ratio_vs_peer": median_ratio,
        "targets": targets,
    }


async def redis_unreachable(url: str) -> str | None:
    client = Redis.from_url(url)
    try:
        await client.ping()
    except Exception as error:  # any failure to reach it is reported the same way
        return f"{type(error).__name__}: {error}"
    finally:
        await client.aclose()
    return None


def main() -> None:
    args = common.parser(__doc__.splitlines()[0])
    args.add_argument("--residents", type=int, default=None,
                      help="residents in the closed loop (default 1000; 100 with --quick)")
    args.add_argument("--open-seconds", type=float, default=None,
                      help="seconds of the open loop at 30 updates/s (default 60; 5 with --quick)")
    args.add_argument("--repeat", type=int, default=1,
                      help="whole runs per database (fresh databases and bots each time, the bots' order "
                           "alternating); the result then also gives each run's figures and the median ratio")
    args.add_argument("--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
                      help="the Redis the peer keeps its FSM in (default: REDIS_URL or the local one)")
    args.add_argument("--py-spy", choices=("closed", "open"), default=None, dest="spy",
                      help="sample each bot with py-spy (a dev dependency) during that phase "
                           "(bench/out/inbound-<db>-<bot>-<phase>.pyspy, collapsed stacks)")
    options = args.parse_args()
    problem = asyncio.run(redis_unreachable(options.redis_url))
    if problem:
        sys.exit(f"the peer needs Redis at {options.redis_url}: {problem}")
    residents_n = options.residents or (100 if options.quick else 1000)
    open_seconds = options.open_seconds or (5.0 if options.quick else 60.0)
    for backend in common.backends(options.db):
        runs = [asyncio.run(run_backend(backend, residents_n, open_seconds, options.redis_url,
                                        order=BOTS if n % 2 == 0 else BOTS[::-1], spy_phase=options.spy))
                for n in range(max(1, options.repeat))]
        common.write_result(f"inbound-{backend}", repeated(runs))


if __name__ == "__main__":
    main()
