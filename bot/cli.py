"""`gridbot` — run the bot, the local sandbox, load a roster, upgrade the database."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import secrets
import signal
import sys
import unicodedata
from collections.abc import AsyncIterator, Coroutine
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from pydantic import SecretStr

from bot.cli_options import INVITE_ROLES, build_parser
from bot.roster_files import ensure_roster, print_warnings, read_roster_checked, read_rosters
from bot.roster_files import read_roster as read_roster  # bench and tests read rosters from here
from bot.sandbox_world import ROLE_LABELS, groups_for_all, personas_for_all
from bot.settings import Mode, Settings
from gridcore.community import Community, Person, Role
from gridcore.ports import Invite
from gridcore.roster import RosterError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine
from gridcore.staff import INVITE_PREFIX, invite_target, person_key

log = logging.getLogger("gridbot")
SANDBOX_TOKEN = "7000000001:local_sandbox_token"
SANDBOX_BOT_USERNAME = "gridbot_sandbox_bot"


@contextlib.asynccontextmanager
async def database(settings: Settings) -> AsyncIterator[AsyncEngine]:
    """An engine on DATABASE_URL, migrated to the newest schema; disposed on exit."""
    from storage.db import create_engine, migrate

    engine = create_engine(settings.database_url)
    try:
        await migrate(engine)
        yield engine
    finally:
        await engine.dispose()


async def load_roster(settings: Settings, path: str) -> Community:
    from storage.uow import uow_factory

    community, warnings = read_roster_checked(path)
    print_warnings(warnings)
    async with database(settings) as engine, uow_factory(engine)() as uow:
        await uow.roster.upsert(community)
        await uow.commit()
    return community


class CliError(Exception):
    """A problem the person at the command line can fix; printed without a traceback, exit status 1."""


async def community_code(settings: Settings, uow) -> str:
    """The community a command is about: the COMMUNITY setting, or the only one in the database."""
    codes = await uow.roster.list_codes()
    if not codes:
        raise CliError("the database has no roster yet: load one with `gridbot roster load <file>`")
    if settings.community:
        if settings.community not in codes:
            raise CliError(f"no community {settings.community!r} in the database ({', '.join(codes)})")
        return settings.community
    if len(codes) > 1:
        raise CliError(f"several communities in the database ({', '.join(codes)}): say which with "
                       f"--community {codes[0]} (or COMMUNITY={codes[0]})")
    return codes[0]


async def bot_username(settings: Settings) -> str:
    """BOT_USERNAME if set; else Telegram's answer to getMe (with BOT_TOKEN); else the sandbox bot."""
    if settings.bot_username:
        return settings.bot_username.lstrip("@")
    if settings.bot_token is None or not settings.bot_token.get_secret_value():
        return SANDBOX_BOT_USERNAME
    from aiogram import Bot

    from bot.runtime import telegram_session

    check_proxy(settings)
    bot = Bot(settings.bot_token.get_secret_value(), session=telegram_session(settings))
    try:
        me = await bot.get_me()
    except Exception as error:  # network, bad token: say what to do instead of a traceback
        raise CliError(f"could not ask Telegram for the bot's username ({type(error).__name__}); "
                       "set BOT_USERNAME") from error
    finally:
        await bot.session.close()
    if not me.username:
        raise CliError("Telegram returned no username for this bot; set BOT_USERNAME")
    return me.username


async def create_invite(settings: Settings, role: Role, grid_code: str | None, name: str | None,
                        days: int) -> tuple[Community, Person, Invite]:
    """Store a one-time invite for one roster entry; CliError when the entry is not clear."""
    from storage.uow import uow_factory

    async with database(settings) as engine, uow_factory(engine)() as uow:
        community = await uow.roster.get(await community_code(settings, uow))
        assert community is not None
        try:
            person = invite_target(community, role, grid_code, name)
        except ValueError as error:
            raise CliError(str(error)) from error
        key = person_key(person)
        bound = await uow.staff.bound(community.code)
        if person.telegram_user_id is not None and bound.get(key) != person.telegram_user_id:
            raise CliError(f"{person.name} has telegram_user_id {person.telegram_user_id} in the roster "
                           "and needs no invite")
        now = datetime.now(UTC)
        invite = Invite(secrets.token_urlsafe(16), community.code, key, now, now + timedelta(days=days))
        await uow.staff.add_invite(invite)
        await uow.commit()
    return community, person, invite


