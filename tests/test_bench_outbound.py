"""The outbound benchmark's yardstick: the workload it builds and the lower bound it compares with."""

from __future__ import annotations

from collections import Counter

from bench.outbound import FIRST_GROUP, FIRST_USER, FULL, Workload, allowed_time
from bot.ratelimit import RateLimits

TELEGRAM = RateLimits()  # 1/s per chat (burst 3), 20/min per group, 30/s overall


def test_the_full_workload_has_the_announced_shape() -> None:
    order = FULL.build()
    per_chat = Counter(order)
    assert len(order) == 10_000
    private = {c: n for c, n in per_chat.items() if c > 0}
    groups = {c: n for c, n in per_chat.items() if c < 0}
    assert sorted(private) == list(range(FIRST_USER, FIRST_USER + 2_000))
    assert set(private.values()) == {4}
    assert sorted(groups) == sorted(FIRST_GROUP - g for g in range(20))
    assert set(groups.values()) == {100}
    assert order != sorted(order) and order == FULL.build()  # shuffled, and the same every time


def test_the_bound_is_set_by_whichever_bucket_needs_longest() -> None:
    # 10,000 at 30/s after a burst of 30; 100 in a group: 20 at once, then one per 3 s
    full = allowed_time(FULL.build(), TELEGRAM)
    assert full["global_s"] == round(9_970 / 30, 2)
    assert full["busiest_group_s"] == 240.0
    assert full["allowed_time_s"] == full["global_s"]
    # a group with more than the rest can carry: its own bucket decides
    heavy = allowed_time([-5] * 50 + [1, 2, 3], TELEGRAM)
    assert heavy["busiest_group_s"] == heavy["allowed_time_s"] == 90.0
    # one private chat: 3 at once, then one a second
    assert allowed_time([7] * 10, TELEGRAM)["allowed_time_s"] == 7.0
    # within every burst: no time at all
    assert allowed_time([1, 2, 3, 1, 2, 3], TELEGRAM)["allowed_time_s"] == 0.0


def test_a_scaled_workload_keeps_the_group_count_and_the_split() -> None:
    small = Workload(messages=100, chats=10, groups=2, per_group=5)
    order = small.build()
    assert len(order) == 100
    assert sum(1 for c in order if c < 0) == small.group_messages == 10
    assert len({c for c in order if c > 0}) == 10
