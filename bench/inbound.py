"""Benchmark 1 (issue 5): inbound throughput and reply latency of the real bot, against a bare echo bot.

    uv run python -m bench.inbound [--quick] [--db sqlite|postgresql|both] [--residents N] [--profile]
                                   [--py-spy closed|open]

Set-up. This process hosts the sandbox (SandboxServer, Telegram's limits and faults off) and plays the
residents; the bot is its own process (bench.harness.BotProcess, `gridbot run`) long-polling the
sandbox over HTTP, on a fresh database with examples/roster.yaml. The residents act on the Sandbox
object in-process (sandbox.actions, as the control API would), so the driver's own HTTP is not part of
what is measured; everything the bot does (getUpdates, sendMessage, editMessageReplyMarkup,
answerCallbackQuery) goes over HTTP. The bot runs with OUTBOX_RATE_LIMITS=off: with Telegram's
pacing (30 messages/s overall, 1/s per chat) the outbox would cap every run at 30 replies/s whatever
the inbound path costs, and this benchmark measures the inbound path (outbound pacing is benchmark 2).

Latency of one update: from the sandbox queueing it (Sandbox.enqueued_at) to the first bot message
stored in that chat after it (StoredMessage.stored_at). Each resident is a distinct private chat.
`latency_before_fetch` is the part of it before the bot's getUpdates first handed the update out
(Sandbox.fetched_at): time spent waiting for the bot to finish earlier batches, not handling this one.

Phases, per backend:
1. closed loop: N residents (ids 100000+i) each file a whole report at once, every one sending its next
   input the moment the previous question arrived (no think time): saturation, updates/s.
2. open loop: once the bot has sent what the closed loop left queued (`settled`), inputs at a fixed
   100 updates/s, each taken by a resident whose question is there (finished residents are replaced by
   new ones), for the p99 ≤ 50 ms target.
3. the same two phases against bench.echo_bot (same residents, same number and kinds of updates:
   texts as texts, presses as presses of the echo's button). Ratio = our updates/s / the echo's.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import random
import signal
import statistics
import sys
import tempfile
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import common
from bench.echo_bot import READY as ECHO_READY
from bench.harness import TOKEN, BotProcess
from bot.cli import read_roster
from bot.sandbox_world import groups_for, personas_for
from sandbox import actions
from sandbox.models import StoredMessage
from sandbox.server import Sandbox, SandboxServer

ROSTER = Path(__file__).resolve().parents[1] / "examples" / "roster.yaml"
RESIDENT_BASE = 100_000
OPEN_LOOP_BASE = 500_000
OFFERED_PER_S = 100.0
FILED = "已提交！工单号"
MAX_STEPS = 20
REPLY_TIMEOUT = 120.0

BUILDINGS = [f"{n}号楼" for n in range(1, 29)] + ["老干部楼", "供销社宿舍楼"]
PROBLEMS = ["楼道灯坏了", "门口垃圾桶满了没人清", "楼道里堆放杂物", "电梯按钮坏了好几天", "下水道堵了",
            "楼下路面破损", "门禁坏了进不去", "楼道里有人飞线充电", "保洁好几天不来了", "楼上漏水渗到我家",
            "有陌生人随便进出", "希望能加装休息座椅", "车棚顶漏雨", "井盖松了踩上去响"]
# Which button a resident presses, by its label, first match wins; else a unit, else the first one.
PREFERRED = ("是的", "✅ 确认提交", "实名反映", "没有照片，跳过", "照片发完了", "仍要新建")
AVOID = ("取消", "选其他类别", "修改")


def opening(i: int) -> str:
    """Varied first messages: all buildings, many categories, with and without a unit."""
    building = BUILDINGS[i % len(BUILDINGS)]
    problem = PROBLEMS[(i // len(BUILDINGS) + i) % len(PROBLEMS)]
    unit = "" if i % 3 == 0 or "楼" not in building[-1] else f"{1 + i % 2}单元"
    return f"{building}{unit}{problem}"


SLOWEST = 10  # the slowest updates listed with their time, in every summary


@dataclass
class Sample:
    update_id: int
    kind: str  # "text" or "button"
    queued_at: float
    replied_at: float
    fetched_at: float  # when the bot's getUpdates first got it

    @property
    def latency(self) -> float:
        return self.replied_at - self.queued_at

    @property
    def waited(self) -> float:
        """The part of the latency before the bot fetched the update (it was busy with earlier ones)."""
        return min(self.fetched_at, self.replied_at) - self.queued_at


class Inbox:
    """The bot's messages per chat, as the sandbox stores them (a Sandbox message listener)."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.messages: dict[int, list[StoredMessage]] = defaultdict(list)
        self._events: dict[int, asyncio.Event] = {}
        sandbox.message_listeners.append(self._on_message)

    def close(self) -> None:
        self.sandbox.message_listeners.remove(self._on_message)

    def _on_message(self, message: StoredMessage) -> None:
        if message.from_bot and message.chat_id > 0:
            self.messages[message.chat_id].append(message)
            event = self._events.pop(message.chat_id, None)
            if event is not None:
                event.set()

    async def message(self, chat_id: int, index: int) -> StoredMessage:
        """The chat's index-th bot message (0-based), once it is there."""
        async with asyncio.timeout(REPLY_TIMEOUT):
            while len(self.messages[chat_id]) <= index:
                event = self._events.setdefault(chat_id, asyncio.Event())
                await event.wait()
        return self.messages[chat_id][index]


