"""The real bot in its own process (`gridbot run` with BOT_TOKEN), polling a sandbox we run here.

Used by the benchmarks and by the reliability tests (which can kill -9 it and start it again on the
same database, against the same sandbox); with `command` and `ready_marker`, another bot (bench.peer_bot).

    async with SandboxServer(sandbox=...) as server:
        bot = BotProcess(server.base_url, database_url, log_path=tmp / "bot.log")
        await bot.start()        # returns once the bot logged that it is ready
        ...
        bot.kill()               # SIGKILL: no clean-up at all
        await bot.start()        # again, same database
        await bot.stop()         # SIGTERM, as systemd would
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TOKEN = "7000000002:bench_sandbox_token"
READY = "ready (polling mode)"


class BotProcess:
    def __init__(self, api_url: str, database_url: str, *, log_path: Path, token: str = TOKEN,
                 env: dict[str, str] | None = None, command: list[str] | None = None,
                 ready_marker: str = READY) -> None:
        self.api_url, self.database_url, self.log_path = api_url, database_url, Path(log_path)
        self.token, self.extra_env = token, dict(env or {})
        self.command = command or [sys.executable, "-m", "bot.cli", "run"]
        self.ready_marker = ready_marker
        self.process: asyncio.subprocess.Process | None = None
        self.starts = 0

    @property
    def pid(self) -> int:
        assert self.process is not None, "not started"
        return self.process.pid

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    def environment(self) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items()
               if key not in ("BOT_TOKEN", "MODE", "WEBHOOK_URL", "WEBHOOK_SECRET")}
        env.update({"BOT_TOKEN": self.token, "TELEGRAM_API_URL": self.api_url,
                    "DATABASE_URL": self.database_url, "LOG_LEVEL": "INFO",
                    "ROSTER_FILE": str(REPO / "examples" / "roster.yaml"),
                    "PYTHONUNBUFFERED": "1"})
        env.update(self.extra_env)
        return env

    async def start(self, timeout: float = 60) -> None:
        """Spawn the bot and wait for its 'ready' log line (it appends to log_path)."""
        assert not self.running, "already running"
        self.starts += 1
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as log:
            log.write(f"\n=== start {self.starts} ===\n".encode())
            log.flush()
            self.process = await asyncio.create_subprocess_exec(
                *self.command, cwd=REPO, env=self.environment(), stdin=asyncio.subprocess.DEVNULL,
                stdout=log, stderr=asyncio.subprocess.STDOUT)
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            text = self.log_path.read_bytes()[offset:].decode(errors="replace")
            if self.ready_marker in text:
                return
            if self.process.returncode is not None:
                raise RuntimeError(f"the bot exited with {self.process.returncode}:\n{text[-3000:]}")
            if asyncio.get_running_loop().time() > deadline:
                self.kill()
                raise TimeoutError(f"the bot was not ready in {timeout}s:\n{text[-3000:]}")
            await asyncio.sleep(0.05)

    def kill(self) -> None:
        """kill -9: the process gets no chance to clean up."""
        if self.running:
            assert self.process is not None
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGKILL)

    async def wait(self) -> int:
        assert self.process is not None
        return await self.process.wait()

    async def stop(self, timeout: float = 15) -> int | None:
        """SIGTERM and wait; SIGKILL if it does not stop in time."""
        if self.process is None:
            return None
        if self.running:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), timeout)
            except TimeoutError:
                self.kill()
                await self.process.wait()
        return self.process.returncode

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
