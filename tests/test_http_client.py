"""bot.http_client.LeanHttp against small servers that answer the ways HTTP/1.1 allows (and some it
doesn't): lengths, chunks, closes, a stale kept-alive connection, silence."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from bot.http_client import HttpError, LeanHttp

Answer = Callable[[asyncio.StreamReader, asyncio.StreamWriter, bytes], Awaitable[bool]]


class Server:
    """Reads each request (headers and a Content-Length body) and lets `answer` write; `answer` returns
    whether to keep the connection for the next request."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.connections = 0
        self.bodies: list[bytes] = []
        self.paths: list[str] = []

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                request = await reader.readuntil(b"\r\n\r\n")
                lines = request.decode("latin-1").split("\r\n")
                self.paths.append(lines[0].split()[1])
                length = next(int(line.split(":")[1]) for line in lines
                              if line.lower().startswith("content-length"))
                body = await reader.readexactly(length)
                self.bodies.append(body)
                if not await self.answer(reader, writer, body):
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Answer], Awaitable[tuple[Server, str]]]]:
    servers: list[asyncio.Server] = []

    async def start(answer: Answer) -> tuple[Server, str]:
        handler = Server(answer)
        server = await asyncio.start_server(handler.serve, "127.0.0.1", 0)
        servers.append(server)
        port = server.sockets[0].getsockname()[1]
        return handler, f"http://127.0.0.1:{port}/bot1:abc/sendMessage"

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()


def json_answer(text: bytes, *, extra: str = "") -> bytes:
    return (f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(text)}\r\n{extra}\r\n"
            .encode() + text)


async def test_a_post_and_its_answer_over_one_kept_connection(serve) -> None:
    async def answer(reader, writer, body) -> bool:
        writer.write(json_answer(b'{"ok":true,"result":' + body + b"}"))
        return True

    server, url = await serve(answer)
    async with LeanHttp() as http:
        for n in range(3):
            status, raw = await http.post_json(url, b'{"n":%d}' % n, timeout=5)
            assert (status, raw) == (200, b'{"ok":true,"result":{"n":%d}}' % n)
    assert server.connections == 1
    assert server.paths == ["/bot1:abc/sendMessage"] * 3


async def test_a_chunked_answer_and_an_error_status(serve) -> None:
    async def answer(reader, writer, body) -> bool:
        writer.write(b"HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n"
                     b"5\r\n{\"ok\"\r\n13;x=y\r\n:false,\"error_code\"\r\n6\r\n:400}\n\r\n0\r\n\r\n")
        return True

    _, url = await serve(answer)
    async with LeanHttp() as http:
        assert await http.post_json(url, b"{}", timeout=5) == (400, b'{"ok":false,"error_code":400}\n')


async def test_connection_close_and_an_answer_ended_by_closing(serve) -> None:
    async def answer(reader, writer, body) -> bool:
        if body == b"1":
            writer.write(json_answer(b"{}", extra="Connection: close\r\n"))
        else:
            writer.write(b"HTTP/1.0 200 OK\r\n\r\n{\"until\":\"closed\"}")
        return False

    server, url = await serve(answer)
    async with LeanHttp() as http:
        assert await http.post_json(url, b"1", timeout=5) == (200, b"{}")
        assert await http.post_json(url, b"2", timeout=5) == (200, b'{"until":"closed"}')
    assert server.connections == 2


@pytest.mark.parametrize(("server_keeps", "keep_idle"), [(False, 15.0), (True, 0.0)],
                         ids=["the server closed it while idle", "idle too long: closed here first"])
async def test_a_stale_kept_connection_is_not_reused(serve, server_keeps, keep_idle) -> None:
    async def answer(reader, writer, body) -> bool:
        writer.write(json_answer(b"{}"))  # says nothing of closing
        return server_keeps

    server, url = await serve(answer)
    async with LeanHttp(keep_idle=keep_idle) as http:
        await http.post_json(url, b"1", timeout=5)
        await asyncio.sleep(0.05)  # a server's close arrives while the connection is idle
        assert await http.post_json(url, b"2", timeout=5) == (200, b"{}")
    assert server.connections == 2


@pytest.mark.parametrize("reply", [b"", b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{\"ok\"",
                                   b"SMTP ready\r\n", b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"])
async def test_a_cut_or_malformed_answer_is_an_error_and_the_connection_goes(serve, reply) -> None:
    async def answer(reader, writer, body) -> bool:
        if body == b"bad":
            writer.write(reply)
            return False
        writer.write(json_answer(b"{}"))
        return True

    server, url = await serve(answer)
    async with LeanHttp() as http:
        with pytest.raises(HttpError):
            await http.post_json(url, b"bad", timeout=5)
        assert await http.post_json(url, b"good", timeout=5) == (200, b"{}")
    assert server.connections == 2


async def test_silence_is_a_timeout(serve) -> None:
    async def answer(reader, writer, body) -> bool:
        await asyncio.sleep(10)
        return False

    _, url = await serve(answer)
    async with LeanHttp() as http:
        with pytest.raises(TimeoutError):
            await http.post_json(url, b"{}", timeout=0.2)


async def test_no_server_is_an_os_error() -> None:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    async with LeanHttp() as http:
        with pytest.raises(OSError):
            await http.post_json(f"http://127.0.0.1:{port}/x", b"{}", timeout=5)
        with pytest.raises(HttpError):
            await http.post_json("ftp://127.0.0.1/x", b"{}", timeout=5)


async def test_requests_at_once_use_connections_of_their_own(serve) -> None:
    release = asyncio.Event()

    async def answer(reader, writer, body) -> bool:
        await release.wait()
        writer.write(json_answer(body))
        return True

    server, url = await serve(answer)
    async with LeanHttp(max_connections=3) as http:
        calls = [asyncio.create_task(http.post_json(url, b"%d" % n, timeout=5)) for n in range(5)]
        await asyncio.sleep(0.1)
        assert server.connections == 3  # the limit: the other two wait for a connection
        release.set()
        answers = await asyncio.gather(*calls)
    assert sorted(raw for _, raw in answers) == [b"0", b"1", b"2", b"3", b"4"]
    assert server.connections == 3