def buttons(message: StoredMessage) -> list[tuple[str, str]]:
    rows = (message.data.get("reply_markup") or {}).get("inline_keyboard") or []
    return [(b["text"], b.get("callback_data", "")) for row in rows for b in row if b.get("callback_data")]


def choose(message: StoredMessage, rng: random.Random) -> tuple[str, str]:
    """The resident's answer to a question: ("text", words) or ("button", callback data)."""
    text = message.data.get("text", "")
    if "几楼" in text and rng.random() < 0.5:
        return "text", rng.choice(["一楼楼道", "302室门口", "顶楼", "地下室入口"])
    offered = buttons(message)
    for label in PREFERRED:
        for shown, data in offered:
            if shown == label:
                return "button", data
    units = [data for shown, data in offered if shown.endswith("单元") and "不在" not in shown]
    if units:
        return "button", rng.choice(units)
    usable = [data for shown, data in offered if shown not in AVOID]
    if not usable:
        raise RuntimeError(f"no way forward from: {text[:200]!r}")
    return "button", usable[0]


class Driver:
    """Residents acting on the sandbox in-process; each step returns when its reply arrived."""

    def __init__(self, sandbox: Sandbox, inbox: Inbox) -> None:
        self.sandbox, self.inbox = sandbox, inbox
        self.seen: dict[int, int] = defaultdict(int)  # chat -> bot messages read so far

    def act(self, user_id: int, action: tuple[str, str], message: StoredMessage | None) -> int:
        kind, value = action
        if kind == "text":
            return actions.send_text(self.sandbox, user_id, value)["update_id"]
        assert message is not None
        return actions.press(self.sandbox, user_id, message.message_id, value)["update_id"]

    async def reply(self, user_id: int, update_id: int, kind: str) -> tuple[Sample, StoredMessage]:
        """Wait for the first bot message after the update; the sample, and that message."""
        first = await self.inbox.message(user_id, self.seen[user_id])
        self.seen[user_id] += 1
        sandbox = self.sandbox
        fetched_at = sandbox.fetched_at.get(update_id, first.stored_at)
        return Sample(update_id, kind, sandbox.enqueued_at[update_id], first.stored_at, fetched_at), first

    async def question(self, user_id: int, message: StoredMessage) -> StoredMessage:
        """The message to answer next: the first one from `message` on with buttons (or the filing)."""
        while not buttons(message) and FILED not in message.data.get("text", ""):
            message = await self.inbox.message(user_id, self.seen[user_id])
            self.seen[user_id] += 1
        return message


Step = Callable[[], Awaitable[None]]


async def gridbot_dialog(driver: Driver, user_id: int, text: str, rng: random.Random,
                         samples: list[Sample], step: Step | None = None) -> list[str]:
    """One resident files one report; returns the kinds of the updates sent. `step` (open loop) is
    awaited before each input: it hands out the arrival slot."""
    action: tuple[str, str] = ("text", text)
    question: StoredMessage | None = None
    kinds: list[str] = []
    for _ in range(MAX_STEPS):
        if step is not None:
            await step()
        update_id = driver.act(user_id, action, question)
        kinds.append(action[0])
        sample, first = await driver.reply(user_id, update_id, action[0])
        samples.append(sample)
        question = await driver.question(user_id, first)
        if FILED in question.data.get("text", ""):
            return kinds
        action = choose(question, rng)
    raise RuntimeError(f"resident {user_id} did not file within {MAX_STEPS} steps")


