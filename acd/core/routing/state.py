"""The router's whole mutable state in one object: queues, agents, calls, timers, counters.

Every routing module is a set of functions over a ``RoutingState``; ``Router`` holds one.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from acd.core.commands import Command
from acd.core.estimator import HandleTimeAverage
from acd.core.records import AgentRecord, CallRecord, QueueRecord
from acd.core.specs import QueueSpec
from acd.core.timers import TimerHeap
from acd.core.wait_estimates import WaitForecaster

ENDED_MEMORY = 50_000  # ended call ids remembered to recognise late events


@dataclass(eq=False, slots=True)
class RoutingState:
    rng: random.Random
    reasons: frozenset[str] | None  # configured pause reasons; None: any reason is accepted
    default_handle_time: float
    handle_time_window: int
    now: float  # the latest clock seen: a clock that steps back must not reorder timers
    queues: dict[str, QueueRecord] = field(default_factory=dict)
    agents: dict[str, AgentRecord] = field(default_factory=dict)
    calls: dict[str, CallRecord] = field(default_factory=dict)
    ended: dict[str, None] = field(default_factory=dict)  # recently ended ids, oldest first
    timers: TimerHeap = field(default_factory=TimerHeap)
    match_cache: dict[tuple[str, str], bool] = field(default_factory=dict)  # (agent, req)
    seq: int = 0  # arrival order of calls (tie-break within one instant)
    carry: list[Command] = field(default_factory=list)  # timer commands of a raising handle
    unsynced: dict[str, None] = field(default_factory=dict)  # agents the ready indexes lag
    forecaster: WaitForecaster = field(init=False)  # estimated waits; learns from every handle

    def __post_init__(self) -> None:
        self.forecaster = WaitForecaster(self.default_handle_time, self.now)

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def new_queue(self, spec: QueueSpec, now: float) -> QueueRecord:
        handle_time = HandleTimeAverage(self.default_handle_time, self.handle_time_window)
        return QueueRecord(spec, now, handle_time)
