"""The KPI arithmetic (pure): additive raw figures per interval, and the ratios and averages
derived from them, so that a period total is just the sum of its intervals (docs/kpis.md)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Literal

Dimension = Literal["queue", "agent", "total"]


@dataclass(frozen=True, slots=True)
class RawCounts:
    """Additive figures for one dimension key in one interval (or a sum of intervals)."""

    offered: int = 0
    answered: int = 0
    answered_within_sl: int = 0
    abandoned_ivr: int = 0
    abandoned_queue: int = 0
    abandoned_ringing: int = 0
    short_abandons: int = 0
    answer_wait_s: float = 0.0
    handled: int = 0
    talk_s: float = 0.0
    wrap_s: float = 0.0
    transferred: int = 0
    callbacks: int = 0
    busy_s: float = 0.0
    ready_s: float = 0.0
    not_ready_s: float = 0.0

    def __add__(self, other: RawCounts) -> RawCounts:
        return RawCounts(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        )


def ratio(numerator: float, denominator: float) -> float | None:
    """``numerator / denominator``, or None when there is nothing to divide by."""
    return None if denominator <= 0 else numerator / denominator


def service_level(answered_within: int, offered: int, short_abandons: int) -> float | None:
    """Answered within the threshold / (offered - short abandons). None when nothing counts."""
    return ratio(answered_within, offered - short_abandons)


def average_speed_of_answer(answer_wait_s: float, answered: int) -> float | None:
    return ratio(answer_wait_s, answered)


def average_handle_time(talk_s: float, wrap_s: float, handled: int) -> float | None:
    """(talk + wrap-up) / calls handled (answered and ended)."""
    return ratio(talk_s + wrap_s, handled)


def occupancy(busy_s: float, ready_s: float) -> float | None:
    """Time busy with calls / (busy + available); not-ready and logged-out time excluded."""
    return ratio(busy_s, busy_s + ready_s)


@dataclass(frozen=True, slots=True)
class KpiRow:
    """KPIs of one dimension key over one interval (``start`` None: the whole report period)."""

    dimension: Dimension
    key: str
    start: datetime | None
    end: datetime | None
    raw: RawCounts

    @property
    def abandoned(self) -> int:
        return self.raw.abandoned_ivr + self.raw.abandoned_queue + self.raw.abandoned_ringing

    @property
    def service_level(self) -> float | None:
        return service_level(self.raw.answered_within_sl, self.raw.offered, self.raw.short_abandons)

    @property
    def asa_s(self) -> float | None:
        return average_speed_of_answer(self.raw.answer_wait_s, self.raw.answered)

    @property
    def aht_s(self) -> float | None:
        return average_handle_time(self.raw.talk_s, self.raw.wrap_s, self.raw.handled)

    @property
    def occupancy(self) -> float | None:
        return occupancy(self.raw.busy_s, self.raw.ready_s)

    @property
    def transfer_rate(self) -> float | None:
        return ratio(self.raw.transferred, self.raw.answered)

    @property
    def abandon_rate(self) -> float | None:
        return ratio(self.raw.abandoned_queue + self.raw.abandoned_ringing, self.raw.offered)


def period_totals(rows: Iterable[KpiRow]) -> list[KpiRow]:
    """One row per (dimension, key) summing all its intervals, in first-seen order."""
    sums: dict[tuple[Dimension, str], RawCounts] = {}
    for row in rows:
        key = (row.dimension, row.key)
        sums[key] = sums.get(key, RawCounts()) + row.raw
    return [KpiRow(d, k, None, None, raw) for (d, k), raw in sums.items()]
