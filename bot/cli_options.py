"""`gridbot` options checked as they are parsed: a value out of range ends the command with one line on
stderr and exit status 2 (argparse's own for a bad option), never a traceback."""

from __future__ import annotations

import argparse
from typing import NoReturn

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
    from gridcore.metrics import Week

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
