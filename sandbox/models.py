"""Plain records the sandbox keeps: users, chats, stored messages, files, and the API error."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ApiError", "Chat", "ControlError", "Replicas", "StoredFile", "StoredMessage", "User", "WebhookConfig",
]
REPLICA_DOWN_FOR = 2.0  # seconds a replica that refused a connection is left out


class ApiError(Exception):
    """A Bot API failure: becomes ``{"ok": false, "error_code": status, "description": ...}``."""

    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(what: str) -> ApiError:
    return ApiError(400, f"Bad Request: {what}")


class ControlError(Exception):
    """A control API failure (a test or the web page asked for something impossible)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class User:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str = "zh-hans"
    role_label: str | None = None
    is_persona: bool = False
    blocked: bool = False

    def to_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        data["language_code"] = self.language_code
        return data

    def to_view(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "username": self.username,
            "name": " ".join(p for p in (self.first_name, self.last_name) if p),
            "role_label": self.role_label,
            "is_persona": self.is_persona,
            "blocked": self.blocked,
        }


@dataclass
class StoredMessage:
    chat_id: int
    message_id: int
    from_bot: bool
    sender_id: int
    data: dict[str, Any]  # the Telegram Message object as the Bot API returns it
    html: str | None = None  # text/caption exactly as the bot sent it, when parse_mode was HTML
    edited: bool = False
    deleted: bool = False
    stored_at: float = 0.0  # time.monotonic() when the sandbox stored it (benchmarks: reply latency)


@dataclass
class Chat:
    id: int
    type: str  # "private" or "supergroup"
    title: str | None = None
    user: User | None = None  # the other party of a private chat
    member_ids: list[int] = field(default_factory=list)
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    next_message_id: int = 1
    reply_keyboard: dict[str, Any] | None = None  # the last ReplyKeyboardMarkup the bot showed
    last_action: str | None = None
    last_action_at: float = 0.0

    def to_api(self) -> dict[str, Any]:
        if self.type == "private":
            assert self.user is not None
            data: dict[str, Any] = {"id": self.id, "type": "private", "first_name": self.user.first_name}
            if self.user.last_name:
                data["last_name"] = self.user.last_name
            if self.user.username:
                data["username"] = self.user.username
            return data
        return {"id": self.id, "type": self.type, "title": self.title or ""}

    def to_view(self) -> dict[str, Any]:
        live = [m for m in self.messages.values() if not m.deleted]
        last = live[-1] if live else None
        typing = self.last_action if time.time() - self.last_action_at < 5 else None
        return {
            "id": self.id,
            "type": self.type,
            "title": self.title if self.type != "private" else (self.user.first_name if self.user else ""),
            "user_id": self.user.id if self.user else None,
            "member_ids": list(self.member_ids),
            "message_count": len(live),
            "last_text": (last.data.get("text") or last.data.get("caption") or "") if last else "",
            "reply_keyboard": self.reply_keyboard,
            "chat_action": typing,
        }


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    kind: str  # photo, sticker, voice, document
    data: bytes
    file_path: str
    mime_type: str
    width: int = 0
    height: int = 0

    def to_api(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
            "file_path": self.file_path,
        }

    def photo_size(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "width": self.width,
            "height": self.height,
            "file_size": len(self.data),
        }


@dataclass
class Replicas:
    """The load balancer's backends: round robin over those not marked down."""

    urls: list[str] = field(default_factory=list)
    delivered: dict[str, int] = field(default_factory=dict)
    down_until: dict[str, float] = field(default_factory=dict)
    _next: int = 0

    def set(self, urls: list[str]) -> None:
        self.urls = list(urls)
        self.delivered = dict.fromkeys(self.urls, 0)
        self.down_until = {}
        self._next = 0

    def order(self) -> list[str]:
        """The replicas to try for one request: the next in turn first, those marked down last."""
        if not self.urls:
            return []
        start = self._next % len(self.urls)
        self._next += 1
        turn = self.urls[start:] + self.urls[:start]
        now = time.monotonic()
        return [u for u in turn if self.down_until.get(u, 0) <= now] + \
               [u for u in turn if self.down_until.get(u, 0) > now]

    def mark_down(self, url: str) -> None:
        self.down_until[url] = time.monotonic() + REPLICA_DOWN_FOR

    def view(self) -> dict[str, Any]:
        return {"urls": list(self.urls), "delivered": dict(self.delivered)}


@dataclass
class WebhookConfig:
    url: str
    secret_token: str | None = None
    max_connections: int = 40
    last_error_date: int | None = None
    last_error_message: str | None = None
    delivered: int = 0
