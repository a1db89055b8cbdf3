"""calendar.toml validated (pydantic): time zone, public holidays, closed days, weekly hours.

The one schema of the file, read by the IVR (ivr.calendar, the classic AGI script too) and
by madoguchi's configuration check; every problem names the file, the key and the reason.
"""

from __future__ import annotations

import itertools
import re
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, PlainValidator, ValidationInfo

from configfile import ConfigProblem
from configfile.fields import BOOLEAN, DATE, name, string, text
from configfile.schema import did_you_mean, problem, validate_file

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_TIMEZONE = "Asia/Tokyo"
HOURS_NAME = r"[A-Za-z][A-Za-z0-9_-]{0,31}"
_TIME_RANGE = re.compile(r"([01]\d|2[0-4]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)")


@dataclass(frozen=True, slots=True)
class TimeRange:
    """Half-open range of minutes since midnight: [start, end); end may be 1440 (24:00)."""

    start: int
    end: int

    def contains(self, minute: int) -> bool:
        return self.start <= minute < self.end

    def __str__(self) -> str:
        return (
            f"{self.start // 60:02d}:{self.start % 60:02d}-{self.end // 60:02d}:{self.end % 60:02d}"
        )


def _timezone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise problem(
            f"unknown time zone '{value}' (use an IANA name like Asia/Tokyo)"
            + did_you_mean(value, zoneinfo.available_timezones())
        ) from None
    return value


def _time_range(value: object, info: ValidationInfo) -> TimeRange:
    shown = string(value, info)
    match = _TIME_RANGE.fullmatch(shown.replace(" ", ""))
    if match is None:
        raise problem(f"'{shown}' is not a time range like \"09:00-18:00\"")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if start >= 1440 or end > 1440:
        raise problem(f"'{shown}': times run from 00:00 to 24:00")
    if end <= start:
        raise problem(
            f"'{shown}': the end must be after the start (split overnight hours over two days)"
        )
    return TimeRange(start, end)


Ranges = list[Annotated[TimeRange, PlainValidator(_time_range)]]
Dates = list[Annotated[date, DATE]]
HoursName = Annotated[
    str,
    name(HOURS_NAME, lambda h: f"'{h}' is not a valid hours name (letters, digits, _ and -)"),
]


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)


class HoursTable(_Table):
    mon: Ranges = []
    tue: Ranges = []
    wed: Ranges = []
    thu: Ranges = []
    fri: Ranges = []
    sat: Ranges = []
    sun: Ranges = []
    closed: Dates = []  # this schedule's own closed days
    japanese_holidays: Annotated[bool | None, BOOLEAN] = None  # default: the top-level value

    def week(self) -> tuple[tuple[TimeRange, ...], ...]:
        """Monday first, each day's ranges in order."""
        return tuple(tuple(sorted(getattr(self, d), key=lambda r: r.start)) for d in WEEKDAYS)


class CalendarFile(_Table):
    timezone: Annotated[str, text(non_empty=True, then=_timezone)] = DEFAULT_TIMEZONE
    japanese_holidays: Annotated[bool, BOOLEAN] = True  # the default of every schedule
    closed: Dates = []  # closed days of every schedule
    hours: dict[HoursName, HoursTable] = {}


def read_calendar_file(
    data: Mapping[str, Any], file: str, env: Mapping[str, str]
) -> tuple[CalendarFile, list[ConfigProblem]]:
    """The validated file (defaults where values failed) and every problem in it."""
    parsed, problems = validate_file(CalendarFile, data, file=file, context={"env": env})
    for hours_name, hours in parsed.hours.items():
        for day, ranges in zip(WEEKDAYS, hours.week(), strict=True):
            for before, after in itertools.pairwise(ranges):
                if after.start < before.end:
                    key = f"hours.{hours_name}.{day}"
                    problems.append(
                        ConfigProblem(file, key, f"ranges {before} and {after} overlap")
                    )
    return parsed, problems
