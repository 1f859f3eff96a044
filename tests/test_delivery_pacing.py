"""Pacing and back-off of the outbox sender (bot.ratelimit), without a network or a database."""

from __future__ import annotations

import asyncio
import random

import pytest

from bot.ratelimit import Backoff, Pacer, Paused, RateLimits


def now() -> float:
    return asyncio.get_running_loop().time()


async def test_a_chat_gets_its_burst_then_one_message_per_interval() -> None:
    pacer = Pacer(RateLimits(per_chat_per_s=20, per_chat_burst=2, global_per_s=1000))
    start = now()
    for _ in range(2):
        await pacer.acquire(1)
    assert now() - start < 0.03  # the burst goes at once
    for _ in range(3):
        await pacer.acquire(1)
    assert now() - start >= 3 / 20 * 0.9
    started_other = now()
    await pacer.acquire(2)  # another chat has its own bucket
    assert now() - started_other < 0.03


async def test_groups_and_the_whole_bot_have_their_own_buckets() -> None:
    pacer = Pacer(RateLimits(per_chat_per_s=1000, per_chat_burst=10, per_group_per_min=3))
    for _ in range(3):  # a group may have its minute's worth at once (3 here), then one per 20 s
        await pacer.acquire(-100)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(pacer.acquire(-100), 0.05)
    await asyncio.wait_for(pacer.acquire(100), 0.05)  # a private chat is not held back by it
    pacer = Pacer(RateLimits(per_chat_per_s=1000, per_chat_burst=10, global_per_s=20))
    start = now()
    for chat in range(25):  # 20 deep, 20/s: five more take 0.25 s
        await pacer.acquire(chat)
    assert now() - start >= 0.22


async def test_a_chat_takes_its_room_when_the_call_goes_out_not_before_its_turn_overall() -> None:
    # Telegram counts a message when it arrives. A call that waited for the overall bucket must not
    # have taken its chat's room before that wait, or the chat's next call would follow too soon.
    pacer = Pacer(RateLimits(per_chat_per_s=5, per_chat_burst=1, global_per_s=10))
    for chat in range(100, 110):
        await pacer.acquire(chat)  # the overall bucket is full: the next call waits 0.1 s
    await pacer.acquire(1)
    first = now()
    await pacer.acquire(1)  # one message per 0.2 s in this chat, counted from when the first went
    assert now() - first >= 0.2 * 0.9


async def test_a_margin_keeps_every_bucket_short_of_full() -> None:
    pacer = Pacer(RateLimits(per_chat_per_s=1000, per_chat_burst=100, global_per_s=10, margin_s=0.1))
    start = now()
    for chat in range(10):  # 10 deep less 0.1 s of drain: 9 at once, the tenth 0.1 s later
        await pacer.acquire(chat)
    assert now() - start >= 0.1 * 0.9
    pacer = Pacer(RateLimits(per_chat_per_s=10, per_chat_burst=3, global_per_s=1000, margin_s=0.1))
    start = now()
    for _ in range(3):  # 3 deep less one message (0.1 s at 10/s): the third waits
        await pacer.acquire(1)
    assert now() - start >= 0.1 * 0.9


async def test_edits_are_free_unless_counted_and_no_limits_means_no_wait() -> None:
    pacer = Pacer(RateLimits(per_chat_per_s=1, per_chat_burst=1))
    start = now()
    await pacer.acquire(1, "send")
    for _ in range(5):
        await pacer.acquire(1, "edit")
    assert now() - start < 0.03
    assert Pacer(RateLimits(count_edits=True)).counts("edit")
    unlimited = Pacer(None)
    for _ in range(100):
        await unlimited.acquire(1)
    assert now() - start < 0.1


async def test_a_429_pauses_the_chat_and_several_pause_everything() -> None:
    pacer = Pacer(RateLimits(per_chat_per_s=1000, per_chat_burst=100, global_per_s=1000))
    pacer.penalize(1, 0.1)
    start = now()
    await pacer.acquire(2)
    assert now() - start < 0.03  # one chat's 429 holds back only that chat
    await pacer.acquire(1)
    assert now() - start >= 0.09
    pacer.penalize(3, 0.1)
    pacer.penalize(4, 0.1)  # two chats within a second: the bot as a whole is over the limit
    start = now()
    await pacer.acquire(5)
    assert now() - start >= 0.09


async def test_a_long_pause_is_not_slept_out_by_a_claimed_row() -> None:
    pacer = Pacer(RateLimits())
    pacer.penalize(1, 30)
    with pytest.raises(Paused) as paused:
        await pacer.acquire(1, max_pause=10)
    assert 29 < paused.value.remaining <= 30


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    backoff = Backoff(base=0.5, cap=8)
    rng = random.Random(1)
    delays = [[backoff.delay(n, rng) for _ in range(50)] for n in range(8)]
    for n, samples in enumerate(delays):
        ceiling = min(8, 0.5 * 2**n)
        assert all(ceiling / 2 <= d <= ceiling for d in samples)
        assert len(set(samples)) > 1  # jittered
    assert backoff.delay(10_000) <= 8


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError):
        RateLimits(per_chat_per_s=0)
    with pytest.raises(ValueError):
        RateLimits(per_chat_burst=0)
    with pytest.raises(ValueError):
        RateLimits(margin_s=-1)
