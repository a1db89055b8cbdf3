"""Business hours: weekly opening ranges, admin closed days and Japanese public holidays.

The shape of `config/calendar.toml` (validated by ivr.calendar_file):

    timezone = "Asia/Tokyo"
    japanese_holidays = true          # public holidays close every schedule ...
    closed = ["2026-12-29"]           # ... and so do these days
    [hours.main]
    mon = ["09:00-18:00"]             # several ranges allowed; "24:00" ends a day
    sat = []                          # missing or empty: closed all day
    closed = ["2026-08-13"]           # closed days of this schedule only
    japanese_holidays = false         # optional per-schedule override

Pure: the caller passes the instant to check (an aware datetime); the public holidays come
from ivr.jp_holidays (the maintained ``holidays`` package), looked up by that day.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from configfile import ConfigError, load_toml
from ivr.calendar_file import TimeRange, read_calendar_file
from ivr.jp_holidays import japanese_holidays


class DayStatus(Enum):
    OPEN = "open"
    CLOSED = "closed"  # outside the opening hours
    HOLIDAY = "holiday"  # a public holiday or an admin closed day


@dataclass(frozen=True, slots=True)
class Schedule:
    name: str
    weekly: tuple[tuple[TimeRange, ...], ...]  # index 0 = Monday
    closed_days: frozenset[date]
    japanese_holidays: bool


class PublicHolidays(Protocol):
    def name(self, day: date) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Calendar:
    timezone: ZoneInfo
    schedules: Mapping[str, Schedule]
    public_holidays: PublicHolidays = field(default_factory=japanese_holidays)

    def status(self, schedule_name: str, at: datetime) -> DayStatus:
        """Whether `schedule_name` is open at the aware instant `at`."""
        if at.tzinfo is None:
            raise ValueError("the clock must return an aware datetime")
        schedule = self.schedules[schedule_name]
        local = at.astimezone(self.timezone)
        day = local.date()
        if day in schedule.closed_days:
            return DayStatus.HOLIDAY
        if schedule.japanese_holidays and self.public_holidays.name(day) is not None:
            return DayStatus.HOLIDAY
        minute = local.hour * 60 + local.minute
        if any(r.contains(minute) for r in schedule.weekly[local.weekday()]):
            return DayStatus.OPEN
        return DayStatus.CLOSED

    def holiday_name(self, at: datetime) -> str | None:
        """The Japanese public holiday at `at` (in the calendar's time zone), if any."""
        return self.public_holidays.name(at.astimezone(self.timezone).date())


def always_open(timezone: str = "Asia/Tokyo", name: str = "main") -> Calendar:
    """A calendar whose one schedule is open around the clock, every day."""
    full_day = (TimeRange(0, 24 * 60),)
    return Calendar(
        ZoneInfo(timezone),
        {name: Schedule(name, (full_day,) * 7, frozenset(), japanese_holidays=False)},
    )


def load_calendar(path: Path, env: Mapping[str, str] | None = None) -> Calendar:
    """Read and validate a calendar file; raises ConfigError naming every problem.

    ``env`` supplies ``${NAME}`` values (default: the process environment).
    """
    return parse_calendar(load_toml(path), str(path), env)


def parse_calendar(
    raw: Mapping[str, Any], file: str, env: Mapping[str, str] | None = None
) -> Calendar:
    parsed, problems = read_calendar_file(raw, file, os.environ if env is None else env)
    if any(p.severity == "error" for p in problems):
        raise ConfigError(problems)
    common_closed = frozenset(parsed.closed)
    schedules = {
        name: Schedule(
            name,
            hours.week(),
            frozenset(hours.closed) | common_closed,
            parsed.japanese_holidays
            if hours.japanese_holidays is None
            else hours.japanese_holidays,
        )
        for name, hours in parsed.hours.items()
    }
    return Calendar(ZoneInfo(parsed.timezone), schedules)
