"""Handlers of the agent events: login, ready, pause, logout, wrap-up, contact, phone busy.

Agent-initiated events (login, ready, pause, logout, wrap-up) that the agent state machine
forbids raise ``IllegalAgentTransition`` (unknown or removed agents ``UnknownAgent``, a pause
reason not configured ``UnknownNotReadyReason``) and change nothing. A pause asked for during
a call is kept pending until the call and its wrap-up end (a ready during the call cancels
it); a pause or logout while ringing cancels the ring and the caller keeps its place. Contact
and phone facts about an unknown agent produce ``EventIgnored``.
"""

from __future__ import annotations

from acd.core.agent_state import AgentState, AgentTrigger
from acd.core.commands import Command, EventIgnored
from acd.core.errors import IllegalAgentTransition, UnknownAgent, UnknownNotReadyReason
from acd.core.events import (
    AgentLoggedIn,
    AgentLoggedOut,
    AgentPaused,
    AgentReady,
    ContactStatusChanged,
    PhoneBusyChanged,
    WrapUpDone,
    WrapUpExtended,
)
from acd.core.records import AgentRecord
from acd.core.routing.eligibility import refresh_agent
from acd.core.routing.offers import route_agent
from acd.core.routing.overflow import after_logout
from acd.core.routing.requeue import withdraw_offer
from acd.core.routing.state import RoutingState
from acd.core.routing.transitions import agent_to
from acd.core.routing.wrapup import end_wrapup, schedule_wrapup


def known_agent(state: RoutingState, agent_id: str) -> AgentRecord:
    agent = state.agents.get(agent_id)
    if agent is None or (agent.removed and agent.state is AgentState.LOGGED_OUT):
        raise UnknownAgent(agent_id)
    return agent


def _check_reason(state: RoutingState, reason: str) -> None:
    if state.reasons is not None and reason != "no_answer" and reason not in state.reasons:
        raise UnknownNotReadyReason(reason, state.reasons)


def on_login(state: RoutingState, event: AgentLoggedIn, now: float, out: list[Command]) -> None:
    agent = known_agent(state, event.agent_id)
    if agent.removed:
        raise UnknownAgent(event.agent_id)
    if event.not_ready_reason is not None:
        _check_reason(state, event.not_ready_reason)
    paused = event.not_ready_reason is not None
    trigger = AgentTrigger.LOGIN_PAUSED if paused else AgentTrigger.LOGIN
    agent_to(state, agent, trigger, now, out, "login", event.not_ready_reason)
    route_agent(state, agent, now, out)


def on_ready(state: RoutingState, event: AgentReady, now: float, out: list[Command]) -> None:
    agent = known_agent(state, event.agent_id)
    if agent.state is AgentState.ON_CALL:
        if agent.pending_reason is None:
            raise IllegalAgentTransition(
                f"agent {agent.agent_id}", agent.state, AgentState.READY, "ready"
            )
        agent.pending_reason = None  # cancels the pause requested during the call
        return
    agent_to(state, agent, AgentTrigger.READY, now, out, "ready")
    agent.wrap_until = None
    agent.pending_reason = None
    route_agent(state, agent, now, out)


def on_paused(state: RoutingState, event: AgentPaused, now: float, out: list[Command]) -> None:
    agent = known_agent(state, event.agent_id)
    reason = event.reason or "not_ready"
    _check_reason(state, reason)
    if agent.state is AgentState.ON_CALL:
        agent.pending_reason = reason
        return
    previous = agent.state
    call_id = agent.call_id
    agent_to(state, agent, AgentTrigger.PAUSE, now, out, "paused", reason)
    agent.wrap_until = None
    agent.pending_reason = None
    if previous is AgentState.RESERVED and call_id is not None:
        withdraw_offer(state, agent, call_id, now, out, "agent_paused")


def on_logout(state: RoutingState, event: AgentLoggedOut, now: float, out: list[Command]) -> None:
    agent = known_agent(state, event.agent_id)
    previous = agent.state
    call_id = agent.call_id
    agent_to(state, agent, AgentTrigger.LOGOUT, now, out, "logout")
    agent.pending_reason = None
    agent.wrap_until = None
    if previous is AgentState.RESERVED and call_id is not None:
        withdraw_offer(state, agent, call_id, now, out, "agent_logged_out")
    after_logout(state, agent, now, out)


def on_wrapup_done(state: RoutingState, event: WrapUpDone, now: float, out: list[Command]) -> None:
    agent = known_agent(state, event.agent_id)
    if agent.state is not AgentState.WRAP_UP:
        raise IllegalAgentTransition(
            f"agent {agent.agent_id}", agent.state, AgentState.READY, "wrapup_done"
        )
    end_wrapup(state, agent, now, out, "wrapup_done")


def on_wrapup_extended(
    state: RoutingState, event: WrapUpExtended, now: float, out: list[Command]
) -> None:
    agent = known_agent(state, event.agent_id)
    if agent.state is not AgentState.WRAP_UP or agent.wrap_until is None:
        raise IllegalAgentTransition(
            f"agent {agent.agent_id}", agent.state, AgentState.WRAP_UP, "wrapup_extend"
        )
    if not (event.seconds > 0 and event.seconds < float("inf")):
        raise ValueError(f"wrap-up extension must be a positive number, got {event.seconds!r}")
    agent.wrap_until += event.seconds
    schedule_wrapup(state, agent, out)


def on_contact(
    state: RoutingState, event: ContactStatusChanged, now: float, out: list[Command]
) -> None:
    agent = state.agents.get(event.agent_id)
    if agent is None:
        out.append(EventIgnored(event, "not an agent's contact"))
        return
    agent.reachable = event.reachable
    if not event.reachable and agent.state is AgentState.RESERVED and agent.call_id is not None:
        call_id = agent.call_id
        agent_to(state, agent, AgentTrigger.RING_CANCELLED, now, out, "contact_unreachable")
        withdraw_offer(state, agent, call_id, now, out, "contact_unreachable")
    refresh_agent(state, agent)
    route_agent(state, agent, now, out)


def on_phone_busy(
    state: RoutingState, event: PhoneBusyChanged, now: float, out: list[Command]
) -> None:
    agent = state.agents.get(event.agent_id)
    if agent is None:
        out.append(EventIgnored(event, "not an agent's phone"))
        return
    agent.phone_busy = event.busy
    refresh_agent(state, agent)
    route_agent(state, agent, now, out)
