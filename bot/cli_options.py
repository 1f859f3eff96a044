"""`gridbot`'s command line: its commands and options, each value checked as it is parsed — a value
out of range ends the command with one line on stderr and exit status 2 (argparse's own for a bad
option), never a traceback."""

from __future__ import annotations

import argparse
from typing import NoReturn

from bot.cli_export import HELP as EXPORT_HELP
from bot.cli_export import add_export_options
from gridcore.community import Role
from gridcore.weeks import Week

INVITE_ROLES = {  # what `gridbot invite --role` accepts: short aliases and the roster's role names
    "worker": Role.GRID_WORKER, "leader": Role.GRID_LEADER, "building_leader": Role.BUILDING_LEADER,
    "staff": Role.COMMUNITY_STAFF, "partner": Role.PARTNER,
    **{role.value: role for role in Role if role is not Role.RESIDENT},
}
MAX_INVITE_DAYS = 365
WEEK_YEARS = range(2000, 2101)  # the years `summary --week` accepts


class Parser(argparse.ArgumentParser):
    """argparse with its errors on one line (no usage block) and exit status 2, as argparse's own."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def day_count(text: str) -> int:
    """--days: a whole number of days from 1 to MAX_INVITE_DAYS."""
    try:
        days = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of days") from None
    if not 1 <= days <= MAX_INVITE_DAYS:
        raise argparse.ArgumentTypeError(f"{days} is out of range: an invite lasts 1 to {MAX_INVITE_DAYS} "
                                         "days")
    return days


def iso_week(text: str) -> str:
    """--week: an ISO week like 2026-W47 that exists, in WEEK_YEARS (checked here; its time zone later)."""
    try:
        week = Week.parse(text, "UTC")
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    if week.year not in WEEK_YEARS:
        raise argparse.ArgumentTypeError(f"{text} is out of range: years {WEEK_YEARS.start}-"
                                         f"{WEEK_YEARS.stop - 1} only")
    return text


def port_number(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is out of range: a port is 1 to 65535")
    return port


def _with_community(command: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """A command about one community: --community names it when the database holds several."""
    command.add_argument("--community", default=None, metavar="CODE",
                         help="the community's code (default: COMMUNITY, else the only one loaded)")
    return command


def build_parser() -> Parser:
    parser = Parser(prog="gridbot", description="gridbot — 网格化管理的居民反映机器人")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="run the bot (no BOT_TOKEN: with the local sandbox and its web page)")
    sandbox = commands.add_parser("sandbox", help="run only the local Bot API sandbox")
    sandbox.add_argument("--host", default=None)
    sandbox.add_argument("--port", type=port_number, default=None)
    roster = commands.add_parser("roster", help="roster file commands")
    roster_commands = roster.add_subparsers(dest="roster_command", required=True)
    load = roster_commands.add_parser("load", help="validate a roster file and load it (idempotent)")
    load.add_argument("file")
    check = roster_commands.add_parser("check", help="validate a roster file without loading it")
    check.add_argument("file")
    invite = _with_community(commands.add_parser("invite", help="print a one-time deep link that binds a "
                                                 "Telegram account to a roster entry"))
    invite.add_argument("--role", required=True, choices=list(INVITE_ROLES),
                        help="worker (grid_worker), leader (grid_leader), building_leader, staff "
                             "(community_staff) or partner")
    invite.add_argument("--grid", default=None, help="grid code (for workers, leaders, building leaders)")
    invite.add_argument("--name", default=None, help="the person's name, when the role and grid name several")
    invite.add_argument("--days", type=day_count, default=7,
                        help=f"the link expires after this many days (7; 1 to {MAX_INVITE_DAYS})")
    staff = _with_community(commands.add_parser("staff", help="staff commands"))
    staff.add_argument("staff_command", choices=["list"], help="list: the roster's staff and who is bound")
    weekly = _with_community(commands.add_parser("summary",
                                                 help="print the weekly summary; --send queues it"))
    weekly.add_argument("--week", type=iso_week, default=None,
                        help="ISO week, e.g. 2026-W47 (default: last complete week; the week in progress "
                             "counts up to now)")
    weekly.add_argument("--send", action="store_true", help="queue it to the staff and grid groups now")
    weekly.add_argument("--chart-dir", default=None, help="where the PNG goes (default ./data/charts)")
    qr = _with_community(commands.add_parser("qr", help="print QR posters: one A4 page per building, "
                                             "residents scan it to report a problem there"))
    qr.add_argument("--estate", default=None, help="only this estate's buildings (its code or name)")
    qr.add_argument("--building", default=None,
                    help="only this building (its code or name; a name several estates share needs --estate)")
    qr.add_argument("--out", required=True, metavar="DIR", help="the directory the files go into")
    qr.add_argument("--format", choices=["pdf", "png", "both"], default="pdf",
                    help="pdf (default), png (300 dpi) or both; several buildings: also one PDF of all")
    qr.add_argument("--bot-username", default=None,
                    help="the bot the QR codes open (default: BOT_USERNAME, else asked from Telegram)")
    add_export_options(_with_community(commands.add_parser("export", help=EXPORT_HELP)))
    triage = commands.add_parser("triage", help="the category suggestion's model (triage/)")
    triage_commands = triage.add_subparsers(dest="triage_command", required=True, metavar="{build,eval}")
    triage_commands.add_parser("build", help="train the model on triage/corpus (needs the dev dependencies)")
    evaluate = triage_commands.add_parser("eval", help="how often the suggestion is right on messages it "
                                                      "never trained on (triage/eval.tsv, ../shared)")
    evaluate.add_argument("--roster", default="examples/roster.yaml", metavar="FILE",
                          help="the community whose categories are suggested (default: %(default)s)")
    evaluate.add_argument("--misses", action="store_true", help="list the messages it got wrong")
    db = commands.add_parser("db", help="database commands")
    db.add_argument("db_command", choices=["upgrade"])
    return parser
