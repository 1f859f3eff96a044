"""`gridbot` — run the bot, the local sandbox, load a roster, upgrade the database."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from bot.settings import Mode, Settings
from gridcore.community import Community, Role
from gridcore.roster import RosterError, parse_roster

log = logging.getLogger("gridbot")
SANDBOX_TOKEN = "7000000001:local_sandbox_token"
ROLE_LABELS = {
    Role.GRID_WORKER: "网格员", Role.GRID_LEADER: "网格长", Role.BUILDING_LEADER: "楼栋长",
    Role.COMMUNITY_STAFF: "社区工作人员", Role.RESIDENT: "居民", Role.PARTNER: "共建单位",
}
SAMPLE_RESIDENTS = [
    {"id": 5001, "name": "张阿姨", "role_label": "居民（示例）"},
    {"id": 5002, "name": "李叔", "role_label": "居民（示例）"},
    {"id": 5003, "name": "王姐", "role_label": "居民（示例）"},
]


def read_roster(path: str | Path) -> Community:
    """Parse a roster file; RosterError names the file, line and problem."""
    path = Path(path)
    return parse_roster(path.read_text(encoding="utf-8"), str(path))


def personas_for(community: Community | None) -> list[dict]:
    """Who the sandbox page offers to chat as: sample residents, then the roster's staff."""
    personas = list(SAMPLE_RESIDENTS)
    for person in community.staff if community else ():
        if person.telegram_user_id is None:
            continue
        grid = community.grid(person.grid_code) if person.grid_code else None
        label = ROLE_LABELS.get(person.role, person.role.value) + (f" · {grid.name}" if grid else "")
        personas.append({"id": person.telegram_user_id, "name": person.name,
                         "username": person.username, "role_label": label})
    return personas


async def load_roster(settings: Settings, path: str) -> Community:
    from storage.db import create_engine, migrate
    from storage.uow import uow_factory

    community = read_roster(path)
    engine = create_engine(settings.database_url)
    try:
        await migrate(engine)
        async with uow_factory(engine)() as uow:
            await uow.roster.upsert(community)
            await uow.commit()
    finally:
        await engine.dispose()
    return community


async def ensure_roster(settings: Settings, engine) -> Community | None:
    """An empty database gets the roster file (examples/roster.yaml by default) at start."""
    from storage.uow import uow_factory

    async with uow_factory(engine)() as uow:
        codes = await uow.roster.list_codes()
        if codes:
            return await uow.roster.get(settings.community or codes[0])
        if not Path(settings.roster_file).is_file():
            log.warning("no community in the database and no roster file at %s", settings.roster_file)
            return None
        community = read_roster(settings.roster_file)
        await uow.roster.upsert(community)
        await uow.commit()
        log.info("loaded roster %s (%s)", settings.roster_file, community.code)
        return community


async def run(settings: Settings) -> None:
    from bot.runtime import assemble, run_polling, run_webhook
    from sandbox.server import Sandbox, SandboxServer
    from storage.db import create_engine, migrate
    from storage.maintenance import last_update_id

    engine = create_engine(settings.database_url)
    try:
        await migrate(engine)
        community = await ensure_roster(settings, engine)
        if settings.bot_token is not None:
            async with assemble(settings, engine=engine) as app:
                if settings.mode is Mode.WEBHOOK:
                    await run_webhook(app, settings)
                else:
                    await run_polling(app)
            return
        # No token: Telegram's stand-in runs beside the bot, and a browser page is the chat. A new
        # sandbox counts updates from 1 again; start after the ids this database has already seen.
        first_update_id = (await last_update_id(engine) or 0) + 1
        sandbox = Sandbox(personas_for(community), first_update_id=first_update_id)
        async with SandboxServer(settings.sandbox_host, settings.sandbox_port, sandbox=sandbox) as server:
            local = settings.model_copy(update={"bot_token": SecretStr(SANDBOX_TOKEN),
                                                "telegram_api_url": server.base_url, "mode": Mode.POLLING})
            async with assemble(local, engine=engine) as app:
                print(f"\ngridbot 本地沙盒已启动：在浏览器打开 {server.base_url}/ ，选择一位居民开始对话。"
                      f"\n(gridbot sandbox running: open {server.base_url}/ — Ctrl-C to stop)\n", flush=True)
                await run_polling(app, timeout=10)
    finally:
        await engine.dispose()


async def until_stopped(work: Coroutine[Any, Any, None]) -> None:
    """Run until done or until SIGTERM/SIGINT, which stop it gracefully (tasks are cancelled and
    clean up: the outbox sender finishes marking what it sent, sessions and the database close)."""
    task = asyncio.ensure_future(work)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await task
    log.info("gridbot stopped")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gridbot", description="gridbot — 网格化管理的居民反映机器人")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="run the bot (no BOT_TOKEN: with the local sandbox and its web page)")
    sandbox = commands.add_parser("sandbox", help="run only the local Bot API sandbox")
    sandbox.add_argument("--host", default=None)
    sandbox.add_argument("--port", type=int, default=None)
    roster = commands.add_parser("roster", help="roster file commands")
    roster_commands = roster.add_subparsers(dest="roster_command", required=True)
    load = roster_commands.add_parser("load", help="validate a roster file and load it (idempotent)")
    load.add_argument("file")
    check = roster_commands.add_parser("check", help="validate a roster file without loading it")
    check.add_argument("file")
    db = commands.add_parser("db", help="database commands")
    db.add_argument("db_command", choices=["upgrade"])
    args = parser.parse_args(argv)

    settings = Settings()
    logging.basicConfig(level=settings.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)  # URLs would carry the bot token
    logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        if args.command == "run":
            with contextlib.suppress(KeyboardInterrupt):
                asyncio.run(until_stopped(run(settings)))
        elif args.command == "sandbox":
            from sandbox.server import serve_forever

            community = read_roster(settings.roster_file) if Path(settings.roster_file).is_file() else None
            host, port = args.host or settings.sandbox_host, args.port or settings.sandbox_port
            print(f"sandbox: http://{host}:{port}/", flush=True)
            with contextlib.suppress(KeyboardInterrupt):
                asyncio.run(serve_forever(host, port, personas_for(community)))
        elif args.command == "roster" and args.roster_command == "check":
            community = read_roster(args.file)
            print(f"{args.file}: OK — {summary(community)}")
        elif args.command == "roster":
            community = asyncio.run(load_roster(settings, args.file))
            print(f"已载入 {args.file}: {summary(community)}")
        elif args.command == "db":
            from storage.db import migrate

            asyncio.run(migrate(settings.database_url))
            print("database is at the newest revision")
    except RosterError as error:
        print(error, file=sys.stderr)
        return 1
    except FileNotFoundError as error:
        print(f"gridbot: {error}", file=sys.stderr)
        return 1
    return 0


def summary(community: Community) -> str:
    return (f"{community.name} ({community.code}): {len(community.grids)} 个网格, "
            f"{len(community.buildings)} 栋楼, {len(community.staff)} 名工作人员, "
            f"{len(community.categories)} 个问题类别")


if __name__ == "__main__":
    sys.exit(main())
