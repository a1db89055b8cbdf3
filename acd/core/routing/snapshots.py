"""Read-only views of the routing state (for the CTI's snapshot, desktops and wallboards).

Nothing here changes the state; the view types live in ``acd.core.views``.
"""

from __future__ import annotations

from acd.core.agent_state import AgentState
from acd.core.call_state import CallState
from acd.core.records import AgentRecord, CallRecord, QueueRecord
from acd.core.routing.state import RoutingState
from acd.core.routing.waiting import estimated_wait, position
from acd.core.views import AgentView, CallView, QueueStats, RouterSnapshot


def call_view(state: RoutingState, call: CallRecord, now: float) -> CallView:
    if call.state is CallState.OFFERED:
        agent_ids = tuple(call.offered_to)
    elif call.agent_id is not None:
        agent_ids = (call.agent_id,)
    else:
        agent_ids = ()
    return CallView(
        call_id=call.call_id,
        state=call.state,
        queue=call.queue,
        priority=call.priority,
        caller_number=call.caller_number,
        caller_name=call.caller_name,
        arrived_at=call.arrived_at,
        queue_entered_at=call.queue_entered_at,
        waited=max(0.0, now - call.arrived_at),
        position=position(state, call.call_id),
        estimated_wait=estimated_wait(state, call.call_id),
        requirements=call.effective_key,
        agent_ids=agent_ids,
        callback_number=call.callback_number,
        context=call.context,
    )


def agent_view(agent: AgentRecord, now: float) -> AgentView:
    return AgentView(
        agent_id=agent.agent_id,
        name=agent.spec.name,
        state=agent.state,
        reason=agent.reason,
        reachable=agent.reachable,
        call_id=agent.call_id,
        phone_busy=agent.phone_busy,
        since=agent.since,
        time_in_state=max(0.0, now - agent.since),
        queues=dict(agent.memberships),
        calls_answered=agent.calls_answered,
        wrap_until=agent.wrap_until,
        pending_reason=agent.pending_reason,
        removed=agent.removed,
    )


def queue_stats(state: RoutingState, name: str, now: float) -> QueueStats | None:
    queue = state.queues.get(name)
    if queue is None:
        return None
    ringing = connected = 0
    for call in state.calls.values():
        if call.queue == name:
            ringing += call.state is CallState.OFFERED
            connected += call.state is CallState.CONNECTED
    return _queue_stats(state, queue, now, ringing, connected)


def snapshot(state: RoutingState, now: float) -> RouterSnapshot:
    """Everything at once: queues, agents and calls (for the CTI ``snapshot`` message)."""
    ringing: dict[str, int] = {}
    connected: dict[str, int] = {}
    for call in state.calls.values():
        if call.queue is not None and call.state is CallState.OFFERED:
            ringing[call.queue] = ringing.get(call.queue, 0) + 1
        if call.queue is not None and call.state is CallState.CONNECTED:
            connected[call.queue] = connected.get(call.queue, 0) + 1
    return RouterSnapshot(
        at=now,
        queues=tuple(
            _queue_stats(state, q, now, ringing.get(name, 0), connected.get(name, 0))
            for name, q in state.queues.items()
        ),
        agents=tuple(agent_view(a, now) for a in state.agents.values()),
        calls=tuple(call_view(state, c, now) for c in state.calls.values()),
    )


def waiting_count(state: RoutingState, queue: str | None) -> int:
    """Callers waiting (not being rung) in ``queue``, or in all queues; O(queues)."""
    if queue is not None:
        record = state.queues.get(queue)
        return 0 if record is None else len(record.waiting)
    return sum(len(record.waiting) for record in state.queues.values())


def _queue_stats(
    state: RoutingState, queue: QueueRecord, now: float, ringing: int, connected: int
) -> QueueStats:
    by_state = dict.fromkeys(AgentState, 0)
    for agent_id in queue.members:
        by_state[state.agents[agent_id].state] += 1
    longest = max(0.0, now - queue.ages.first()[0]) if queue.ages else 0.0
    return QueueStats(
        name=queue.name,
        strategy=queue.spec.strategy,
        draining=queue.draining,
        waiting=len(queue.waiting),
        ringing=ringing,
        connected=connected,
        longest_wait=longest,
        agents_by_state=by_state,
        staffed=queue.staffed,
        logged_in=queue.logged_in,
        average_handle_time=queue.handle_time.mean(),
        counters=queue.counters,
        service_level=queue.counters.service_level,
    )
