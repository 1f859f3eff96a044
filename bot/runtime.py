"""The composition root: the one place that wires settings, database, conversations and Telegram."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import TypeVar
from urllib.parse import urlsplit

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.types import BotCommand
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import scheduler
from bot.console import console_site
from bot.delivery import TELEGRAM_LIMITS, OutboxSender, RateLimits
from bot.leader import Leadership
from bot.menus import bot_commands, set_chat_menu
from bot.polling import ALLOWED_UPDATES, UPDATE_CONCURRENCY, WHOLE_BATCH, poll
from bot.router import ChatLocks, make_router
from bot.settings import Mode, Settings
from bot.triage_model import load_or_none
from bot.webhook import webhook_handler
from handlers import menus, upkeep
from handlers.app import Conversations
from handlers.clock import Clock, system_clock
from handlers.context import Context
from handlers.texts import Texts
from handlers.triage import Triage
from storage.db import create_engine, migrate
from storage.outbox_store import OutboxStore, PendingMessage
from storage.uow import uow_factory

log = logging.getLogger(__name__)
T = TypeVar("T")
STARTUP_MAX_DELAY = 30.0
_sleep = asyncio.sleep  # tests make the waits instant


async def with_retry(call: Callable[[], Awaitable[T]], what: str, *,
                     max_delay: float = STARTUP_MAX_DELAY) -> T:
    """A start-up call to Telegram, tried until it works while the failure is passing (network, 5xx,
    429): a bot started while Telegram hiccups must come up, not exit. A refusal (bad token, 400)
    is raised at once."""
    delay = 0.5
    while True:
        try:
            return await call()
        except TelegramRetryAfter as error:
            wait = float(error.retry_after)
            log.warning("%s: 429, retrying in %.0fs", what, wait)
        except (TelegramNetworkError, TelegramServerError, OSError) as error:
            wait = delay
            delay = min(delay * 2, max_delay)
            log.warning("%s failed (%s); retrying in %.1fs", what, type(error).__name__, wait)
        await _sleep(wait)


def command_menu(texts: Texts) -> list[BotCommand]:
    """Everyone's menu (the default scope): the resident's commands."""
    return bot_commands(menus.menu(list(menus.RESIDENT_COMMANDS), texts))


async def set_staff_menus(bot: Bot, conversations: Conversations) -> int:
    """Each bound staff member's chat gets its own menu (their roles' commands, then everyone's).
    A passing failure is retried; a chat Telegram refuses is skipped (bot.menus)."""
    found: dict[int, menus.Menu] = {}

    async def collect(ctx: Context) -> None:
        found.update(menus.staff_menus(ctx.community, ctx.texts))

    for code in await conversations.community_codes():
        await conversations.system(collect, code)
    done = 0
    for chat_id, menu in found.items():
        done += await with_retry(partial(set_chat_menu, bot, chat_id, menu), "setMyCommands (staff)")
    log.info("command menus set for %d of %d staff chats", done, len(found))
    return done


async def report_failure(conversations: Conversations, row: PendingMessage, error: str) -> None:
    """A message given up for good: on the ticket's ledger, and staff told (handlers.upkeep), in the
    ticket's community (a ticket number starts with its community's code)."""
    number = row.message.ticket_number
    await conversations.system(partial(upkeep.delivery_failed, chat_id=row.chat_id, ticket_number=number,
                                       error=error), number.split("-", 1)[0] if number else None)


def rate_limits(settings: Settings) -> RateLimits | None:
    """Telegram's pacing, unless OUTBOX_RATE_LIMITS=off (benchmarks against the sandbox only)."""
    return None if settings.outbox_rate_limits == "off" else TELEGRAM_LIMITS


@dataclass
class BotApp:
    bot: Bot
    dispatcher: Dispatcher
    conversations: Conversations
    sender: OutboxSender
    engine: AsyncEngine
    settings: Settings
    clock: Clock = system_clock  # the conversations' (the console shares it: a link's 10 minutes agree)


def telegram_session(settings: Settings) -> AiohttpSession:
    """aiogram's own aiohttp session, on TELEGRAM_API_URL, through TELEGRAM_PROXY when one is set."""
    proxy = settings.telegram_proxy_url()  # ValueError for an unusable one, before anything starts
    api = TelegramAPIServer.from_base(settings.telegram_api_url.rstrip("/"))
    if proxy is None:
        return AiohttpSession(api=api)
    log.info("Telegram is reached through the proxy %s", settings.telegram_proxy_host)
    return AiohttpSession(api=api, proxy=proxy)


