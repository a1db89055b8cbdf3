"""Read-only views of the router's state (for announcements, the CTI API and wallboards)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from acd.core.agent_state import AgentState
from acd.core.call_state import CallState
from acd.core.specs import Strategy


@dataclass(frozen=True, slots=True)
class CallView:
    call_id: str
    state: CallState
    queue: str | None
    priority: int
    caller_number: str
    caller_name: str
    arrived_at: float  # when its place in line was taken
    queue_entered_at: float  # when it entered its current queue (relaxation/overflow clock)
    waited: float  # now - arrived_at
    position: int | None  # 1-based among the queue's waiting callers; None unless queued
    estimated_wait: float | None  # None unless queued, or when no agent staffs the queue
    requirements: str  # the effective (possibly relaxed) requirement; "" = anyone
    agent_ids: tuple[str, ...]  # rung agents when offered, the agent when connected
    callback_number: str | None
    context: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AgentView:
    agent_id: str
    name: str
    state: AgentState
    reason: str | None  # not_ready reason
    reachable: bool
    call_id: str | None
    phone_busy: bool  # on a call the ACD did not give it (not offered calls meanwhile)
    since: float
    time_in_state: float
    queues: Mapping[str, int]  # queue -> level
    calls_answered: int  # since the last counters reset
    wrap_until: float | None
    pending_reason: str | None  # pause requested during a call
    removed: bool  # removed from the configuration, finishing its call


@dataclass(frozen=True, slots=True)
class QueueCounters:
    """Counters since ``since`` (start, or the last ``CountersReset``)."""

    since: float
    entered: int = 0
    answered: int = 0
    answered_within_sl: int = 0
    abandoned: int = 0
    abandoned_within_sl: int = 0  # short abandons, excluded from the service level
    overflowed: int = 0
    max_wait: int = 0
    callbacks: int = 0
    transferred: int = 0
    total_answer_wait: float = 0.0

    @property
    def service_level(self) -> float | None:
        """Answered within threshold / (answered + abandoned after the threshold)."""
        denominator = self.answered + self.abandoned - self.abandoned_within_sl
        return None if denominator == 0 else self.answered_within_sl / denominator

    @property
    def average_answer_wait(self) -> float | None:
        return None if self.answered == 0 else self.total_answer_wait / self.answered


@dataclass(frozen=True, slots=True)
class QueueStats:
    name: str
    strategy: Strategy
    draining: bool  # removed from the configuration, serving its last callers
    waiting: int
    ringing: int
    connected: int
    longest_wait: float  # 0 when nobody waits
    agents_by_state: Mapping[AgentState, int]  # members per state
    staffed: int  # members counted as supply for estimated wait
    logged_in: int
    average_handle_time: float
    counters: QueueCounters
    service_level: float | None


@dataclass(frozen=True, slots=True)
class RouterSnapshot:
    at: float
    queues: tuple[QueueStats, ...]
    agents: tuple[AgentView, ...]
    calls: tuple[CallView, ...]
