"""A read-only picture of the routing state, as the wait forecast needs it (pure, no I/O).

The router builds one with ``picture_of`` from its records; the forecast never sees or
changes the records themselves. Times are absolute (the router's clock).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from acd.core.agent_state import AgentState
from acd.core.call_state import CallState
from acd.core.records import AgentRecord, CallRecord, QueueRecord
from acd.core.requirements import Requirement


@dataclass(frozen=True, slots=True)
class WaitingCall:
    """A caller in line: its place (priority, arrival, sequence) and who may take it."""

    call_id: str
    queue: str
    priority: int
    arrived_at: float
    seq: int
    requirement: Requirement  # effective now (relaxation steps already due applied)
    relax: tuple[tuple[float, Requirement], ...] = ()  # (when, the wider requirement) to come
    requested: str = ""  # the caller's own skills text ("" = the queue's default)


@dataclass(frozen=True, slots=True)
class StaffMember:
    """An agent who takes calls now or will: its state and when that state began."""

    agent_id: str
    order: int
    skills: Mapping[str, int]
    queues: Mapping[str, int]  # queue -> member level
    state: AgentState
    since: float
    call_queue: str | None  # the queue of the call it is ringing for or talking on
    wrap_until: float | None
    pause_reason: str | None  # not_ready: its reason; else a pause requested during the call
    available: bool  # ready, reachable, phone free: may be offered a call right now


@dataclass(frozen=True, slots=True)
class QueueRules:
    name: str
    weight: float
    wrapup: float
    default_requirement: Requirement
    relax: tuple[tuple[float, Requirement], ...]  # (after seconds, requirement) as configured


@dataclass(frozen=True, slots=True)
class RoutingPicture:
    at: float
    queues: Mapping[str, QueueRules]
    staff: tuple[StaffMember, ...]  # logged in, reachable, not removed
    waiting: tuple[WaitingCall, ...]  # in no particular order


def picture_of(
    queues: Mapping[str, QueueRecord],
    agents: Mapping[str, AgentRecord],
    calls: Mapping[str, CallRecord],
    now: float,
) -> RoutingPicture:
    """The picture of the router's records at ``now`` (O(agents + waiting callers))."""
    rules = {
        name: QueueRules(
            name=name,
            weight=queue.spec.weight,
            wrapup=queue.spec.wrapup,
            default_requirement=queue.default_requirement,
            relax=tuple(queue.relax),
        )
        for name, queue in queues.items()
    }
    staff: list[StaffMember] = []
    for agent in agents.values():
        if agent.state is AgentState.LOGGED_OUT or agent.removed or not agent.reachable:
            continue
        call = calls.get(agent.call_id) if agent.call_id else None
        staff.append(
            StaffMember(
                agent_id=agent.agent_id,
                order=agent.order,
                skills=agent.spec.skills,
                queues=dict(agent.memberships),
                state=agent.state,
                since=agent.since,
                call_queue=call.queue if call is not None else None,
                wrap_until=agent.wrap_until,
                pause_reason=agent.reason
                if agent.state is AgentState.NOT_READY
                else agent.pending_reason,
                available=agent.available,
            )
        )
    waiting: list[WaitingCall] = []
    for call in calls.values():
        if call.state is not CallState.QUEUED or call.queue is None:
            continue
        queue = queues.get(call.queue)
        if queue is None:
            continue
        steps = tuple(
            (
                call.queue_entered_at + queue.relax[stage][0],
                queue.effective_requirement(call.requested, stage + 1),
            )
            for stage in range(call.stage, len(queue.relax))
        )
        waiting.append(
            WaitingCall(
                call_id=call.call_id,
                queue=call.queue,
                priority=call.priority,
                arrived_at=call.arrived_at,
                seq=call.seq,
                requirement=call.effective,
                relax=steps,
                requested="" if call.requested is None else str(call.requested),
            )
        )
    return RoutingPicture(at=now, queues=rules, staff=tuple(staff), waiting=tuple(waiting))
