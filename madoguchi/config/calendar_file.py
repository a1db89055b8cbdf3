"""calendar.toml: the time zone, Japanese public holidays, closed days and opening hours."""

from __future__ import annotations

import itertools
import re
import zoneinfo
from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, PlainValidator, ValidationInfo

from configfile import ConfigProblem
from configfile.fields import BOOLEAN, DATE, name, string, text
from configfile.schema import did_you_mean, problem, validate_file
from madoguchi.config.model import WEEKDAYS, CalendarConfig, HoursConfig, TimeRange, frozen_map
from madoguchi.config.names import HOURS_NAME

_TIME_RANGE = re.compile(r"([01]\d|2[0-4]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)")
_DEFAULT = CalendarConfig()


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
    text_ = string(value, info)
    match = _TIME_RANGE.fullmatch(text_.replace(" ", ""))
    if match is None:
        raise problem(f"'{text_}' is not a time range like \"09:00-18:00\"")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if start >= 1440 or end > 1440:
        raise problem(f"'{text_}': times run from 00:00 to 24:00")
    if end <= start:
        raise problem(
            f"'{text_}': the end must be after the start (split overnight hours over two days)"
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


class _Hours(_Table):
    mon: Ranges = []
    tue: Ranges = []
    wed: Ranges = []
    thu: Ranges = []
    fri: Ranges = []
    sat: Ranges = []
    sun: Ranges = []
    closed: Dates = []
    japanese_holidays: Annotated[bool | None, BOOLEAN] = None  # default: the top-level value


class CalendarFile(_Table):
    timezone: Annotated[str, text(non_empty=True, then=_timezone)] = _DEFAULT.timezone
    japanese_holidays: Annotated[bool, BOOLEAN] = _DEFAULT.japanese_holidays
    closed: Dates = []
    hours: dict[HoursName, _Hours] = {}


def read_calendar(
    data: Mapping[str, Any], file: str, env: Mapping[str, str]
) -> tuple[CalendarConfig, list[ConfigProblem]]:
    parsed, problems = validate_file(CalendarFile, data, file=file, context={"env": env})
    hours: dict[str, HoursConfig] = {}
    for hours_name, h in parsed.hours.items():
        days: dict[str, tuple[TimeRange, ...]] = {}
        for day in WEEKDAYS:
            ranges = sorted(getattr(h, day), key=lambda r: r.start)
            for before, after in itertools.pairwise(ranges):
                if after.start < before.end:
                    key = f"hours.{hours_name}.{day}"
                    problems.append(
                        ConfigProblem(file, key, f"ranges {before} and {after} overlap")
                    )
            days[day] = tuple(ranges)
        hours[hours_name] = HoursConfig(
            name=hours_name,
            days=frozen_map(days),
            closed=tuple(sorted(set(h.closed))),
            japanese_holidays=(
                parsed.japanese_holidays if h.japanese_holidays is None else h.japanese_holidays
            ),
        )
    calendar = CalendarConfig(
        parsed.timezone,
        parsed.japanese_holidays,
        tuple(sorted(set(parsed.closed))),
        frozen_map(hours),
    )
    return calendar, problems
