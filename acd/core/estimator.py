"""Estimated wait time (EWT) from live agent supply and recent handle times.

Method (per queue):

* Average handle time (AHT): the mean of the last ``window`` handle times of calls answered
  in the queue, where a handle time is talk time plus the queue's configured wrap-up. Until a
  queue has answered a call, ``default_handle_time`` stands in.
* Supply ``N``: members of the queue who are logged in, reachable and not paused (ready,
  ringing, on a call or in wrap-up) - the agents who will free up and take the next callers.
* A caller at position ``p`` (1 = next) waits for ``p`` agents to free up. With ``N`` agents
  finishing calls at random points of their handle time, one frees up on average every
  ``AHT / N`` seconds and the first one after ``AHT / (2 N)``, hence::

      EWT(p) = (p - 0.5) * AHT / N          (None when N == 0: nobody will come)

Known limits: agents shared with other queues are counted fully in each queue, and skill
requirements are not taken into account (every member counts).
"""

from __future__ import annotations

from collections import deque


class HandleTimeAverage:
    """Rolling mean of the last ``window`` handle times, O(1) per update."""

    def __init__(self, default: float, window: int = 50) -> None:
        if window < 1:
            raise ValueError("window must be >= 1")
        self._default = default
        self._samples: deque[float] = deque(maxlen=window)
        self._total = 0.0

    def add(self, seconds: float) -> None:
        if len(self._samples) == self._samples.maxlen:
            self._total -= self._samples[0]
        self._samples.append(max(0.0, seconds))
        self._total += max(0.0, seconds)

    @property
    def samples(self) -> int:
        return len(self._samples)

    def mean(self) -> float:
        if not self._samples:
            return self._default
        return self._total / len(self._samples)


def estimated_wait(position: int, supply: int, average_handle_time: float) -> float | None:
    """EWT in seconds for the caller at ``position`` (1-based); None when supply is 0."""
    if supply <= 0:
        return None
    return max(0.0, (position - 0.5) * average_handle_time / supply)
