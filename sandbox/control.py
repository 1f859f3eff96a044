"""The control API (JSON over HTTP under ``/control``) used by tests, benchmarks and the web page.

Every response is ``{"ok": true, "result": ...}`` or ``{"ok": false, "error": "..."}`` with a 4xx
status. Routes:

    GET  /control/info                        bot identity, version, pending updates, webhook, commands
    GET  /control/personas                    {"personas": [...], "users": [...]}
    POST /control/users                       {id, first_name|name, last_name?, username?, role_label?}
    GET  /control/chats[?user_id=]            chats (a user's private chat and their groups)
    POST /control/groups                      {title, member_ids, chat_id?} -> {chat_id}
    GET  /control/chats/{chat_id}/messages    every message of the chat (user and bot), oldest first
    POST /control/send_text                   {user_id, text, chat_id?, reply_to_message_id?}
    POST /control/press                       {user_id, message_id, data? | text?, chat_id?, force?}
    POST /control/send_photo                  {user_id, caption?, chat_id?}
    POST /control/send_sticker                {user_id, emoji?, chat_id?}
    POST /control/send_voice                  {user_id, duration?, chat_id?}
    POST /control/send_location               {user_id, latitude?, longitude?, chat_id?}
    POST /control/send_contact                {user_id, phone_number?, chat_id?}
    POST /control/edit_text                   {user_id, message_id, text, chat_id?}
    POST /control/deep_link                   {user_id, payload}
    POST /control/block                       {user_id, blocked: true|false}
    GET  /control/callback_answers            answers the bot gave to callback queries
    GET  /control/updates                     every update ever queued (delivered or not)
    GET  /control/poll?since=N&timeout=S      long-poll: returns {"version"} once state changed past N
    GET  /control/files/{file_id}             raw bytes of a stored file (photos for the web page)
    POST /control/reset                       forget chats, messages, updates, files, answers
                                              (and empty flood buckets / traffic counters)
    GET  /control/limits                      Telegram's flood limits as enforced (see sandbox.traffic)
    POST /control/limits                      {enabled?, per_chat_per_s?, per_chat_burst?,
                                               per_group_per_min?, global_per_s?, count_edits?, jitter_s?}
    GET  /control/faults                      the fault injection settings
    POST /control/faults                      (replaces) {rate_429?, rate_500?, rate_drop?, seed?, methods?,
                                               retry_after?} — all rates 0 switches it off
    GET  /control/webhook_replicas            {"urls": [...], "delivered": {url: n}}
    POST /control/webhook_replicas            {urls: [...]}: webhook deliveries go to these in turn, as
                                              through a load balancer (empty: to the webhook's URL)
    GET  /control/traffic                     {limits, faults, counters: {requests, counted,
                                               injected_429, injected_500, dropped, limited_429,
                                               limited_chat, limited_group, limited_global}}
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from sandbox import actions
from sandbox.bot_api import SANDBOX_KEY, get_me
from sandbox.models import ControlError, StoredMessage
from sandbox.state import Sandbox

__all__ = ["add_control_routes", "message_view"]

_KINDS = ("text", "photo", "sticker", "voice", "location", "contact")


def message_view(stored: StoredMessage) -> dict[str, Any]:
    d = stored.data
    photo = d.get("photo")
    big = photo[-1] if photo else None
    rows = (d.get("reply_markup") or {}).get("inline_keyboard") or []
    return {
        "message_id": stored.message_id,
        "chat_id": stored.chat_id,
        "date": d["date"],
        "from_bot": stored.from_bot,
        "sender_id": stored.sender_id,
        "sender_name": d["from"].get("first_name", ""),
        "kind": next((k for k in _KINDS if k in d), "other"),
        "text": d.get("text") or d.get("caption") or "",
        "entities": d.get("entities") or d.get("caption_entities") or [],
        "html": stored.html,
        "reply_markup": d.get("reply_markup"),
        "buttons": [
            [{k: b[k] for k in ("text", "callback_data", "url") if k in b} for b in row] for row in rows
        ],
        "photo": {**big, "url": f"/control/files/{big['file_id']}"} if big else None,
        "media_group_id": d.get("media_group_id"),
        "sticker": d.get("sticker"),
        "voice": d.get("voice"),
        "location": d.get("location"),
        "contact": d.get("contact"),
        "reply_to_message_id": (d.get("reply_to_message") or {}).get("message_id"),
        "edited": stored.edited,
        "deleted": stored.deleted,
        "raw": d,
    }


Route = Callable[[Sandbox, dict[str, Any], web.Request], Awaitable[Any] | Any]


def _wrap(fn: Route) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handler(request: web.Request) -> web.Response:
        sb = request.app[SANDBOX_KEY]
        body: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            try:
                payload = await request.json()
            except ValueError:
                return web.json_response({"ok": False, "error": "the body must be a JSON object"}, status=400)
            if isinstance(payload, dict):
                body.update(payload)
        try:
            result = fn(sb, body, request)
            if isinstance(result, Awaitable):
                result = await result
        except ControlError as err:
            return web.json_response({"ok": False, "error": err.message}, status=err.status)
        except (KeyError, TypeError, ValueError) as err:
            return web.json_response(
                {"ok": False, "error": f"bad request: {type(err).__name__}: {err}"}, status=400
            )
        return web.json_response({"ok": True, "result": result})

    return handler


def _chat_id(body: dict[str, Any]) -> Any:
    return body.get("chat_id")


async def _info(sb: Sandbox, body: dict[str, Any], request: web.Request) -> Any:
    webhook = sb.webhook
    return {
        "bot": await get_me(sb, None),  # type: ignore[arg-type]
        "version": sb.version,
        "pending_updates": len(sb.updates),
        "webhook": {
            "url": webhook.url,
            "delivered": webhook.delivered,
            "last_error": webhook.last_error_message,
            "max_connections": webhook.max_connections,
            "replicas": sb.webhook_replicas.view(),
        }
        if webhook
        else None,
        "commands": [
            {"scope": scope, "language_code": lang, "commands": cmds}
            for (scope, lang), cmds in sb.commands.items()
        ],
    }


def _personas(sb: Sandbox, body: dict[str, Any], request: web.Request) -> Any:
    return {
        "personas": [sb.users[p.id].to_view() for p in sb.personas if p.id in sb.users],
        "users": [u.to_view() for u in sb.users.values()],
    }


def _add_user(sb: Sandbox, body: dict[str, Any], request: web.Request) -> Any:
    user = actions.ensure_user(sb, body["id"])
    name = str(body.get("first_name") or body.get("name") or user.first_name)
    return sb.add_user(
        user.id, name, **{k: body.get(k) for k in ("last_name", "username", "role_label")}
    ).to_view()


def _chats(sb: Sandbox, body: dict[str, Any], request: web.Request) -> Any:
    user_id = int(body["user_id"]) if body.get("user_id") not in (None, "") else None
    chats = [c for c in sb.chats.values() if user_id is None or user_id in c.member_ids]
    return [c.to_view() for c in chats]


def _messages(sb: Sandbox, body: dict[str, Any], request: web.Request) -> Any:
    chat = sb.chats.get(int(request.match_info["chat_id"]))
    if chat is None:
        return []
    return [message_view(m) for m in chat.messages.values()]


async def _poll(sb: Sandbox, body: dict[str, Any], request: web.Request) -> Any:
    since = int(body.get("since", -1))
    timeout = min(float(body.get("timeout", 0)), 60.0)
    return {"version": await sb.wait_change(since, timeout)}


def _reset(sb: Sandbox, body: dict[str, Any], request: web.Request) -> Any:
    sb.reset()
    return True


async def _file(request: web.Request) -> web.StreamResponse:
    stored = request.app[SANDBOX_KEY].files.get(request.match_info["file_id"])
    if stored is None:
        raise web.HTTPNotFound()
    return web.Response(
        body=stored.data, content_type=stored.mime_type, headers={"Cache-Control": "max-age=3600"}
    )


def _set_replicas(sb: Sandbox, body: dict[str, Any], request: web.Request) -> Any:
    urls = body.get("urls") or []
    if not isinstance(urls, list) or not all(isinstance(u, str) and u.startswith(("http://", "https://"))
                                             for u in urls):
        raise ControlError("urls must be a list of http(s) URLs")
    sb.webhook_replicas.set(urls)
    sb.bump()
    return sb.webhook_replicas.view()


def add_control_routes(app: web.Application) -> None:
    a = actions
    posts: dict[str, Route] = {
        "users": _add_user,
        "groups": lambda sb, b, r: a.create_group(sb, b["title"], list(b.get("member_ids") or []),
                                                  b.get("chat_id")),
        "send_text": lambda sb, b, r: a.send_text(
            sb, b["user_id"], b.get("text", ""), _chat_id(b), b.get("reply_to_message_id")
        ),
        "press": lambda sb, b, r: a.press(
            sb,
            b["user_id"],
            b["message_id"],
            b.get("data"),
            _chat_id(b),
            text=b.get("text"),
            force=bool(b.get("force")),
        ),
        "send_photo": lambda sb, b, r: a.send_photo(sb, b["user_id"], b.get("caption"), _chat_id(b)),
        "send_sticker": lambda sb, b, r: a.send_sticker(
            sb, b["user_id"], b.get("emoji") or "👍", _chat_id(b)
        ),
        "send_voice": lambda sb, b, r: a.send_voice(sb, b["user_id"], int(b.get("duration", 3)), _chat_id(b)),
        "send_location": lambda sb, b, r: a.send_location(
            sb,
            b["user_id"],
            float(b.get("latitude", 31.2304)),
            float(b.get("longitude", 121.4737)),
            _chat_id(b),
        ),
        "send_contact": lambda sb, b, r: a.send_contact(sb, b["user_id"], b.get("phone_number"), _chat_id(b)),
        "edit_text": lambda sb, b, r: a.edit_text(
            sb, b["user_id"], b["message_id"], b.get("text", ""), _chat_id(b)
        ),
        "deep_link": lambda sb, b, r: a.open_deep_link(sb, b["user_id"], str(b.get("payload", ""))),
        "block": lambda sb, b, r: a.block(sb, b["user_id"], bool(b.get("blocked", True))),
        "reset": _reset,
        "limits": lambda sb, b, r: sb.traffic.set_limits(b),
        "faults": lambda sb, b, r: sb.traffic.set_faults(b),
        "webhook_replicas": _set_replicas,
    }
    gets: dict[str, Route] = {
        "info": _info,
        "personas": _personas,
        "chats": _chats,
        "chats/{chat_id}/messages": _messages,
        "callback_answers": lambda sb, b, r: list(sb.callback_answers),
        "updates": lambda sb, b, r: list(sb.update_log),
        "poll": _poll,
        "limits": lambda sb, b, r: sb.traffic.view()["limits"],
        "faults": lambda sb, b, r: sb.traffic.view()["faults"],
        "traffic": lambda sb, b, r: sb.traffic.view(),
        "webhook_replicas": lambda sb, b, r: sb.webhook_replicas.view(),
    }
    for name, fn in posts.items():
        app.router.add_post(f"/control/{name}", _wrap(fn))
    for name, fn in gets.items():
        app.router.add_get(f"/control/{name}", _wrap(fn))
    app.router.add_get("/control/files/{file_id}", _file)
