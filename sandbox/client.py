"""``SandboxClient``: an async client for the sandbox's control API, for tests and benchmarks.

async with SandboxClient(srv.base_url) as sandbox:
    await sandbox.send_text(10001, "/start")
    [reply] = await sandbox.wait_for_bot_messages(10001, 1)
    await sandbox.press(10001, reply.message_id, reply.button_data("提交"))
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import aiohttp

__all__ = ["ChatMessage", "SandboxClient", "SandboxControlError", "SandboxTimeout"]


class SandboxControlError(Exception):
    """The control API refused a request (e.g. pressing a button the message does not carry)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


class SandboxTimeout(AssertionError):
    """The bot did not produce what a test waited for; the message carries the chat transcript."""


@dataclass
class ChatMessage:
    """One message of a chat as the sandbox stores it (user's or bot's)."""

    message_id: int
    chat_id: int
    from_bot: bool
    sender_id: int
    kind: str  # text, photo, sticker, voice, location, contact, other
    text: str  # text, or the caption of a photo
    html: str | None  # exactly what the bot sent with parse_mode=HTML
    entities: list[dict[str, Any]]
    reply_markup: dict[str, Any] | None
    buttons: list[list[dict[str, Any]]]
    photo: dict[str, Any] | None
    edited: bool
    deleted: bool
    raw: dict[str, Any] = field(repr=False)
    view: dict[str, Any] = field(repr=False)

    @classmethod
    def from_view(cls, view: dict[str, Any]) -> ChatMessage:
        return cls(
            message_id=view["message_id"],
            chat_id=view["chat_id"],
            from_bot=view["from_bot"],
            sender_id=view["sender_id"],
            kind=view["kind"],
            text=view["text"],
            html=view["html"],
            entities=view["entities"],
            reply_markup=view["reply_markup"],
            buttons=view["buttons"],
            photo=view["photo"],
            edited=view["edited"],
            deleted=view["deleted"],
            raw=view["raw"],
            view=view,
        )

    @property
    def button_texts(self) -> list[str]:
        return [b["text"] for row in self.buttons for b in row]

    def button_data(self, text: str) -> str:
        """The callback_data of the button labelled ``text`` (exact match, then substring)."""
        flat = [b for row in self.buttons for b in row if "callback_data" in b]
        for button in flat:
            if button["text"] == text:
                return str(button["callback_data"])
        for button in flat:
            if text in button["text"]:
                return str(button["callback_data"])
        raise KeyError(f"no button {text!r} on message {self.message_id}; buttons: {self.button_texts}")

    def describe(self) -> str:
        who = "bot" if self.from_bot else f"user {self.sender_id}"
        flags = "".join(
            f" ({flag})" for flag, on in (("edited", self.edited), ("deleted", self.deleted)) if on
        )
        body = self.text if self.kind == "text" else f"[{self.kind}] {self.text}".rstrip()
        line = f"#{self.message_id} {who}{flags}: {body}"
        if self.buttons:
            line += "\n    buttons: " + " | ".join(
                f"{b['text']}→{b.get('callback_data') or b.get('url')}" for row in self.buttons for b in row
            )
        return line


