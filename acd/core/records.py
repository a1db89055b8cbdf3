"""The router's mutable bookkeeping: one record per live call, agent and queue, and the indexes
that keep every routing decision independent of the number of waiting calls.

Indexes (all sorted lists, see ``sorted_list``):

* per queue, per *effective requirement*: a bucket of waiting calls in service order
  ``(-priority, arrived_at, seq)``. An agent looking for work checks only the head of each
  bucket it qualifies for, in each queue it serves.
* per queue: every waiting call in service order (positions) and by arrival (longest wait).
* per queue, per effective requirement: the ready, reachable members who satisfy it, sorted by
  ``(level, <strategy key>, order)``. A new caller takes the first entry (or per strategy).
  Strategy keys only change while an agent is not ready, so entries never go stale.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from acd.core.agent_state import AgentState
from acd.core.call_state import CallState
from acd.core.estimator import HandleTimeAverage
from acd.core.requirements import ANYONE, Requirement, any_of, parse_requirement
from acd.core.sorted_list import SortedList
from acd.core.specs import AgentSpec, QueueSpec
from acd.core.views import QueueCounters

CallKey = tuple[int, float, int, str]  # (-priority, arrived_at, seq, call_id)
AgeKey = tuple[float, int, str]  # (arrived_at, seq, call_id)
AgentKey = tuple[Any, ...]  # (level, <strategy fields>, order, agent_id)


@dataclass(eq=False, slots=True)
class CallRecord:
    call_id: str
    state: CallState
    since: float
    arrived_at: float
    caller_number: str = ""
    caller_name: str = ""
    context: Mapping[str, object] = field(default_factory=dict)
    queue: str | None = None
    priority: int = 0
    requested: Requirement | None = None  # None: the queue's default requirement
    queue_entered_at: float = 0.0
    seq: int = 0
    stage: int = 0  # relax steps applied
    effective: Requirement = ANYONE
    effective_key: str = ""
    offered_to: list[str] = field(default_factory=list)
    agent_id: str | None = None
    connected_at: float | None = None
    wrapup: float = 0.0  # the wrap-up of the queue it was answered in
    queue_generation: int = 0  # invalidates queue timers when the call changes queue
    offer_generation: int = 0  # invalidates the ring timer of an earlier offer
    hops: int = 0  # overflows into another queue so far
    callback_number: str | None = None  # set on callback entries

    @property
    def key(self) -> CallKey:
        return (-self.priority, self.arrived_at, self.seq, self.call_id)

    @property
    def age_key(self) -> AgeKey:
        return (self.arrived_at, self.seq, self.call_id)


@dataclass(eq=False, slots=True)
class AgentRecord:
    spec: AgentSpec
    order: int  # position in the configuration (linear / round-robin order, tie-breaks)
    state: AgentState = AgentState.LOGGED_OUT
    reason: str | None = None
    since: float = 0.0
    reachable: bool = True
    phone_busy: bool = False  # on a call the ACD did not give it
    call_id: str | None = None
    idle_since: float = 0.0
    calls_answered: int = 0
    wrap_until: float | None = None
    wrap_generation: int = 0
    pending_reason: str | None = None
    removed: bool = False
    memberships: dict[str, int] = field(default_factory=dict)  # queue -> level
    # Derived flags, kept in step with the queue counters and ready indexes.
    available: bool = False  # ready, reachable, phone free, configured: may be offered a call
    indexed: bool = False  # present in its queues' ready indexes (synced lazily)
    staffed: bool = False
    logged_in: bool = False

    @property
    def agent_id(self) -> str:
        return self.spec.id


class ReadyIndex:
    """Ready, reachable members of one queue who satisfy one requirement, best first."""

    __slots__ = ("entries", "keys", "requirement")

    def __init__(self, requirement: Requirement) -> None:
        self.requirement = requirement
        self.entries: SortedList[AgentKey] = SortedList()
        self.keys: dict[str, AgentKey] = {}

    def add(self, agent_id: str, key: AgentKey) -> None:
        if agent_id not in self.keys:
            self.keys[agent_id] = key
            self.entries.add(key)

    def discard(self, agent_id: str) -> None:
        key = self.keys.pop(agent_id, None)
        if key is not None:
            self.entries.remove(key)


class QueueRecord:
    def __init__(self, spec: QueueSpec, now: float, handle_time: HandleTimeAverage) -> None:
        self.spec = spec
        self.default_requirement: Requirement = ANYONE
        self.relax: list[tuple[float, Requirement]] = []
        self.apply_spec(spec)
        self.draining = False
        self.members: dict[str, int] = {}
        self.buckets: dict[str, SortedList[CallKey]] = {}
        self.bucket_requirements: dict[str, Requirement] = {}
        self.waiting: SortedList[CallKey] = SortedList()
        self.ages: SortedList[AgeKey] = SortedList()
        self.ready: dict[str, ReadyIndex] = {}
        self.staffed = 0
        self.logged_in = 0
        self.round_robin_last = -1
        self.handle_time = handle_time
        self.counters = QueueCounters(since=now)

    @property
    def name(self) -> str:
        return self.spec.name

    def apply_spec(self, spec: QueueSpec) -> None:
        self.spec = spec
        self.default_requirement = parse_requirement(spec.requirements)
        self.relax = [(step.after, parse_requirement(step.requirements)) for step in spec.relax]

    def stage_at(self, now: float, entered_at: float) -> int:
        """How many relax steps are due at ``now`` for a call that entered at ``entered_at``."""
        return sum(1 for after, _ in self.relax if entered_at + after <= now)

    def effective_requirement(self, requested: Requirement | None, stage: int) -> Requirement:
        base = self.default_requirement if requested is None else requested
        if stage == 0:
            return base
        return any_of(base, *(requirement for _, requirement in self.relax[:stage]))

    def insert(self, call: CallRecord) -> None:
        bucket = self.buckets.get(call.effective_key)
        if bucket is None:
            bucket = self.buckets[call.effective_key] = SortedList()
            self.bucket_requirements[call.effective_key] = call.effective
        bucket.add(call.key)
        self.waiting.add(call.key)
        self.ages.add(call.age_key)

    def remove(self, call: CallRecord) -> None:
        bucket = self.buckets[call.effective_key]
        bucket.remove(call.key)
        if not bucket:
            del self.buckets[call.effective_key]
            del self.bucket_requirements[call.effective_key]
        self.waiting.remove(call.key)
        self.ages.remove(call.age_key)
