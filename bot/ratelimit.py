"""Pacing outgoing Bot API calls within Telegram's flood limits, and back-off for retries.

Telegram: about 1 message/s per chat (short bursts tolerated), 20/min per group, about 30/s overall;
beyond that it answers 429 with retry_after. `Pacer` keeps one leaky bucket per chat, one more per
group chat (negative chat id) and one overall (aiolimiter, so that callers take turns in order).
A call that sends a message first waits until its own chat (and group) has room, then waits its
turn overall, and takes room in all of its buckets at that same instant: the moment it is sent.
(Taking the chat's room before a long wait overall would let the next call of that chat go out
too early by that wait: Telegram counts when a message arrives.) Edits take room only with
`count_edits` (Telegram documents its limits for sending; the sandbox counts edits only when told
to, the same way).

`margin_s` (0.1 in bot.delivery.TELEGRAM_LIMITS, 0 by default): every bucket is kept that many
seconds of its drain short of full (the overall one 27 deep instead of 30), so a call that reaches
Telegram a little late (a busy event loop, a slow connection) does not find its bucket full
because the one before it arrived on time. It costs that much once, at the start of a burst; the
rate is unchanged.

A 429 slows things down further: the chat is paused for retry_after, and when 429s come from
`GLOBAL_429_CHATS` different chats within a second, everything is paused for retry_after (the bot
as a whole is over the limit, e.g. another process shares the token).

The buckets live in one process. Several sender processes share one token, so run them with their
share of `global_per_s` (or accept the occasional 429, which is honoured and retried).
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections import deque
from dataclasses import dataclass

from aiolimiter import AsyncLimiter

__all__ = ["Backoff", "Pacer", "Paused", "RateLimits"]

GLOBAL_429_CHATS = 2
_PRUNE_AT = 4096


@dataclass(frozen=True)
class RateLimits:
    per_chat_per_s: float = 1.0
    per_chat_burst: int = 3
    per_group_per_min: float = 20.0
    global_per_s: float = 30.0
    count_edits: bool = False
    margin_s: float = 0.0  # each bucket kept this many seconds of drain short of full (see above)

    def __post_init__(self) -> None:
        rates = (self.per_chat_per_s, self.per_group_per_min, self.global_per_s)
        if min(rates) <= 0 or self.per_chat_burst < 1 or self.margin_s < 0:
            raise ValueError(f"rate limits must be positive: {self}")

    def depth(self, depth: float, rate: float) -> float:
        """A bucket's usable depth: `depth` less the margin, never less than one message."""
        return max(1.0, depth - self.margin_s * rate)


class Paused(Exception):
    """The chat (or the bot) is held back after a 429 for longer than the caller wants to wait."""

    def __init__(self, remaining: float) -> None:
        super().__init__(f"held back after a 429 for another {remaining:.1f}s")
        self.remaining = remaining


@dataclass(frozen=True)
class Backoff:
    """Exponential back-off with jitter for 5xx, timeouts and connection errors:
    attempt n (0-based) waits between half and all of min(cap, base * 2**n) seconds."""

    base: float = 0.5
    cap: float = 60.0

    def delay(self, attempts: int, rng: random.Random | None = None) -> float:
        ceiling = min(self.cap, self.base * 2 ** min(attempts, 32))
        return ceiling / 2 + (rng or random).uniform(0, ceiling / 2)


@dataclass
class _Bucket:
    """A leaky bucket: `level` drains at `rate` per second; one more call fits while level + 1 <= depth."""

    depth: float
    rate: float
    level: float = 0.0
    at: float = 0.0

    def _drain(self, now: float) -> None:
        if now > self.at:
            self.level = max(0.0, self.level - (now - self.at) * self.rate)
            self.at = now

    def wait(self, now: float) -> float:
        """Seconds until one more call fits (0: now)."""
        self._drain(now)
        return max(0.0, (self.level + 1 - self.depth) / self.rate)

    def take(self, now: float) -> None:
        self._drain(now)
        self.level += 1

    def empty(self, now: float) -> bool:
        self._drain(now)
        return self.level == 0