def invite_link(username: str, invite: Invite) -> str:
    payload = INVITE_PREFIX + invite.code
    assert 1 <= len(payload) <= 64 and payload.replace("_", "").replace("-", "").isalnum()
    return f"https://t.me/{username}?start={payload}"


def describe(community: Community, person: Person) -> str:
    grid = community.grid(person.grid_code or "")
    return f"{grid.name + ' ' if grid else ''}{ROLE_LABELS.get(person.role, person.role.value)} {person.name}"


async def invite_command(settings: Settings, args: argparse.Namespace) -> str:
    role = INVITE_ROLES[args.role]
    username = await bot_username(settings)
    community, person, invite = await create_invite(settings, role, args.grid, args.name, args.days)
    expires = invite.expires_at.astimezone(ZoneInfo(community.timezone)).strftime("%Y-%m-%d %H:%M")
    note = (f"\n（当前已绑定 Telegram {person.telegram_user_id}；打开新链接会改绑到新账号）"
            if person.telegram_user_id is not None else "")
    return (f"邀请 {community.name} {describe(community, person)}：请本人在 Telegram 中打开下面的链接"
            f"（只能使用一次，{expires} 前有效）{note}\n{invite_link(username, invite)}")


async def staff_table(settings: Settings) -> str:
    """The roster's staff and who is bound to a Telegram account (from the roster or by an invite)."""
    from gridcore.redact import mask_phone
    from storage.uow import uow_factory

    async with database(settings) as engine, uow_factory(engine)() as uow:
        community = await uow.roster.get(await community_code(settings, uow))
        assert community is not None
        bound = await uow.staff.bound(community.code)
    rows = [["姓名", "角色", "网格", "Telegram", "电话", "状态"]]
    for person in community.staff:
        grid = community.grid(person.grid_code or "")
        if person.telegram_user_id is None:
            telegram = "未绑定" + (f" (@{person.username})" if person.username else "")
        elif bound.get(person_key(person)) == person.telegram_user_id:
            telegram = f"{person.telegram_user_id}（邀请绑定）"
        else:
            telegram = f"{person.telegram_user_id}（名单）"
        rows.append([person.name, ROLE_LABELS.get(person.role, person.role.value) + (
            f"·{person.title}" if person.title else ""), grid.name if grid else "-", telegram,
            mask_phone(person.phone) or "-", "休假" if person.away else ""])
    count = sum(1 for p in community.staff if p.telegram_user_id is not None)
    head = f"{community.name} ({community.code}): {len(community.staff)} 名工作人员，{count} 人已绑定Telegram"
    return "\n".join([head, *(_table_line(row, rows) for row in rows)])


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _table_line(row: list[str], rows: list[list[str]]) -> str:
    widths = [max(_width(r[i]) for r in rows) for i in range(len(row))]
    return "  ".join(cell + " " * (widths[i] - _width(cell)) for i, cell in enumerate(row)).rstrip()


