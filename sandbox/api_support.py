"""Request parameters and the method registry shared by the Bot API modules."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import BodyPartReader, web

from sandbox.models import bad_request
from sandbox.state import Sandbox

__all__ = ["METHODS", "Params", "Upload", "api_method", "read_params"]


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes
    content_type: str


class Params:
    """Bot API parameters from a query string, form, multipart body or JSON body.

    Values from forms are strings (complex ones JSON-encoded, as aiogram sends them); values from
    JSON bodies keep their types. The accessors accept both.
    """

    def __init__(
        self, values: dict[str, Any] | None = None, uploads: dict[str, Upload] | None = None
    ) -> None:
        self.values = dict(values or {})
        self.uploads = dict(uploads or {})

    def __contains__(self, key: str) -> bool:
        return key in self.values or key in self.uploads

    def raw(self, key: str) -> Any:
        return self.values.get(key)

    def str(self, key: str) -> str | None:
        value = self.values.get(key)
        if value is None:
            return None
        return (
            value
            if isinstance(value, str)
            else json.dumps(value)
            if isinstance(value, dict | list)
            else str(value)
        )

    def int(self, key: str, default: int | None = None) -> int | None:
        value = self.values.get(key)
        if value in (None, ""):
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {key} specified") from None

    def float(self, key: str, default: float = 0.0) -> float:
        value = self.values.get(key)
        if value in (None, ""):
            return default
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {key} specified") from None

    def bool(self, key: str) -> bool:
        value = self.values.get(key)
        if isinstance(value, str):
            return value.strip().lower() in ("true", "1", "yes")
        return bool(value)

    def json(self, key: str, error: str | None = None) -> Any:
        value = self.values.get(key)
        if value in (None, ""):
            return None
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise bad_request(error or f"can't parse {key} JSON object") from None
        return value

    def upload(self, ref: str) -> Upload | None:
        """The uploaded part named ``ref`` or referenced as ``attach://name``."""
        name = ref[len("attach://") :] if ref.startswith("attach://") else ref
        return self.uploads.get(name)


async def read_params(request: web.Request) -> Params:
    values: dict[str, Any] = dict(request.query)
    uploads: dict[str, Upload] = {}
    ctype = request.content_type
    if request.method == "POST" and request.can_read_body:
        if ctype.startswith("multipart/"):
            reader = await request.multipart()
            async for part in reader:
                if not isinstance(part, BodyPartReader) or part.name is None:
                    continue
                if part.filename is not None:
                    ptype = part.headers.get("Content-Type", "application/octet-stream")
                    uploads[part.name] = Upload(part.filename, bytes(await part.read()), ptype)
                else:
                    values[part.name] = await part.text()
        elif ctype == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise bad_request("can't parse JSON request body") from None
            if isinstance(body, dict):
                values.update(body)
        else:
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    uploads[key] = Upload(value.filename, value.file.read(), value.content_type)
                else:
                    values[key] = value
    return Params(values, uploads)


Handler = Callable[[Sandbox, Params], Awaitable[Any]]
METHODS: dict[str, Handler] = {}


def api_method(*names: str) -> Callable[[Handler], Handler]:
    """Register a Bot API method implementation (names are case-insensitive, like Telegram's)."""

    def register(fn: Handler) -> Handler:
        for name in names:
            METHODS[name.lower()] = fn
        return fn

    return register