class Pacer:
    """Waits until one more call to a chat fits Telegram's limits (no-op without limits)."""

    def __init__(self, limits: RateLimits | None) -> None:
        self.limits = limits
        self._chats: dict[int, _Bucket] = {}
        self._groups: dict[int, _Bucket] = {}
        self._global: AsyncLimiter | None = None
        if limits is not None:
            depth = limits.depth(limits.global_per_s, limits.global_per_s)
            self._global = AsyncLimiter(depth, depth / limits.global_per_s)
        self._chat_pause: dict[int, float] = {}
        self._global_pause = 0.0
        self._recent_429: deque[tuple[float, int]] = deque()

    def counts(self, kind: str) -> bool:
        """Does a call of this kind ("send" or "edit") take room in the buckets?"""
        return self.limits is not None and (kind == "send" or self.limits.count_edits)

    async def acquire(self, chat_id: int, kind: str = "send", *, max_pause: float = math.inf) -> None:
        """Wait for room; raises Paused instead of sleeping out a 429 pause longer than `max_pause`."""
        await self._sleep_out_pauses(chat_id, max_pause)
        if not self.counts(kind) or self.limits is None or self._global is None:
            return
        own = self._buckets(chat_id, self.limits)
        while True:
            # Wait for this chat's own room first, holding no turn overall while it waits ...
            while (wait := max(b.wait(time.monotonic()) for b in own)) > 0:
                await asyncio.sleep(wait)
            # ... then for its turn overall; and take room everywhere at once, as it goes out now.
            await self._global.acquire()
            now = time.monotonic()
            if all(b.wait(now) == 0 for b in own):  # (another call to this chat may have come first)
                for bucket in own:
                    bucket.take(now)
                return

    def _buckets(self, chat_id: int, limits: RateLimits) -> list[_Bucket]:
        chat = self._chats.get(chat_id)
        if chat is None:
            self._prune()
            burst, rate = limits.per_chat_burst, limits.per_chat_per_s
            chat = self._chats[chat_id] = _Bucket(limits.depth(burst, rate), rate)
        if chat_id >= 0:
            return [chat]
        group = self._groups.get(chat_id)
        if group is None:
            per_min = limits.per_group_per_min
            group = self._groups[chat_id] = _Bucket(limits.depth(per_min, per_min / 60), per_min / 60)
        return [chat, group]

    def penalize(self, chat_id: int, retry_after: float) -> None:
        """Telegram said 429: hold this chat (and everything, if several chats hit it) back."""
        now = time.monotonic()
        until = now + max(0.0, retry_after)
        self._chat_pause[chat_id] = max(self._chat_pause.get(chat_id, 0.0), until)
        self._recent_429.append((now, chat_id))
        while self._recent_429 and self._recent_429[0][0] < now - 1.0:
            self._recent_429.popleft()
        if len({chat for _, chat in self._recent_429}) >= GLOBAL_429_CHATS:
            self._global_pause = max(self._global_pause, until)

    async def _sleep_out_pauses(self, chat_id: int, max_pause: float) -> None:
        while True:
            until = max(self._global_pause, self._chat_pause.get(chat_id, 0.0))
            remaining = until - time.monotonic()
            if remaining <= 0:
                self._chat_pause.pop(chat_id, None)
                return
            if remaining > max_pause:
                raise Paused(remaining)
            await asyncio.sleep(remaining)

    def _prune(self) -> None:
        """Forget the buckets of chats that have been quiet long enough to be empty."""
        if len(self._chats) < _PRUNE_AT:
            return
        now = time.monotonic()
        for table in (self._chats, self._groups):
            for key in [k for k, bucket in table.items() if bucket.empty(now)]:
                del table[key]
