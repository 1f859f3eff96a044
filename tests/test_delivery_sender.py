"""The outbox sender against the sandbox: faults, Telegram's limits, permanent failures, two senders.

Every test runs on SQLite and PostgreSQL (the two-sender test on PostgreSQL only: that is where
several sender processes may run). The sandbox's transcripts are the evidence.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bot.delivery import Backoff, OutboxSender, RateLimits
from gridcore.messages import Button, OutgoingMessage
from sandbox import SandboxClient, SandboxServer
from sandbox.models import ApiError
from storage.db import create_engine
from storage.models import OUTBOX_FAILED, OUTBOX_SENT
from storage.outbox_store import OutboxStore, PendingMessage
from storage.uow import uow_factory as make_uow_factory

TOKEN = "7000000002:delivery_sandbox_token"
USERS = [6001, 6002, 6003, 6004, 6005]
FAST_RETRY = Backoff(base=0.02, cap=0.2)
# Telegram's limits, scaled so that a test takes a second, not minutes: the same numbers for the
# sandbox (which enforces them) and for the sender (which keeps within them).
SCALED = {"per_chat_per_s": 10.0, "per_chat_burst": 3, "per_group_per_min": 300.0, "global_per_s": 20.0}


@dataclass
class World:
    server: SandboxServer
    client: SandboxClient
    bot: Bot
    group: int


async def open_bot(base_url: str) -> Bot:
    # as the composition root builds it: aiogram's aiohttp session, Telegram HTML by default
    return Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(base_url)),
               default=DefaultBotProperties(parse_mode="HTML", link_preview_is_disabled=True))


async def close_bot(bot: Bot) -> None:
    await bot.session.close()


@pytest.fixture
async def world() -> AsyncIterator[World]:
    async with SandboxServer() as server, SandboxClient(server.base_url) as client:
        for user in USERS:
            await client.send_text(user, "/start")  # the bot may write to a user who wrote first
        group = await client.create_group("3号网格工作群", USERS[:3])
        bot = await open_bot(server.base_url)
        try:
            yield World(server, client, bot, group)
        finally:
            await close_bot(bot)


async def put(uow_factory, messages: Sequence[OutgoingMessage]) -> list[int]:
    async with uow_factory() as uow:
        ids = [await uow.outbox.add(m) for m in messages]
        await uow.commit()
    return ids


def burst(chats: Sequence[int], per_chat: int) -> tuple[list[OutgoingMessage], dict[int, list[str]]]:
    """Rows interleaved across chats (as busy updates would queue them), and each chat's expected texts."""
    expected = {chat: [f"{chat}:{n}" for n in range(per_chat)] for chat in chats}
    rows = [OutgoingMessage(chat_id=chat, text=expected[chat][n]) for n in range(per_chat) for chat in chats]
    return rows, expected


async def drain(*senders: OutboxSender, store: OutboxStore, timeout: float = 20,
                until: Callable[[], bool] = lambda: True) -> None:
    """Run the senders until nothing is pending and `until()` holds (or fail after `timeout`)."""
    tasks = [asyncio.create_task(s.run()) for s in senders]
    try:
        async with asyncio.timeout(timeout):
            while await store.pending_count() or not until():
                await asyncio.sleep(0.05)
    finally:
        for task in tasks:
            task.cancel()
        async with asyncio.timeout(15):  # a sender that does not stop is a failure, not a hang
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task


async def texts(client: SandboxClient, chat: int) -> list[str]:
    return [m.text for m in await client.bot_messages(chat)]


def collapse(seen: list[str]) -> tuple[list[str], int]:
    """Drop a message that repeats the one before it (a retried request that had been applied)."""
    kept = [t for i, t in enumerate(seen) if i == 0 or seen[i - 1] != t]
    return kept, len(seen) - len(kept)


