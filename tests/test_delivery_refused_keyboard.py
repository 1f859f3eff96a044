"""What the outbox sender does today when Telegram refuses a message's keyboard with a 400 ("reply markup
is too long"): the row is marked failed for good (not retried forever, not dropped silently), a WARNING
names the row, the chat and Telegram's answer (never the text), and on_permanent_failure runs — which
writes DELIVERY_FAILED on the ticket's ledger when the message was about a ticket (handlers.upkeep).
The bot's own keyboards never get there (handlers.keyboards pages them); this keeps a refusal visible."""

from __future__ import annotations

import asyncio
import logging

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bot.delivery import Backoff, OutboxSender
from gridcore.messages import Button, OutgoingMessage
from sandbox import SandboxClient, SandboxServer
from storage.models import OUTBOX_FAILED, OUTBOX_SENT
from storage.outbox_store import OutboxStore, PendingMessage

TOKEN = "7000000003:refused_keyboard_token"
USER = 6101


def wide(per_row: int, rows: int = 1, text: str = "楼") -> tuple[tuple[Button, ...], ...]:
    return tuple(tuple(Button(f"{text}{r}-{c}", f"r:1:b:{r}:{c}") for c in range(per_row))
                 for r in range(rows))


@pytest.fixture
async def bot():
    async with SandboxServer() as server, SandboxClient(server.base_url) as client:
        await client.send_text(USER, "/start")
        session = AiohttpSession(api=TelegramAPIServer.from_base(server.base_url))
        bot = Bot(TOKEN, session=session, default=DefaultBotProperties(parse_mode="HTML"))
        try:
            yield bot, client
        finally:
            await bot.session.close()


async def test_a_refused_keyboard_fails_visibly_once(bot, uow_factory, engine, caplog):
    bot, client = bot
    store = OutboxStore(engine)
    async with uow_factory() as uow:
        ids = [await uow.outbox.add(m) for m in (
            OutgoingMessage(chat_id=USER, text="问题在哪栋楼？秘密内容", buttons=wide(9),
                            ticket_number="YG-1"),
            OutgoingMessage(chat_id=USER, text="大键盘", buttons=wide(3, 30, text="网" * 40)),  # ~15 kB
            OutgoingMessage(chat_id=USER, text="之后的消息照常送达", buttons=wide(8, 12)),
        )]
        await uow.commit()
    failures: list[tuple[PendingMessage, str]] = []

    async def on_permanent_failure(row: PendingMessage, error: str) -> None:
        failures.append((row, error))

    sender = OutboxSender(bot, store, idle_seconds=0.02, backoff=Backoff(base=0.02, cap=0.2), limits=None,
                          on_permanent_failure=on_permanent_failure)
    caplog.set_level(logging.INFO, logger="bot.delivery")
    task = asyncio.create_task(sender.run())
    try:
        async with asyncio.timeout(20):
            while await store.pending_count() or len(failures) < 2:
                await asyncio.sleep(0.05)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    assert [r.id for r in await store.peek(status=OUTBOX_FAILED)] == ids[:2]
    assert [r.id for r in await store.peek(status=OUTBOX_SENT)] == ids[2:]
    assert [(row.id, row.message.ticket_number) for row, _ in failures] == [(ids[0], "YG-1"), (ids[1], None)]
    assert all("reply markup is too long" in error for _, error in failures)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    for row_id in ids[:2]:
        named = [w for w in warnings if f"outbox {row_id} to chat {USER}" in w]
        assert named and all("reply markup is too long" in w for w in named)
    assert not any("秘密内容" in r.getMessage() for r in caplog.records)
    assert [m.text for m in await client.bot_messages(USER)] == ["之后的消息照常送达"]
