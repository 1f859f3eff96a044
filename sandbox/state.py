"""All the sandbox's state: users, chats, messages, the update queue, files, webhook, commands.

The class is plain and synchronous except for the two waits (``get_updates`` long-poll and
``wait_change`` for the control API / web page). Bot API and control routes are thin layers on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from sandbox.models import (
    ApiError,
    Chat,
    Replicas,
    StoredFile,
    StoredMessage,
    User,
    WebhookConfig,
    bad_request,
)
from sandbox.traffic import Traffic

__all__ = ["DEFAULT_UPDATE_TYPES", "ApiHook", "MessageListener", "Sandbox"]

# What Telegram sends when allowed_updates is not given (or empty).
DEFAULT_UPDATE_TYPES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_join_request",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "purchased_paid_media",
    }
)

# Called with every message the sandbox stores (a person's or the bot's), right after storing it.
MessageListener = Callable[[StoredMessage], None]

# Called before every Bot API method with (method_name_lower, params); may raise ApiError
# (e.g. a 429 with parameters={"retry_after": n}) or sleep. The place for rate limits and fault
# injection.
ApiHook = Callable[[str, dict[str, Any]], Awaitable[None]]


class Sandbox:
    def __init__(
        self,
        personas: Iterable[dict[str, Any]] | None = None,
        *,
        bot_username: str = "gridbot_sandbox_bot",
        bot_name: str = "网格通 (sandbox)",
        token: str | None = None,
        first_update_id: int = 1,
        groups: Iterable[dict[str, Any]] = (),
        personas_started: bool = False,
    ) -> None:
        self.bot_username = bot_username
        self.bot_name = bot_name
        self.token = token  # when set, only this exact token is accepted
        self.bot_id = int(token.split(":")[0]) if token else 0
        self.api_hooks: list[ApiHook] = []
        self.message_listeners: list[MessageListener] = []
        self.traffic = Traffic()  # flood limits and fault injection, both off by default
        self.personas: list[User] = [self._persona(p) for p in personas or ()]
        self._update_ids = itertools.count(first_update_id)
        self._file_seq = itertools.count(1)
        self._callback_seq = itertools.count(1)
        self._group_seq = itertools.count(1)
        self.version = 0
        self._changed = asyncio.Event()
        self.webhook: WebhookConfig | None = None
        self.webhook_task: asyncio.Task[None] | None = None
        # A load balancer's backends: webhook deliveries go to them in turn (sandbox.webhook).
        self.webhook_replicas = Replicas()
        self.allowed_updates: frozenset[str] = DEFAULT_UPDATE_TYPES
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self._poll_generation = 0
        self._waiting_pollers = 0
        # Groups that exist from the start ({id, title, member_ids}), e.g. a community's staff group,
        # and whether the personas have already started the bot (their private chats exist).
        self.configured_groups = [dict(g) for g in groups]
        self.personas_started = personas_started
        self._clear()

    @staticmethod
    def _persona(p: dict[str, Any]) -> User:
        name = str(p.get("name") or p.get("first_name") or f"用户{p['id']}")
        return User(
            id=int(p["id"]),
            first_name=str(p.get("first_name") or name),
            last_name=p.get("last_name"),
            username=p.get("username"),
            role_label=p.get("role_label"),
            language_code=str(p.get("language_code", "zh-hans")),
            is_persona=True,
        )

    def _clear(self) -> None:
        self.users: dict[int, User] = {}
        for persona in self.personas:
            self.users[persona.id] = User(**{**persona.__dict__})
        self.chats: dict[int, Chat] = {}
        self.updates: list[dict[str, Any]] = []
        self.update_log: list[dict[str, Any]] = []
        self.enqueued_at: dict[int, float] = {}  # update_id -> time.monotonic() when it was queued
        self.fetched_at: dict[int, float] = {}  # update_id -> when getUpdates first handed it out
        self.files: dict[str, StoredFile] = {}
        self.callback_queries: dict[str, dict[str, Any]] = {}
        self.callback_answers: list[dict[str, Any]] = []
        for group in self.configured_groups:
            self.create_group(str(group["title"]), group.get("member_ids") or (), chat_id=int(group["id"]))
        if self.personas_started:
            for persona in self.personas:
                self.private_chat(self.users[persona.id])

    def reset(self) -> None:
        """Forget chats, messages, queued updates, files, answers and ad-hoc users; empty the
        flood-limit buckets and traffic counters.

        Personas, webhook, commands and the update_id counter survive (update ids keep growing so a
        bot that de-duplicates by update_id never mistakes a new update for an old one).
        """
        self._clear()
        self.traffic.reset()
        self.bump()

    # -- change notification -------------------------------------------------------------
    def bump(self) -> None:
        self.version += 1
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_change(self, since_version: int, timeout: float) -> int:
        """Wait until ``version`` exceeds ``since_version`` or the timeout passes; return version."""
        if self.version > since_version or timeout <= 0:
            return self.version
        event = self._changed
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):  # not wait_for: on 3.11 it can drop a cancellation
                await event.wait()
        return self.version

    # -- bot identity ----------------------------------------------------------------------
    def bot_user(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": self.bot_name, "username": self.bot_username}

    # -- users and chats -------------------------------------------------------------------
    def add_user(self, user_id: int, first_name: str, **extra: Any) -> User:
        user = self.users.get(user_id)
        if user is None:
            user = User(id=user_id, first_name=first_name)
            self.users[user_id] = user
        user.first_name = first_name
        for key in ("last_name", "username", "role_label", "language_code"):
            if extra.get(key) is not None:
                setattr(user, key, extra[key])
        self.bump()
        return user

    def get_user(self, user_id: int) -> User | None:
        return self.users.get(user_id)

    def private_chat(self, user: User) -> Chat:
        chat = self.chats.get(user.id)
        if chat is None:
            chat = Chat(id=user.id, type="private", user=user, member_ids=[user.id])
            self.chats[user.id] = chat
        return chat

    def create_group(self, title: str, member_ids: Iterable[int], chat_id: int | None = None) -> Chat:
        if chat_id is not None and (chat_id >= 0 or chat_id in self.chats):
            raise ValueError(f"group id {chat_id} must be negative and unused")
        if chat_id is None:
            chat_id = -1_000_000_000_000 - next(self._group_seq) * 7919
            while chat_id in self.chats:
                chat_id -= 1
        chat = Chat(id=chat_id, type="supergroup", title=title, member_ids=[int(m) for m in member_ids])
        self.chats[chat_id] = chat
        self.bump()
        return chat

    def chat_for_bot(self, raw_chat_id: Any) -> Chat:
        """The chat a bot addresses, or the error Telegram gives."""
        if raw_chat_id in (None, ""):
            raise bad_request("chat_id is empty")
        try:
            chat_id = int(raw_chat_id)
        except (TypeError, ValueError):
            raise bad_request("chat not found") from None
        chat = self.chats.get(chat_id)
        if chat is None:
            raise bad_request("chat not found")
        if chat.user is not None and chat.user.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat

    # -- messages --------------------------------------------------------------------------
    def add_message(
        self,
        chat: Chat,
        *,
        from_bot: bool,
        sender: dict[str, Any],
        content: dict[str, Any],
        html: str | None = None,
    ) -> StoredMessage:
        message_id = chat.next_message_id
        chat.next_message_id += 1
        data = {"message_id": message_id, "from": sender, "chat": chat.to_api(), "date": int(time.time())}
        data.update(content)
        stored = StoredMessage(
            chat_id=chat.id,
            message_id=message_id,
            from_bot=from_bot,
            sender_id=sender["id"],
            data=data,
            html=html,
            stored_at=time.monotonic(),
        )
        chat.messages[message_id] = stored
        if from_bot:
            chat.last_action = None
        self.bump()
        for listener in self.message_listeners:
            listener(stored)
        return stored

    def find_message(self, chat: Chat, message_id: Any) -> StoredMessage | None:
        try:
            stored = chat.messages.get(int(message_id))
        except (TypeError, ValueError):
            return None
        if stored is None or stored.deleted:
            return None
        return stored

    # -- updates ---------------------------------------------------------------------------
    def enqueue(self, kind: str, payload: dict[str, Any]) -> int:
        update_id = next(self._update_ids)
        update = {"update_id": update_id, kind: payload}
        self.enqueued_at[update_id] = time.monotonic()
        self.updates.append(update)
        self.update_log.append(update)
        self.bump()
        return update_id

    def drop_pending(self) -> None:
        self.updates.clear()
        self.bump()

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        elif offset < 0:
            self.updates = self.updates[offset:]
        self.updates = [u for u in self.updates if _kind(u) in self.allowed_updates]

    async def get_updates(
        self, offset: int = 0, limit: int = 100, timeout: float = 0, allowed_updates: list[str] | None = None
    ) -> list[dict[str, Any]]:
        """getUpdates with Telegram's semantics (the webhook check is the caller's)."""
        if allowed_updates is not None:
            self.allowed_updates = frozenset(allowed_updates) if allowed_updates else DEFAULT_UPDATE_TYPES
        limit = min(max(limit or 100, 1), 100)
        self._poll_generation += 1
        generation = self._poll_generation
        if self._waiting_pollers:
            self.bump()  # wake the earlier request so that it ends with 409 Conflict
        deadline = time.monotonic() + max(0.0, timeout)
        while True:
            self._confirm(offset)
            offset = 0
            if self.updates:
                batch = self.updates[:limit]
                now = time.monotonic()
                for update in batch:
                    self.fetched_at.setdefault(update["update_id"], now)
                return batch
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            self._waiting_pollers += 1
            try:
                await self.wait_change(self.version, remaining)
            finally:
                self._waiting_pollers -= 1
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )

    def interrupt_pollers(self) -> None:
        self._poll_generation += 1
        self.bump()

    # -- files -----------------------------------------------------------------------------
    def add_file(
        self, kind: str, data: bytes, *, ext: str, mime_type: str, width: int = 0, height: int = 0
    ) -> StoredFile:
        n = next(self._file_seq)
        prefix = {"photo": "AgAC", "sticker": "CAAC", "voice": "AwAC"}.get(kind, "BQAC")
        stored = StoredFile(
            file_id=f"{prefix}sbx{n}_{secrets.token_urlsafe(12)}",
            file_unique_id=f"AQAD{n}{secrets.token_hex(3)}",
            kind=kind,
            data=data,
            file_path=f"{kind}s/file_{n}.{ext}",
            mime_type=mime_type,
            width=width,
            height=height,
        )
        self.files[stored.file_id] = stored
        return stored

    def file_by_path(self, path: str) -> StoredFile | None:
        return next((f for f in self.files.values() if f.file_path == path), None)

    # -- callback queries ------------------------------------------------------------------
    def new_callback_id(self) -> str:
        return str(4_200_000_000_000_000_000 + next(self._callback_seq) * 1_000_003 + secrets.randbelow(1000))


def _kind(update: dict[str, Any]) -> str:
    return next(k for k in update if k != "update_id")