async def echo_dialog(driver: Driver, user_id: int, text: str, kinds: list[str], samples: list[Sample],
                      step: Callable[[], Awaitable[None]] | None = None) -> list[str]:
    """The same number and kinds of updates against the echo bot (a press presses the echo's button)."""
    last: StoredMessage | None = None
    for kind in kinds:
        if step is not None:
            await step()
        if kind == "text" or last is None:
            kind = "text"
            update_id = driver.act(user_id, ("text", text if last is None else "一楼楼道"), None)
        else:
            update_id = driver.act(user_id, ("button", buttons(last)[0][1]), last)
        sample, last = await driver.reply(user_id, update_id, kind)
        samples.append(sample)
    return kinds


def cpu_seconds(pid: int | str = "self") -> float:
    """User + system CPU time of a process (all its threads) so far; 0 where /proc is missing."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def database_server_cpu_seconds() -> float:
    """CPU time so far of every PostgreSQL server process on this machine (0 without any): on a machine
    of two cores, the server's share is CPU the bot and the sandbox cannot have."""
    total = 0.0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/comm", encoding="utf-8") as comm:
                if comm.read().strip() != "postgres":
                    continue
        except OSError:
            continue
        total += cpu_seconds(entry.name)
    return total


@contextlib.asynccontextmanager
async def sampled(pid: int, output: Path | None) -> AsyncIterator[None]:
    """py-spy samples the process while the block runs (collapsed stacks in `output`); None: not at all.
    Sampling from outside, unlike pyinstrument's hook in the process, barely slows the bot."""
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


async def with_cpu(bot: BotProcess, work: Awaitable[dict[str, Any]],
                   spy: Path | None = None) -> dict[str, Any]:
    """The phase's result plus the CPU time per update of the bot and of this process (the sandbox and
    the residents): unlike wall time, barely moved by other load on the machine."""
    # This process (the sandbox, Telegram's stand-in) holds every message stored so far: a full collection
    # walked them all for 160-340 ms, and the updates in flight then looked that much slower (seen in the
    # PostgreSQL open loop). Its collector stays off while a phase is measured.
    gc.collect()
    gc.disable()
    bot_before, own_before = cpu_seconds(bot.pid), cpu_seconds()
    server_before = database_server_cpu_seconds()
    try:
        async with sampled(bot.pid, spy):
            result = await work
    finally:
        gc.enable()
    updates = max(1, result.get("updates", 0))
    result["bot_cpu_ms_per_update"] = round((cpu_seconds(bot.pid) - bot_before) * 1000 / updates, 2)
    result["sandbox_and_driver_cpu_ms_per_update"] = round((cpu_seconds() - own_before) * 1000 / updates, 2)
    result["database_server_cpu_ms_per_update"] = round(
        (database_server_cpu_seconds() - server_before) * 1000 / updates, 2)
    return result


def summarize(samples: list[Sample], **extra: Any) -> dict[str, Any]:
    if not samples:
        return {"updates": 0, **extra}
    start = min(s.queued_at for s in samples)
    end = max(s.replied_at for s in samples)
    seconds = end - start
    by_kind = {kind: common.latency_summary_ms([s.latency for s in samples if s.kind == kind])
               for kind in ("text", "button")}
    slowest = sorted(samples, key=lambda s: s.latency, reverse=True)[:SLOWEST]
    return {"updates": len(samples), "seconds": round(seconds, 3),
            "updates_per_s": round(len(samples) / seconds, 1) if seconds > 0 else None,
            "latency": common.latency_summary_ms([s.latency for s in samples]), "latency_by_kind": by_kind,
            "latency_before_fetch": common.latency_summary_ms([s.waited for s in samples]),
            # when the slowest updates were queued (s from the start), their latency and the part of it
            # before the bot fetched them (ms): outliers bunched in time point at a pause, not a query
            "slowest": [[round(s.queued_at - start, 3), round(s.latency * 1000, 1), round(s.waited * 1000, 1)]
                        for s in slowest],
            **extra}


