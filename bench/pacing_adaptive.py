"""VICIdial's adaptive dial level (ADAPT_AVERAGE / ADAPT_HARD_LIMIT), as its AST_VDadapt.pl does it.

Restated from the public description and code, for the pacing benchmark: every second the
ready agents and the calls waiting for an agent are sampled; every 15 s the dial level is
multiplied by (1 + (mean ready - mean waiting over the last minute) / mean agents), capped at
``adaptive_maximum_level`` and floored at 1.0 (intensity 0, differential target 0). When more
than 50 calls were placed today and today's drops exceed ``adaptive_dropped_percentage`` of
the answered calls, ADAPT_AVERAGE halves the level and ADAPT_HARD_LIMIT sets it to 1.0; more
than half of the last minute's calls dropped (over 20 calls) halves it too. The auto-dialler
then keeps round(level x agents not paused) calls up, counting every call still alive.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

SAMPLE_S = 1.0
ADJUST_S = 15.0
MINUTE_SAMPLES = 60


@dataclass(slots=True)
class AdaptiveRule:
    hard_limit: bool  # ADAPT_HARD_LIMIT, else ADAPT_AVERAGE
    dropped_percentage: float = 3.0
    maximum_level: float = 3.0
    level: float = 1.0
    _samples: deque[tuple[int, int, int]] = field(default_factory=deque)
    _since_adjust: float = 0.0
    _minute: deque[tuple[int, int]] = field(default_factory=deque)  # (placed, dropped)/s

    def lines(
        self,
        *,
        ready: int,
        waiting: int,
        agents: int,
        alive_calls: int,
        calls_today: int,
        answered_today: int,
        drops_today: int,
        placed_last_s: int,
        dropped_last_s: int,
    ) -> int:
        """Called once a second: new calls to place now."""
        self._samples.append((ready, waiting, agents))
        self._minute.append((placed_last_s, dropped_last_s))
        while len(self._samples) > MINUTE_SAMPLES:
            self._samples.popleft()
            self._minute.popleft()
        self._since_adjust += SAMPLE_S
        if self._since_adjust >= ADJUST_S:
            self._since_adjust = 0.0
            self._adjust(calls_today, answered_today, drops_today)
        goal = round(self.level * agents)
        return max(0, goal - alive_calls)

    def _adjust(self, calls_today: int, answered_today: int, drops_today: int) -> None:
        n = len(self._samples)
        ready = sum(s[0] for s in self._samples) / n
        waiting = sum(s[1] for s in self._samples) / n
        agents = sum(s[2] for s in self._samples) / n
        level = self.level
        if agents > 0:
            level = level * (1.0 + (ready - waiting) / agents)
        level = max(1.0, min(self.maximum_level, level))
        placed = sum(m[0] for m in self._minute)
        dropped = sum(m[1] for m in self._minute)
        if placed > 20 and dropped * 100 > 50 * placed:
            level /= 2
        drop_pct = 100.0 * drops_today / answered_today if answered_today else 0.0
        if calls_today > 50 and drop_pct > self.dropped_percentage:
            level = 1.0 if self.hard_limit else level / 2
        self.level = max(1.0, level)