async def test_every_message_arrives_in_order_under_20_percent_faults(world, uow_factory, outbox_store):
    chats = [*USERS, world.group]
    rows, expected = burst(chats, per_chat=8)
    await put(uow_factory, rows)
    await world.client.set_faults(rate_429=0.07, rate_500=0.07, rate_drop=0.06, seed=84)
    sender = OutboxSender(world.bot, outbox_store, idle_seconds=0.02, backoff=FAST_RETRY,
                          limits=RateLimits(**SCALED))

    await drain(sender, store=outbox_store)

    counters = (await world.client.traffic())["counters"]
    assert counters["injected_429"] > 0 and counters["injected_500"] > 0 and counters["dropped"] > 0
    faults = counters["injected_429"] + counters["injected_500"] + counters["dropped"]
    assert faults >= 0.15 * counters["requests"]  # about a fifth of all requests went wrong
    duplicates = 0
    for chat in chats:
        kept, repeated = collapse(await texts(world.client, chat))
        assert kept == expected[chat], await world.client.transcript(chat)
        duplicates += repeated
    assert duplicates <= counters["dropped"]
    assert await outbox_store.peek(status=OUTBOX_FAILED) == []
    sent = await outbox_store.peek(status=OUTBOX_SENT)
    assert len(sent) == len(rows)
    print(f"\n{len(rows)} rows, {counters['requests']} requests: {counters['injected_429']}×429, "
          f"{counters['injected_500']}×500, {counters['dropped']} dropped, {duplicates} duplicates")


async def test_a_burst_within_the_limits_draws_no_429(world, uow_factory, outbox_store):
    await world.client.set_limits(**SCALED)
    chats = [*USERS, world.group]
    rows, expected = burst(chats, per_chat=6)
    await put(uow_factory, rows)
    sender = OutboxSender(world.bot, outbox_store, idle_seconds=0.02, backoff=FAST_RETRY,
                          limits=RateLimits(**SCALED))

    started = asyncio.get_running_loop().time()
    await drain(sender, store=outbox_store)
    elapsed = asyncio.get_running_loop().time() - started

    counters = (await world.client.traffic())["counters"]
    assert counters["limited_429"] == 0, counters
    assert counters["counted"] == len(rows)
    for chat in chats:
        assert await texts(world.client, chat) == expected[chat]
    # 36 messages at 20/s overall after a burst of 20: the sender did pace itself
    assert elapsed >= (len(rows) - SCALED["global_per_s"]) / SCALED["global_per_s"] * 0.9
    print(f"\n{len(rows)} messages in {elapsed:.2f}s, 429s from limits: {counters['limited_429']}")


async def test_an_unpaced_sender_hits_the_limits_and_still_delivers_in_order(
    world, uow_factory, outbox_store
):
    # Telegram's own 1/s per chat: an unpaced sender exceeds it however slow the machine is.
    await world.client.set_limits(**{**SCALED, "per_chat_per_s": 1.0, "global_per_s": 1000.0})
    rows, expected = burst(USERS[:2], per_chat=6)
    await put(uow_factory, rows)
    sender = OutboxSender(world.bot, outbox_store, idle_seconds=0.02, backoff=FAST_RETRY, limits=None)

    await drain(sender, store=outbox_store)

    counters = (await world.client.traffic())["counters"]
    assert counters["limited_chat"] > 0  # the sandbox did enforce the limit
    for chat in USERS[:2]:
        assert await texts(world.client, chat) == expected[chat]  # 429s were retried, nothing lost


async def test_a_user_who_blocked_the_bot_fails_for_good_and_the_others_still_get_theirs(
    world, uow_factory, outbox_store
):
    blocked, other, third = USERS[:3]
    await world.client.block(blocked)
    ids = await put(uow_factory, [
        OutgoingMessage(chat_id=blocked, text="新工单 XK-1", ticket_number="XK-1"),
        OutgoingMessage(chat_id=other, text="a1"),
        OutgoingMessage(chat_id=blocked, text="新工单 XK-2", ticket_number="XK-2"),
        OutgoingMessage(chat_id=third, text="c1"),
        OutgoingMessage(chat_id=other, text="a2"),
    ])
    calls: list[tuple[PendingMessage, str]] = []

    async def on_permanent_failure(row: PendingMessage, error: str) -> None:
        # called after the row was marked failed
        assert row.id not in {r.id for r in await outbox_store.peek(status="pending")}
        calls.append((row, error))

    sender = OutboxSender(world.bot, outbox_store, idle_seconds=0.02, backoff=FAST_RETRY,
                          limits=RateLimits(**SCALED), on_permanent_failure=on_permanent_failure)
    # A row is marked failed before its hook runs: wait for the second hook too, not just the outbox.
    await drain(sender, store=outbox_store, until=lambda: len(calls) >= 2)

    assert sorted(row.id for row, _ in calls) == [ids[0], ids[2]]  # once each
    assert all("blocked" in error for _, error in calls)
    assert {row.message.ticket_number for row, _ in calls} == {"XK-1", "XK-2"}
    assert [r.id for r in await outbox_store.peek(status=OUTBOX_FAILED)] == [ids[0], ids[2]]
    assert await texts(world.client, other) == ["a1", "a2"]
    assert await texts(world.client, third) == ["c1"]
    assert await texts(world.client, blocked) == []


