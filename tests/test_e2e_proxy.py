"""End to end through TELEGRAM_PROXY: the real bot reaches the sandbox only through a local HTTP proxy
(proxy.py, which tunnels with CONNECT as aiohttp-socks asks it to), on both databases.

What must hold: a resident's dialog works; the proxy forwarded the bot's connections to the sandbox (so
the test fails if the setting is ignored); the proxy's password reaches the proxy but never the log.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from dialog_support import load_example
from e2e_support import Resident, free_port, live
from pydantic import SecretStr

from bot.settings import Settings

USER, PASSWORD = "gridbot", "proxy-pass-7f3a"
START_TIMEOUT = 20.0


class HttpProxy:
    """proxy.py in a child process, asking for a user and password, its access log in a file."""

    def __init__(self, log_file: Path) -> None:
        self.port = free_port()
        self.log_file = log_file
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "proxy", "--hostname", "127.0.0.1", "--port", str(self.port),
             "--threaded", "--num-acceptors", "1", "--basic-auth", f"{USER}:{PASSWORD}",
             "--log-level", "INFO", "--log-file", str(self.log_file)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = asyncio.get_running_loop().time() + START_TIMEOUT
        while True:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                if self.process.poll() is not None or asyncio.get_running_loop().time() > deadline:
                    raise RuntimeError(f"proxy.py did not start:\n{self.log()}") from None
                await asyncio.sleep(0.1)
                continue
            writer.close()
            await writer.wait_closed()
            return

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log(self) -> str:
        return self.log_file.read_text(errors="replace") if self.log_file.exists() else ""

    def tunnels_to(self, host: str, port: int) -> list[str]:
        """The access-log lines of CONNECT tunnels it opened to host:port (one per closed connection)."""
        return re.findall(rf"^.* - CONNECT {re.escape(host)}:{port} - .*$", self.log(), flags=re.MULTILINE)


@pytest.fixture
def http_proxy(tmp_path: Path) -> Iterator[HttpProxy]:
    proxy = HttpProxy(tmp_path / "proxy.log")
    try:
        yield proxy
    finally:
        proxy.stop()


async def test_a_resident_talks_to_the_bot_through_an_http_proxy(engine, uow_factory, http_proxy, caplog):
    await http_proxy.start()
    await load_example(uow_factory)
    caplog.set_level(logging.DEBUG)
    proxy_url = f"http://{USER}:{PASSWORD}@127.0.0.1:{http_proxy.port}"
    async with live(engine, telegram_proxy=SecretStr(proxy_url)) as (client, server):
        resident = Resident(client, 5001)
        await resident.say("一楼堆放杂物，楼道都堵了")
        await resident.expect("环境卫生")
        await resident.tap_when("是的")
        await resident.expect("问题在哪栋楼")
        sandbox = server.base_url.removeprefix("http://")
    host, port = sandbox.rsplit(":", 1)

    # The bot's session is closed now: the proxy has logged each tunnel it carried.
    deadline = asyncio.get_running_loop().time() + 10
    while not http_proxy.tunnels_to(host, int(port)) and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.1)
    tunnels = http_proxy.tunnels_to(host, int(port))
    assert tunnels, f"no request went through the proxy:\n{http_proxy.log()}"
    carried = sum(int(n) for n in re.findall(r" - (\d+) bytes - ", "\n".join(tunnels)))
    assert carried > 0, tunnels  # the tunnels carried the dialog's answers, not just a handshake
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert f"proxy http://127.0.0.1:{http_proxy.port}" in logged  # the host is logged, not the password
    assert PASSWORD not in logged


@pytest.mark.parametrize("url", ["https://proxy.example:3128", "ftp://proxy.example:21",
                                 "socks5://proxy.example", f"proxy.example:{3128}"])
def test_an_unusable_proxy_setting_is_refused_without_showing_its_password(url):
    secret = url.replace("://", f"://{USER}:{PASSWORD}@", 1) if "://" in url else url
    settings = Settings(telegram_proxy=SecretStr(secret), _env_file=None)
    with pytest.raises(ValueError, match="TELEGRAM_PROXY") as refused:
        settings.telegram_proxy_url()
    assert PASSWORD not in str(refused.value)


@pytest.mark.parametrize("url", ["http://proxy.example:3128", f"socks5://{USER}:{PASSWORD}@10.0.0.1:1080"])
def test_a_usable_proxy_setting_is_taken_and_logged_by_host_only(url):
    settings = Settings(telegram_proxy=SecretStr(url), _env_file=None)
    assert settings.telegram_proxy_url() == url
    assert PASSWORD not in (settings.telegram_proxy_host or "") and PASSWORD not in repr(settings)


def test_gridbot_run_with_an_unusable_proxy_stops_at_once_with_a_message(tmp_path):
    env = {**os.environ, "TELEGRAM_PROXY": f"https://{USER}:{PASSWORD}@proxy.example:3128",
           "BOT_TOKEN": "7000000001:unused", "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'g.db'}"}
    result = subprocess.run([sys.executable, "-m", "bot.cli", "run"], cwd=Path(__file__).resolve().parents[1],
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "TELEGRAM_PROXY" in result.stderr and "https" in result.stderr
    assert PASSWORD not in result.stderr + result.stdout
    assert not (tmp_path / "g.db").exists()  # refused before the database was touched
