"""Bot API methods that create or change messages, with Telegram's validation rules."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable
from typing import Any

from sandbox.api_support import Params, api_method
from sandbox.html_check import HtmlParseError, parse_html, utf16_len
from sandbox.images import image_size
from sandbox.markup import apply_chat_keyboard, check_markup
from sandbox.models import Chat, StoredFile, StoredMessage, bad_request
from sandbox.state import Sandbox

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the same "
    "as a current content and reply markup of the message"
)
_CHAT_ACTIONS = {
    "typing",
    "upload_photo",
    "record_video",
    "upload_video",
    "record_voice",
    "upload_voice",
    "upload_document",
    "choose_sticker",
    "find_location",
    "record_video_note",
    "upload_video_note",
}


# -- text, entities and markup ------------------------------------------------------------
def format_text(p: Params, text: str, *, entities_key: str) -> tuple[str, list[dict[str, Any]]]:
    """(plain text, entities) after parse_mode handling and Telegram's trimming of whitespace."""
    mode = (p.str("parse_mode") or "").strip()
    if mode.lower() == "html":
        try:
            plain, entities = parse_html(text)
        except HtmlParseError as err:
            raise bad_request(f"can't parse entities: {err}") from None
    elif mode:
        if mode.lower() in ("markdown", "markdownv2"):
            raise bad_request("unsupported parse_mode: the sandbox implements only HTML")
        raise bad_request("unsupported parse_mode")
    else:
        plain, entities = text, list(p.json(entities_key) or [])
    return _trim(plain, entities)