async def test_permanent_and_not_really_failed_answers(world, uow_factory, outbox_store):
    user = USERS[0]
    first = await put(uow_factory, [OutgoingMessage(chat_id=user, text="进展：已派人清理",
                                                    buttons=((Button("签收", "acc:1"),),))])
    calls: list[tuple[int, str]] = []

    async def on_permanent_failure(row: PendingMessage, error: str) -> None:
        calls.append((row.id, error))

    sender = OutboxSender(world.bot, outbox_store, idle_seconds=0.02, backoff=FAST_RETRY, limits=None,
                          on_permanent_failure=on_permanent_failure)
    assert await sender.send_pending() == 1
    ids = await put(uow_factory, [
        OutgoingMessage(chat_id=424242, text="没人认识的聊天"),  # never wrote to the bot: chat not found
        # the same text and buttons again: "message is not modified" — done, not failed
        OutgoingMessage(chat_id=user, text="进展：已派人清理", buttons=((Button("签收", "acc:1"),),),
                        edit_outbox_id=first[0]),
        OutgoingMessage(chat_id=user, text="已办结", edit_message_id=9999),  # gone: sent anew instead
        OutgoingMessage(chat_id=user, text="<b>未闭合"),  # 400 can't parse entities: permanent
    ])
    await drain(sender, store=outbox_store)

    failed = {r.id for r in await outbox_store.peek(status=OUTBOX_FAILED)}
    sent = {r.id for r in await outbox_store.peek(status=OUTBOX_SENT)}
    assert failed == {ids[0], ids[3]} and sent == {first[0], ids[1], ids[2]}
    assert [row_id for row_id, _ in calls] == [ids[0], ids[3]]
    assert "chat not found" in calls[0][1] and "can't parse entities" in calls[1][1]
    assert await texts(world.client, user) == ["进展：已派人清理", "已办结"]
    [edited_row] = [r for r in await outbox_store.peek(user, status=OUTBOX_SENT) if r.id == ids[1]]
    assert edited_row.attempts == 0
    assert await outbox_store.sent_message_ids(ids[1]) == await outbox_store.sent_message_ids(first[0])


async def test_a_retried_row_does_not_send_its_photos_again(world, uow_factory, outbox_store):
    user = USERS[0]
    await world.client.send_photo(user)
    [mine] = [m for m in await world.client.messages(user) if m.kind == "photo"]
    file_id = mine.photo["file_id"]
    failures = iter([True])

    async def fail_first_text(method: str, params: dict) -> None:
        if method == "sendmessage" and next(failures, False):
            raise ApiError(502, "Bad Gateway")

    world.server.sandbox.api_hooks.append(fail_first_text)
    album = OutgoingMessage(chat_id=user, text="办结照片", photos=(file_id, file_id))
    [row] = await put(uow_factory, [album])
    sender = OutboxSender(world.bot, outbox_store, idle_seconds=0.02, backoff=FAST_RETRY, limits=None)
    await drain(sender, store=outbox_store)

    kinds = [(m.kind, m.text) for m in await world.client.bot_messages(user)]
    assert next(failures, "used") == "used"  # the text did fail once
    assert kinds == [("photo", ""), ("photo", ""), ("text", "办结照片")]
    assert len(await outbox_store.sent_message_ids(row)) == 3


async def test_a_question_takes_the_last_ones_buttons_away_without_being_sent_twice(
        world, uow_factory, outbox_store):
    """A dialog's next question carries the retirement of the last one in its own row: sent first, then
    the last question's buttons go; a failed clear retries the row without sending the question again."""
    user = USERS[0]
    failures = iter([True])

    async def fail_first_clear(method: str, params: dict) -> None:
        if method == "editmessagereplymarkup" and next(failures, False):
            raise ApiError(502, "Bad Gateway")

    world.server.sandbox.api_hooks.append(fail_first_clear)
    [first] = await put(uow_factory, [OutgoingMessage(chat_id=user, text="是哪一栋？",
                                                      buttons=((Button("1栋", "r:1:b1"),),))])
    [second] = await put(uow_factory, [OutgoingMessage(chat_id=user, text="几单元？",
                                                       buttons=((Button("1单元", "r:2:u1"),),),
                                                       clear_keyboard_of_outbox=first)])
    sender = OutboxSender(world.bot, outbox_store, idle_seconds=0.02, backoff=FAST_RETRY, limits=None)
    await drain(sender, store=outbox_store)

    assert next(failures, "used") == "used"  # the clear did fail once
    messages = await world.client.bot_messages(user)
    assert [m.text for m in messages] == ["是哪一栋？", "几单元？"]
    assert not messages[0].buttons and messages[1].buttons
    assert await outbox_store.sent_message_ids(second) == [messages[1].message_id]


