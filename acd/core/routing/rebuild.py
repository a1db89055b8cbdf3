"""Rebuilding the routing state from Asterisk's live state after a restart or reconnect.

Listed agents are logged in (ready or not_ready) with their contact reachability; connected
calls put their agent on_call; waiting callers keep their arrival time (and so their place and
relaxation progress) and a caller that was being rung is offered again; pending callback
entries wait again. Calls for unknown queues, and connected calls whose agent is unknown or
already on a call, end with ``system_failure``.
"""

from __future__ import annotations

from acd.core.agent_state import AgentState, AgentTrigger
from acd.core.call_state import CallOutcome, CallState
from acd.core.commands import CallStateChanged, Command, RoutingWarning
from acd.core.records import AgentRecord, CallRecord, QueueRecord
from acd.core.recovery import RecoverySnapshot
from acd.core.routing.due_timers import run_due_timers
from acd.core.routing.eligibility import sync_ready_indexes
from acd.core.routing.offers import route_all_agents
from acd.core.routing.outcomes import end_call
from acd.core.routing.state import RoutingState
from acd.core.routing.transitions import agent_to
from acd.core.routing.waiting import enqueue, new_call, reject_unknown_queue, requested


def adopt_snapshot(state: RoutingState, snapshot: RecoverySnapshot, now: float) -> list[Command]:
    """Apply ``snapshot`` to a fresh state; the commands record it and restart routing."""
    out: list[Command] = []
    unreachable = set(snapshot.unreachable)
    for agent_id in unreachable:
        if agent_id in state.agents:
            state.agents[agent_id].reachable = False
    for recovered in snapshot.agents:
        agent = state.agents.get(recovered.agent_id)
        if agent is None:
            out.append(RoutingWarning("", f"recovery: unknown agent {recovered.agent_id!r}"))
            continue
        agent.reachable = recovered.reachable and recovered.agent_id not in unreachable
        paused = recovered.not_ready_reason is not None
        trigger = AgentTrigger.LOGIN_PAUSED if paused else AgentTrigger.LOGIN
        agent_to(state, agent, trigger, now, out, "recovered", recovered.not_ready_reason)
    for rc in sorted(snapshot.calls, key=lambda c: (c.arrived_at, c.call_id)):
        if rc.call_id in state.calls:
            out.append(RoutingWarning(rc.call_id, "recovery: duplicate call id"))
            continue
        call = new_call(
            state, rc.call_id, rc.arrived_at, rc.caller_number, rc.caller_name, rc.context
        )
        call.priority = rc.priority
        call.requested = requested(rc.call_id, rc.requirements, out)
        call.callback_number = rc.callback_number
        queue = state.queues.get(rc.queue)
        agent = state.agents.get(rc.agent_id) if rc.agent_id else None
        if rc.agent_id is not None:
            _adopt_connected(state, call, queue, agent, rc.agent_id, rc.connected_at, now, out)
        elif queue is None or queue.draining:
            reject_unknown_queue(state, call, rc.queue, now, out, created=True)
        else:
            call.state = CallState.QUEUED
            out.append(
                CallStateChanged(call.call_id, None, CallState.QUEUED, rc.queue, now, "recovered")
            )
            enqueue(state, call, queue, now, entered_at=rc.arrived_at)
    run_due_timers(state, now, out)
    route_all_agents(state, now, out)
    sync_ready_indexes(state)
    return out


def _adopt_connected(
    state: RoutingState,
    call: CallRecord,
    queue: QueueRecord | None,
    agent: AgentRecord | None,
    agent_id: str,
    connected_at: float | None,
    now: float,
    out: list[Command],
) -> None:
    call.queue = queue.name if queue is not None else None
    call.state = CallState.CONNECTED
    call.connected_at = connected_at if connected_at is not None else now
    call.wrapup = queue.spec.wrapup if queue is not None else 0.0
    if agent is None or agent.state in (AgentState.ON_CALL, AgentState.RESERVED):
        out.append(
            CallStateChanged(call.call_id, None, CallState.CONNECTED, call.queue, now, "recovered")
        )
        detail = f"recovery: agent {agent_id!r} unknown or already on a call"
        end_call(state, call, CallOutcome.SYSTEM_FAILURE, now, out, detail=detail)
        return
    call.agent_id = agent.agent_id
    out.append(
        CallStateChanged(
            call.call_id, None, CallState.CONNECTED, call.queue, now, "recovered", (agent_id,)
        )
    )
    agent.call_id = call.call_id
    agent_to(state, agent, AgentTrigger.RECOVERED_ON_CALL, now, out, "recovered")