async def closed_loop(driver: Driver, residents: int, dialog: Callable[..., Awaitable[list[str]]],
                      scripts: dict[int, list[str]] | None, bot: BotProcess, spy: Path | None = None
                      ) -> tuple[dict[str, Any], dict[int, list[str]]]:
    samples: list[Sample] = []
    done: dict[int, list[str]] = {}

    async def one(i: int) -> None:
        user_id = RESIDENT_BASE + i
        if scripts is None:
            done[user_id] = await dialog(driver, user_id, opening(i), random.Random(i), samples)
        else:
            done[user_id] = await dialog(driver, user_id, opening(i), scripts[user_id], samples)

    async def run() -> dict[str, Any]:
        await asyncio.gather(*(one(i) for i in range(residents)))
        return summarize(samples, residents=residents, dialogs_completed=len(done),
                         updates_per_dialog=round(len(samples) / max(1, len(done)), 2))

    return await with_cpu(bot, run(), spy), done


async def open_loop(driver: Driver, seconds: float, dialog_for: Callable[[int, Callable[[], Awaitable[None]],
                                                                           list[Sample]], Awaitable[Any]],
                    rate: float = OFFERED_PER_S, pool: int = 100) -> dict[str, Any]:
    """Arrivals at `rate`/s: slot k opens at start + k/rate and goes to a resident waiting to act.
    `late` counts slots that found no resident ready (the bot not keeping up)."""
    samples: list[Sample] = []
    total = int(seconds * rate)
    waiting: deque[asyncio.Future[None]] = deque()
    handed = 0
    late = 0
    loop = asyncio.get_running_loop()

    async def step() -> None:
        future: asyncio.Future[None] = loop.create_future()
        waiting.append(future)
        await future

    async def resident(n: int) -> None:
        user_id = OPEN_LOOP_BASE + n
        with contextlib.suppress(asyncio.CancelledError):
            await dialog_for(user_id, step, samples)

    tasks: set[asyncio.Task[None]] = set()
    next_id = 0

    def spawn() -> None:
        nonlocal next_id
        task = asyncio.create_task(resident(next_id))
        next_id += 1
        tasks.add(task)
        task.add_done_callback(lambda t: (tasks.discard(t), spawn() if handed < total else None))

    for _ in range(pool):
        spawn()
    start = time.monotonic()
    lag = 0.0  # how late this process handed a slot out (its own pauses: the machine's, or its own)
    while handed < total:
        due = start + handed / rate
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        lag = max(lag, time.monotonic() - due)
        if not waiting:
            late += 1
            while not waiting:
                await asyncio.sleep(0.001)
        waiting.popleft().set_result(None)
        handed += 1
    # let the last replies arrive, then stop the residents that wait for their next slot
    deadline = time.monotonic() + REPLY_TIMEOUT
    while len(samples) < total and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    for task in list(tasks):
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return summarize(samples, offered_per_s=rate, slots_without_a_ready_resident=late,
                     dialogs_started=next_id, driver_max_lag_ms=round(lag * 1000, 1))


async def settled(sandbox: Sandbox, quiet: float = 0.5, limit: float = 120.0) -> float:
    """Wait until the bot has sent and edited nothing for `quiet` seconds; returns the seconds waited.
    The closed loop leaves messages queued behind it (a partner's chat gets a copy of every 共办 ticket,
    and one chat's messages go out one at a time): the open loop measures the steady state, not their
    delivery."""
    start = time.monotonic()
    while time.monotonic() - start < limit:
        seen = sandbox.version
        await asyncio.sleep(quiet)
        if sandbox.version == seen:
            break
    return round(time.monotonic() - start, 2)


