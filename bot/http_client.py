"""A small HTTP/1.1 client for the Bot API's JSON calls, over kept-alive connections.

Every update costs the bot three to four Bot API calls (its share of getUpdates, the reply, the edit
that takes an old question's buttons away, the answer to a pressed button). Through aiohttp a JSON POST
cost the client ~215 µs of CPU; written straight on asyncio's streams it costs ~75 µs (bench/INBOUND.md,
sixth round). What the Bot API needs of HTTP is small: a POST with a JSON body to one origin, and an
answer with a length or in chunks. Uploads (multipart) still go through aiogram's aiohttp session.

A connection is used for one request at a time and kept for the next; one idle for `keep_idle` seconds is
closed here first (as aiohttp does), so the server's own idle close does not meet a new request. Any
error closes the connection it happened on. Nothing is retried here: the callers (the outbox sender,
polling) retry, with their own record of what went through.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

__all__ = ["HttpError", "LeanHttp"]

MAX_HEADER_LINES = 100
MAX_LINE = 65536


class HttpError(Exception):
    """The connection failed, or the answer was not HTTP/1.x as expected."""


@dataclass(frozen=True)
class _Target:
    secure: bool
    host: str
    port: int
    path: str

    @property
    def origin(self) -> tuple[bool, str, int]:
        return self.secure, self.host, self.port


@dataclass(eq=False)  # compared and hashed by identity: kept in a set
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    idle_since: float = field(default_factory=time.monotonic)

    def usable(self, keep_idle: float) -> bool:
        return (not self.reader.at_eof() and not self.writer.is_closing()
                and time.monotonic() - self.idle_since < keep_idle)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()


class LeanHttp:
    def __init__(self, *, max_connections: int = 100, keep_idle: float = 15.0,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self._slots = asyncio.Semaphore(max_connections)
        self._keep_idle = keep_idle
        self._ssl = ssl_context
        self._idle: dict[tuple[bool, str, int], list[_Connection]] = {}
        self._targets: dict[str, _Target] = {}
        self._open: set[_Connection] = set()

    async def post_json(self, url: str, body: bytes, timeout: float) -> tuple[int, bytes]:
        """POST `body` (JSON) to `url`; the answer's status and body. Raises TimeoutError, OSError or
        HttpError; the connection is then closed, not reused."""
        target = self._target(url)
        async with self._slots:
            async with asyncio.timeout(timeout):
                connection = await self._connection(target)
                try:
                    status, answer, reusable = await self._exchange(connection, target, body)
                except BaseException:
                    self._discard(connection)
                    raise
        if reusable:
            connection.idle_since = time.monotonic()
            self._idle.setdefault(target.origin, []).append(connection)
        else:
            self._discard(connection)
        return status, answer

    async def __aenter__(self) -> LeanHttp:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        for connection in list(self._open):
            self._discard(connection)
        self._idle.clear()

    def _target(self, url: str) -> _Target:
        target = self._targets.get(url)
        if target is None:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise HttpError(f"not an http(s) URL: {parts.scheme}://{parts.hostname}")
            secure = parts.scheme == "https"
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            target = _Target(secure, parts.hostname, parts.port or (443 if secure else 80), path)
            if len(self._targets) < 1024:  # one per Bot API method and token: a handful
                self._targets[url] = target
        return target

    async def _connection(self, target: _Target) -> _Connection:
        idle = self._idle.get(target.origin)
        while idle:
            connection = idle.pop()
            if connection.usable(self._keep_idle):
                return connection
            self._discard(connection)
        context = None
        if target.secure:
            context = self._ssl = self._ssl or ssl.create_default_context()
        reader, writer = await asyncio.open_connection(target.host, target.port, ssl=context,
                                                       limit=MAX_LINE)
        connection = _Connection(reader, writer)
        self._open.add(connection)
        return connection

    def _discard(self, connection: _Connection) -> None:
        self._open.discard(connection)
        connection.close()

    async def _exchange(self, connection: _Connection, target: _Target, body: bytes
                        ) -> tuple[int, bytes, bool]:
        host = target.host if target.port in (80, 443) else f"{target.host}:{target.port}"
        connection.writer.write(
            f"POST {target.path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: keep-alive\r\n\r\n".encode("latin-1") + body)
        try:
            return await self._answer(connection.reader)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as error:
            raise HttpError(f"a malformed or cut answer: {type(error).__name__}") from error

    async def _answer(self, reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
        status_line = await _line(reader)
        version, _, rest = status_line.partition(" ")
        code = rest[:3]
        if not version.startswith("HTTP/1.") or not code.isdigit():
            raise HttpError(f"not an HTTP/1.x answer: {status_line[:80]!r}")
        headers = dict(_headers(await _header_lines(reader)))
        keep = version != "HTTP/1.0" and "close" not in headers.get("connection", "").lower()
        if "chunked" in headers.get("transfer-encoding", "").lower():
            answer = await _chunked(reader)
        elif "content-length" in headers:
            answer = await reader.readexactly(int(headers["content-length"]))
        else:  # the answer ends when the server closes the connection
            answer = await reader.read()
            keep = False
        return int(code), answer, keep


async def _line(reader: asyncio.StreamReader) -> str:
    raw = await reader.readline()
    if not raw.endswith(b"\n"):
        raise HttpError("the connection closed before the answer was complete")
    return raw.decode("latin-1").rstrip("\r\n")


async def _header_lines(reader: asyncio.StreamReader) -> list[str]:
    lines = []
    while True:
        line = await _line(reader)
        if not line:
            return lines
        lines.append(line)
        if len(lines) > MAX_HEADER_LINES:
            raise HttpError("too many header lines")


def _headers(lines: list[str]) -> Iterator[tuple[str, str]]:
    for line in lines:
        name, colon, value = line.partition(":")
        if colon:
            yield name.strip().lower(), value.strip()


async def _chunked(reader: asyncio.StreamReader) -> bytes:
    parts = []
    while True:
        size_line = await _line(reader)
        try:
            size = int(size_line.split(";", 1)[0].strip(), 16)
        except ValueError as error:
            raise HttpError(f"bad chunk size {size_line[:20]!r}") from error
        if size == 0:
            await _header_lines(reader)  # trailers, up to the blank line
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        if await reader.readexactly(2) != b"\r\n":
            raise HttpError("a chunk did not end with CRLF")
