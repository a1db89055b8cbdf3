from datetime import datetime, timedelta

import pytest

from ivr.clock import clock_starting_at, system_clock


def test_clock_starts_at_the_given_instant_and_runs_on() -> None:
    clock = clock_starting_at("2026-11-23T10:00:00+09:00")
    first = clock()
    start = datetime.fromisoformat("2026-11-23T10:00:00+09:00")
    assert start <= first < start + timedelta(minutes=1)
    assert clock() >= first
    assert system_clock().tzinfo is not None


def test_clock_needs_an_offset() -> None:
    with pytest.raises(ValueError, match="offset"):
        clock_starting_at("2026-11-23T10:00:00")
