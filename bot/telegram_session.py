"""aiogram's aiohttp session, made cheaper for the calls the bot makes on every update.

Two costs showed in the inbound benchmark's profile (bench/INBOUND.md, third round):
- aiogram parses every answer through ``Response[T]``; pydantic keeps parametrized generics only in a
  weak cache, so the class was rebuilt (a full schema generation) for most calls — about 9 % of the
  bot's CPU. The classes are kept here, one per result type.
- every request went out as multipart form data (each value JSON-encoded on its own, then parsed
  back by the server). The Bot API takes a JSON body just as well; requests that upload a file
  still go out as multipart.
"""

from __future__ import annotations

from typing import Any, cast

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import EditMessageReplyMarkup, EditMessageText, Response, SendMessage, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import MessageId
from aiohttp import ClientError

from bot.telegram_types import with_telegram_names

JSON_HEADERS = {"Content-Type": "application/json"}


class GridSession(AiohttpSession):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._kept_response_types: dict[Any, type[Response[Any]]] = {}

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
        session = await self.create_session()
        url = self.api.api_url(token=bot.token, method=method.__api_method__)
        try:
            async with session.post(url, data=self.json_dumps(body), headers=JSON_HEADERS,
                                    timeout=self.timeout if timeout is None else timeout) as answer:
                raw_result = await answer.text()
        except TimeoutError as error:
            raise TelegramNetworkError(method=method, message="Request timeout error") from error
        except ClientError as error:
            raise TelegramNetworkError(method=method, message=f"{type(error).__name__}: {error}") from error
        response = self.check_response(bot=bot, method=method, status_code=answer.status, content=raw_result)
        return cast(TelegramType, response.result)


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
