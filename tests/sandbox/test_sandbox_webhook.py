"""Webhook delivery as Telegram does it: per chat one update at a time and in order, chats in parallel,
and (standing in for a load balancer) spread over the replicas' URLs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from aiogram import Bot
from aiohttp import web
from sandbox_test_constants import NEIGHBOUR, RESIDENT

from sandbox import SandboxClient
from sandbox.webhook import chat_of_update

Hook = Callable[[dict[str, Any]], Awaitable[web.Response]]


@asynccontextmanager
async def listener(hook: Hook) -> AsyncIterator[str]:
    async def handle(request: web.Request) -> web.Response:
        return await hook(await request.json())

    app = web.Application()
    app.router.add_post("/hook", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    finally:
        await runner.cleanup()


async def until(check: Callable[[], bool], what: str, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.01)


def text_of(update: dict[str, Any]) -> str:
    return str(update["message"]["text"])


async def test_a_chat_waits_for_its_answer_while_other_chats_go_in_parallel(bot: Bot,
                                                                            client: SandboxClient) -> None:
    arrived: list[str] = []
    release = asyncio.Event()

    async def hook(update: dict[str, Any]) -> web.Response:
        arrived.append(text_of(update))
        if text_of(update) == "一":
            await release.wait()  # the resident's first update is still being handled
        return web.Response()

    async with listener(hook) as url:
        await bot.set_webhook(url, max_connections=10)
        await client.send_text(RESIDENT, "一")
        await client.send_text(RESIDENT, "二")
        await client.send_text(NEIGHBOUR, "邻居")
        await until(lambda: "邻居" in arrived, "the other chat's update")
        assert arrived == ["一", "邻居"]  # the resident's second waits behind the first
        release.set()
        await until(lambda: len(arrived) == 3, "the resident's second update")
        assert arrived == ["一", "邻居", "二"]
        await bot.delete_webhook()


async def test_max_connections_caps_the_requests_in_flight(bot: Bot, client: SandboxClient) -> None:
    in_flight = peak = 0
    done = 0

    async def hook(update: dict[str, Any]) -> web.Response:
        nonlocal in_flight, peak, done
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.05)
        in_flight -= 1
        done += 1
        return web.Response()

    async with listener(hook) as url:
        await bot.set_webhook(url, max_connections=3)
        for user in range(20001, 20009):
            await client.add_user(user, f"居民{user}")
            await client.send_text(user, "你好")
        await until(lambda: done == 8, "every update")
        assert peak == 3
        await bot.delete_webhook()


async def test_a_failed_delivery_holds_its_chat_and_is_retried_in_order(bot: Bot,
                                                                       client: SandboxClient) -> None:
    arrived: list[str] = []
    failures = 2

    async def hook(update: dict[str, Any]) -> web.Response:
        nonlocal failures
        arrived.append(text_of(update))
        if text_of(update) == "一" and failures:
            failures -= 1
            return web.Response(status=500)
        return web.Response()

    async with listener(hook) as url:
        await bot.set_webhook(url)
        await client.send_text(RESIDENT, "一")
        await client.send_text(RESIDENT, "二")
        await until(lambda: "二" in arrived, "the second update")
        assert arrived == ["一", "一", "一", "二"]
        await bot.delete_webhook()


async def test_replicas_share_the_deliveries_and_a_dead_one_is_skipped(bot: Bot,
                                                                       client: SandboxClient) -> None:
    seen: dict[str, list[str]] = {"a": [], "b": []}

    def recorder(name: str) -> Hook:
        async def hook(update: dict[str, Any]) -> web.Response:
            seen[name].append(text_of(update))
            return web.Response()
        return hook

    async with listener(recorder("a")) as a, listener(recorder("b")) as b:
        async with listener(recorder("dead")) as dead:
            pass  # its port is closed again: a replica killed
        await client.set_webhook_replicas([a, dead, b])
        await bot.set_webhook("https://bot.example.org/webhook")  # the balancer's public address
        for n in range(6):
            await client.send_text(RESIDENT, f"第{n}条")
        await until(lambda: len(seen["a"]) + len(seen["b"]) == 6, "every update")
        assert seen["a"] and seen["b"]
        assert sorted(seen["a"] + seen["b"], key=lambda t: int(t[1:-1])) == [f"第{n}条" for n in range(6)]
        view = await client.webhook_replicas()
        assert view["delivered"][dead] == 0 and view["delivered"][a] + view["delivered"][b] == 6
        await bot.delete_webhook()


def test_the_queue_of_an_update_is_its_chat() -> None:
    assert chat_of_update({"update_id": 1, "message": {"chat": {"id": 5}}}) == 5
    assert chat_of_update({"update_id": 2, "callback_query": {"from": {"id": 7},
                                                              "message": {"chat": {"id": -9}}}}) == -9
    assert chat_of_update({"update_id": 3, "callback_query": {"from": {"id": 7}}}) == 7
    assert chat_of_update({"update_id": 4, "my_chat_member": {}}) == ("update", 4)
