"""The Bot API routes: ``/bot{token}/{method}`` and ``/file/bot{token}/{path}``.

Method implementations live here (updates, webhook, commands, identity) and in
:mod:`sandbox.bot_messages` (messages, files, callbacks); both register into ``METHODS``.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from aiohttp import web

from sandbox import bot_messages  # noqa: F401  (registers the message methods)
from sandbox.api_support import METHODS, Params, api_method, read_params
from sandbox.models import ApiError, WebhookConfig, bad_request
from sandbox.state import DEFAULT_UPDATE_TYPES, Sandbox
from sandbox.webhook import start_webhook, stop_webhook

__all__ = ["SANDBOX_KEY", "add_bot_api_routes", "execute"]

SANDBOX_KEY: web.AppKey[Sandbox] = web.AppKey("sandbox", Sandbox)
log = logging.getLogger(__name__)
TOKEN_RE = re.compile(r"^(\d+):[A-Za-z0-9_-]{10,}$")


def _check_token(sb: Sandbox, token: str) -> None:
    match = TOKEN_RE.match(token)
    if match is None or (sb.token is not None and token != sb.token):
        raise ApiError(401, "Unauthorized")
    sb.bot_id = int(match.group(1))


async def execute(sb: Sandbox, method: str, values: dict[str, Any] | Params) -> Any:
    """Run one Bot API method (hooks first); raises ApiError like Telegram would answer."""
    params = values if isinstance(values, Params) else Params(values)
    name = method.lower()
    chat_id = params.raw("chat_id")
    sb.traffic.admit(name, chat_id, _is_group(sb, chat_id))
    for hook in list(sb.api_hooks):
        await hook(name, params.values)
    impl = METHODS.get(name)
    if impl is None:
        raise ApiError(404, "Not Found")
    return await impl(sb, params)


def _is_group(sb: Sandbox, chat_id: Any) -> bool:
    try:
        chat = sb.chats.get(int(chat_id))
    except (TypeError, ValueError):
        return False
    return chat.type != "private" if chat is not None else int(chat_id) < 0


async def handle_method(request: web.Request) -> web.Response:
    sb = request.app[SANDBOX_KEY]
    fault = None
    try:
        _check_token(sb, request.match_info["token"])
        params = await read_params(request)
        fault = sb.traffic.draw_fault(request.match_info["method"].lower())
        result = await execute(sb, request.match_info["method"], params)
    except ApiError as err:
        if fault == "drop" and err.status != 429:
            return _drop(sb, request)
        return web.json_response(err.to_json(), status=err.status)
    except Exception as err:  # a sandbox bug: answer in Telegram's shape so the caller sees it
        log.exception("sandbox failed on %s", request.match_info["method"])
        body = {"ok": False, "error_code": 500, "description": f"Internal Server Error: sandbox: {err!r}"}
        return web.json_response(body, status=500)
    if fault == "drop":
        return _drop(sb, request)
    return web.json_response({"ok": True, "result": result})


def _drop(sb: Sandbox, request: web.Request) -> web.Response:
    """The method was applied; the answer is lost: close the connection without a response."""
    sb.traffic.counters["dropped"] += 1
    per_method = f"dropped_{request.match_info['method'].lower()}"  # e.g. dropped_sendmessage
    sb.traffic.counters[per_method] = sb.traffic.counters.get(per_method, 0) + 1
    if request.transport is not None:
        request.transport.abort()
    return web.Response(status=500)  # never reaches the client: the connection is gone


async def handle_file(request: web.Request) -> web.StreamResponse:
    sb = request.app[SANDBOX_KEY]
    try:
        _check_token(sb, request.match_info["token"])
    except ApiError as err:
        return web.json_response(err.to_json(), status=err.status)
    stored = sb.file_by_path(request.match_info["path"])
    if stored is None:
        return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
    return web.Response(body=stored.data, content_type=stored.mime_type)


def add_bot_api_routes(app: web.Application) -> None:
    app.router.add_route("*", "/bot{token}/{method}", handle_method)
    app.router.add_route("GET", "/file/bot{token}/{path:.+}", handle_file)


# -- identity ------------------------------------------------------------------------------
@api_method("getMe")
async def get_me(sb: Sandbox, p: Params) -> Any:
    return {
        **sb.bot_user(),
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


@api_method("logOut", "close", "setChatMenuButton", "setMyDescription", "setMyShortDescription", "setMyName")
async def accept(sb: Sandbox, p: Params) -> Any:
    return True


# -- updates and webhook -------------------------------------------------------------------
def _allowed(p: Params) -> list[str] | None:
    value = p.json("allowed_updates")
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise bad_request("can't parse allowed_updates JSON object")
    return value


@api_method("getUpdates")
async def get_updates(sb: Sandbox, p: Params) -> Any:
    if sb.webhook is not None:
        raise ApiError(
            409,
            "Conflict: can't use getUpdates method while webhook is active; "
            "use deleteWebhook to delete the webhook first",
        )
    return await sb.get_updates(
        offset=p.int("offset", 0) or 0,
        limit=p.int("limit", 100) or 100,
        timeout=p.float("timeout", 0.0),
        allowed_updates=_allowed(p),
    )


@api_method("setWebhook")
async def set_webhook(sb: Sandbox, p: Params) -> Any:
    url = p.str("url") or ""
    if not url:
        return await delete_webhook(sb, p)
    if not re.match(r"(?i)^https?://[^\s/]+", url):
        raise bad_request("bad webhook: invalid webhook URL specified")
    secret = p.str("secret_token")
    if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
        raise bad_request("secret token contains unallowed characters")
    allowed = _allowed(p)
    if allowed is not None:
        sb.allowed_updates = frozenset(allowed) if allowed else DEFAULT_UPDATE_TYPES
    if p.bool("drop_pending_updates"):
        sb.drop_pending()
    await stop_webhook(sb)
    sb.webhook = WebhookConfig(
        url=url, secret_token=secret, max_connections=p.int("max_connections", 40) or 40
    )
    sb.interrupt_pollers()
    start_webhook(sb, execute)
    return True


@api_method("deleteWebhook")
async def delete_webhook(sb: Sandbox, p: Params) -> Any:
    await stop_webhook(sb)
    sb.webhook = None
    if p.bool("drop_pending_updates"):
        sb.drop_pending()
    return True


@api_method("getWebhookInfo")
async def get_webhook_info(sb: Sandbox, p: Params) -> Any:
    info: dict[str, Any] = {
        "url": "",
        "has_custom_certificate": False,
        "pending_update_count": len(sb.updates),
    }
    if sb.webhook is not None:
        info["url"] = sb.webhook.url
        info["max_connections"] = sb.webhook.max_connections
        info["ip_address"] = "127.0.0.1"
        if sb.webhook.last_error_date:
            info["last_error_date"] = sb.webhook.last_error_date
            info["last_error_message"] = sb.webhook.last_error_message
        if sb.allowed_updates != DEFAULT_UPDATE_TYPES:
            info["allowed_updates"] = sorted(sb.allowed_updates)
    return info


# -- commands ------------------------------------------------------------------------------
def _scope_key(p: Params) -> tuple[str, str]:
    scope = p.json("scope") or {"type": "default"}
    if not isinstance(scope, dict) or "type" not in scope:
        raise bad_request("can't parse BotCommandScope JSON object")
    if scope["type"] in ("chat", "chat_administrators", "chat_member") and "chat_id" not in scope:
        raise bad_request("can't parse BotCommandScope JSON object")
    key = ",".join(f"{k}={scope[k]}" for k in sorted(scope))
    return key, p.str("language_code") or ""


@api_method("setMyCommands")
async def set_my_commands(sb: Sandbox, p: Params) -> Any:
    commands = p.json("commands")
    if not isinstance(commands, list) or len(commands) > 100:
        raise bad_request("can't parse commands JSON object")
    for cmd in commands:
        if not isinstance(cmd, dict) or not re.fullmatch(r"[a-z0-9_]{1,32}", str(cmd.get("command", ""))):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(str(cmd.get("description", "")).strip()) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
    scope = p.json("scope")
    if isinstance(scope, dict) and "chat_id" in scope:
        sb.chat_for_bot(scope["chat_id"])  # a chat the bot cannot reach: "chat not found", as Telegram
    sb.commands[_scope_key(p)] = [
        {"command": c["command"], "description": c["description"]} for c in commands
    ]
    sb.bump()
    return True


@api_method("getMyCommands")
async def get_my_commands(sb: Sandbox, p: Params) -> Any:
    return sb.commands.get(_scope_key(p), [])


@api_method("deleteMyCommands")
async def delete_my_commands(sb: Sandbox, p: Params) -> Any:
    sb.commands.pop(_scope_key(p), None)
    sb.bump()
    return True


@api_method("getChat")
async def get_chat(sb: Sandbox, p: Params) -> Any:
    chat = sb.chat_for_bot(p.raw("chat_id"))
    gifts = (
        "unlimited_gifts",
        "limited_gifts",
        "unique_gifts",
        "premium_subscription",
        "gifts_from_channels",
    )
    return {
        **chat.to_api(),
        "accent_color_id": 0,
        "max_reaction_count": 11,
        "accepted_gift_types": dict.fromkeys(gifts, False),
    }
