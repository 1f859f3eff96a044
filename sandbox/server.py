"""The sandbox's HTTP server: Bot API, control API and the web page on one aiohttp application.

Public API::

    Sandbox(personas=None, *, bot_username="gridbot_sandbox_bot", bot_name=..., token=None,
            first_update_id=1)                     # all state; see sandbox.state
    create_app(sandbox) -> aiohttp.web.Application
    async with SandboxServer(host="127.0.0.1", port=0, sandbox=None, personas=None) as srv:
        srv.base_url   # "http://127.0.0.1:PORT" — give it to TelegramAPIServer.from_base()
        srv.sandbox
    await serve_forever(host, port, personas)      # runs until cancelled (the `gridbot sandbox` CLI)
    run(host, port, personas_file=None)            # blocking, Ctrl-C to stop (python -m sandbox)
    load_personas(path) -> list[dict]              # JSON or YAML: a list, or {"personas": [...]}

Telegram's flood limits and fault injection are built in (``sandbox.traffic``, both off by
default): ``sandbox.traffic.set_limits({...})`` / ``set_faults({...})``, or the control routes
``/control/limits`` and ``/control/faults``, or ``SandboxClient.set_limits`` / ``set_faults``.

Further extension point: ``sandbox.api_hooks`` is a list of ``async def hook(method_lower,
params_dict)`` called before every Bot API method; raising
``sandbox.models.ApiError(429, "Too Many Requests: retry after 3", {"retry_after": 3})`` there is
answered exactly like Telegram would.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

from aiohttp import web

from sandbox.bot_api import SANDBOX_KEY, add_bot_api_routes
from sandbox.control import add_control_routes
from sandbox.state import Sandbox
from sandbox.webhook import stop_webhook

__all__ = ["Sandbox", "SandboxServer", "create_app", "load_personas", "run", "serve_forever"]

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).parent / "static"


async def _index(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})


def create_app(sandbox: Sandbox) -> web.Application:
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app[SANDBOX_KEY] = sandbox
    add_bot_api_routes(app)
    add_control_routes(app)
    app.router.add_get("/", _index)
    app.router.add_static("/static/", STATIC_DIR)

    async def _cleanup(app: web.Application) -> None:
        await stop_webhook(sandbox)

    app.on_cleanup.append(_cleanup)
    return app


class SandboxServer:
    """Runs a sandbox in-process on a real TCP port (port 0 picks a free one)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        sandbox: Sandbox | None = None,
        personas: Iterable[dict[str, Any]] | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.sandbox = sandbox if sandbox is not None else Sandbox(personas)
        self._runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        self._runner = web.AppRunner(create_app(self.sandbox), access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        for address in self._runner.addresses:
            if isinstance(address, tuple) and len(address) >= 2:
                self.port = int(address[1])
                break

    async def stop(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> SandboxServer:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()


def load_personas(path: str | Path) -> list[dict[str, Any]]:
    """Personas from a JSON or YAML file.

    The file holds a list of {id, name, username?, role_label?} or {"personas": [...]}.
    """
    text = Path(path).read_text(encoding="utf-8")
    if str(path).endswith((".yaml", ".yml")):
        import yaml  # only needed for YAML files

        data = yaml.safe_load(text)
    else:
        data = json.loads(text)
    if isinstance(data, dict):
        data = data.get("personas", [])
    if not isinstance(data, list) or not all(isinstance(p, dict) and "id" in p for p in data):
        raise ValueError(f"{path}: expected a list of personas with an 'id' each")
    return data


async def serve_forever(
    host: str = "127.0.0.1",
    port: int = 8081,
    personas: Iterable[dict[str, Any]] | None = None,
    *,
    sandbox: Sandbox | None = None,
) -> None:
    """Serve the sandbox until the task is cancelled."""
    async with SandboxServer(host, port, sandbox=sandbox, personas=personas) as srv:
        log.info("sandbox listening on %s (web page at %s/)", srv.base_url, srv.base_url)
        print(
            f"Telegram sandbox: {srv.base_url}/  (Bot API at {srv.base_url}/bot<token>/<method>)", flush=True
        )
        await asyncio.Event().wait()


def run(host: str = "127.0.0.1", port: int = 8081, personas_file: str | Path | None = None) -> None:
    """Blocking entry point: serve until Ctrl-C."""
    personas = load_personas(personas_file) if personas_file else None
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_forever(host, port, personas))
