"""Estimated wait of a waiting caller: the projection's plays, the range, and the words.

``WaitForecaster`` is the router's one object for estimated waits. It learns from everything
the router does (``observe``) and projects the current state forward
(``acd.core.wait_forecast``, several plays) at most once per router event, or once a
second, however many callers ask. A caller's estimate is the median of its plays; the
middle 70 % of them is the range said when it is wide, and the longest play (plus 10 %)
is the callback window quoted.

``spoken_wait`` turns an estimate into what the caller hears (and the wallboard and desktop
show): one number of minutes, or a range of minutes when the band is wide.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from acd.core.commands import Command
from acd.core.events import Event
from acd.core.wait_forecast import Projection, project
from acd.core.wait_picture import RoutingPicture
from acd.core.wait_stats import WaitStats

PictureSource = Callable[[], RoutingPicture]

RANGE_MIN_WIDTH = 120.0  # seconds: a narrower band is said as one number
CALLBACK_STEP = 300.0  # the callback window is quoted in whole 5 minutes
CALLBACK_MARGIN = 1.1  # on the longest of the plays
RUNS = 16  # plays of the future per projection (fewer when thousands wait)
REFRESH_AFTER = 1.0  # seconds: a projection serves every question for this long at most,
REFRESH_PER_CALLER = 0.005  # and 5 ms more per caller waiting (10,000 waiting: 50 s)


@dataclass(frozen=True, slots=True)
class WaitEstimate:
    """Seconds until an agent answers: the forecast, the likely range, the callback window."""

    seconds: float
    low: float
    high: float
    callback_within: float


@dataclass(frozen=True, slots=True)
class SpokenWait:
    """What is said: ``low_minutes`` to ``high_minutes``; equal when one number is said.
    ``less_than_a_minute``: "less than 1 minute". ``callback_minutes``: the callback window."""

    low_minutes: int
    high_minutes: int
    less_than_a_minute: bool
    callback_minutes: int

    @property
    def is_range(self) -> bool:
        return self.high_minutes > self.low_minutes

    def text(self) -> str:
        if self.less_than_a_minute:
            return "less than 1 minute"
        if self.is_range:
            return f"{self.low_minutes} to {self.high_minutes} minutes"
        unit = "minute" if self.low_minutes == 1 else "minutes"
        return f"{self.low_minutes} {unit}"


def spoken_wait(estimate: WaitEstimate) -> SpokenWait:
    """The announcement's words for ``estimate`` (one rule for the caller, CTI, wallboard)."""
    callback = max(1, math.ceil(estimate.callback_within / CALLBACK_STEP)) * 5
    width = estimate.high - estimate.low
    if width >= RANGE_MIN_WIDTH and width >= 0.5 * max(estimate.seconds, 60.0):
        low = max(1, round(estimate.low / 60))
        high = max(low + 1, round(estimate.high / 60))
        return SpokenWait(low, high, False, max(callback, high))
    if estimate.seconds < 60:
        return SpokenWait(1, 1, True, callback)
    minutes = math.ceil(estimate.seconds / 60)
    return SpokenWait(minutes, minutes, False, max(callback, minutes))


def _quantile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


class WaitForecaster:
    """Estimated waits for the router (pure: the router passes its clock and its state)."""

    def __init__(self, default_handle_time: float, now: float = 0.0) -> None:
        self.stats = WaitStats(default_handle_time, now)
        self._cached: Projection | None = None
        self._cached_version = -1
        self._cached_at = -math.inf
        self._phantoms: tuple[str, ...] = ()
        self._refresh_after = REFRESH_AFTER

    def observe(self, event: Event, commands: Sequence[Command], now: float) -> None:
        """Learn from one ``Router.handle`` (its event and every command it returned)."""
        self.stats.observe(event, commands, now)

    def estimate(self, call_id: str, source: PictureSource, now: float) -> WaitEstimate | None:
        """The estimate for a waiting caller; None when no staffed agent will take it."""
        times = self._projection(source, now, call_id).starts.get(call_id)
        return _estimate_of(times or [], now)

    def for_new_caller(self, queue: str, source: PictureSource, now: float) -> WaitEstimate | None:
        """The estimate a caller arriving in ``queue`` now, with no skills asked, would hear."""
        if queue not in self._phantoms:
            self._phantoms = (*self._phantoms, queue)
            self._cached = None
        times = self._projection(source, now, None).phantoms.get(queue)
        return _estimate_of(times or [], now)

    def _projection(self, source: PictureSource, now: float, call_id: str | None) -> Projection:
        cached = self._cached
        if (
            cached is not None
            and (call_id is None or call_id in cached.starts)
            and (
                self._cached_version == self.stats.version
                or 0 <= now - self._cached_at < self._refresh_after
            )
        ):
            return cached
        picture = source()
        waiting = len(picture.waiting)
        # With thousands waiting a projection takes a good part of a second: fewer of them.
        self._refresh_after = max(REFRESH_AFTER, REFRESH_PER_CALLER * waiting)
        runs = RUNS if waiting <= 200 else 4 if waiting <= 2000 else 1
        projection = project(
            picture, self.stats, now, self._phantoms, runs=runs, seed=self.stats.version
        )
        self._cached = projection
        self._cached_version = self.stats.version
        self._cached_at = now
        return projection


def _estimate_of(times: list[float], now: float) -> WaitEstimate | None:
    if not times:
        return None
    waits = [max(0.0, t - now) for t in times]
    seconds = statistics.median(waits)
    return WaitEstimate(
        seconds=seconds,
        low=min(seconds, _quantile(waits, 0.15)),
        high=max(seconds, _quantile(waits, 0.85)),
        callback_within=max(seconds, waits[-1] * CALLBACK_MARGIN),
    )
