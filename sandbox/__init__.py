"""A local stand-in for the Telegram Bot API, for tests, `make run` and benchmarks.

Start it in-process with ``async with SandboxServer() as srv`` (see :mod:`sandbox.server`), point
aiogram at ``srv.base_url`` with ``TelegramAPIServer.from_base``, and act as residents through
:class:`sandbox.client.SandboxClient` or the web page at ``/``. The control API is documented in
:mod:`sandbox.control`. This package imports nothing from the bot (an import-linter contract).
"""

from sandbox.client import ChatMessage, SandboxClient, SandboxControlError, SandboxTimeout
from sandbox.server import Sandbox, SandboxServer, create_app, load_personas, run, serve_forever

__all__ = [
    "ChatMessage",
    "Sandbox",
    "SandboxClient",
    "SandboxControlError",
    "SandboxServer",
    "SandboxTimeout",
    "create_app",
    "load_personas",
    "run",
    "serve_forever",
]
