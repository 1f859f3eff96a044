"""Working days and office hours, counted the way a Chinese public office counts them. Pure: callers pass
the moment; every datetime in and out is timezone-aware.

Working days are chinese_calendar's: Monday-Friday except statutory holidays, plus the make-up workdays
(调休, a Saturday or Sunday worked in exchange for a longer holiday). For a date the calendar does not
cover yet (it raises NotImplementedError for years past its data) Monday-Friday count as working days:
that fallback is logged once per year, and `calendar_gaps` lets `roster check` warn ahead of time.

The rule for "N个工作日内" (add_workdays):
- filed on a working day at local time T: due at T on the N-th working day after that day
  (Friday 15:00, 3 working days → Wednesday 15:00; a holiday or weekend in between does not count);
- filed on a day off (weekend, holiday): counting starts on the next working day, which is day 1, and the
  ticket is due at the end of the N-th working day (23:59:59 local) — the office's "within N working
  days" of a request that arrived while it was closed.

Office hours (OfficeHours): one or two periods of a working day ("08:30-17:30", or with a lunch break
"08:30-12:00,14:00-17:30"). add_office_time counts only time inside them, so an acceptance window of
4 h that starts at 20:00 runs 08:30-12:30 on the next working day.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar

log = logging.getLogger(__name__)

_END_OF_DAY = time(23, 59, 59)
_PERIOD = re.compile(r"\s*([0-2]?\d):([0-5]\d)\s*-\s*([0-2]?\d):([0-5]\d)\s*")
_warned_years: set[int] = set()  # years whose fallback was logged already (once per process)


def _calendar_workday(day: date) -> bool | None:
    """chinese_calendar's answer, or None for a date past its data."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return None


def is_workday(day: date) -> bool:
    """A working day per the statutory calendar; Monday-Friday for a year the calendar does not know."""
    known = _calendar_workday(day)
    if known is not None:
        return known
    if day.year not in _warned_years:
        _warned_years.add(day.year)
        log.warning("chinese_calendar has no holidays for %d: counting Monday-Friday as working days "
                    "(upgrade the chinese-calendar package)", day.year)
    return day.weekday() < 5


def calendar_covers(year: int) -> bool:
    """Whether chinese_calendar knows the year's holidays (checked on its last day)."""
    return _calendar_workday(date(year, 12, 31)) is not None


def calendar_gaps(today: date) -> list[int]:
    """This year and the next, those the calendar does not cover (roster check warns about them)."""
    return [year for year in (today.year, today.year + 1) if not calendar_covers(year)]


def next_workday(day: date) -> date:
    """The first working day after `day`."""
    day += timedelta(days=1)
    while not is_workday(day):
        day += timedelta(days=1)
    return day


def add_workdays(start: datetime, days: int, timezone: str) -> datetime:
    """The deadline N working days after `start` (the module's rule), as an aware datetime."""
    if days < 1:
        raise ValueError("a working-day deadline counts at least one day")
    zone = ZoneInfo(timezone)
    local = start.astimezone(zone)
    day = local.date()
    filed_on_workday = is_workday(day)
    if not filed_on_workday:  # the next working day is day 1
        day = next_workday(day)
        days -= 1
    for _ in range(days):
        day = next_workday(day)
    at = local.timetz().replace(tzinfo=None) if filed_on_workday else _END_OF_DAY
    return datetime.combine(day, at, tzinfo=zone)


@dataclass(frozen=True)
class OfficeHours:
    """A working day's office periods, in the community's local time (sorted, not overlapping)."""

    timezone: str
    periods: tuple[tuple[time, time], ...]

    def text(self) -> str:
        """The roster's form, "08:30-12:00,14:00-17:30"."""
        return ",".join(f"{a:%H:%M}-{b:%H:%M}" for a, b in self.periods)

    def day_periods(self, day: date) -> list[tuple[datetime, datetime]]:
        """The day's office periods as aware datetimes; none on a day off."""
        if not is_workday(day):
            return []
        zone = ZoneInfo(self.timezone)
        return [(datetime.combine(day, a, tzinfo=zone), datetime.combine(day, b, tzinfo=zone))
                for a, b in self.periods]


def parse_office_hours(text: str, timezone: str) -> OfficeHours:
    """"08:30-17:30" or "08:30-12:00,14:00-17:30"; ValueError saying what is wrong."""
    periods = []
    for part in text.split(","):
        match = _PERIOD.fullmatch(part)
        if match is None:
            raise ValueError(f'"{part.strip()}" is not a period like 08:30-17:30')
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or h2 > 23:
            raise ValueError(f'"{part.strip()}" has an hour past 23')
        periods.append((time(h1, m1), time(h2, m2)))
    if len(periods) > 2:
        raise ValueError("give one period, or two around a lunch break")
    for (a, b), later in zip(periods, [*periods[1:], None], strict=True):
        if a >= b:
            raise ValueError(f"{a:%H:%M}-{b:%H:%M} ends before it starts")
        if later is not None and later[0] < b:
            raise ValueError("the afternoon period must start after the morning one ends")
    return OfficeHours(timezone, tuple(periods))


def within_office_hours(at: datetime, office: OfficeHours) -> bool:
    """Whether `at` falls inside an office period of a working day."""
    local = at.astimezone(ZoneInfo(office.timezone))
    return any(a <= local < b for a, b in office.day_periods(local.date()))


def next_office_moment(at: datetime, office: OfficeHours) -> datetime:
    """`at` itself inside office hours, else the moment the office next opens."""
    local = at.astimezone(ZoneInfo(office.timezone))
    day = local.date()
    for _ in range(400):  # a year of days off in a row cannot happen; the bound only stops a bad calendar
        for a, b in office.day_periods(day):
            if local < b:
                return max(a, local)
        day += timedelta(days=1)
    raise ValueError("no office hours within a year")


def add_office_time(at: datetime, span: timedelta, office: OfficeHours) -> datetime:
    """The moment `span` of office time after `at` (a negative span: before it). A span ending exactly
    at a closing time ends there, not at the next opening."""
    zone = ZoneInfo(office.timezone)
    local = at.astimezone(zone)
    left = abs(span)
    forward = span >= timedelta(0)
    day = local.date()
    for _ in range(400 + left.days * 7):
        periods = office.day_periods(day)
        for a, b in (periods if forward else reversed(periods)):
            start, end = (max(a, local), b) if forward else (a, min(b, local))
            if start >= end:
                continue
            if end - start >= left:
                return start + left if forward else end - left
            left -= end - start
        day += timedelta(days=1 if forward else -1)
    raise ValueError("no office hours within the span")