async def measure(server: SandboxServer, bot: BotProcess, residents: int, open_seconds: float, *,
                  echo_scripts: dict[int, list[str]] | None, spy: dict[str, Path] | None = None
                  ) -> tuple[dict[str, Any], dict[int, list[str]]]:
    """Closed then open loop against a running bot (ours when echo_scripts is None, else the echo);
    `spy`: phase ("closed", "open") -> where py-spy's samples of the bot in that phase go."""
    spy = spy or {}
    sandbox = server.sandbox
    sandbox.reset()
    inbox = Inbox(sandbox)
    driver = Driver(sandbox, inbox)
    try:
        if echo_scripts is None:
            closed, scripts = await closed_loop(driver, residents, gridbot_dialog, None, bot,
                                                spy.get("closed"))

            async def dialog_for(user_id: int, step: Callable[[], Awaitable[None]],
                                 samples: list[Sample]) -> Any:
                return await gridbot_dialog(driver, user_id, opening(user_id), random.Random(user_id),
                                            samples, step)
        else:
            closed, scripts = await closed_loop(driver, residents, echo_dialog, echo_scripts, bot)
            pattern = next(iter(echo_scripts.values()))

            async def dialog_for(user_id: int, step: Callable[[], Awaitable[None]],
                                 samples: list[Sample]) -> Any:
                return await echo_dialog(driver, user_id, opening(user_id), pattern, samples, step)

        # Counted from sandbox.reset() above to the closed loop's end (defining dialog_for sends nothing).
        closed["bot_api_requests_per_update"] = round(
            sandbox.traffic.counters["requests"] / max(1, closed["updates"]), 2)
        settle_seconds = await settled(sandbox)
        requests_before = sandbox.traffic.counters["requests"]
        opened = await with_cpu(bot, open_loop(driver, open_seconds, dialog_for), spy.get("open"))
        opened["waited_for_the_closed_loops_messages_s"] = settle_seconds
        opened["bot_api_requests_per_update"] = round(
            (sandbox.traffic.counters["requests"] - requests_before) / max(1, opened["updates"]), 2)
    finally:
        inbox.close()
    result = {"closed_loop": closed, "open_loop": opened, "rss_mb": round(common.rss_mb(bot.pid), 1),
              "peak_rss_mb": round(common.rss_mb(bot.pid, peak=True), 1)}
    return result, scripts


async def render_profile(session: Path) -> None:
    """The profile as text (call tree) and as pstats (self time per function), beside the session."""
    for renderer, suffix in (("text", ".txt"), ("pstats", ".pstats")):
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "pyinstrument", "--load", str(session), "-r", renderer,
            "-o", str(session.with_suffix(suffix)))
        await process.wait()


async def run_backend(backend: str, residents: int, open_seconds: float, profile: bool,
                      spy_phase: str | None = None) -> dict[str, Any]:
    community = read_roster(ROSTER)
    sandbox = Sandbox(personas_for(community), groups=groups_for(community), personas_started=True)
    async with common.fresh_database(backend) as url, SandboxServer(sandbox=sandbox) as server:
        folder = Path(tempfile.mkdtemp(prefix="gridbot-inbound-"))
        print(f"[{backend}] bot logs in {folder}", flush=True)
        profile_path = common.OUT_DIR / f"inbound-{backend}-profile.pyisession"
        command = None
        if profile:
            common.OUT_DIR.mkdir(exist_ok=True)
            command = [sys.executable, "-m", "pyinstrument", "-r", "pyisession", "-o", str(profile_path),
                       "-m", "bot.cli", "run"]
        ours = BotProcess(server.base_url, url, log_path=folder / "bot.log", command=command,
                          env={"OUTBOX_RATE_LIMITS": "off"})
        await ours.start()
        try:
            print(f"[{backend}] gridbot: {residents} residents, closed loop, then a "
                  f"{open_seconds:.0f}s open loop", flush=True)
            spy = {spy_phase: common.OUT_DIR / f"inbound-{backend}-{spy_phase}.pyspy"} if spy_phase else None
            gridbot, scripts = await measure(server, ours, residents, open_seconds, echo_scripts=None,
                                             spy=spy)
        finally:
            await ours.stop(timeout=180 if profile else 15)  # pyinstrument writes its report at exit
        if profile:
            await render_profile(profile_path)
        sandbox.drop_pending()
        echo = BotProcess(server.base_url, url, log_path=folder / "echo.log", token=TOKEN,
                          command=[sys.executable, "-m", "bench.echo_bot"], ready_marker=ECHO_READY)
        await echo.start()
        try:
            print(f"[{backend}] echo bot: the same updates", flush=True)
            echo_result, _ = await measure(server, echo, residents, open_seconds, echo_scripts=scripts)
        finally:
            await echo.stop()
    ours_rate = gridbot["closed_loop"]["updates_per_s"]
    echo_rate = echo_result["closed_loop"]["updates_per_s"]
    ratio = round(ours_rate / echo_rate, 3) if ours_rate and echo_rate else None
    p99 = gridbot["open_loop"]["latency"]["p99_ms"]
    return {
        "backend": backend,
        "residents": residents,
        "set_up": {"driver": "in-process Sandbox actions (no HTTP on the resident side); the bot polls "
                             "the sandbox over HTTP from its own process",
                   "sandbox_limits": "off", "bot_outbox_rate_limits": "off (OUTBOX_RATE_LIMITS=off)",
                   "profiled": profile, "latency": "sandbox enqueue -> first bot message stored in the chat"},
        "gridbot": gridbot,
        "echo_bot": echo_result,
        "throughput_ratio_vs_echo": ratio,
        "targets": {"ratio_at_least_0.6": ratio is not None and ratio >= 0.6,
                    "open_loop_p99_at_most_50ms": p99 <= 50,
                    "open_loop_p99_ms": p99},
        "profile": str(profile_path) if profile else None,
    }