class SandboxClient:
    def __init__(self, base_url: str, *, session: aiohttp.ClientSession | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._session = session
        self._own_session = session is None

    async def __aenter__(self) -> SandboxClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None and self._own_session:
            await self._session.close()
        self._session = None

    async def _call(self, http_method: str, path: str, **payload: Any) -> Any:
        if self._session is None:
            self._session = aiohttp.ClientSession()
            self._own_session = True
        url = f"{self.base_url}/control/{path}"
        body = {k: v for k, v in payload.items() if v is not None}
        if http_method == "GET":
            request = self._session.get(url, params={k: str(v) for k, v in body.items()})
        else:
            request = self._session.post(url, json=body)
        async with request as resp:
            data = await resp.json()
        if not data.get("ok"):
            raise SandboxControlError(resp.status, data.get("error", "unknown error"))
        return data["result"]

    # -- acting as a person ------------------------------------------------------------------
    async def send_text(
        self, user_id: int, text: str, chat_id: int | None = None, reply_to_message_id: int | None = None
    ) -> dict[str, Any]:
        return await self._call(
            "POST",
            "send_text",
            user_id=user_id,
            text=text,
            chat_id=chat_id,
            reply_to_message_id=reply_to_message_id,
        )

    async def press(
        self, user_id: int, message_id: int, data: str, chat_id: int | None = None, *, force: bool = False
    ) -> str:
        """Press the inline button with ``data``; returns the callback_query id."""
        result = await self._call(
            "POST",
            "press",
            user_id=user_id,
            message_id=message_id,
            data=data,
            chat_id=chat_id,
            force=force or None,
        )
        return str(result["callback_query_id"])

    async def press_text(self, user_id: int, message_id: int, text: str, chat_id: int | None = None) -> str:
        """Press the inline button labelled ``text``; returns the callback_query id."""
        result = await self._call(
            "POST", "press", user_id=user_id, message_id=message_id, text=text, chat_id=chat_id
        )
        return str(result["callback_query_id"])

    async def send_photo(
        self, user_id: int, caption: str | None = None, chat_id: int | None = None
    ) -> dict[str, Any]:
        return await self._call("POST", "send_photo", user_id=user_id, caption=caption, chat_id=chat_id)

    async def send_sticker(
        self, user_id: int, emoji: str = "👍", chat_id: int | None = None
    ) -> dict[str, Any]:
        return await self._call("POST", "send_sticker", user_id=user_id, emoji=emoji, chat_id=chat_id)

    async def send_voice(self, user_id: int, duration: int = 3, chat_id: int | None = None) -> dict[str, Any]:
        return await self._call("POST", "send_voice", user_id=user_id, duration=duration, chat_id=chat_id)

    async def send_location(
        self, user_id: int, latitude: float = 31.2304, longitude: float = 121.4737, chat_id: int | None = None
    ) -> dict[str, Any]:
        return await self._call(
            "POST", "send_location", user_id=user_id, latitude=latitude, longitude=longitude, chat_id=chat_id
        )

    async def send_contact(
        self, user_id: int, phone_number: str | None = None, chat_id: int | None = None
    ) -> dict[str, Any]:
        return await self._call(
            "POST", "send_contact", user_id=user_id, phone_number=phone_number, chat_id=chat_id
        )

    async def edit_text(
        self, user_id: int, message_id: int, text: str, chat_id: int | None = None
    ) -> dict[str, Any]:
        return await self._call(
            "POST", "edit_text", user_id=user_id, message_id=message_id, text=text, chat_id=chat_id
        )

    async def open_deep_link(self, user_id: int, payload: str) -> dict[str, Any]:
        return await self._call("POST", "deep_link", user_id=user_id, payload=payload)

    async def block(self, user_id: int, blocked: bool = True) -> dict[str, Any]:
        return await self._call("POST", "block", user_id=user_id, blocked=blocked)

    async def add_user(
        self,
        user_id: int,
        name: str,
        *,
        username: str | None = None,
        last_name: str | None = None,
        role_label: str | None = None,
    ) -> dict[str, Any]:
        return await self._call(
            "POST",
            "users",
            id=user_id,
            first_name=name,
            username=username,
            last_name=last_name,
            role_label=role_label,
        )

    async def create_group(self, title: str, member_ids: list[int], chat_id: int | None = None) -> int:
        return int((await self._call("POST", "groups", title=title, member_ids=member_ids,
                                     chat_id=chat_id))["chat_id"])

    # -- reading -------------------------------------------------------------------------------
    async def messages(self, chat_id: int) -> list[ChatMessage]:
        return [ChatMessage.from_view(v) for v in await self._call("GET", f"chats/{chat_id}/messages")]

    async def bot_messages(self, chat_id: int, *, include_deleted: bool = False) -> list[ChatMessage]:
        return [m for m in await self.messages(chat_id) if m.from_bot and (include_deleted or not m.deleted)]

    async def transcript(self, chat_id: int) -> str:
        lines = [m.describe() for m in await self.messages(chat_id)]
        return "\n".join(lines) if lines else "(the chat is empty)"

    async def wait_for_bot_messages(self, chat_id: int, count: int, timeout: float = 10) -> list[ChatMessage]:
        """Wait until the chat holds at least ``count`` (not deleted) bot messages; return them all."""
        deadline = time.monotonic() + timeout
        version = -1
        while True:
            found = await self.bot_messages(chat_id)
            if len(found) >= count:
                return found
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise SandboxTimeout(
                    f"chat {chat_id}: waited {timeout}s for {count} bot message(s), found {len(found)}.\n"
                    f"Transcript:\n{await self.transcript(chat_id)}"
                )
            info = await self._call(
                "GET", "poll", since=version if version >= 0 else None, timeout=round(min(remaining, 5.0), 3)
            )
            version = int(info["version"])
            await asyncio.sleep(0)

    async def callback_answers(self) -> list[dict[str, Any]]:
        return list(await self._call("GET", "callback_answers"))

    async def personas(self) -> dict[str, Any]:
        return dict(await self._call("GET", "personas"))

    async def chats(self, user_id: int | None = None) -> list[dict[str, Any]]:
        return list(await self._call("GET", "chats", user_id=user_id))

    async def updates(self) -> list[dict[str, Any]]:
        return list(await self._call("GET", "updates"))

    async def info(self) -> dict[str, Any]:
        return dict(await self._call("GET", "info"))

    async def reset(self) -> None:
        await self._call("POST", "reset")

    # -- flood limits and fault injection (see sandbox.traffic) -------------------------------
    async def set_limits(self, enabled: bool = True, **settings: Any) -> dict[str, Any]:
        """Enforce Telegram's flood limits: per_chat_per_s, per_chat_burst, per_group_per_min,
        global_per_s, count_edits, jitter_s. ``set_limits(False)`` switches them off."""
        return dict(await self._call("POST", "limits", enabled=enabled, **settings))

    async def set_faults(
        self,
        rate_429: float = 0.0,
        rate_500: float = 0.0,
        rate_drop: float = 0.0,
        *,
        seed: int | None = None,
        methods: list[str] | None = None,
        retry_after: int | None = None,
    ) -> dict[str, Any]:
        """Answer this share of requests 429 / 500 / drop them after applying; all 0 switches off."""
        return dict(await self._call(
            "POST", "faults", rate_429=rate_429, rate_500=rate_500, rate_drop=rate_drop, seed=seed,
            methods=methods, retry_after=retry_after,
        ))

    async def set_webhook_replicas(self, urls: list[str]) -> dict[str, Any]:
        """Deliver webhook updates to these URLs in turn, as a load balancer in front of replicas would."""
        return dict(await self._call("POST", "webhook_replicas", urls=urls))

    async def webhook_replicas(self) -> dict[str, Any]:
        """{"urls": [...], "delivered": {url: count}}."""
        return dict(await self._call("GET", "webhook_replicas"))

    async def traffic(self) -> dict[str, Any]:
        """{"limits": ..., "faults": ..., "counters": {requests, injected_429, injected_500, dropped,
        limited_429, limited_chat, limited_group, limited_global, counted}}."""
        return dict(await self._call("GET", "traffic"))