@contextlib.asynccontextmanager
async def assemble(settings: Settings, *, clock: Clock = system_clock, engine: AsyncEngine | None = None,
                   limits: RateLimits | None = TELEGRAM_LIMITS) -> AsyncIterator[BotApp]:
    """Build everything; close the bot session and the engine (if we made it) on exit."""
    if settings.bot_token is None:
        raise ValueError("BOT_TOKEN is not set")
    session = telegram_session(settings)
    own_engine = engine is None
    engine = engine or create_engine(settings.database_url)
    await migrate(engine)
    bot = Bot(settings.bot_token.get_secret_value(), session=session,
              default=DefaultBotProperties(parse_mode="HTML", link_preview_is_disabled=True))
    try:
        me = await with_retry(bot.get_me, "getMe")
        texts = Texts()
        triage = Triage(await asyncio.to_thread(load_or_none))
        # Polling is one process, whose commits wake its own sender; webhook replicas may queue messages
        # that another process sends.
        units = uow_factory(engine, notify_outbox=settings.mode is Mode.WEBHOOK)
        conversations = Conversations(units, texts, clock=clock, community_code=settings.community,
                                      bot_username=me.username or "", console_url=settings.console_address,
                                      triage=triage)
        store = OutboxStore(engine, lease=timedelta(seconds=settings.outbox_lease_seconds))
        sender = OutboxSender(bot, store, limits=limits,
                              on_permanent_failure=partial(report_failure, conversations))
        # Conversations keep their own state (handlers/), so aiogram's FSM, a lookup per update, is off.
        dispatcher = Dispatcher(conversations=conversations, sender=sender, chat_locks=ChatLocks(),
                                disable_fsm=True)
        dispatcher.include_router(make_router())
        await with_retry(partial(bot.set_my_commands, command_menu(texts)), "setMyCommands")
        await set_staff_menus(bot, conversations)
        log.info("bot @%s ready (%s mode)", me.username, settings.mode.value)
        yield BotApp(bot, dispatcher, conversations, sender, engine, settings, clock)
    finally:
        await bot.session.close()
        if own_engine:
            await engine.dispose()


GC_YOUNGEST_THRESHOLD = 10_000


def exempt_startup_objects_from_gc() -> int:
    """Move everything alive now out of the cyclic garbage collector's reach; returns how many objects.

    What exists once the bot is assembled (aiogram's and pydantic's validators, SQLAlchemy's and Jinja2's
    compiled state) lives as long as the process, and a full collection would walk all of it again each
    time, pausing every reply under way. gc.freeze() is the standard library's way to say so; what is made
    later is collected as usual. Each update's short-lived objects are freed by reference counting, so
    the youngest generation is collected every GC_YOUNGEST_THRESHOLD allocations rather than 700."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNGEST_THRESHOLD, *gc.get_threshold()[1:])
    frozen = gc.get_freeze_count()
    log.info("%d start-up objects exempted from garbage collection", frozen)
    return frozen


RESTART_DELAY = 5.0


async def keep_running(work: Callable[[], Awaitable[None]], what: str) -> None:
    """Run a loop that should never end; if a bug ends it, log it and start it again, so one bad
    moment cannot stop the whole bot (polling restarts from the first unconfirmed update)."""
    while True:
        try:
            await work()
        except Exception:
            log.exception("%s stopped unexpectedly; restarting in %.0f s", what, RESTART_DELAY)
        else:
            log.error("%s ended unexpectedly; restarting in %.0f s", what, RESTART_DELAY)
        await asyncio.sleep(RESTART_DELAY)


async def run_polling(app: BotApp, *, timeout: int = 25) -> None:
    """Poll and deliver until cancelled."""
    await with_retry(partial(app.bot.delete_webhook, drop_pending_updates=False), "deleteWebhook")
    async with serve_console(app), asyncio.TaskGroup() as tasks:
        tasks.create_task(follow_the_lead(app))
        polling = partial(poll, app.bot, app.dispatcher, timeout=timeout,
                          concurrency=update_concurrency(app.settings, app.engine.dialect.name))
        tasks.create_task(keep_running(polling, "polling"))


async def lead(app: BotApp) -> None:
    """What only the leading process does (bot.leader): send the outbox and run the periodic jobs."""
    with scheduler.running(app.conversations, app.sender, app.engine, app.settings):
        await keep_running(app.sender.run, "the outbox sender")


async def follow_the_lead(app: BotApp) -> None:
    """Lead when this process holds the lead, stand by otherwise (one process on SQLite always leads)."""
    await Leadership(app.engine, on_notify=app.sender.wake).run(partial(lead, app))


def update_concurrency(settings: Settings, dialect_name: str) -> int:
    """Updates of one batch handled at once: UPDATE_CONCURRENCY if set, else by database (bot/polling.py)."""
    if settings.update_concurrency is not None:
        return settings.update_concurrency
    return UPDATE_CONCURRENCY if dialect_name == "postgresql" else WHOLE_BATCH


def serve_console(app: BotApp) -> contextlib.AbstractAsyncContextManager[str | None]:
    """The staff console beside polling or the webhook (bot.console), stopped with them."""
    return console_site(app.settings, app.engine, app.conversations, app.bot, app.clock)


def webhook_path(url: str) -> str:
    """The listener serves the path of WEBHOOK_URL, so a proxy can forward it unchanged."""
    return urlsplit(url).path or "/webhook"


async def run_webhook(app: BotApp, settings: Settings) -> None:
    """Serve the webhook (bot.webhook: secret checked, answered after the commit) and deliver until
    cancelled."""
    from aiohttp import web

    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    if not settings.webhook_url or not secret:
        raise ValueError("webhook mode needs WEBHOOK_URL and WEBHOOK_SECRET")
    web_app = web.Application()
    handler = webhook_handler(app.dispatcher, app.bot, secret)
    web_app.router.add_post(webhook_path(settings.webhook_url), handler)
    runner = web.AppRunner(web_app)
    await runner.setup()
    host, port = settings.webhook_host_port
    await web.TCPSite(runner, host, port).start()
    await with_retry(partial(app.bot.set_webhook, settings.webhook_url, secret_token=secret,
                             allowed_updates=ALLOWED_UPDATES), "setWebhook")
    try:
        async with serve_console(app):
            await follow_the_lead(app)
    finally:
        await runner.cleanup()
