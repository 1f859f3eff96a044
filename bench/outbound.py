"""Outbound delivery: a backlog of notifications drained by the bot's real OutboxSender through a
sandbox that enforces Telegram's flood limits (issue 5, benchmark 2).

    uv run python -m bench.outbound [--quick] [--db sqlite|postgresql|both] [--profile]
        [--order shuffled|by-chat] [--groups N] [--per-group N] [--messages N] [--workers N] [--margin S]

Results: bench/out/outbound-<db>[-quick].json (other shapes add -by-chat / -custom to the name).

Setup (all in one process): a fresh, migrated database; an in-process SandboxServer with Telegram's
limits switched on (1/s per chat with a burst of 3, 20/min per group, 30/s overall); the workload
queued in the outbox the way the handlers queue it (a unit of work, `uow.outbox.add`, a few
messages per transaction); then the real OutboxSender (bot.delivery, with TELEGRAM_LIMITS and the
runtime's default batch and workers) drains the backlog.

Workload (full): 10,000 messages, 8,000 to 2,000 private chats (4 each) and 2,000 to 20 groups
(100 each), in a seeded random order. 100 per group keeps the groups close to their own limit
over the time the global limit needs anyway (20 at once, then one per 3 s: 240 s against 332 s;
about 0.30/s each while the run lasts, 0.33/s allowed), so both limits are in play.
--quick: 1,000 messages, 200 private chats (4.7 each), 2 groups (25 each).

"Allowed time" is a lower bound on the wall time of that exact workload under the limits: every
bucket (the whole bot, each group, each chat) is a leaky bucket of depth D draining r per second,
so its N messages need at least (N - D) / r seconds from the first to the last; the bound is the
largest of these. ratio = allowed / actual (1.0 would be a perfect sender), where actual runs from
the sender's start to the sandbox accepting the last message. The bound ignores the queue order;
the sender serves chats oldest first, so with --order by-chat a long chat queued late (a group's
25 messages back to back at 1/s) can end the run well after the bound however fast the rest goes.

The sandbox shares the process: `api_latency` (each Bot API call, sandbox handling included) and
`cpu_share_of_one_core` (the whole process) show whether it, or anything else, is the bottleneck.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import resource
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.methods import TelegramMethod

from bench.common import backends, fresh_database, latency_summary_ms, parser, rss_mb, write_result
from bot.delivery import TELEGRAM_LIMITS, OutboxSender, RateLimits
from gridcore.messages import Button, OutgoingMessage
from sandbox import SandboxServer
from sandbox.state import Sandbox
from storage.db import create_engine, migrate
from storage.outbox_store import OutboxStore, PendingMessage
from storage.uow import uow_factory

TOKEN = "7000000002:bench_outbound_token"
FIRST_USER = 7_100_000
FIRST_GROUP = -1_002_000_000_000
PER_TRANSACTION = 5  # an update's transaction queues a handful of notifications


@dataclass(frozen=True)
class Workload:
    messages: int
    chats: int  # private chats
    groups: int
    per_group: int  # messages to each group
    seed: int = 5
    order: str = "shuffled"  # or "by-chat": each chat's messages one after the other in the queue

    @property
    def group_messages(self) -> int:
        return self.groups * self.per_group

    @property
    def private_messages(self) -> int:
        return self.messages - self.group_messages

    def build(self) -> list[int]:
        """The chat of each message, in queue order: private messages spread evenly over the
        chats, group messages `per_group` each, the whole shuffled (seeded) — or, "by-chat", the
        chats shuffled and each chat's messages queued back to back (a burst per chat)."""
        chats = [FIRST_USER + i % self.chats for i in range(self.private_messages)]
        chats += [FIRST_GROUP - g for g in range(self.groups) for _ in range(self.per_group)]
        rng = random.Random(self.seed)
        if self.order == "by-chat":
            count = Counter(chats)
            distinct = sorted(count)
            rng.shuffle(distinct)
            return [chat for chat in distinct for _ in range(count[chat])]
        rng.shuffle(chats)
        return chats


FULL = Workload(messages=10_000, chats=2_000, groups=20, per_group=100)
QUICK = Workload(messages=1_000, chats=200, groups=2, per_group=25)


def allowed_time(order: Sequence[int], limits: RateLimits) -> dict[str, float]:
    """A lower bound on the wall time (first send to last) for these messages under `limits`."""

    def need(count: int, depth: float, rate: float) -> float:
        return max(0.0, (count - depth) / rate)

    per_chat = Counter(order)
    chat = max(need(n, limits.per_chat_burst, limits.per_chat_per_s) for n in per_chat.values())
    group = max((need(n, limits.per_group_per_min, limits.per_group_per_min / 60)
                 for c, n in per_chat.items() if c < 0), default=0.0)
    overall = need(len(order), limits.global_per_s, limits.global_per_s)
    bounds = {"global_s": overall, "busiest_group_s": group, "busiest_chat_s": chat}
    return {**{k: round(v, 2) for k, v in bounds.items()}, "allowed_time_s": round(max(bounds.values()), 2)}


