"""Clocks for the engine: the system's, or one shifted to a chosen instant (for tests).

Integration tests of after-hours and holiday routing run the real service with the clock
set to, say, a Monday night or 2026-11-23 (勤労感謝の日): pass the instant as an ISO 8601
text with its offset; the clock starts there and then runs at normal speed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime


def system_clock() -> datetime:
    return datetime.now(UTC)


def clock_starting_at(start: str) -> Callable[[], datetime]:
    """A clock that reads `start` now (e.g. "2026-11-23T10:00:00+09:00") and runs on."""
    at = datetime.fromisoformat(start)
    if at.tzinfo is None:
        raise ValueError("the start instant needs a UTC offset, e.g. +09:00")
    shift = at - system_clock()

    def clock() -> datetime:
        return system_clock() + shift

    return clock
