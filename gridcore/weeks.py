"""An ISO week in a community's time zone (the weekly summary's period). Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

_WEEK = re.compile(r"^(\d{4})-?W(\d{1,2})$")


@dataclass(frozen=True)
class Week:
    year: int
    number: int
    timezone: str = "Asia/Shanghai"

    @classmethod
    def parse(cls, text: str, timezone: str) -> Week:
        """"2026-W47" (or 2026W47) → that ISO week; ValueError when it is not one."""
        match = _WEEK.match(text.strip().upper())
        if not match:
            raise ValueError(f"not an ISO week like 2026-W47: {text!r}")
        year, number = int(match[1]), int(match[2])
        if not 1 <= year <= 9998:  # 9998: a week's end may fall in the next year
            raise ValueError(f"{text.strip()}: the year is out of range")
        weeks = date(year, 12, 28).isocalendar()[1]  # 28 December is always in the year's last week
        if not 1 <= number <= weeks:
            raise ValueError(f"{text.strip()}: {year} has ISO weeks 1 to {weeks}")
        return cls(year, number, timezone)

    @classmethod
    def containing(cls, moment: datetime, timezone: str) -> Week:
        year, number, _ = moment.astimezone(ZoneInfo(timezone)).isocalendar()
        return cls(year, number, timezone)

    @classmethod
    def before(cls, moment: datetime, timezone: str) -> Week:
        """The last complete week before `moment` (the one a Monday-morning summary is about)."""
        return cls.containing(moment, timezone).shift(-1)

    def shift(self, weeks: int) -> Week:
        monday = date.fromisocalendar(self.year, self.number, 1) + timedelta(weeks=weeks)
        year, number, _ = monday.isocalendar()
        return Week(year, number, self.timezone)

    @property
    def label(self) -> str:
        return f"{self.year}-W{self.number:02d}"

    @property
    def days(self) -> list[date]:
        monday = date.fromisocalendar(self.year, self.number, 1)
        return [monday + timedelta(days=i) for i in range(7)]

    def midnight(self, day: date) -> datetime:
        return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(self.timezone))

    @property
    def start(self) -> datetime:
        return self.midnight(self.days[0])

    @property
    def utc_bounds(self) -> tuple[datetime, datetime]:
        """start and end in UTC, like stored timestamps: comparing datetimes of one tzinfo skips the
        time zone lookups a comparison across zones makes (the summary compares each ticket many times)."""
        return self.start.astimezone(UTC), self.end.astimezone(UTC)

    @property
    def end(self) -> datetime:
        return self.midnight(self.days[0] + timedelta(days=7))

    def contains(self, moment: datetime | None) -> bool:
        return moment is not None and self.start <= moment < self.end
