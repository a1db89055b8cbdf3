"""A caller back in line after its ring went unanswered, failed or was withdrawn.

**No answer** (ring timeout, or ``RingFailed`` from every rung agent): ``CancelRing`` on
timeout, the agent goes ``not_ready(no_answer)``, the caller returns to its original place in
line (same arrival time and sequence number) and is offered to the next eligible agent. A ring
withdrawn for another reason (the agent paused, logged out, became unreachable or was removed)
puts the caller back the same way. A max wait or ``overflow.after`` deadline that passed while
it was ringing applies at once.
"""

from __future__ import annotations

from acd.core.agent_state import AgentTrigger
from acd.core.call_state import CallOutcome, CallState
from acd.core.commands import CancelRing, Command, HangupCaller
from acd.core.records import AgentRecord, CallRecord
from acd.core.routing.offers import route_call
from acd.core.routing.outcomes import end_call
from acd.core.routing.overflow import overflow
from acd.core.routing.state import RoutingState
from acd.core.routing.transitions import agent_to, call_to


def ring_timed_out(state: RoutingState, call: CallRecord, now: float, out: list[Command]) -> None:
    rung = [state.agents[agent_id] for agent_id in call.offered_to]
    call.offered_to = []
    for agent in rung:
        out.append(CancelRing(call.call_id, agent.agent_id, "ring_timeout"))
        agent.call_id = None
        agent_to(state, agent, AgentTrigger.NO_ANSWER, now, out, "ring_timeout", "no_answer")
    requeue(state, call, now, out, "ring_timeout")


def withdraw_offer(
    state: RoutingState,
    agent: AgentRecord,
    call_id: str,
    now: float,
    out: list[Command],
    reason: str,
) -> None:
    """Stop ringing ``agent``; the caller goes back to its place if nobody else rings."""
    agent.call_id = None
    call = state.calls.get(call_id)
    out.append(CancelRing(call_id, agent.agent_id, reason))
    if call is None or agent.agent_id not in call.offered_to:
        return
    call.offered_to.remove(agent.agent_id)
    if not call.offered_to:
        requeue(state, call, now, out, reason)


def requeue(
    state: RoutingState,
    call: CallRecord,
    now: float,
    out: list[Command],
    trigger: str,
    *,
    route: bool = True,
) -> None:
    """Back to its original place in line after a failed/withdrawn offer."""
    assert call.queue is not None
    queue = state.queues[call.queue]
    call.offered_to = []
    call_to(call, CallState.QUEUED, now, out, trigger)
    queue.insert(call)
    if call.callback_number is None:
        entered_at = call.queue_entered_at
        spec = queue.spec
        if spec.max_wait > 0 and entered_at + spec.max_wait <= now:
            out.append(HangupCaller(call.call_id, "max_wait"))
            end_call(state, call, CallOutcome.MAX_WAIT, now, out)
            return
        after, target = spec.overflow.after, spec.overflow.target
        if after is not None and target is not None and entered_at + after <= now:
            if overflow(state, call, target, "after", now, out):
                return
    if route:
        route_call(state, call, now, out)