async def summary_command(settings: Settings, args: argparse.Namespace) -> str:
    """Print the week's summaries (plain text and the chart's path); with --send, queue them now."""
    from gridcore.weeks import Week
    from handlers import summary as weekly
    from handlers.app import Conversations
    from handlers.context import Context
    from handlers.texts import Texts
    from storage.uow import uow_factory

    chart_dir = Path(args.chart_dir or settings.summary_chart_dir)
    async with database(settings) as engine:
        async with uow_factory(engine)() as uow:
            code = await community_code(settings, uow)
        conversations = Conversations(uow_factory(engine), Texts(), community_code=code)
        reports: list[weekly.Report] = []
        queued = 0

        async def work(ctx: Context) -> None:
            nonlocal queued
            try:
                week = Week.parse(args.week, ctx.community.timezone) if args.week else Week.before(
                    ctx.now, ctx.community.timezone)
            except ValueError as error:
                raise CliError(str(error)) from error
            if week.utc_bounds[0] > ctx.now:  # nothing to count yet: no figures, no overdue list
                now = Week.containing(ctx.now, ctx.community.timezone)
                raise CliError(f"{week.label} has not begun yet (the week in progress is {now.label})")
            reports.extend(await weekly.prepare(ctx, week, chart_dir))
            if args.send:
                queued = await weekly.send(ctx, week, chart_dir, reports)

        await conversations.system(work)
    parts = []
    for report in reports:
        chats = ", ".join(str(c) for c in report.chat_ids) or "-"
        parts.append(f"=== {(report.grid_code and 'grid ' + report.grid_code) or 'community'} → {chats}\n"
                     f"{weekly.plain(report.text)}\n"
                     f"chart: {report.chart.resolve() if report.chart else '-（没有可画的数据）'}")
    if args.send:
        parts.append(f"queued {queued} messages (the running bot's outbox sender delivers them)")
    return "\n\n".join(parts)


async def qr_command(settings: Settings, args: argparse.Namespace) -> str:
    """`gridbot qr`: the posters of the buildings asked for (bot/cli_qr.py); what was written."""
    from bot import cli_qr
    from storage.uow import uow_factory

    try:
        username = cli_qr.given_username(args.bot_username or settings.bot_username)
    except ValueError as error:
        raise CliError(str(error)) from error
    if username is None:  # never the sandbox's bot: a printed poster must open the real one
        if settings.bot_token is None or not settings.bot_token.get_secret_value():
            raise CliError("which bot should the QR codes open? give --bot-username (or set BOT_USERNAME, "
                           "or BOT_TOKEN to ask Telegram)")
        username = await bot_username(settings)
    async with database(settings) as engine, uow_factory(engine)() as uow:
        community = await uow.roster.get(await community_code(settings, uow))
    assert community is not None
    try:
        written = cli_qr.write_qr_posters(community, username, args.estate, args.building, Path(args.out),
                                          args.format)
    except ValueError as error:
        raise CliError(str(error)) from error
    return cli_qr.describe_written(community, written)


async def export_command(settings: Settings, args: argparse.Namespace) -> str:
    """`gridbot export`: a ledger file (bot/cli_export.py)."""
    from bot.cli_export import PeriodError, export
    from storage.uow import uow_factory

    async with database(settings) as engine, uow_factory(engine)() as uow:
        try:
            return await export(uow, await community_code(settings, uow), args, now=datetime.now(UTC))
        except PeriodError as error:
            raise CliError(str(error)) from None


def check_proxy(settings: Settings) -> None:
    """An unusable TELEGRAM_PROXY stops the command with a message (naming no password)."""
    try:
        settings.telegram_proxy_url()
    except ValueError as error:
        raise CliError(str(error)) from None


