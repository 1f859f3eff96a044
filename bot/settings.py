"""Settings from the environment (and a .env file, if present). Read once, in the composition root."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Mode(StrEnum):
    POLLING = "polling"
    WEBHOOK = "webhook"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: SecretStr | None = None
    bot_username: str = ""  # for invite links; default: asked from Telegram (getMe), or the sandbox's
    telegram_api_url: str = "https://api.telegram.org"
    database_url: str = "sqlite+aiosqlite:///./gridbot.db"
    timezone: str = "Asia/Shanghai"
    mode: Mode = Mode.POLLING
    webhook_url: str = ""
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "0.0.0.0:8080"
    community: str | None = None  # community code to serve; default: the only one loaded
    roster_file: str = "examples/roster.yaml"  # loaded at start when the database has no community
    sandbox_host: str = "127.0.0.1"
    sandbox_port: int = 8081
    log_level: str = "INFO"
    summary_cron: str = "0 9 * * mon"  # the weekly summary: crontab fields, in `timezone`
    summary_chart_dir: str = "data/charts"  # where the summary's PNG charts are written
    # "off" sends outbox messages as fast as the bot can (no 1/s per chat, 30/s overall pacing): only
    # for measuring the bot's own capacity against the sandbox (bench.inbound); Telegram would answer 429.
    outbox_rate_limits: Literal["telegram", "off"] = "telegram"
    # Polling: how many updates of one getUpdates batch are handled at once; default by database
    # (bot/polling.py: 2 on PostgreSQL, the whole batch on SQLite).
    update_concurrency: int | None = Field(default=None, ge=1)

    @property
    def webhook_host_port(self) -> tuple[str, int]:
        host, _, port = self.webhook_listen.rpartition(":")
        return host or "0.0.0.0", int(port)
