"""The residents of bench.inbound: they file reports through a bot, acting on the sandbox in-process.

They act on the Sandbox object (sandbox.actions, as the control API would), so their own HTTP is not part
of what is measured; the bot (gridbot or bench.peer_bot, its own process) reaches the sandbox over HTTP.
A resident answers each question by its buttons' labels (`choose`), so every bot that asks the report
dialog's questions with gridbot's labels is driven by the same script.

Latency of one update: from the sandbox queueing it (Sandbox.enqueued_at) to the first bot message stored
in that chat after it (StoredMessage.stored_at). `waited` is the part of it before the bot's getUpdates
first handed the update out (Sandbox.fetched_at): time spent behind earlier updates, not on this one.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bench import common
from sandbox import actions
from sandbox.models import StoredMessage
from sandbox.server import Sandbox

RESIDENT_BASE = 100_000
OPEN_LOOP_BASE = 500_000
FILED = "已提交！工单号"
MAX_STEPS = 20
REPLY_TIMEOUT = 120.0
SLOWEST = 10  # the slowest updates listed with their time, in every summary

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


async def report_dialog(driver: Driver, user_id: int, text: str, rng: random.Random,
                        samples: list[Sample], step: Step | None = None) -> int:
    """One resident files one report; returns the number of updates it took. `step` (open loop) is
    awaited before each input: it hands out the arrival slot."""
    action: tuple[str, str] = ("text", text)
    question: StoredMessage | None = None
    for sent in range(1, MAX_STEPS + 1):
        if step is not None:
            await step()
        update_id = driver.act(user_id, action, question)
        sample, first = await driver.reply(user_id, update_id, action[0])
        samples.append(sample)
        question = await driver.question(user_id, first)
        if FILED in question.data.get("text", ""):
            return sent
        action = choose(question, rng)
    raise RuntimeError(f"resident {user_id} did not file within {MAX_STEPS} steps")


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


async def closed_loop(driver: Driver, residents: int) -> dict[str, Any]:
    """Every resident files a whole report at once, each input sent the moment the previous question
    arrived (no think time): the bot's saturation throughput."""
    samples: list[Sample] = []
    steps = await asyncio.gather(*(report_dialog(driver, RESIDENT_BASE + i, opening(i), random.Random(i),
                                                 samples) for i in range(residents)))
    return summarize(samples, residents=residents, dialogs_completed=len(steps),
                     updates_per_dialog=round(len(samples) / max(1, len(steps)), 2))


async def open_loop(driver: Driver, seconds: float, rate: float, pool: int = 100) -> dict[str, Any]:
    """Arrivals at `rate`/s: slot k opens at start + k/rate and goes to a resident waiting to act (one who
    filed is replaced by a new one). `slots_without_a_ready_resident` counts slots that found none ready:
    the bot not keeping up."""
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
            await report_dialog(driver, user_id, opening(user_id), random.Random(user_id), samples, step)

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
    The closed loop leaves messages queued behind it (copies of filed tickets to staff and partners): the
    open loop measures the steady state, not their delivery."""
    start = time.monotonic()
    while time.monotonic() - start < limit:
        seen = sandbox.version
        await asyncio.sleep(quiet)
        if sandbox.version == seen:
            break
    return round(time.monotonic() - start, 2)
