"""Japanese public holidays (国民の祝日), from the maintained ``holidays`` package.

Holidays are law, changed by the Diet: 2019's accession days, 2020's and 2021's Olympic
moves of Marine, Sports and Mountain Day. A formula of our own cannot know the next change;
the package follows each one in a release. Substitute holidays (振替休日) and citizens'
holidays (国民の休日) are included; names are Japanese.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from holidays import HolidayBase


class JapaneseHolidays:
    """Looks days up; a year's holidays are computed on its first look-up (no I/O then)."""

    def name(self, day: date) -> str | None:
        """The holiday's name when ``day`` is a public holiday, else None."""
        return _every_year().get(day)

    def of_year(self, year: int) -> dict[date, str]:
        """Every public holiday of ``year`` (date -> name), in date order."""
        found: Mapping[date, str] = _japan(year)
        return {day: str(name) for day, name in sorted(found.items())}


def _japan(year: int | None) -> HolidayBase:
    # Imported on first use: the classic AGI script starts a Python per call, without a
    # bytecode cache for the virtualenv, and most schedules never ask about holidays.
    import holidays

    return holidays.country_holidays("JP", language="ja", years=() if year is None else year)


@cache
def _every_year() -> HolidayBase:
    """Filled year by year as days are looked up (reading the Japanese names once)."""
    return _japan(None)


@cache
def japanese_holidays() -> JapaneseHolidays:
    """The shared instance (the package's tables are the same for every calendar)."""
    return JapaneseHolidays()


def holiday_name(day: date) -> str | None:
    return japanese_holidays().name(day)


def is_holiday(day: date) -> bool:
    return holiday_name(day) is not None
