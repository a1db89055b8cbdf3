"""The campaign's moving measurements for the pacer: answer rate, ring, talk and wrap-up times.

Exponentially weighted over about ``memory`` lines (or calls), so the pacer follows a list
whose answer rate falls in the evening without forgetting everything at each line.
"""

from __future__ import annotations

from outbound.pacing import Measured


class Measurements:
    def __init__(self, memory: int = 1000) -> None:
        if memory < 1:
            raise ValueError("memory must be at least one line")
        self._keep = 1.0 - 1.0 / memory
        self._dialed = 0.0
        self._answered = 0.0
        self._delay = _Mean(self._keep)
        self._talk = _Mean(self._keep)
        self._wrap = _Mean(self._keep)

    def line_ended(self, answered: bool, answer_delay_s: float = 0.0) -> None:
        """A line stopped ringing: answered by a person (after ``answer_delay_s``) or not."""
        self._dialed = self._dialed * self._keep + 1.0
        self._answered = self._answered * self._keep + (1.0 if answered else 0.0)
        if answered:
            self._delay.add(answer_delay_s)

    def call_ended(self, talk_s: float) -> None:
        self._talk.add(talk_s)

    def wrap_ended(self, wrap_s: float) -> None:
        self._wrap.add(wrap_s)

    def snapshot(self) -> Measured:
        return Measured(
            dialed=round(self._dialed),
            answered=min(round(self._answered), round(self._dialed)),
            answer_delay_s=self._delay.value,
            talk_s=self._talk.value,
            wrap_s=self._wrap.value,
        )


class _Mean:
    """An exponentially weighted mean (near the plain mean while few samples are in)."""

    __slots__ = ("_keep", "_total", "_weight")

    def __init__(self, keep: float) -> None:
        self._keep = keep
        self._total = 0.0
        self._weight = 0.0

    def add(self, value: float) -> None:
        self._total = self._total * self._keep + value
        self._weight = self._weight * self._keep + 1.0

    @property
    def value(self) -> float:
        return self._total / self._weight if self._weight else 0.0
