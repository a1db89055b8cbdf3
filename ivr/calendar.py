"""Business hours: weekly opening ranges, admin closed days and Japanese public holidays.

Reads the shape of `config/calendar.toml` (see the config layout):

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

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from configfile import ConfigError, ConfigProblem, load_toml
from ivr.jp_holidays import japanese_holidays

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RANGE = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


class DayStatus(Enum):
    OPEN = "open"
    CLOSED = "closed"  # outside the opening hours
    HOLIDAY = "holiday"  # a public holiday or an admin closed day


@dataclass(frozen=True, slots=True)
class TimeRange:
    """Half-open range of minutes since midnight: [start, end)."""

    start: int
    end: int

    def contains(self, minute: int) -> bool:
        return self.start <= minute < self.end


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


def load_calendar(path: Path) -> Calendar:
    """Read and validate a calendar file; raises ConfigError naming every problem."""
    return parse_calendar(load_toml(path), str(path))


def parse_calendar(raw: Mapping[str, Any], file: str) -> Calendar:
    problems: list[ConfigProblem] = []
    tz_name = raw.get("timezone", "Asia/Tokyo")
    timezone = ZoneInfo("UTC")
    if not isinstance(tz_name, str):
        problems.append(ConfigProblem(file, "timezone", "must be a string like Asia/Tokyo"))
    else:
        try:
            timezone = ZoneInfo(tz_name)
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(ConfigProblem(file, "timezone", f"unknown time zone {tz_name!r}"))
    default_holidays = raw.get("japanese_holidays", True)
    if not isinstance(default_holidays, bool):
        problems.append(ConfigProblem(file, "japanese_holidays", "must be true or false"))
        default_holidays = True
    common_closed = _parse_days(raw.get("closed", []), file, "closed", problems)
    schedules: dict[str, Schedule] = {}
    hours = raw.get("hours", {})
    if not isinstance(hours, dict):
        problems.append(ConfigProblem(file, "hours", "must be a table of schedules"))
        hours = {}
    for name, body in hours.items():
        key = f"hours.{name}"
        if not isinstance(body, dict):
            problems.append(ConfigProblem(file, key, "must be a table (mon..sun, closed)"))
            continue
        unknown = set(body) - set(WEEKDAYS) - {"closed", "japanese_holidays"}
        for extra in sorted(unknown):
            problems.append(ConfigProblem(file, f"{key}.{extra}", "unknown key"))
        weekly = tuple(
            _parse_ranges(body.get(day, []), file, f"{key}.{day}", problems) for day in WEEKDAYS
        )
        closed = _parse_days(body.get("closed", []), file, f"{key}.closed", problems)
        holidays = body.get("japanese_holidays", default_holidays)
        if not isinstance(holidays, bool):
            problems.append(ConfigProblem(file, f"{key}.japanese_holidays", "must be a bool"))
            holidays = default_holidays
        schedules[name] = Schedule(name, weekly, closed | common_closed, holidays)
    if problems:
        raise ConfigError(problems)
    return Calendar(timezone, schedules)


def _parse_days(value: Any, file: str, key: str, problems: list[ConfigProblem]) -> frozenset[date]:
    if not isinstance(value, list):
        problems.append(ConfigProblem(file, key, "must be a list of dates (YYYY-MM-DD)"))
        return frozenset()
    days: set[date] = set()
    for i, item in enumerate(value):
        if isinstance(item, date) and not isinstance(item, datetime):
            days.add(item)  # TOML local dates arrive already parsed
            continue
        try:
            days.add(date.fromisoformat(str(item)))
        except ValueError:
            problems.append(ConfigProblem(file, f"{key}[{i}]", f"not a date: {item!r}"))
    return frozenset(days)


def _parse_ranges(
    value: Any, file: str, key: str, problems: list[ConfigProblem]
) -> tuple[TimeRange, ...]:
    if not isinstance(value, list):
        problems.append(ConfigProblem(file, key, 'must be a list like ["09:00-18:00"]'))
        return ()
    ranges: list[TimeRange] = []
    for i, item in enumerate(value):
        match = _RANGE.match(item) if isinstance(item, str) else None
        if match is None:
            problems.append(ConfigProblem(file, f"{key}[{i}]", f"not HH:MM-HH:MM: {item!r}"))
            continue
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if h1 > 23 or m1 > 59 or m2 > 59 or end > 24 * 60 or start >= end:
            problems.append(
                ConfigProblem(
                    file,
                    f"{key}[{i}]",
                    f"bad range {item!r}: start must be before end, end at most 24:00 "
                    "(split a range over midnight into two days)",
                )
            )
            continue
        ranges.append(TimeRange(start, end))
    return tuple(ranges)
