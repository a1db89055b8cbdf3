"""Japanese public holidays (国民の祝日), computed offline.

Rules of the 祝日法 as amended up to 2018 (in force from 2020), with the one-off dates of
2019 (accession) and 2020/2021 (Olympics).  Equinox days use the standard approximation
published for 1980-2099 (the Cabinet Office fixes them a year ahead from the same astronomy).
Substitute holidays (振替休日, since 2007: the next day that is not a holiday after a
holiday on Sunday) and citizens' holidays (国民の休日: a weekday between two holidays).
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

FIRST_SUPPORTED_YEAR = 2007  # the current substitute-holiday rule starts here
LAST_SUPPORTED_YEAR = 2099  # the equinox approximation ends here

_MONDAY = 0
_SUNDAY = 6


class UnsupportedYearError(ValueError):
    """The year is outside the range where these rules are known to hold."""


def _nth_monday(year: int, month: int, nth: int) -> date:
    first = date(year, month, 1)
    offset = (_MONDAY - first.weekday()) % 7
    return first + timedelta(days=offset + 7 * (nth - 1))


def vernal_equinox_day(year: int) -> date:
    day = int(20.8431 + 0.242194 * (year - 1980) - (year - 1980) // 4)
    return date(year, 3, day)


def autumnal_equinox_day(year: int) -> date:
    day = int(23.2488 + 0.242194 * (year - 1980) - (year - 1980) // 4)
    return date(year, 9, day)


def _named_holidays(year: int) -> dict[date, str]:
    h: dict[date, str] = {
        date(year, 1, 1): "元日",
        _nth_monday(year, 1, 2): "成人の日",
        date(year, 2, 11): "建国記念の日",
        vernal_equinox_day(year): "春分の日",
        date(year, 4, 29): "昭和の日",
        date(year, 5, 3): "憲法記念日",
        date(year, 5, 4): "みどりの日",
        date(year, 5, 5): "こどもの日",
        autumnal_equinox_day(year): "秋分の日",
        date(year, 11, 3): "文化の日",
        date(year, 11, 23): "勤労感謝の日",
    }
    # 天皇誕生日: 12/23 for the Heisei emperor (until 2018), 2/23 from 2020; none in 2019.
    if year <= 2018:
        h[date(year, 12, 23)] = "天皇誕生日"
    elif year >= 2020:
        h[date(year, 2, 23)] = "天皇誕生日"
    if year == 2019:
        h[date(2019, 5, 1)] = "天皇の即位の日"
        h[date(2019, 10, 22)] = "即位礼正殿の儀の行われる日"
    # 海の日, 山の日 (from 2016), スポーツの日 (体育の日 until 2019) with the Olympic moves.
    if year == 2020:
        h[date(2020, 7, 23)] = "海の日"
        h[date(2020, 7, 24)] = "スポーツの日"
        h[date(2020, 8, 10)] = "山の日"
    elif year == 2021:
        h[date(2021, 7, 22)] = "海の日"
        h[date(2021, 7, 23)] = "スポーツの日"
        h[date(2021, 8, 8)] = "山の日"
    else:
        h[_nth_monday(year, 7, 3)] = "海の日"
        if year >= 2016:
            h[date(year, 8, 11)] = "山の日"
        h[_nth_monday(year, 10, 2)] = "スポーツの日" if year >= 2020 else "体育の日"
    h[_nth_monday(year, 9, 3)] = "敬老の日"
    return h


@cache
def holidays_of_year(year: int) -> dict[date, str]:
    """Every public holiday of `year` (date -> Japanese name), substitute days included."""
    if not FIRST_SUPPORTED_YEAR <= year <= LAST_SUPPORTED_YEAR:
        raise UnsupportedYearError(
            f"Japanese holidays are computed for {FIRST_SUPPORTED_YEAR}-{LAST_SUPPORTED_YEAR}, "
            f"not {year}"
        )
    named = _named_holidays(year)
    result = dict(named)
    # 国民の休日: a day that is not a holiday itself, with holidays on both sides.
    for day in sorted(named):
        between = day + timedelta(days=1)
        if between not in named and between + timedelta(days=1) in named:
            if between.weekday() != _SUNDAY:
                result[between] = "国民の休日"
    # 振替休日: a holiday on Sunday moves to the next day that is not already a holiday.
    for day in sorted(named):
        if day.weekday() == _SUNDAY:
            substitute = day + timedelta(days=1)
            while substitute in result:
                substitute += timedelta(days=1)
            result[substitute] = "振替休日"
    return dict(sorted(result.items()))


def holiday_name(day: date) -> str | None:
    """The holiday's name when `day` is a Japanese public holiday, else None."""
    return holidays_of_year(day.year).get(day)


def is_holiday(day: date) -> bool:
    return holiday_name(day) is not None
