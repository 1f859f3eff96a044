"""aiogram's aiohttp session, made cheaper for the calls the bot makes on every update.

Costs that showed in the inbound benchmark's profile (bench/INBOUND.md, third and fifth rounds):
- aiogram parses every answer through ``Response[T]``; pydantic keeps parametrized generics only in a
  weak cache, so the class was rebuilt (a full schema generation) for most calls — about 9 % of the
  bot's CPU. The classes are kept here, one per result type.
- every request went out as multipart form data (each value JSON-encoded on its own, then parsed
  back by the server). The Bot API takes a JSON body just as well; requests that upload a file
  still go out as multipart.
- the calls made for every update (send, edit, answer a button) built a pydantic model of the
  request, dumped it back to a dict and parsed the answer into another model: ~0.15-0.25 ms of a
  ~0.6 ms call. `post_json` sends a ready JSON body and returns the answer's JSON; aiogram's models
  are built only when Telegram refuses, so the caller gets the same exceptions as from `bot(...)`.
- aiohttp's client cost ~215 µs of CPU per JSON POST; bot.http_client does the same POST in ~75 µs.
  Every JSON request goes through it (sixth round); uploads still use aiohttp, through aiogram.
"""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any, cast

from aiogram import Bot
from aiogram.client.default import Default
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import EditMessageReplyMarkup, EditMessageText, Response, SendMessage, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import MessageId
from aiohttp import ClientError
from pydantic import BaseModel

from bot.http_client import HttpError, LeanHttp
from bot.telegram_types import with_telegram_names

JSON_HEADERS = {"Content-Type": "application/json"}


class GridSession(AiohttpSession):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # The same CA bundle and connection limit as aiogram's aiohttp connector.
        self._http = LeanHttp(max_connections=self._connector_init.get("limit") or 100,
                              ssl_context=self._connector_init.get("ssl"))
        self._kept_response_types: dict[Any, type[Response[Any]]] = {}
        self._defaults: dict[tuple[type[TelegramMethod[Any]], str], dict[str, Any]] = {}

    async def post_json(self, bot: Bot, method: type[TelegramMethod[Any]], body: dict[str, Any],
                        timeout: int | None = None) -> Any:
        """Call `method` with `body` (JSON values; the bot's defaults, such as parse_mode, are added as
        aiogram adds them) and return the answer's `result` as JSON. Telegram's refusals and network
        errors raise what `bot(method(**body))` raises."""
        full = {**self._defaults_of(bot, method), **body}
        status, raw = await self._post(bot, method.__api_method__, full, timeout,
                                       lambda: method.model_construct(**body))
        if HTTPStatus.OK <= status <= HTTPStatus.IM_USED:  # the condition aiogram's check uses
            try:
                parsed = self.json_loads(raw)
            except ValueError:
                parsed = None
            if isinstance(parsed, dict) and parsed.get("ok") is True:
                return parsed.get("result")
        # Refused, or unreadable: aiogram's own check raises the matching exception.
        return self.check_response(bot, method.model_construct(**body), status, raw).result

    async def _post(self, bot: Bot, api_method: str, body: dict[str, Any], timeout: int | None,
                    described: Callable[[], TelegramMethod[Any]]) -> tuple[int, str]:
        """POST a JSON body; the answer's status and text. Network errors raise aiogram's, naming the
        method `described()` builds (only then)."""
        url = self.api.api_url(token=bot.token, method=api_method)
        data = self.json_dumps(body)
        wait = self.timeout if timeout is None else timeout
        try:
            if self.proxy is not None:  # only aiohttp (with aiohttp-socks) speaks to proxies
                session = await self.create_session()
                async with session.post(url, data=data, headers=JSON_HEADERS, timeout=wait) as answer:
                    return answer.status, await answer.text()
            status, raw = await self._http.post_json(url, data.encode(), wait)
        except TimeoutError as error:
            raise TelegramNetworkError(method=described(), message="Request timeout error") from error
        except (ClientError, OSError, HttpError) as error:
            raise TelegramNetworkError(method=described(),
                                       message=f"{type(error).__name__}: {error}") from error
        return status, raw.decode("utf-8", errors="replace")

    async def close(self) -> None:
        await self._http.close()
        await super().close()

    def _defaults_of(self, bot: Bot, method: type[TelegramMethod[Any]]) -> dict[str, Any]:
        """What aiogram adds to a request of `method` from the bot's DefaultBotProperties, as JSON."""
        key = (method, bot.token)
        known = self._defaults.get(key)
        if known is None:
            defaults = {name: info.default for name, info in method.model_fields.items()
                        if isinstance(info.default, Default)}
            files: dict[str, Any] = {}
            prepared = {name: self.prepare_value(value, bot=bot, files=files, _dumps_json=False)
                        for name, value in defaults.items()}
            known = self._defaults[key] = {name: value for name, value in prepared.items()
                                           if value is not None}
        return known

    def check_response(self, bot: Bot, method: TelegramMethod[TelegramType], status_code: int,
                       content: str) -> Response[TelegramType]:
        # aiogram builds Response[T] for every answer; with the class kept alive here, pydantic's
        # generic cache finds it instead of generating its schema again.
        returning = method.__returning__
        if returning not in self._kept_response_types:
            self._kept_response_types[returning] = Response[returning]  # type: ignore[valid-type]
        return super().check_response(bot, method, status_code, content)

    def json_body(self, bot: Bot, method: TelegramMethod[TelegramType]) -> dict[str, Any] | None:
        """The request as a JSON object, or None when it uploads a file (multipart is needed then)."""
        files: dict[str, Any] = {}
        body = {}
        for key, value in method.model_dump(warnings=False).items():
            prepared = self.prepare_value(value, bot=bot, files=files, _dumps_json=False)
            if prepared is not None:
                body[key] = prepared
        return None if files else body

    async def make_request(self, bot: Bot, method: TelegramMethod[TelegramType],
                           timeout: int | None = None) -> TelegramType:
        body = self.json_body(bot, method)
        if body is None:
            return await super().make_request(bot, method, timeout)
        status, raw_result = await self._post(bot, method.__api_method__, body, timeout, lambda: method)
        response = self.check_response(bot=bot, method=method, status_code=status, content=raw_result)
        return cast(TelegramType, response.result)


async def call_json(bot: Bot, method: type[TelegramMethod[Any]], body: dict[str, Any]) -> Any:
    """`GridSession.post_json` through the bot's session. Another session (aiogram's own) is called the
    aiogram way, and its answer turned into JSON."""
    session = bot.session
    if isinstance(session, GridSession):
        return await session.post_json(bot, method, body)
    result = await bot(method(**body))
    return result.model_dump(mode="json", exclude_none=True) if isinstance(result, BaseModel) else result


# The sender reads only the message id of what it sent and nothing of what it edited; aiogram would
# parse each answer into a whole Message (chat, sender, entities, keyboard): ~0.1 ms of a ~0.5 ms call.
@with_telegram_names
class SendMessageForId(SendMessage):
    """sendMessage, its answer read as a MessageId (the rest of the Message is kept unparsed)."""

    __returning__ = MessageId


@with_telegram_names
class EditMessageTextQuietly(EditMessageText):
    """editMessageText, its answer (the edited Message, or True) not parsed."""

    __returning__ = MessageId | bool


@with_telegram_names
class EditMessageReplyMarkupQuietly(EditMessageReplyMarkup):
    """editMessageReplyMarkup, its answer (the edited Message, or True) not parsed."""

    __returning__ = MessageId | bool
