from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from configfile import ConfigError
from ivr.calendar import DayStatus, always_open, load_calendar, parse_calendar
from ivr.jp_holidays import JapaneseHolidays, holiday_name

TOKYO = ZoneInfo("Asia/Tokyo")

# Published by the Cabinet Office (内閣府「国民の祝日について」).
KNOWN = {
    2025: "01-01 01-13 02-11 02-23 02-24 03-20 04-29 05-03 05-04 05-05 05-06 07-21 08-11 "
    "09-15 09-23 10-13 11-03 11-23 11-24",
    2026: "01-01 01-12 02-11 02-23 03-20 04-29 05-03 05-04 05-05 05-06 07-20 08-11 09-21 "
    "09-22 09-23 10-12 11-03 11-23",
    2027: "01-01 01-11 02-11 02-23 03-21 03-22 04-29 05-03 05-04 05-05 07-19 08-11 09-20 "
    "09-23 10-11 11-03 11-23",
}


@pytest.mark.parametrize("year", sorted(KNOWN))
def test_holidays_match_published_dates(year: int) -> None:
    expected = [date.fromisoformat(f"{year}-{md}") for md in KNOWN[year].split()]
    assert list(JapaneseHolidays().of_year(year)) == expected


def test_substitute_and_citizens_holidays() -> None:
    assert holiday_name(date(2026, 9, 22)) == "国民の休日"  # between 敬老の日 and 秋分の日
    assert holiday_name(date(2026, 5, 6)) == "振替休日"  # 5/3 on Sunday, 5/4 and 5/5 taken
    assert holiday_name(date(2027, 3, 22)) == "振替休日"  # vernal equinox on Sunday
    assert holiday_name(date(2025, 11, 24)) == "振替休日"
    assert holiday_name(date(2026, 9, 24)) is None


def test_holidays_the_diet_moved_for_the_olympics() -> None:
    # 2020: Marine Day and Sports Day around the opening, Mountain Day after the closing.
    assert holiday_name(date(2020, 7, 23)) == "海の日"
    assert holiday_name(date(2020, 7, 24)) == "スポーツの日"
    assert holiday_name(date(2020, 8, 10)) == "山の日"
    assert holiday_name(date(2020, 7, 20)) is None  # the third Monday a formula would pick
    assert holiday_name(date(2020, 10, 12)) is None  # the second Monday of October
    # 2021 moved them again; Mountain Day fell on a Sunday, so the Monday was a substitute.
    assert holiday_name(date(2021, 7, 22)) == "海の日"
    assert holiday_name(date(2021, 7, 23)) == "スポーツの日"
    assert holiday_name(date(2021, 8, 8)) == "山の日"
    assert holiday_name(date(2021, 8, 9)) == "振替休日"
    assert holiday_name(date(2021, 7, 19)) is None
    assert holiday_name(date(2021, 8, 11)) is None


def test_accession_year() -> None:
    h2019 = JapaneseHolidays().of_year(2019)
    assert h2019[date(2019, 5, 1)] == "天皇の即位の日"
    assert h2019[date(2019, 4, 30)] == "国民の休日"
    assert h2019[date(2019, 5, 2)] == "国民の休日"
    assert date(2019, 12, 23) not in h2019 and date(2019, 2, 23) not in h2019