async def test_a_sender_that_dies_mid_send_leaves_the_order_intact(world, engine, uow_factory):
    store = OutboxStore(engine, lease=timedelta(seconds=0.3))
    rows, expected = burst(USERS[:2], per_chat=3)
    await put(uow_factory, rows)
    stalled, release = asyncio.Event(), asyncio.Event()

    async def stall_first(method: str, params: dict) -> None:
        if method == "sendmessage" and params.get("text") == expected[USERS[0]][0] and not stalled.is_set():
            stalled.set()
            await release.wait()  # the sender dies while waiting for this answer
            raise ApiError(500, "Internal Server Error")  # never applied

    world.server.sandbox.api_hooks.append(stall_first)
    dying = asyncio.create_task(OutboxSender(world.bot, store, idle_seconds=0.02, backoff=FAST_RETRY,
                                             limits=None, stop_grace=0.1).run())
    await stalled.wait()
    dying.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await dying
    # another process takes over once the lease has run out
    await drain(OutboxSender(world.bot, OutboxStore(engine), idle_seconds=0.02, backoff=FAST_RETRY,
                             limits=None), store=store)
    release.set()
    for chat in USERS[:2]:
        assert await texts(world.client, chat) == expected[chat]


async def test_two_sender_processes_on_postgresql_send_nothing_twice(make_engine):
    first_engine = await make_engine("postgresql")
    second_engine = create_engine(first_engine.url.render_as_string(hide_password=False))
    chats = list(range(6101, 6111))
    try:
        async with SandboxServer() as server, SandboxClient(server.base_url) as client:
            for chat in chats:
                await client.send_text(chat, "/start")
            rows, expected = burst(chats, per_chat=10)
            await put(make_uow_factory(first_engine), rows)
            # 429 and 500 are never applied, so any repeat would be a double send by the senders
            await client.set_faults(rate_429=0.03, rate_500=0.1, seed=7)
            bots = [await open_bot(server.base_url), await open_bot(server.base_url)]
            stores = [CountingStore(first_engine), CountingStore(second_engine)]
            senders = [OutboxSender(bot, store, idle_seconds=0.01, backoff=FAST_RETRY, workers=4,
                                    limits=RateLimits(**{**SCALED, "global_per_s": 200.0}))
                       for bot, store in zip(bots, stores, strict=True)]
            try:
                await drain(*senders, store=stores[0])
            finally:
                for bot in bots:
                    await close_bot(bot)
            for chat in chats:
                assert await texts(client, chat) == expected[chat]
            assert sum(s.sent for s in stores) == len(rows)
            assert all(s.sent > 0 for s in stores), [s.sent for s in stores]
            print(f"\nsender A sent {stores[0].sent}, sender B sent {stores[1].sent} of {len(rows)}")
    finally:
        await second_engine.dispose()


class CountingStore(OutboxStore):
    sent = 0

    async def mark_sent(self, id: int, message_ids: Sequence[int]) -> None:
        await super().mark_sent(id, message_ids)
        self.sent += 1


class NothingToClaim(OutboxStore):
    def __init__(self) -> None:
        self.claims = 0

    async def claim(self, limit: int = 20) -> list[PendingMessage]:
        self.claims += 1
        return []


async def test_stopping_the_sender_as_it_is_woken_stops_it():
    """The stop (task.cancel()) and a wake-up in the same turn of the loop: Python 3.11's wait_for
    returned the wake-up and dropped the cancellation, and the sender went on claiming for ever (seen
    at the end of bench.outbound, and so at a bot's SIGTERM)."""
    store = NothingToClaim()
    sender = OutboxSender(Bot(TOKEN), store, idle_seconds=30)
    task = asyncio.create_task(sender.run())
    while store.claims == 0:
        await asyncio.sleep(0)
    await asyncio.sleep(0)  # it waits to be woken now
    sender.wake()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, timeout=5)
