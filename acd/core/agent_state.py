"""The agent state machine: one transition table, illegal transitions raise."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from acd.core.errors import IllegalAgentTransition


class AgentState(StrEnum):
    LOGGED_OUT = "logged_out"
    READY = "ready"
    RESERVED = "reserved"  # a call is offered: the phone is ringing
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"
    NOT_READY = "not_ready"  # with a reason (break, lunch, no_answer, ...)


_S = AgentState

AGENT_TRANSITIONS: Mapping[AgentState, frozenset[AgentState]] = {
    _S.LOGGED_OUT: frozenset({_S.READY, _S.NOT_READY}),
    _S.READY: frozenset({_S.RESERVED, _S.NOT_READY, _S.LOGGED_OUT}),
    # RESERVED -> READY: the ring was cancelled through no fault of the agent
    # (caller hung up, another agent answered a ring-all call, contact lost).
    _S.RESERVED: frozenset({_S.ON_CALL, _S.READY, _S.NOT_READY, _S.LOGGED_OUT}),
    # ON_CALL -> READY / NOT_READY when the queue has no wrap-up time.
    _S.ON_CALL: frozenset({_S.WRAP_UP, _S.READY, _S.NOT_READY}),
    _S.WRAP_UP: frozenset({_S.READY, _S.NOT_READY, _S.LOGGED_OUT}),
    _S.NOT_READY: frozenset({_S.READY, _S.NOT_READY, _S.LOGGED_OUT}),
}

# States in which an agent counts as staffing its queues (for estimated wait).
STAFFED_STATES = frozenset({_S.READY, _S.RESERVED, _S.ON_CALL, _S.WRAP_UP})


def check_agent_transition(
    agent_id: str, current: AgentState, target: AgentState, trigger: str
) -> None:
    """Raise :class:`IllegalAgentTransition` unless ``current -> target`` is in the table."""
    if target not in AGENT_TRANSITIONS[current]:
        raise IllegalAgentTransition(f"agent {agent_id}", current, target, trigger)