def _cal(text: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    f = tmp_path / "calendar.toml"
    f.write_text(text, encoding="utf-8")
    return load_calendar(f)


WEEKDAY_CAL = """
timezone = "Asia/Tokyo"
japanese_holidays = true
closed = ["2026-12-29"]
[hours.main]
mon = ["09:00-12:00", "13:00-18:00"]
tue = ["09:00-18:00"]
wed = ["09:00-18:00"]
thu = ["09:00-18:00"]
fri = ["09:00-18:00"]
closed = ["2026-08-13"]
[hours.always]
mon = ["00:00-24:00"]
tue = ["00:00-24:00"]
wed = ["00:00-24:00"]
thu = ["00:00-24:00"]
fri = ["00:00-24:00"]
sat = ["00:00-24:00"]
sun = ["00:00-24:00"]
japanese_holidays = false
"""


def test_weekly_hours_in_the_calendar_time_zone(tmp_path: Path) -> None:
    cal = _cal(WEEKDAY_CAL, tmp_path)
    # Monday 2026-11-30 10:00 JST = 01:00 UTC
    assert cal.status("main", datetime(2026, 11, 30, 1, 0, tzinfo=UTC)) is DayStatus.OPEN
    assert cal.status("main", datetime(2026, 11, 30, 12, 30, tzinfo=TOKYO)) is DayStatus.CLOSED
    assert cal.status("main", datetime(2026, 11, 30, 17, 59, tzinfo=TOKYO)) is DayStatus.OPEN
    assert cal.status("main", datetime(2026, 11, 30, 18, 0, tzinfo=TOKYO)) is DayStatus.CLOSED
    assert cal.status("main", datetime(2026, 11, 28, 10, 0, tzinfo=TOKYO)) is DayStatus.CLOSED


def test_holidays_and_closed_days(tmp_path: Path) -> None:
    cal = _cal(WEEKDAY_CAL, tmp_path)
    assert cal.status("main", datetime(2026, 9, 22, 10, tzinfo=TOKYO)) is DayStatus.HOLIDAY
    assert cal.status("main", datetime(2026, 12, 29, 10, tzinfo=TOKYO)) is DayStatus.HOLIDAY
    assert cal.status("main", datetime(2026, 8, 13, 10, tzinfo=TOKYO)) is DayStatus.HOLIDAY
    assert cal.status("always", datetime(2026, 9, 22, 10, tzinfo=TOKYO)) is DayStatus.OPEN
    # common closed days apply to every schedule
    assert cal.status("always", datetime(2026, 12, 29, 3, tzinfo=TOKYO)) is DayStatus.HOLIDAY
    assert cal.holiday_name(datetime(2026, 9, 21, 16, tzinfo=UTC)) == "国民の休日"  # 01:00 JST
    # a schedule's own closed days close only that schedule
    assert cal.status("always", datetime(2026, 8, 13, 10, tzinfo=TOKYO)) is DayStatus.OPEN


def test_moved_holiday_closes_the_schedule_and_its_usual_day_does_not(tmp_path: Path) -> None:
    cal = _cal(WEEKDAY_CAL, tmp_path)
    assert cal.status("main", datetime(2021, 7, 22, 10, tzinfo=TOKYO)) is DayStatus.HOLIDAY
    assert cal.status("main", datetime(2021, 7, 19, 10, tzinfo=TOKYO)) is DayStatus.OPEN
    assert cal.status("main", datetime(2021, 8, 9, 10, tzinfo=TOKYO)) is DayStatus.HOLIDAY


def test_naive_clock_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        always_open().status("main", datetime(2026, 1, 1, 9))


def test_always_open() -> None:
    cal = always_open()
    assert cal.status("main", datetime(2026, 1, 1, 3, tzinfo=TOKYO)) is DayStatus.OPEN


def test_bad_calendar_names_every_problem(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        _cal(
            """
timezone = "Mars/Olympus"
closed = ["2026-13-01"]
[hours.main]
mon = ["18:00-09:00"]
tue = "09:00-18:00"
wed = ["9-18"]
lunch = ["12:00-13:00"]
""",
            tmp_path,
        )
    keys = {p.key for p in info.value.problems}
    assert keys == {
        "timezone",
        "closed[0]",
        "hours.main.mon[0]",
        "hours.main.tue",
        "hours.main.wed[0]",
        "hours.main.lunch",
    }
    assert all(p.file.endswith("calendar.toml") for p in info.value.problems)


def test_toml_dates_accepted() -> None:
    cal = parse_calendar({"closed": [date(2026, 1, 5)], "hours": {"x": {"mon": []}}}, "f")
    assert cal.status("x", datetime(2026, 1, 5, 10, tzinfo=TOKYO)) is DayStatus.HOLIDAY
