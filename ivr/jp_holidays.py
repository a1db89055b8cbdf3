"""Japanese public holidays (国民の祝日), from the maintained ``holidays`` package.

Holidays are law, changed by the Diet: 2019's accession days, 2020's and 2021's Olympic
moves of Marine, Sports and Mountain Day. A formula of our own cannot know the next change;
the package follows each one in a release. Substitute holidays (振替休日) and citizens'
holidays (国民の休日) are included; names are Japanese.
"""

from __future__ import annotations

from datetime import date
from functools import cache

import holidays


class JapaneseHolidays:
    """Looks days up; a year's holidays are computed on its first look-up (no I/O then)."""

    def __init__(self) -> None:
        # Built once: reading the Japanese names (gettext catalogue) is the only file access.
        self._days = holidays.country_holidays("JP", language="ja")

    def name(self, day: date) -> str | None:
        """The holiday's name when ``day`` is a public holiday, else None."""
        return self._days.get(day)

    def of_year(self, year: int) -> dict[date, str]:
        """Every public holiday of ``year`` (date -> name), in date order."""
        found = holidays.country_holidays("JP", language="ja", years=year)
        return {day: str(name) for day, name in sorted(found.items())}


@cache
def japanese_holidays() -> JapaneseHolidays:
    """The shared instance (the package's tables are the same for every calendar)."""
    return JapaneseHolidays()


def holiday_name(day: date) -> str | None:
    return japanese_holidays().name(day)


def is_holiday(day: date) -> bool:
    return holiday_name(day) is not None
