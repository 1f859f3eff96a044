"""Delivers queued updates to the bot's webhook, one at a time, redelivering after failures."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from sandbox.models import ApiError, WebhookConfig
from sandbox.state import Sandbox

__all__ = ["start_webhook", "stop_webhook"]

log = logging.getLogger(__name__)

# Runs a Bot API method found in a webhook response body ({"method": ..., ...}).
Executor = Callable[[Sandbox, str, dict[str, Any]], Awaitable[Any]]
MIN_BACKOFF = 0.05
MAX_BACKOFF = 1.0


def start_webhook(sb: Sandbox, execute: Executor) -> None:
    if sb.webhook_task is None or sb.webhook_task.done():
        sb.webhook_task = asyncio.get_running_loop().create_task(_deliver_forever(sb, execute))


async def stop_webhook(sb: Sandbox) -> None:
    task, sb.webhook_task = sb.webhook_task, None
    if task is not None and not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _deliver_forever(sb: Sandbox, execute: Executor) -> None:
    backoff = MIN_BACKOFF
    async with aiohttp.ClientSession() as session:
        while sb.webhook is not None:
            config = sb.webhook
            sb._confirm(0)  # drop update types the bot did not ask for
            if not sb.updates:
                await sb.wait_change(sb.version, 30)
                continue
            update = sb.updates[0]
            error = await _post(session, config, update)
            if error is None:
                sb.updates = [u for u in sb.updates if u["update_id"] != update["update_id"]]
                config.delivered += 1
                backoff = MIN_BACKOFF
                sb.bump()
                continue
            if isinstance(error, dict):  # the bot answered with a method call
                sb.updates = [u for u in sb.updates if u["update_id"] != update["update_id"]]
                config.delivered += 1
                sb.bump()
                await _run_reply(sb, execute, error)
                continue
            config.last_error_date = int(time.time())
            config.last_error_message = error
            log.debug("webhook delivery of update %s failed: %s", update["update_id"], error)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)


async def _post(
    session: aiohttp.ClientSession, config: WebhookConfig, update: dict[str, Any]
) -> str | dict[str, Any] | None:
    """None on success, a dict if the response carries a method call, else an error message."""
    headers = {"Content-Type": "application/json"}
    if config.secret_token:
        headers["X-Telegram-Bot-Api-Secret-Token"] = config.secret_token
    try:
        async with session.post(
            config.url,
            data=json.dumps(update, ensure_ascii=False).encode(),
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=10),
        ) as resp:
            body = await resp.read()
            if not 200 <= resp.status < 300:
                return f"Wrong response from the webhook: {resp.status} {resp.reason}"
    except (aiohttp.ClientError, TimeoutError, OSError) as err:
        return f"Connection failed: {type(err).__name__}: {err}"
    if body and resp.content_type == "application/json":
        try:
            reply = json.loads(body)
        except ValueError:
            return None
        if isinstance(reply, dict) and isinstance(reply.get("method"), str):
            return reply
    return None


async def _run_reply(sb: Sandbox, execute: Executor, reply: dict[str, Any]) -> None:
    method = reply.pop("method")
    try:
        await execute(sb, method, reply)
    except ApiError as err:
        log.warning("method %s from a webhook reply failed: %s", method, err.description)
