"""The writer's records in memory, waiting for their batch: one is due at ``batch_size``
records or ``flush_interval`` seconds after the first record queued, whichever comes first."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque

from db.records import Record


class PendingRecords:
    def __init__(self, batch_size: int, flush_interval: float) -> None:
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self._records: deque[Record] = deque()
        self._first_at: float | None = None
        self.wake = asyncio.Event()  # set when a batch may be due or the writer must act

    def __len__(self) -> int:
        return len(self._records)

    def add(self, record: Record) -> None:
        if not self._records:
            self._first_at = time.monotonic()
        self._records.append(record)
        if len(self._records) >= self.batch_size or len(self._records) == 1:
            self.wake.set()

    def due(self, now: float, stopping: bool) -> bool:
        if not self._records:
            return False
        if stopping or len(self._records) >= self.batch_size:
            return True
        return self._first_at is not None and now - self._first_at >= self.flush_interval

    def take(self, count: int) -> list[Record]:
        batch = [self._records.popleft() for _ in range(min(count, len(self._records)))]
        if not self._records:
            self._first_at = None
        return batch

    def take_all(self) -> list[Record]:
        return self.take(len(self._records))

    def put_back(self, records: list[Record]) -> None:
        """Records that could go nowhere return to the front, in order."""
        self._records.extendleft(reversed(records))
        if self._first_at is None:
            self._first_at = time.monotonic()

    def next_wakeup(self, min_deadline: float | None) -> float | None:
        deadlines = [d for d in (min_deadline,) if d is not None]
        if self._first_at is not None:
            deadlines.append(self._first_at + self.flush_interval)
        return min(deadlines) if deadlines else None

    async def sleep_until(self, deadline: float | None) -> None:
        """Until ``deadline`` (monotonic) or until woken."""
        timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.wake.wait(), timeout)