class CountingStore(OutboxStore):
    """The real store, counting what the sender does with it (and when it is finished)."""

    def __init__(self, *args: Any, expected: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.expected = expected
        self.sent = 0
        self.failures: Counter[str] = Counter()
        self.given_up = 0
        self.claims = 0
        self.claimed_rows = 0
        self.claim_seconds: list[float] = []
        self.done = asyncio.Event()

    async def claim(self, limit: int = 20) -> list[PendingMessage]:
        started = time.perf_counter()
        rows = await super().claim(limit)
        self.claim_seconds.append(time.perf_counter() - started)
        self.claims += 1
        self.claimed_rows += len(rows)
        return rows

    async def mark_sent(self, id: int, message_ids: Sequence[int]) -> None:
        await super().mark_sent(id, message_ids)
        self.sent += 1
        self._check()

    async def mark_failed(self, id: int, error: str, permanent: bool, *,
                          retry_after: float | None = None) -> None:
        await super().mark_failed(id, error, permanent, retry_after=retry_after)
        kind = ("429" if "Too Many Requests" in error else "paused" if "held back" in error else
                "other")
        self.failures[kind] += 1
        if permanent:
            self.given_up += 1
            self._check()

    def _check(self) -> None:
        if self.sent + self.given_up >= self.expected:
            self.done.set()


class TimedSession(AiohttpSession):
    """aiogram's session, timing every Bot API call (sandbox handling plus the way there and back)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.latencies: list[float] = []

    async def make_request(self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None) -> Any:
        started = time.perf_counter()
        try:
            return await super().make_request(bot, method, timeout)
        finally:
            self.latencies.append(time.perf_counter() - started)


def text_of(chat: int, n: int) -> str:
    return f"【XK-{abs(chat) % 10_000:04d}】您反映的问题有新进展（第 {n} 条通知），请查看工单详情。"


def populate(sandbox: Sandbox, workload: Workload) -> None:
    """The chats exist: every resident has started the bot, the bot is in every group."""
    for i in range(workload.chats):
        sandbox.private_chat(sandbox.add_user(FIRST_USER + i, f"居民{i}"))
    for g in range(workload.groups):
        sandbox.create_group(f"{g + 1}号网格工作群", [FIRST_USER + g], chat_id=FIRST_GROUP - g)


async def enqueue(engine: Any, order: Sequence[int]) -> float:
    """Queue the messages as handlers do, a few per unit of work; returns the seconds it took."""
    make_uow = uow_factory(engine)
    seen: Counter[int] = Counter()
    started = time.perf_counter()
    for start in range(0, len(order), PER_TRANSACTION):
        async with make_uow() as uow:
            for chat in order[start : start + PER_TRANSACTION]:
                buttons = ((Button("查看详情", f"t:{seen[chat]}"),),) if chat > 0 else ()
                await uow.outbox.add(OutgoingMessage(chat_id=chat, text=text_of(chat, seen[chat]),
                                                     buttons=buttons))
                seen[chat] += 1
            await uow.commit()
    return time.perf_counter() - started


def out_of_order(sandbox: Sandbox, order: Sequence[int]) -> int:
    """Chats whose messages did not arrive exactly once each, in the order they were queued."""
    expected = Counter(order)
    wrong = 0
    for chat, count in expected.items():
        stored = sorted(sandbox.chats[chat].messages.values(), key=lambda m: m.message_id)
        texts = [m.data.get("text") for m in stored if m.from_bot]
        wrong += texts != [text_of(chat, n) for n in range(count)]
    return wrong


@contextlib.asynccontextmanager
async def profiling(enabled: bool, name: str) -> AsyncIterator[None]:
    if not enabled:
        yield
        return
    try:
        from pyinstrument import Profiler  # a dev dependency, only for --profile
    except ImportError:
        raise SystemExit("--profile needs pyinstrument: uv add --dev pyinstrument") from None

    from bench.common import OUT_DIR

    profiler = Profiler(async_mode="disabled")
    profiler.start()
    try:
        yield
    finally:
        profiler.stop()
        OUT_DIR.mkdir(exist_ok=True)
        (OUT_DIR / f"{name}.profile.txt").write_text(profiler.output_text(unicode=True, show_all=False))
        (OUT_DIR / f"{name}.profile.html").write_text(profiler.output_html())


async def run(backend: str, workload: Workload, *, profile: bool = False,
              limits: RateLimits = TELEGRAM_LIMITS, workers: int | None = None) -> dict[str, Any]:
    order = workload.build()
    bound = allowed_time(order, limits)
    sandbox = Sandbox(token=TOKEN)
    populate(sandbox, workload)
    sandbox.traffic.set_limits({"enabled": True, "per_chat_per_s": limits.per_chat_per_s,
                                "per_chat_burst": limits.per_chat_burst,
                                "per_group_per_min": limits.per_group_per_min,
                                "global_per_s": limits.global_per_s})
    accepted: list[float] = []

    async def record(method: str, params: dict[str, Any]) -> None:  # runs after the limits admitted it
        if method == "sendmessage":
            accepted.append(time.monotonic())

    sandbox.api_hooks.append(record)
    async with fresh_database(backend) as url, SandboxServer(sandbox=sandbox) as server:
        engine = create_engine(url)
        try:
            await migrate(engine)
            enqueue_s = await enqueue(engine, order)
            store = CountingStore(engine, expected=len(order))
            session = TimedSession(api=TelegramAPIServer.from_base(server.base_url))
            bot = Bot(TOKEN, session=session,
                      default=DefaultBotProperties(parse_mode="HTML", link_preview_is_disabled=True))
            # the runtime's defaults otherwise
            sender = OutboxSender(bot, store, limits=limits, **({"workers": workers} if workers else {}))
            cpu_before = resource.getrusage(resource.RUSAGE_SELF)
            async with profiling(profile, f"outbound-{backend}"):
                started = time.monotonic()
                task = asyncio.create_task(sender.run())
                try:
                    await asyncio.wait_for(store.done.wait(), timeout=60 + 3 * bound["allowed_time_s"])
                finally:
                    finished = time.monotonic()
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            cpu_after = resource.getrusage(resource.RUSAGE_SELF)
            await session.close()
        finally:
            await engine.dispose()
    actual = (accepted[-1] if accepted else finished) - started
    counters = sandbox.traffic.counters
    cpu_s = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    return {
        "backend": backend,
        "setup": "sender, sandbox server and database client in one process (one event loop); "
                 "backlog queued before the sender starts",
        "workload": {**asdict(workload), "private_messages": workload.private_messages,
                     "group_messages": workload.group_messages,
                     "split": f"{workload.private_messages} private / {workload.group_messages} group"},
        "limits": asdict(limits),
        **bound,
        "actual_time_s": round(actual, 2),
        "ratio": round(bound["allowed_time_s"] / actual, 3),
        "msgs_per_s": round(len(accepted) / actual, 2),
        "delivered": store.sent,
        "given_up": store.given_up,
        "out_of_order_chats": out_of_order(sandbox, order),
        "sandbox_429": counters["limited_429"],
        "sandbox_429_by_bucket": {k: counters[f"limited_{k}"] for k in ("chat", "group", "global")},
        "sandbox_injected_429": counters["injected_429"],
        "sandbox_requests": counters["requests"],
        "sender_retries": dict(store.failures),
        "claims": store.claims,
        "rows_per_claim": round(store.claimed_rows / max(1, store.claims), 2),
        "claim_latency": latency_summary_ms(store.claim_seconds),
        "api_latency": latency_summary_ms(session.latencies),
        "enqueue_s": round(enqueue_s, 2),
        "cpu_s": round(cpu_s, 2),
        "cpu_share_of_one_core": round(cpu_s / actual, 3),
        "rss_mb": round(rss_mb(), 1),
        "tail_s": round(finished - (accepted[-1] if accepted else finished), 2),
    }


def main() -> None:
    args = parser("Outbound delivery under Telegram's flood limits (issue 5, benchmark 2)")
    args.add_argument("--profile", action="store_true", help="pyinstrument the sender run")
    args.add_argument("--messages", type=int, help="override the workload's size (keeps its shape)")
    args.add_argument("--order", choices=["shuffled", "by-chat"], default="shuffled",
                      help="queue order: shuffled, or each chat's messages back to back")
    args.add_argument("--margin", type=float, help="the sender's margin_s (default: TELEGRAM_LIMITS')")
    args.add_argument("--workers", type=int, help="the sender's workers (default: OutboxSender's)")
    args.add_argument("--groups", type=int, help="override the number of groups")
    args.add_argument("--per-group", type=int, help="override the messages per group")
    options = args.parse_args()
    workload = replace(QUICK if options.quick else FULL, order=options.order)
    if options.messages:
        scale = options.messages / workload.messages
        workload = replace(workload, messages=options.messages, chats=max(1, round(workload.chats * scale)),
                           per_group=round(workload.per_group * scale))
    if options.groups is not None:
        workload = replace(workload, groups=options.groups)
    if options.per_group is not None:
        workload = replace(workload, per_group=options.per_group)
    for backend in backends(options.db):
        limits = TELEGRAM_LIMITS
        if options.margin is not None:
            limits = replace(limits, margin_s=options.margin)
        result = asyncio.run(run(backend, workload, profile=options.profile, limits=limits,
                                 workers=options.workers))
        custom = options.messages or options.groups is not None or options.per_group is not None
        custom = custom or options.margin is not None or options.workers

        suffix = ("-quick" if options.quick else "") + ("-by-chat" if options.order == "by-chat" else "")
        suffix += "-custom" if custom else ""
        write_result(f"outbound-{backend}{suffix}", result)


if __name__ == "__main__":
    main()