def _trim(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    stripped = text.lstrip()
    lead = utf16_len(text) - utf16_len(stripped)
    stripped = stripped.rstrip()
    total = utf16_len(stripped)
    result = []
    for entity in entities:
        start = max(0, int(entity["offset"]) - lead)
        end = min(total, int(entity["offset"]) + int(entity["length"]) - lead)
        if end > start:
            result.append({**entity, "offset": start, "length": end - start})
    return stripped, result


def message_text(p: Params) -> tuple[str, list[dict[str, Any]], str | None]:
    raw = p.str("text")
    if not raw:
        raise bad_request("message text is empty")
    plain, entities = format_text(p, raw, entities_key="entities")
    if not plain:
        raise bad_request("message text is empty")
    if utf16_len(plain) > TEXT_LIMIT:
        raise bad_request("message is too long")
    return plain, entities, raw if (p.str("parse_mode") or "").lower() == "html" else None


def caption_text(p: Params) -> tuple[str, list[dict[str, Any]], str | None]:
    raw = p.str("caption")
    if not raw:
        return "", [], None
    plain, entities = format_text(p, raw, entities_key="caption_entities")
    if utf16_len(plain) > CAPTION_LIMIT:
        raise bad_request("message caption is too long")
    return plain, entities, raw if (p.str("parse_mode") or "").lower() == "html" else None


def reply_target(sb: Sandbox, chat: Chat, p: Params) -> dict[str, Any] | None:
    params = p.json("reply_parameters") or {}
    message_id = params.get("message_id") or p.int("reply_to_message_id")
    if not message_id:
        return None
    target = sb.find_message(chat, message_id)
    if target is None:
        if params.get("allow_sending_without_reply") or p.bool("allow_sending_without_reply"):
            return None
        raise bad_request("message to be replied not found")
    return {k: v for k, v in target.data.items() if k != "reply_to_message"}


def _bot_message(
    sb: Sandbox, chat: Chat, content: dict[str, Any], html: str | None, p: Params
) -> StoredMessage:
    reply = reply_target(sb, chat, p)
    if reply is not None:
        content["reply_to_message"] = reply
    return sb.add_message(chat, from_bot=True, sender=sb.bot_user(), content=content, html=html)


def _text_content(text: str, entities: list[dict[str, Any]], key: str = "text") -> dict[str, Any]:
    content: dict[str, Any] = {key: text}
    if entities:
        content["entities" if key == "text" else "caption_entities"] = entities
    return content


# -- sending -------------------------------------------------------------------------------
@api_method("sendMessage")
async def send_message(sb: Sandbox, p: Params) -> Any:
    chat = sb.chat_for_bot(p.raw("chat_id"))
    text, entities, html = message_text(p)
    markup, raw_markup = check_markup(p)
    content = _text_content(text, entities)
    if markup:
        content["reply_markup"] = markup
    stored = _bot_message(sb, chat, content, html, p)
    apply_chat_keyboard(chat, raw_markup)
    return stored.data


def resolve_photo(sb: Sandbox, p: Params, ref: Any, field: str = "photo") -> StoredFile:
    upload = p.upload(ref) if isinstance(ref, str) else None
    if upload is None and ref is None:
        upload = p.upload(field)
    if upload is not None:
        size = image_size(upload.data)
        if size is None:
            raise bad_request("IMAGE_PROCESS_FAILED")
        ext = "png" if upload.data.startswith(b"\x89PNG") else "jpg"
        return sb.add_file(
            "photo", upload.data, ext=ext, mime_type=f"image/{ext}", width=size[0], height=size[1]
        )
    if not ref or not isinstance(ref, str):
        raise bad_request(f"there is no {field} in the request")
    if ref.startswith("attach://"):
        raise bad_request(f"there is no {field} in the request")
    if re.match(r"(?i)^https?://", ref):
        raise bad_request("failed to get HTTP URL content")
    return _stored_file(sb, ref, "photo")


def _stored_file(sb: Sandbox, file_id: str, kind: str) -> StoredFile:
    """A file the sandbox holds, by its file_id, of the kind the method sends — as Telegram refuses it."""
    stored = sb.files.get(file_id)
    if stored is None:
        raise bad_request("wrong file identifier/HTTP URL specified")
    if stored.kind != kind:
        raise bad_request("type of file mismatch")
    return stored


def _send_file(sb: Sandbox, p: Params, file_content: Callable[[], dict[str, Any]]) -> Any:
    """sendPhoto, sendVoice: the file's content, its caption and markup, checked in Telegram's order
    (chat, caption, markup, then the file)."""
    chat = sb.chat_for_bot(p.raw("chat_id"))
    caption, entities, html = caption_text(p)
    markup, raw_markup = check_markup(p)
    content = file_content()
    if caption:
        content.update(_text_content(caption, entities, key="caption"))
    if markup:
        content["reply_markup"] = markup
    stored = _bot_message(sb, chat, content, html, p)
    apply_chat_keyboard(chat, raw_markup)
    return stored.data


@api_method("sendPhoto")
async def send_photo(sb: Sandbox, p: Params) -> Any:
    return _send_file(sb, p, lambda: {"photo": [resolve_photo(sb, p, p.raw("photo")).photo_size()]})


def _voice(sb: Sandbox, ref: Any) -> dict[str, Any]:
    if not ref or not isinstance(ref, str) or ref.startswith("attach://"):
        raise bad_request("there is no voice in the request")
    stored = _stored_file(sb, ref, "voice")
    return {"voice": {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id, "duration": 1,
                      "mime_type": stored.mime_type, "file_size": len(stored.data)}}


@api_method("sendVoice")
async def send_voice(sb: Sandbox, p: Params) -> Any:
    """A voice note by file id (one the sandbox holds, of kind voice), like Telegram resends one."""
    return _send_file(sb, p, lambda: _voice(sb, p.raw("voice")))


@api_method("sendMediaGroup")
async def send_media_group(sb: Sandbox, p: Params) -> Any:
    chat = sb.chat_for_bot(p.raw("chat_id"))
    media = p.json("media")
    if not isinstance(media, list) or not 2 <= len(media) <= 10:
        raise bad_request("wrong number of media in the media group: must be 2-10")
    items = []
    for item in media:
        if not isinstance(item, dict) or item.get("type") != "photo":
            raise bad_request("the sandbox supports only media groups of photos")
        sub = Params({k: v for k, v in item.items() if k in ("caption", "parse_mode", "caption_entities")})
        caption, entities, html = caption_text(sub)
        items.append((item.get("media"), caption, entities, html))
    files = [resolve_photo(sb, p, ref, field="media") for ref, *_ in items]
    group_id = str(13_000_000_000_000_000 + secrets.randbelow(10**15))
    result = []
    for photo, (_, caption, entities, html) in zip(files, items, strict=True):
        content: dict[str, Any] = {"media_group_id": group_id, "photo": [photo.photo_size()]}
        if caption:
            content.update(_text_content(caption, entities, key="caption"))
        result.append(_bot_message(sb, chat, content, html, p).data)
    return result


@api_method("sendChatAction")
async def send_chat_action(sb: Sandbox, p: Params) -> Any:
    chat = sb.chat_for_bot(p.raw("chat_id"))
    action = p.str("action") or ""
    if action not in _CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    chat.last_action, chat.last_action_at = action, time.time()
    sb.bump()
    return True


# -- editing and deleting ------------------------------------------------------------------
def _editable(sb: Sandbox, p: Params) -> tuple[Chat, StoredMessage]:
    if p.raw("inline_message_id"):
        raise bad_request("message to edit not found")
    chat = sb.chat_for_bot(p.raw("chat_id"))
    if not p.raw("message_id"):
        raise bad_request("message identifier is not specified")
    stored = sb.find_message(chat, p.raw("message_id"))
    if stored is None:
        raise bad_request("message to edit not found")
    if not stored.from_bot:
        raise bad_request("message can't be edited")
    return chat, stored


def _commit_edit(sb: Sandbox, stored: StoredMessage, changes: dict[str, Any], markup: Any) -> Any:
    data = stored.data
    before = {k: data.get(k) for k in (*changes, "reply_markup")}
    after = {**changes, "reply_markup": markup}
    if all((before[k] or None) == (after[k] or None) for k in after):
        raise bad_request(NOT_MODIFIED)
    for key, value in after.items():
        if value:
            data[key] = value
        else:
            data.pop(key, None)
    data["edit_date"] = int(time.time())
    stored.edited = True
    sb.bump()
    return data


@api_method("editMessageText")
async def edit_message_text(sb: Sandbox, p: Params) -> Any:
    _, stored = _editable(sb, p)
    if "text" not in stored.data:
        raise bad_request("there is no text in the message to edit")
    text, entities, html = message_text(p)
    markup, _ = check_markup(p, inline_only=True)
    result = _commit_edit(sb, stored, {"text": text, "entities": entities}, markup)
    stored.html = html
    return result


@api_method("editMessageCaption")
async def edit_message_caption(sb: Sandbox, p: Params) -> Any:
    _, stored = _editable(sb, p)
    if "photo" not in stored.data:
        raise bad_request("there is no caption in the message to edit")
    caption, entities, html = caption_text(p)
    markup, _ = check_markup(p, inline_only=True)
    result = _commit_edit(sb, stored, {"caption": caption, "caption_entities": entities}, markup)
    stored.html = html
    return result


@api_method("editMessageReplyMarkup")
async def edit_message_reply_markup(sb: Sandbox, p: Params) -> Any:
    _, stored = _editable(sb, p)
    markup, _ = check_markup(p, inline_only=True)
    return _commit_edit(sb, stored, {}, markup)


@api_method("deleteMessage")
async def delete_message(sb: Sandbox, p: Params) -> Any:
    chat = sb.chat_for_bot(p.raw("chat_id"))
    stored = sb.find_message(chat, p.raw("message_id"))
    if stored is None:
        raise bad_request("message to delete not found")
    stored.deleted = True
    sb.bump()
    return True


# -- callbacks and files -------------------------------------------------------------------
@api_method("answerCallbackQuery")
async def answer_callback_query(sb: Sandbox, p: Params) -> Any:
    query_id = p.str("callback_query_id") or ""
    query = sb.callback_queries.get(query_id)
    if query is None or query["answered"]:
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    if len(p.str("text") or "") > 200:
        raise bad_request("MESSAGE_TOO_LONG")
    query["answered"] = True
    sb.callback_answers.append(
        {
            "callback_query_id": query_id,
            "user_id": query["user_id"],
            "chat_id": query["chat_id"],
            "message_id": query["message_id"],
            "data": query["data"],
            "text": p.str("text"),
            "show_alert": p.bool("show_alert"),
            "url": p.str("url"),
            "cache_time": p.int("cache_time", 0),
            "answered_at": time.time(),
        }
    )
    sb.bump()
    return True


@api_method("getFile")
async def get_file(sb: Sandbox, p: Params) -> Any:
    stored = sb.files.get(p.str("file_id") or "")
    if stored is None:
        raise bad_request("invalid file_id")
    return stored.to_api()
