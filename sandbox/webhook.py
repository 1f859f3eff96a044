"""Delivers queued updates to the bot's webhook as Telegram does, and stands in for a load balancer.

Telegram keeps one queue per chat: a chat's next update is sent only once the one before it was
answered with 2xx, while updates of different chats go out in parallel, over up to the webhook's
`max_connections` requests at once. A failed delivery (no answer, a non-2xx status, a timeout) is
retried after a back-off, and the chat's later updates wait behind it.

Replicas: a deployment runs several bot processes behind one load balancer. When replica URLs are set
(`/control/webhook_replicas`), each delivery goes to the next replica in turn instead of the webhook's
own URL; a replica that refuses the connection is skipped for a few seconds and the request goes to the
next one at once, as a load balancer's health check would do. A request that reached a replica and got
no answer is a failed delivery: it is redelivered later, possibly to another replica.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from sandbox.models import ApiError, WebhookConfig
from sandbox.state import Sandbox

__all__ = ["chat_of_update", "start_webhook", "stop_webhook"]

log = logging.getLogger(__name__)

# Runs a Bot API method found in a webhook response body ({"method": ..., ...}).
Executor = Callable[[Sandbox, str, dict[str, Any]], Awaitable[Any]]
MIN_BACKOFF = 0.05
MAX_BACKOFF = 1.0
REQUEST_TIMEOUT = 10.0


def chat_of_update(update: dict[str, Any]) -> Any:
    """The key of the update's queue: its chat (a pressed button: the message's chat, else the user)."""
    for kind in ("message", "edited_message", "channel_post", "edited_channel_post"):
        if kind in update:
            return update[kind].get("chat", {}).get("id")
    query = update.get("callback_query")
    if query is not None:
        message = query.get("message") or {}
        return message.get("chat", {}).get("id") or query.get("from", {}).get("id")
    return ("update", update["update_id"])  # anything else has a queue of its own


def start_webhook(sb: Sandbox, execute: Executor) -> None:
    if sb.webhook_task is None or sb.webhook_task.done():
        sb.webhook_task = asyncio.get_running_loop().create_task(_deliver_forever(sb, execute))


async def stop_webhook(sb: Sandbox) -> None:
    task, sb.webhook_task = sb.webhook_task, None
    if task is not None and not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@dataclass
class _ChatQueue:
    busy: bool = False
    retry_at: float = 0.0
    backoff: float = MIN_BACKOFF


async def _deliver_forever(sb: Sandbox, execute: Executor) -> None:
    queues: dict[Any, _ChatQueue] = {}
    in_flight: set[asyncio.Task[None]] = set()
    try:
        async with aiohttp.ClientSession() as session:
            while sb.webhook is not None:
                config = sb.webhook
                version = sb.version
                sb._confirm(0)  # drop update types the bot did not ask for
                now = time.monotonic()
                heads: dict[Any, dict[str, Any]] = {}
                for update in sb.updates:  # oldest first: the first of each chat is its head
                    heads.setdefault(chat_of_update(update), update)
                next_retry: float | None = None
                for chat, update in heads.items():
                    if len(in_flight) >= config.max_connections:
                        break
                    queue = queues.setdefault(chat, _ChatQueue())
                    if queue.busy:
                        continue
                    if queue.retry_at > now:
                        next_retry = min(next_retry or queue.retry_at, queue.retry_at)
                        continue
                    queue.busy = True
                    task = asyncio.create_task(_deliver_one(sb, session, config, execute, update, queue))
                    in_flight.add(task)
                    task.add_done_callback(in_flight.discard)
                for chat in [c for c, q in queues.items() if not q.busy and c not in heads]:
                    del queues[chat]
                wait = 30.0 if next_retry is None else max(0.0, next_retry - time.monotonic())
                if version == sb.version:
                    await sb.wait_change(version, wait)
    finally:
        for task in in_flight:
            task.cancel()
        await asyncio.gather(*in_flight, return_exceptions=True)


async def _deliver_one(sb: Sandbox, session: aiohttp.ClientSession, config: WebhookConfig, execute: Executor,
                       update: dict[str, Any], queue: _ChatQueue) -> None:
    try:
        outcome = await _post_to_some_replica(sb, session, config, update)
        if isinstance(outcome, str):
            config.last_error_date = int(time.time())
            config.last_error_message = outcome
            log.debug("webhook delivery of update %s failed: %s", update["update_id"], outcome)
            queue.retry_at = time.monotonic() + queue.backoff
            queue.backoff = min(queue.backoff * 2, MAX_BACKOFF)
            return
        sb.updates = [u for u in sb.updates if u["update_id"] != update["update_id"]]
        config.delivered += 1
        queue.backoff = MIN_BACKOFF
        queue.retry_at = 0.0
        if isinstance(outcome, dict):  # the bot answered with a method call
            await _run_reply(sb, execute, outcome)
    finally:
        queue.busy = False
        sb.bump()  # the chat's next update may go, or its retry is due


async def _post_to_some_replica(sb: Sandbox, session: aiohttp.ClientSession, config: WebhookConfig,
                                update: dict[str, Any]) -> str | dict[str, Any] | None:
    replicas = sb.webhook_replicas
    targets = replicas.order() or [config.url]
    outcome: str | dict[str, Any] | None = "no replica"
    for url in targets:
        try:
            outcome = await _post(session, url, config.secret_token, update)
        except aiohttp.ClientConnectorError as err:  # nothing listens there: the balancer tries the next
            replicas.mark_down(url)
            outcome = f"Connection failed: {type(err).__name__}: {err}"
            continue
        if not isinstance(outcome, str) and url in replicas.delivered:
            replicas.delivered[url] += 1
        return outcome
    return outcome


async def _post(session: aiohttp.ClientSession, url: str, secret_token: str | None,
                update: dict[str, Any]) -> str | dict[str, Any] | None:
    """None on success, a dict if the response carries a method call, else an error message. A refused
    connection raises aiohttp.ClientConnectorError (the caller may try another replica)."""
    headers = {"Content-Type": "application/json"}
    if secret_token:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret_token
    try:
        async with session.post(
            url,
            data=json.dumps(update, ensure_ascii=False).encode(),
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT),
        ) as resp:
            body = await resp.read()
            if not 200 <= resp.status < 300:
                return f"Wrong response from the webhook: {resp.status} {resp.reason}"
    except aiohttp.ClientConnectorError:
        raise
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