def main() -> None:
    args = common.parser(__doc__.splitlines()[0])
    args.add_argument("--residents", type=int, default=None, help="residents in the closed loop "
                      "(default 1000; 100 with --quick)")
    args.add_argument("--open-seconds", type=float, default=None,
                      help="length of the 100 updates/s open loop (default 30; 3 with --quick)")
    args.add_argument("--profile", action="store_true",
                      help="run the bot under pyinstrument (bench/out/inbound-<db>-profile.txt); "
                           "its numbers then include the profiler's overhead")
    args.add_argument("--py-spy", choices=("closed", "open"), default=None, dest="spy",
                      help="sample the bot with py-spy (a dev dependency) during that phase "
                           "(bench/out/inbound-<db>-<phase>.pyspy, collapsed stacks)")
    args.add_argument("--repeat", type=int, default=1,
                      help="whole runs per database (fresh database, bot and echo bot each time); the result "
                           "then also gives each run's ratio and their median: the machine's speed drifts "
                           "between the two bots' phases of one run")
    options = args.parse_args()
    residents = options.residents or (100 if options.quick else 1000)
    open_seconds = options.open_seconds or (3.0 if options.quick else 30.0)
    for backend in common.backends(options.db):
        runs = [asyncio.run(run_backend(backend, residents, open_seconds, options.profile, options.spy))
                for _ in range(max(1, options.repeat))]
        common.write_result(f"inbound-{backend}" + ("-profiled" if options.profile else ""), repeated(runs))


def repeated(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One run's result as it is; several: the last one's, with every run's figures and the medians."""
    if len(runs) == 1:
        return runs[0]
    ratios = [run["throughput_ratio_vs_echo"] for run in runs]
    p99s = [run["gridbot"]["open_loop"]["latency"]["p99_ms"] for run in runs]
    known = [ratio for ratio in ratios if ratio is not None]
    median_ratio = statistics.median(known) if known else None
    return {
        **runs[-1],
        "runs": [{"updates_per_s": run["gridbot"]["closed_loop"]["updates_per_s"],
                  "bot_cpu_ms_per_update": run["gridbot"]["closed_loop"]["bot_cpu_ms_per_update"],
                  "echo_updates_per_s": run["echo_bot"]["closed_loop"]["updates_per_s"],
                  "echo_cpu_ms_per_update": run["echo_bot"]["closed_loop"]["bot_cpu_ms_per_update"],
                  "throughput_ratio_vs_echo": ratio, "open_loop_p99_ms": p99,
                  "open_loop_slowest": run["gridbot"]["open_loop"].get("slowest"),
                  "open_loop_driver_max_lag_ms": run["gridbot"]["open_loop"].get("driver_max_lag_ms")}
                 for run, ratio, p99 in zip(runs, ratios, p99s, strict=True)],
        "median_throughput_ratio_vs_echo": median_ratio,
        "targets": {"median_ratio_at_least_0.6": median_ratio is not None and median_ratio >= 0.6,
                    "open_loop_p99_at_most_50ms_in_every_run": max(p99s) <= 50,
                    "open_loop_p99_ms": max(p99s)},
    }


if __name__ == "__main__":
    main()
