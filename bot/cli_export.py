"""`gridbot export tickets|disputes`: a community's ledger (台账) as CSV or XLSX (handlers/ledgers.py).

Redacted unless --full: names and phones masked, residents' words through gridcore.redact. --full is for
the community's own archive (whoever runs the command on the server holds every ticket anyway)."""

from __future__ import annotations

import argparse
import io
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gridcore.ports import UnitOfWork

LEDGERS = ("tickets", "disputes")
FORMATS = ("csv", "xlsx")  # handlers.ledgers.WRITERS


def iso_date(text: str) -> date:
    """--from / --to: a calendar day YYYY-MM-DD (the community's local day)."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-12-01") from None


HELP = "write a ledger (台账) as CSV or XLSX: tickets (工单台账) or disputes (矛盾纠纷台账)"


def add_export_options(export: argparse.ArgumentParser) -> None:
    """The options of `gridbot export` (bot/cli_options.py makes the command)."""
    export.add_argument("ledger", choices=LEDGERS, help="tickets: every ticket; disputes: 矛盾纠纷 only")
    export.add_argument("--from", dest="filed_from", type=iso_date, default=None, metavar="YYYY-MM-DD",
                        help="first filing day included (community time; default: the first ticket)")
    export.add_argument("--to", dest="filed_to", type=iso_date, default=None, metavar="YYYY-MM-DD",
                        help="last filing day included (default: today)")
    export.add_argument("--format", dest="file_format", required=True, choices=FORMATS)
    export.add_argument("--out", required=True, metavar="FILE", help="the file to write (replaced if there)")
    export.add_argument("--full", action="store_true",
                        help="with residents' names, phones and own words (for the community's archive); "
                             "default: redacted")


class PeriodError(ValueError):
    """--from after --to."""


async def export(uow: UnitOfWork, code: str, args: argparse.Namespace, *, now: datetime) -> str:
    """Write the ledger of community `code` to args.out; what to print. bot/cli.py opens the database."""
    from gridcore.ticket_query import Scope, TicketQuery
    from handlers.ledgers import WRITERS, build_ledger
    from handlers.texts import Texts

    if args.filed_from and args.filed_to and args.filed_from > args.filed_to:
        raise PeriodError(f"--from {args.filed_from} is after --to {args.filed_to}")
    community = await uow.roster.get(code)
    assert community is not None
    query = TicketQuery(scope=Scope(communities=frozenset({code})), community=code,
                        filed_from=args.filed_from, filed_to=args.filed_to, timezone=community.timezone)
    ledger = await build_ledger(uow, args.ledger, query, full=args.full, now=now, texts=Texts())
    content = io.BytesIO()
    WRITERS[args.file_format](ledger, content)
    path = Path(args.out)
    path.write_bytes(content.getvalue())
    privacy = "含完整个人信息（仅供社区存档）" if args.full else "个人信息已遮盖"
    return f"{community.name} {ledger.title}：{len(ledger.rows)} 行，{privacy} → {path.resolve()}"
