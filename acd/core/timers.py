"""Deadlines of the router: one heap, entries invalidated lazily by generation numbers."""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum


class TimerKind(IntEnum):
    RING_TIMEOUT = 0
    WRAPUP_END = 1
    MAX_WAIT = 2
    OVERFLOW = 3
    RELAX = 4
    ANNOUNCE = 5


@dataclass(frozen=True, slots=True, order=True)
class Timer:
    when: float
    seq: int
    kind: TimerKind
    subject: str  # call id or agent id
    generation: int  # must still match the subject's generation when the timer fires


class TimerHeap:
    """Min-heap of timers; a stale timer (its generation moved on) is dropped when reached."""

    def __init__(self) -> None:
        self._heap: list[Timer] = []
        self._seq = 0

    def __len__(self) -> int:
        return len(self._heap)

    def schedule(self, when: float, kind: TimerKind, subject: str, generation: int) -> None:
        self._seq += 1
        heapq.heappush(self._heap, Timer(when, self._seq, kind, subject, generation))

    def next_valid(self, is_valid: Callable[[Timer], bool]) -> Timer | None:
        """The earliest still-valid timer (stale ones on top are discarded)."""
        while self._heap:
            top = self._heap[0]
            if is_valid(top):
                return top
            heapq.heappop(self._heap)
        return None

    def pop(self) -> Timer:
        return heapq.heappop(self._heap)

    def clear(self) -> None:
        self._heap.clear()
