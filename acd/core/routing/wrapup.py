"""After the talk: closing an answered call, the agent's wrap-up, and what the agent does next.

**Wrap-up** per queue (the queue the call was answered in): ``WrapUpScheduled(until)``;
``WrapUpDone`` ends it early, ``WrapUpExtended(seconds)`` extends it. Then the agent is ready
and takes the best waiting call, unless a pause was requested during the call (it applies
now) or the agent was removed from the configuration (it is logged out now).
"""

from __future__ import annotations

from acd.core.agent_state import AgentTrigger
from acd.core.call_state import CallOutcome
from acd.core.commands import Command, WrapUpScheduled
from acd.core.records import AgentRecord, CallRecord
from acd.core.routing.offers import route_agent
from acd.core.routing.outcomes import end_call, record_handle_time
from acd.core.routing.overflow import after_logout
from acd.core.routing.state import RoutingState
from acd.core.routing.transitions import agent_to
from acd.core.timers import TimerKind


def complete(
    state: RoutingState, call: CallRecord, now: float, out: list[Command], trigger: str
) -> None:
    """An answered call ends (outcome ``answered``); its agent goes to wrap-up."""
    agent = state.agents.get(call.agent_id) if call.agent_id else None
    record_handle_time(state, call, now)
    end_call(state, call, CallOutcome.ANSWERED, now, out, detail=trigger)
    if agent is not None:
        after_call(state, agent, call.wrapup, now, out)


def after_call(
    state: RoutingState, agent: AgentRecord, wrapup: float, now: float, out: list[Command]
) -> None:
    agent.call_id = None
    if wrapup > 0 or agent.removed:
        agent_to(state, agent, AgentTrigger.CALL_ENDED, now, out, "call_ended")
        agent.wrap_until = now + wrapup
        if wrapup > 0:
            schedule_wrapup(state, agent, out)
        else:
            end_wrapup(state, agent, now, out, "call_ended")
        return
    if agent.pending_reason is not None:
        reason, agent.pending_reason = agent.pending_reason, None
        agent_to(state, agent, AgentTrigger.CALL_ENDED_PAUSED, now, out, "pending_pause", reason)
        return
    agent_to(state, agent, AgentTrigger.CALL_ENDED_NO_WRAPUP, now, out, "call_ended")
    route_agent(state, agent, now, out)


def schedule_wrapup(state: RoutingState, agent: AgentRecord, out: list[Command]) -> None:
    assert agent.wrap_until is not None
    agent.wrap_generation += 1
    state.timers.schedule(
        agent.wrap_until, TimerKind.WRAPUP_END, agent.agent_id, agent.wrap_generation
    )
    out.append(WrapUpScheduled(agent.agent_id, agent.wrap_until))


def end_wrapup(
    state: RoutingState, agent: AgentRecord, now: float, out: list[Command], trigger: str
) -> None:
    agent.wrap_until = None
    if agent.removed:
        agent_to(state, agent, AgentTrigger.LOGOUT, now, out, "removed_from_config")
        after_logout(state, agent, now, out)
    elif agent.pending_reason is not None:
        reason, agent.pending_reason = agent.pending_reason, None
        agent_to(state, agent, AgentTrigger.WRAPUP_ENDED_PAUSED, now, out, "pending_pause", reason)
    else:
        agent_to(state, agent, AgentTrigger.WRAPUP_ENDED, now, out, trigger)
        route_agent(state, agent, now, out)
