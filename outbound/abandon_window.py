"""Abandoned-call windows: live-answered and abandoned calls over a rolling span, clock passed in.

The abandoned-call rule is judged per window (a rolling 24 h, and each campaign-day): the
pacer asks each window how much of its abandon budget is left and keeps to the tightest.
Counts are kept in fixed buckets so a window costs the same at 10 calls an hour or 10,000.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class WindowCounts:
    """What a window has seen: live-answered calls and, of them, the abandoned ones."""

    answered: int = 0
    abandoned: int = 0

    def rate(self) -> float:
        return self.abandoned / self.answered if self.answered else 0.0

    def budget(self, max_rate: float, more_answered: float = 0.0) -> float:
        """Abandons still allowed if ``more_answered`` calls are answered on top."""
        return max_rate * (self.answered + more_answered) - self.abandoned


class RollingWindow:
    """Answered and abandoned calls over the last ``span_s`` seconds, in ``bucket_s`` buckets."""

    def __init__(self, span_s: float, bucket_s: float = 60.0) -> None:
        if span_s <= 0 or bucket_s <= 0 or bucket_s > span_s:
            raise ValueError("span and bucket must be positive, the bucket within the span")
        self.span_s = span_s
        self.bucket_s = bucket_s
        self._buckets: deque[list[int]] = deque()  # [bucket index, answered, abandoned]
        self._answered = 0
        self._abandoned = 0

    def answered(self, now: float) -> None:
        self._bucket(now)[1] += 1
        self._answered += 1

    def abandoned(self, now: float) -> None:
        """An answered call that found no agent in time (it was counted as answered too)."""
        self._bucket(now)[2] += 1
        self._abandoned += 1

    def counts(self, now: float) -> WindowCounts:
        self._expire(now)
        return WindowCounts(self._answered, self._abandoned)

    def _bucket(self, now: float) -> list[int]:
        self._expire(now)
        index = int(now // self.bucket_s)
        if self._buckets and index < self._buckets[-1][0]:  # a late report: the newest bucket
            index = self._buckets[-1][0]
        if not self._buckets or self._buckets[-1][0] != index:
            self._buckets.append([index, 0, 0])
        return self._buckets[-1]

    def _expire(self, now: float) -> None:
        first = int(now // self.bucket_s) - int(self.span_s // self.bucket_s) + 1
        while self._buckets and self._buckets[0][0] < first:
            _, answered, abandoned = self._buckets.popleft()
            self._answered -= answered
            self._abandoned -= abandoned


class DayWindow:
    """Answered and abandoned calls of one campaign-day; a new day (the caller's key) restarts."""

    def __init__(self) -> None:
        self._day: object = None
        self._answered = 0
        self._abandoned = 0

    def answered(self, day: object) -> None:
        self._roll(day)
        self._answered += 1

    def abandoned(self, day: object) -> None:
        self._roll(day)
        self._abandoned += 1

    def counts(self, day: object) -> WindowCounts:
        self._roll(day)
        return WindowCounts(self._answered, self._abandoned)

    def _roll(self, day: object) -> None:
        if day != self._day:
            self._day, self._answered, self._abandoned = day, 0, 0
