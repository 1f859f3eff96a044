"""Settings from the environment (and a .env file, if present). Read once, in the composition root."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROXY_SCHEMES = ("http", "socks5", "socks4")


class Mode(StrEnum):
    POLLING = "polling"
    WEBHOOK = "webhook"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: SecretStr | None = None
    bot_username: str = ""  # for invite links; default: asked from Telegram (getMe), or the sandbox's
    telegram_api_url: str = "https://api.telegram.org"
    # Reach Telegram through this proxy: http://host:port or socks5://host:port, with user:password@ if it
    # asks for them (see telegram_proxy_url). A secret: the URL may carry a password.
    telegram_proxy: SecretStr | None = None
    database_url: str = "sqlite+aiosqlite:///./gridbot.db"
    timezone: str = "Asia/Shanghai"
    mode: Mode = Mode.POLLING
    webhook_url: str = ""
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "0.0.0.0:8080"
    community: str | None = None  # serve only this community; default (None): every community loaded
    # Loaded at start when the database has no community: one path, or several separated by commas
    # (a street office's communities, each its own roster); see roster_paths().
    roster_file: str = "examples/roster.yaml"
    sandbox_host: str = "127.0.0.1"
    sandbox_port: int = 8081
    log_level: str = "INFO"
    summary_cron: str = "0 9 * * mon"  # the weekly summary: crontab fields, in `timezone`
    summary_chart_dir: str = "data/charts"  # where the summary's PNG charts are written
    # "off" sends outbox messages as fast as the bot can (no 1/s per chat, 30/s overall pacing): only
    # for measuring the bot's own capacity against the sandbox (bench.inbound); Telegram would answer 429.
    outbox_rate_limits: Literal["telegram", "off"] = "telegram"
    # Polling: how many updates of one getUpdates batch are handled at once; default by database
    # (bot/polling.py: 4 on PostgreSQL, the whole batch on SQLite).
    update_concurrency: int | None = Field(default=None, ge=1)
    # How long a claimed outbox row stays the claiming process's: longer than any one send may take
    # (with its pacing waits); a process that died gives its rows up after this.
    outbox_lease_seconds: float = Field(default=60.0, ge=5.0)

    # The staff web console (web/), served by the bot process: where it listens ("off" or empty: no
    # console), and the address people open (default http://<listen host>:<port>/console; an https://
    # address makes its cookies Secure, for a console behind a TLS proxy).
    console_listen: str = "127.0.0.1:8082"
    console_url: str = ""

    @property
    def console_enabled(self) -> bool:
        return self.console_listen.strip().lower() not in ("", "off")

    @property
    def console_host_port(self) -> tuple[str, int]:
        host, _, port = self.console_listen.strip().rpartition(":")
        return host or "127.0.0.1", int(port)

    @property
    def console_address(self) -> str:
        """CONSOLE_URL, else the listener's own address ("" when the console is off). A listener on
        every interface (0.0.0.0) is named by 127.0.0.1: set CONSOLE_URL for others to reach it."""
        if not self.console_enabled:
            return ""
        if self.console_url.strip():
            return self.console_url.strip().rstrip("/")
        host, port = self.console_host_port
        host = "127.0.0.1" if host in ("0.0.0.0", "::", "[::]") else host
        return f"http://{host}:{port}/console"

    def telegram_proxy_url(self) -> str | None:
        """TELEGRAM_PROXY checked, or None when unset; ValueError (naming no password) when it is unusable.

        aiogram's AiohttpSession speaks to proxies through aiohttp-socks: an HTTP CONNECT tunnel
        (http://) or a SOCKS one (socks5://, socks4://). Requests to Telegram stay TLS inside the tunnel;
        a proxy spoken to over TLS itself (https://) is not among what aiogram's session offers."""
        if self.telegram_proxy is None or not self.telegram_proxy.get_secret_value():
            return None
        url = self.telegram_proxy.get_secret_value()
        scheme, host, port = proxy_address(url)
        if scheme not in PROXY_SCHEMES:
            hint = (" (a proxy reached over TLS is not supported; use http://, the tunnel carries TLS to "
                    "Telegram)") if scheme == "https" else ""
            raise ValueError(f"TELEGRAM_PROXY: scheme {scheme or '(none)'!r} is not supported{hint}; "
                             f"use one of {', '.join(s + '://' for s in PROXY_SCHEMES)}")
        if not host or port is None:
            raise ValueError(f"TELEGRAM_PROXY needs a host and a port, like {scheme}://proxy.example:3128")
        return url

    @property
    def telegram_proxy_host(self) -> str | None:
        """The proxy as the log may show it: scheme, host and port, never a user name or password."""
        if self.telegram_proxy is None or not self.telegram_proxy.get_secret_value():
            return None
        scheme, host, port = proxy_address(self.telegram_proxy.get_secret_value())
        return f"{scheme}://[{host}]:{port}" if host and ":" in host else f"{scheme}://{host}:{port}"

    def roster_paths(self) -> list[str]:
        """ROSTER_FILE's paths: "a.yaml, b.yaml" -> ["a.yaml", "b.yaml"] (blanks between commas dropped)."""
        return [path.strip() for path in self.roster_file.split(",") if path.strip()]

    @property
    def webhook_host_port(self) -> tuple[str, int]:
        host, _, port = self.webhook_listen.rpartition(":")
        return host or "0.0.0.0", int(port)


def proxy_address(url: str) -> tuple[str, str | None, int | None]:
    """A proxy URL's scheme, host and port (None when missing or not a number)."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    return parts.scheme, parts.hostname, port
