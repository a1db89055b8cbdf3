"""Taking a state-machine transition of an agent or a call, and recording it as a command.

The tables live in ``acd.core.agent_state`` and ``acd.core.call_state``. A call record may be
created in its first state (an arrival without IVR, recovery); every later change of an agent's
or a call's state goes through here.
"""

from __future__ import annotations

from acd.core.agent_state import AgentState, AgentTrigger, next_agent_state
from acd.core.call_state import CallState, check_call_transition
from acd.core.commands import AgentStateChanged, CallStateChanged, Command
from acd.core.records import AgentRecord, CallRecord
from acd.core.routing.eligibility import refresh_agent
from acd.core.routing.state import RoutingState


def agent_to(
    state: RoutingState,
    agent: AgentRecord,
    trigger: AgentTrigger,
    now: float,
    out: list[Command],
    cause: str,
    reason: str | None = None,
) -> None:
    """Take the transition ``trigger`` (raises if the table forbids it) and record it."""
    target = next_agent_state(agent.agent_id, agent.state, trigger)
    old = agent.state
    agent.state = target
    agent.reason = (reason or "not_ready") if target is AgentState.NOT_READY else None
    agent.since = now
    if target is AgentState.READY:
        agent.idle_since = now
    out.append(
        AgentStateChanged(agent.agent_id, old, target, agent.reason, now, cause, agent.call_id)
    )
    refresh_agent(state, agent)


def call_to(
    call: CallRecord,
    target: CallState,
    now: float,
    out: list[Command],
    trigger: str,
    agent_ids: tuple[str, ...] = (),
) -> None:
    check_call_transition(call.call_id, call.state, target, trigger)
    old = call.state
    call.state = target
    call.since = now
    out.append(CallStateChanged(call.call_id, old, target, call.queue, now, trigger, agent_ids))
