"""The agent state machine: one transition table keyed by (state, trigger); illegal raises.

Keying on the trigger as well as the state matters: "ready" from a ringing phone is not the
same thing as "the ring was cancelled", though both end in READY.
"""

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


class AgentTrigger(StrEnum):
    # requested by the agent (desktop, phone feature code)
    LOGIN = "login"
    LOGIN_PAUSED = "login_paused"
    READY = "ready"
    PAUSE = "pause"
    LOGOUT = "logout"
    # decided by the router or reported by the phone system
    OFFER = "offer"
    ANSWER = "answer"
    NO_ANSWER = "no_answer"  # ring timeout or ring failure: the agent is paused
    RING_CANCELLED = "ring_cancelled"  # not the agent's fault: back to ready
    CALL_ENDED = "call_ended"  # into wrap-up
    CALL_ENDED_NO_WRAPUP = "call_ended_no_wrapup"
    CALL_ENDED_PAUSED = "call_ended_paused"  # a pause was requested during the call
    WRAPUP_ENDED = "wrapup_ended"
    WRAPUP_ENDED_PAUSED = "wrapup_ended_paused"
    RECOVERED_ON_CALL = "recovered_on_call"  # rebuilt from Asterisk after a restart


_S = AgentState
_T = AgentTrigger

AGENT_TRANSITIONS: Mapping[tuple[AgentState, AgentTrigger], AgentState] = {
    (_S.LOGGED_OUT, _T.LOGIN): _S.READY,
    (_S.LOGGED_OUT, _T.LOGIN_PAUSED): _S.NOT_READY,
    (_S.NOT_READY, _T.READY): _S.READY,
    (_S.WRAP_UP, _T.READY): _S.READY,
    (_S.READY, _T.PAUSE): _S.NOT_READY,
    (_S.NOT_READY, _T.PAUSE): _S.NOT_READY,  # change of reason
    (_S.WRAP_UP, _T.PAUSE): _S.NOT_READY,
    (_S.RESERVED, _T.PAUSE): _S.NOT_READY,  # the ring is cancelled, the caller keeps its place
    (_S.READY, _T.LOGOUT): _S.LOGGED_OUT,
    (_S.NOT_READY, _T.LOGOUT): _S.LOGGED_OUT,
    (_S.WRAP_UP, _T.LOGOUT): _S.LOGGED_OUT,
    (_S.RESERVED, _T.LOGOUT): _S.LOGGED_OUT,
    (_S.READY, _T.OFFER): _S.RESERVED,
    (_S.RESERVED, _T.ANSWER): _S.ON_CALL,
    (_S.RESERVED, _T.NO_ANSWER): _S.NOT_READY,
    (_S.RESERVED, _T.RING_CANCELLED): _S.READY,
    (_S.ON_CALL, _T.CALL_ENDED): _S.WRAP_UP,
    (_S.ON_CALL, _T.CALL_ENDED_NO_WRAPUP): _S.READY,
    (_S.ON_CALL, _T.CALL_ENDED_PAUSED): _S.NOT_READY,
    (_S.WRAP_UP, _T.WRAPUP_ENDED): _S.READY,
    (_S.WRAP_UP, _T.WRAPUP_ENDED_PAUSED): _S.NOT_READY,
    (_S.LOGGED_OUT, _T.RECOVERED_ON_CALL): _S.ON_CALL,
    (_S.READY, _T.RECOVERED_ON_CALL): _S.ON_CALL,
    (_S.NOT_READY, _T.RECOVERED_ON_CALL): _S.ON_CALL,
}

# States in which an agent counts as staffing its queues (for estimated wait).
STAFFED_STATES = frozenset({_S.READY, _S.RESERVED, _S.ON_CALL, _S.WRAP_UP})


def next_agent_state(agent_id: str, current: AgentState, trigger: AgentTrigger) -> AgentState:
    """The state ``trigger`` leads to from ``current``; raises IllegalAgentTransition."""
    target = AGENT_TRANSITIONS.get((current, trigger))
    if target is None:
        raise IllegalAgentTransition(f"agent {agent_id}", current, "?", trigger)
    return target
