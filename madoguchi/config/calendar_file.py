"""calendar.toml into the configuration model; the file's schema is the IVR's own.

ivr.calendar_file validates the file for both readers (the IVR, which also runs alone as
the classic AGI script, and this package), so they can never disagree about it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from configfile import ConfigProblem
from ivr.calendar_file import WEEKDAYS, read_calendar_file
from madoguchi.config.model import CalendarConfig, HoursConfig, TimeRange, frozen_map


def read_calendar(
    data: Mapping[str, Any], file: str, env: Mapping[str, str]
) -> tuple[CalendarConfig, list[ConfigProblem]]:
    parsed, problems = read_calendar_file(data, file, env)
    hours: dict[str, HoursConfig] = {}
    for hours_name, h in parsed.hours.items():
        week = h.week()
        days = {
            day: tuple(TimeRange(r.start, r.end) for r in ranges)
            for day, ranges in zip(WEEKDAYS, week, strict=True)
        }
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