async def run(settings: Settings) -> None:
    check_proxy(settings)  # before the database or Telegram is touched
    from bot.runtime import assemble, exempt_startup_objects_from_gc, rate_limits, run_polling, run_webhook
    from sandbox.server import Sandbox, SandboxServer
    from storage.maintenance import last_update_id

    async with database(settings) as engine:
        communities = await ensure_roster(settings, engine)
        if settings.bot_token is not None:
            async with assemble(settings, engine=engine, limits=rate_limits(settings)) as app:
                exempt_startup_objects_from_gc()
                if settings.mode is Mode.WEBHOOK:
                    await run_webhook(app, settings)
                else:
                    await run_polling(app)
            return
        # No token: Telegram's stand-in runs beside the bot, and a browser page is the chat. A new
        # sandbox counts updates from 1 again; start after the ids this database has already seen.
        first_update_id = (await last_update_id(engine) or 0) + 1
        # The roster's people have "started" the bot and its group chats exist, as in a community
        # that has been using it; any other id is a new resident.
        sandbox = Sandbox(personas_for_all(communities), first_update_id=first_update_id,
                          groups=groups_for_all(communities), personas_started=True)
        async with SandboxServer(settings.sandbox_host, settings.sandbox_port, sandbox=sandbox) as server:
            local = settings.model_copy(update={"bot_token": SecretStr(SANDBOX_TOKEN),
                                                "telegram_api_url": server.base_url, "mode": Mode.POLLING})
            async with assemble(local, engine=engine, limits=rate_limits(local)) as app:
                exempt_startup_objects_from_gc()
                console = (f"\n员工控制台：{local.console_address}"
                           "（以工作人员身份发送 /console 获取登录链接）" if local.console_enabled else "")
                print(f"\ngridbot 本地沙盒已启动：在浏览器打开 {server.base_url}/ ，选择一位居民开始对话。"
                      f"{console}\n(gridbot sandbox running: open {server.base_url}/ — Ctrl-C to stop)\n",
                      flush=True)
                await run_polling(app, timeout=10)


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


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)  # URLs would carry the bot token
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # a line per job run otherwise
    # aiogram logs a line per update handled ("Update id=… is handled. Duration … ms"); LOG_LEVEL=DEBUG
    # shows them.
    quiet = logging.getLevelName(level.upper()) != logging.DEBUG
    logging.getLogger("aiogram.event").setLevel(logging.WARNING if quiet else logging.NOTSET)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    settings = Settings()
    if getattr(args, "community", None):  # --community wins over COMMUNITY
        settings = settings.model_copy(update={"community": args.community})
    configure_logging(settings.log_level)
    try:
        if args.command == "run":
            with contextlib.suppress(KeyboardInterrupt):
                asyncio.run(until_stopped(run(settings)))
        elif args.command == "sandbox":
            from sandbox.server import serve_forever

            communities = list(read_rosters(settings.roster_paths()).values())
            host, port = args.host or settings.sandbox_host, args.port or settings.sandbox_port
            print(f"sandbox: http://{host}:{port}/", flush=True)
            with contextlib.suppress(KeyboardInterrupt):
                asyncio.run(serve_forever(host, port, personas_for_all(communities)))
        elif args.command == "roster" and args.roster_command == "check":
            community, warnings = read_roster_checked(args.file)
            print_warnings(warnings)
            from bot.cli_triage import print_topic_warnings

            warnings += print_topic_warnings(community, args.file)
            note = f" ({len(warnings)} 条警告)" if warnings else ""
            print(f"{args.file}: OK — {summary(community)}{note}")
        elif args.command == "roster":
            community = asyncio.run(load_roster(settings, args.file))
            print(f"已载入 {args.file}: {summary(community)}")
        elif args.command == "invite":
            print(asyncio.run(invite_command(settings, args)))
        elif args.command == "summary":
            print(asyncio.run(summary_command(settings, args)))
        elif args.command == "qr":
            print(asyncio.run(qr_command(settings, args)))
        elif args.command == "export":
            print(asyncio.run(export_command(settings, args)))
        elif args.command == "staff":
            print(asyncio.run(staff_table(settings)))
        elif args.command == "triage":
            from bot.cli_triage import triage_command

            print(triage_command(args))
        elif args.command == "db":
            from storage.db import migrate

            asyncio.run(migrate(settings.database_url))
            print("database is at the newest revision")
    except RosterError as error:
        print(error, file=sys.stderr)
        return 1
    except CliError as error:
        print(f"gridbot {args.command}: {error}", file=sys.stderr)
        return 1
    except OSError as error:  # no such file, a directory, no permission
        print(f"gridbot {args.command}: {error.strerror or error}: {error.filename or ''}".rstrip(": "),
              file=sys.stderr)
        return 1
    return 0


def summary(community: Community) -> str:
    estates = f"{len(community.estates)} 个小区, " if community.estates else ""
    return (f"{community.name} ({community.code}): {len(community.grids)} 个网格, {estates}"
            f"{len(community.buildings)} 栋楼, {len(community.staff)} 名工作人员, "
            f"{len(community.categories)} 个问题类别")


if __name__ == "__main__":
    sys.exit(main())
