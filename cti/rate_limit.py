"""A per-client token bucket for public endpoints (no I/O; the clock is passed in)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

Clock = Callable[[], float]


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimit:
    """``burst`` requests at once, then ``per_second`` on average, per client key.

    Buckets that have refilled are forgotten, so the table stays as small as the set of
    clients active within the last ``burst / per_second`` seconds.
    """

    def __init__(self, clock: Clock, *, burst: int = 10, per_second: float = 0.5) -> None:
        self._clock = clock
        self._burst = float(burst)
        self._rate = per_second
        self._buckets: dict[str, _Bucket] = {}

    def retry_after(self, key: str) -> float:
        """0 and one request counted when ``key`` may proceed, else the seconds to wait."""
        now = self._clock()
        self._forget_full(now)
        bucket = self._buckets.get(key) or _Bucket(self._burst, now)
        bucket.tokens = min(self._burst, bucket.tokens + (now - bucket.at) * self._rate)
        bucket.at = now
        self._buckets[key] = bucket
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self._rate

    def _forget_full(self, now: float) -> None:
        if len(self._buckets) < 1024:
            return
        refill = self._burst / self._rate
        self._buckets = {k: b for k, b in self._buckets.items() if now - b.at < refill}
