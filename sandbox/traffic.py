"""Telegram's flood limits and injected faults, for the Bot API routes (both off until switched on).

Limits (``sb.traffic.limits``, control route ``/control/limits``) — what Telegram documents
("about 1 message/s per chat, short bursts allowed; 20/min per group; about 30/s overall"),
as leaky buckets that answer like Telegram:
``429 {"ok":false,"error_code":429,"description":"Too Many Requests: retry after N",
"parameters":{"retry_after":N}}``.

* Counted: every method that creates messages (``COUNTED_SENDS``: sendMessage, sendPhoto,
  sendMediaGroup — one per call, not per item —, the other send* methods, copy/forward).
  Edits (``EDITS``) count only with ``count_edits`` (default off: Telegram documents its limits for
  sending, and in practice edits are throttled far more leniently). getUpdates, answerCallbackQuery,
  deleteMessage, sendChatAction and the like never count.
* Buckets: per chat ``per_chat_burst`` deep, draining ``per_chat_per_s``; per group (negative
  chat id / supergroup) ``per_group_per_min`` deep, draining that per minute; overall
  ``global_per_s`` deep, draining that per second. A request needs room in all of its buckets; a
  refused request consumes nothing. ``jitter_s`` seconds of drain are tolerated so that a client
  pacing itself exactly at the limit is not refused because of network jitter.

Faults (``sb.traffic.faults``, control route ``/control/faults``): a share of the requests to
``methods`` (default: ``COUNTED_SENDS | EDITS``; ``["*"]`` for every method) is answered 429
(``retry_after``), 500, or *dropped after being applied*: the method runs (the message is stored)
and the HTTP connection is then closed without an answer. Draws come from ``random.Random(seed)``,
one per request in scope, in arrival order.

Counters (``GET /control/traffic``): requests seen, injected 429/500/drops (``dropped``, and per
method ``dropped_<method>``, e.g. ``dropped_sendmessage``: sends applied whose answer was lost), and
429s due to the real limits (by bucket). ``/control/reset`` empties buckets and counters, keeping the
settings.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from sandbox.models import ApiError

__all__ = ["COUNTED_SENDS", "EDITS", "FaultConfig", "LimitConfig", "Traffic"]

COUNTED_SENDS = frozenset(
    {
        "sendmessage", "sendphoto", "sendmediagroup", "senddocument", "sendvideo", "sendaudio",
        "sendvoice", "sendanimation", "sendsticker", "sendlocation", "sendvenue", "sendcontact",
        "sendpoll", "senddice", "sendvideonote", "copymessage", "copymessages", "forwardmessage",
        "forwardmessages",
    }
)
EDITS = frozenset(
    {"editmessagetext", "editmessagecaption", "editmessagereplymarkup", "editmessagemedia"}
)
FAULT_KINDS = ("429", "500", "drop")


def _number(value: Any, name: str, *, minimum: float = 0.0) -> float:
    number = float(value)
    if math.isnan(number) or number < minimum:
        raise ValueError(f"{name} must be a number >= {minimum}")
    return number


@dataclass
class LimitConfig:
    enabled: bool = False
    per_chat_per_s: float = 1.0
    per_chat_burst: float = 3.0
    per_group_per_min: float = 20.0
    global_per_s: float = 30.0
    count_edits: bool = False
    jitter_s: float = 0.05

    def update(self, values: dict[str, Any]) -> None:
        known = {f.name for f in fields(self)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown limit settings {sorted(unknown)}; known: {sorted(known)}")
        for key, value in values.items():
            if key in ("enabled", "count_edits"):
                setattr(self, key, bool(value))
            elif key == "jitter_s":
                self.jitter_s = _number(value, key)
            else:
                setattr(self, key, _number(value, key, minimum=1e-6))
        if self.per_chat_burst < 1:
            raise ValueError("per_chat_burst must be >= 1")


@dataclass
class FaultConfig:
    rate_429: float = 0.0
    rate_500: float = 0.0
    rate_drop: float = 0.0
    seed: int | None = None
    methods: list[str] | None = None  # None: sends and edits; ["*"]: every method
    retry_after: int = 1

    @property
    def active(self) -> bool:
        return self.rate_429 + self.rate_500 + self.rate_drop > 0

    def covers(self, method: str) -> bool:
        if self.methods is None:
            return method in COUNTED_SENDS or method in EDITS
        return "*" in self.methods or method in self.methods


@dataclass
class _Bucket:
    """A leaky bucket: `level` drains at `rate` per second; a request adds 1 if it fits `depth`."""

    depth: float
    rate: float
    level: float = 0.0
    at: float = 0.0

    def drain(self, now: float) -> float:
        if now > self.at:
            self.level = max(0.0, self.level - (now - self.at) * self.rate)
            self.at = now
        return self.level

    def wait(self, now: float, slack: float) -> float:
        """Seconds until one more request fits (0: it fits now)."""
        over = self.drain(now) + 1 - self.depth - slack * self.rate
        return max(0.0, over / self.rate)


@dataclass
class Traffic:
    limits: LimitConfig = field(default_factory=LimitConfig)
    faults: FaultConfig = field(default_factory=FaultConfig)
    counters: dict[str, int] = field(default_factory=dict)
    _buckets: dict[tuple[str, int], _Bucket] = field(default_factory=dict)
    _rng: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Empty the buckets and zero the counters (settings stay)."""
        self._buckets.clear()
        self.counters = {
            "requests": 0,
            "counted": 0,
            "injected_429": 0,
            "injected_500": 0,
            "dropped": 0,
            "limited_429": 0,
            "limited_chat": 0,
            "limited_group": 0,
            "limited_global": 0,
        }

    def set_limits(self, values: dict[str, Any]) -> dict[str, Any]:
        self.limits.update(values)
        self._buckets.clear()  # new sizes; start empty
        return asdict(self.limits)

    def set_faults(self, values: dict[str, Any]) -> dict[str, Any]:
        known = {f.name for f in fields(FaultConfig)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown fault settings {sorted(unknown)}; known: {sorted(known)}")
        config = FaultConfig(**values)  # replaces the previous settings as a whole
        for name in ("rate_429", "rate_500", "rate_drop"):
            setattr(config, name, _number(getattr(config, name), name))
        if config.rate_429 + config.rate_500 + config.rate_drop > 1:
            raise ValueError("rate_429 + rate_500 + rate_drop must not exceed 1")
        config.retry_after = max(1, int(config.retry_after))
        if config.methods is not None:
            if not isinstance(config.methods, list):
                raise ValueError("methods must be a list of Bot API method names")
            config.methods = [str(m).lower() for m in config.methods]
        self.faults = config
        self._rng = random.Random(config.seed)
        return asdict(config)

    # -- per request -------------------------------------------------------------------------
    def draw_fault(self, method: str) -> str | None:
        """The fault to inject into this request: "429", "500", "drop" or None. "429" and "500"
        raise the ApiError right away; "drop" is returned for the caller to apply after the method."""
        self.counters["requests"] += 1
        config = self.faults
        if not config.active or not config.covers(method):
            return None
        roll = self._rng.random()
        if roll < config.rate_429:
            self.counters["injected_429"] += 1
            raise too_many_requests(config.retry_after)
        if roll < config.rate_429 + config.rate_500:
            self.counters["injected_500"] += 1
            raise ApiError(500, "Internal Server Error")
        if roll < config.rate_429 + config.rate_500 + config.rate_drop:
            return "drop"
        return None

    def admit(self, method: str, chat_id: Any, is_group: bool) -> None:
        """Take room for one message in this chat's buckets, or raise Telegram's 429."""
        limits = self.limits
        if not limits.enabled:
            return
        if method not in COUNTED_SENDS and not (limits.count_edits and method in EDITS):
            return
        try:
            chat = int(chat_id)
        except (TypeError, ValueError):
            return  # the method itself answers "chat not found"
        now = time.monotonic()
        buckets = [("chat", self._bucket("chat", chat, limits.per_chat_burst, limits.per_chat_per_s, now))]
        if is_group:
            per_min = limits.per_group_per_min
            buckets.append(("group", self._bucket("group", chat, per_min, per_min / 60, now)))
        buckets.append(("global", self._bucket("global", 0, limits.global_per_s, limits.global_per_s, now)))
        waits = [(bucket.wait(now, limits.jitter_s), kind) for kind, bucket in buckets]
        wait, kind = max(waits)
        if wait > 0:
            self.counters["limited_429"] += 1
            self.counters[f"limited_{kind}"] += 1
            raise too_many_requests(max(1, math.ceil(wait)))
        self.counters["counted"] += 1
        for _, bucket in buckets:
            bucket.level += 1

    def _bucket(self, kind: str, key: int, depth: float, rate: float, now: float) -> _Bucket:
        bucket = self._buckets.get((kind, key))
        if bucket is None:
            bucket = self._buckets[(kind, key)] = _Bucket(depth, rate, at=now)
        return bucket

    def view(self) -> dict[str, Any]:
        return {"limits": asdict(self.limits), "faults": asdict(self.faults), "counters": dict(self.counters)}


def too_many_requests(retry_after: int) -> ApiError:
    return ApiError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})
