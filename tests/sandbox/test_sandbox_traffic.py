"""Telegram's flood limits and fault injection in the sandbox (sandbox.traffic)."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from sandbox_test_constants import NEIGHBOUR, RESIDENT, TOKEN

from sandbox import SandboxClient, SandboxControlError, SandboxServer


async def chat_with(client: SandboxClient, *users: int) -> None:
    for user in users:
        await client.send_text(user, "/start")


async def test_limits_are_off_until_switched_on(bot: Bot, client: SandboxClient) -> None:
    await chat_with(client, RESIDENT)
    for n in range(10):
        await bot.send_message(RESIDENT, f"消息 {n}")
    traffic = await client.traffic()
    assert traffic["limits"]["enabled"] is False
    assert traffic["counters"]["limited_429"] == 0 and traffic["counters"]["requests"] == 10


async def test_a_private_chat_gets_a_burst_then_429_with_retry_after(
    bot: Bot, client: SandboxClient, server: SandboxServer
) -> None:
    await chat_with(client, RESIDENT, NEIGHBOUR)
    limits = await client.set_limits(per_chat_per_s=1, per_chat_burst=3, jitter_s=0)
    assert limits["enabled"] is True and limits["per_chat_burst"] == 3
    for n in range(3):
        await bot.send_message(RESIDENT, f"消息 {n}")
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(RESIDENT, "太快了")
    assert caught.value.retry_after == 1
    await bot.send_message(NEIGHBOUR, "另一个聊天不受影响")
    # editing is not counted (count_edits is off), nor are other methods
    first = (await client.bot_messages(RESIDENT))[0]
    await bot.edit_message_text("改过", chat_id=RESIDENT, message_id=first.message_id)
    await bot.get_updates()
    counters = (await client.traffic())["counters"]
    assert counters["limited_429"] == counters["limited_chat"] == 1
    assert counters["counted"] == 4
    assert [m.text for m in await client.bot_messages(RESIDENT)] == ["改过", "消息 1", "消息 2"]


async def test_the_answer_is_telegrams(server: SandboxServer, client: SandboxClient) -> None:
    await chat_with(client, RESIDENT)
    await client.set_limits(per_chat_burst=1, jitter_s=0)
    url = f"{server.base_url}/bot{TOKEN}/sendMessage"
    async with aiohttp.ClientSession() as http:
        async with http.post(url, json={"chat_id": RESIDENT, "text": "一"}) as resp:
            assert resp.status == 200
        async with http.post(url, json={"chat_id": RESIDENT, "text": "二"}) as resp:
            assert resp.status == 429
            assert await resp.json() == {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 1",
                "parameters": {"retry_after": 1},
            }


async def test_group_and_global_limits_and_counted_edits(bot: Bot, client: SandboxClient) -> None:
    await chat_with(client, RESIDENT, NEIGHBOUR)
    group = await client.create_group("网格群", [RESIDENT, NEIGHBOUR])
    await client.set_limits(per_chat_per_s=100, per_chat_burst=10, per_group_per_min=2, jitter_s=0)
    await bot.send_message(group, "一")
    await bot.send_message(group, "二")
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(group, "三")
    assert caught.value.retry_after == 30  # 20/min would be 3 s; 2/min frees a slot every 30 s
    await client.set_limits(global_per_s=2, count_edits=True)  # new sizes start with empty buckets
    sent = await bot.send_message(RESIDENT, "一")
    await bot.edit_message_text("改", chat_id=RESIDENT, message_id=sent.message_id)
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(NEIGHBOUR, "二")
    counters = (await client.traffic())["counters"]
    assert counters["limited_group"] == 1 and counters["limited_global"] == 1
    await client.set_limits(False)
    await bot.send_message(NEIGHBOUR, "关掉限制")


async def test_bad_limit_settings_are_refused(client: SandboxClient) -> None:
    with pytest.raises(SandboxControlError, match="unknown limit settings"):
        await client.set_limits(per_hour=3)
    with pytest.raises(SandboxControlError, match="must be"):
        await client.set_limits(per_chat_per_s=-1)
    with pytest.raises(SandboxControlError, match="must not exceed 1"):
        await client.set_faults(rate_429=0.6, rate_500=0.6)


async def test_faults_are_deterministic_with_a_seed(bot: Bot, client: SandboxClient) -> None:
    await chat_with(client, RESIDENT)

    async def outcomes() -> list[str]:
        await client.set_faults(rate_429=0.2, rate_500=0.2, rate_drop=0.2, seed=42, retry_after=2)
        seen = []
        for n in range(30):
            try:
                await bot.send_message(RESIDENT, f"#{n}")
                seen.append("ok")
            except TelegramRetryAfter as error:
                assert error.retry_after == 2
                seen.append("429")
            except TelegramServerError:
                seen.append("500")
            except TelegramNetworkError:
                seen.append("drop")
        return seen

    first = await outcomes()
    second = await outcomes()
    assert first == second and {"ok", "429", "500", "drop"} <= set(first)
    counters = (await client.traffic())["counters"]
    assert counters["injected_429"] == 2 * first.count("429")
    assert counters["injected_500"] == 2 * first.count("500")
    assert counters["dropped"] == 2 * first.count("drop")
    # a dropped request was applied: its message is in the chat although the bot saw an error
    texts = [m.text for m in await client.bot_messages(RESIDENT)]
    applied = [f"#{n}" for n, outcome in enumerate(first) if outcome in ("ok", "drop")]
    assert texts == applied * 2


async def test_faults_hit_only_the_chosen_methods(bot: Bot, client: SandboxClient) -> None:
    await chat_with(client, RESIDENT)
    config = await client.set_faults(rate_500=1.0, methods=["editMessageText"])
    assert config["methods"] == ["editmessagetext"]
    sent = await bot.send_message(RESIDENT, "一")
    await bot.get_me()
    with pytest.raises(TelegramServerError):
        await bot.edit_message_text("改", chat_id=RESIDENT, message_id=sent.message_id)
    await client.set_faults()  # all rates 0: off
    await bot.edit_message_text("改", chat_id=RESIDENT, message_id=sent.message_id)


async def test_reset_empties_buckets_and_counters_but_keeps_settings(bot: Bot, client: SandboxClient) -> None:
    await chat_with(client, RESIDENT)
    await client.set_limits(per_chat_burst=1, jitter_s=0)
    await bot.send_message(RESIDENT, "一")
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(RESIDENT, "二")
    await client.reset()
    traffic = await client.traffic()
    assert traffic["limits"]["enabled"] is True and traffic["counters"]["limited_429"] == 0
    await chat_with(client, RESIDENT)
    await bot.send_message(RESIDENT, "重置后")


async def test_a_client_pacing_at_the_limit_gets_no_429(bot: Bot, client: SandboxClient) -> None:
    await chat_with(client, RESIDENT)
    await client.set_limits(per_chat_per_s=20, per_chat_burst=1)
    for n in range(6):
        await bot.send_message(RESIDENT, f"#{n}")
        await asyncio.sleep(1 / 20)
    assert (await client.traffic())["counters"]["limited_429"] == 0
