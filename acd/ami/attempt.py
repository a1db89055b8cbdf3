"""A ring attempt (one ring of one agent for one call) and its lifecycle: one transition
table keyed by (state, trigger); an illegal transition raises.

An attempt is an Originate with our ChannelId, or a ring ahead from the caller's own
Dial() (keyed ``claim-<token>`` until its leg's Uniqueid is seen). AMI events may come
twice or late: the runtime asks ``accepts`` before it moves an attempt on such an event,
and ``advance`` raises only where the runtime itself got the order wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class AttemptState(StrEnum):
    PENDING = "pending"  # asked for, no leg seen yet
    RINGING = "ringing"  # the agent's leg exists
    ANSWERED = "answered"  # the agent picked up and talks to the caller
    CANCELLED = "cancelled"  # the ACD gave up on it: its leg is hung up on sight
    DONE = "done"  # over; kept a while to recognise late events


class AttemptTrigger(StrEnum):
    LEG_SEEN = "leg_seen"  # Newchannel, or the claimed leg of a ring ahead bound
    ANSWER = "answer"  # OriginateResponse Success, or the leg's BridgeEnter
    ANSWER_UNWANTED = "answer_unwanted"  # answered a call no longer offered to it
    RING_FAILED = "ring_failed"  # OriginateResponse Failure, or AcdRingAheadEnded
    CANCEL = "cancel"  # the router's CancelRing, or a ring a resync did not want
    LEG_HUNG_UP = "leg_hung_up"
    # a resync sees what Asterisk has, whatever the runtime believed before
    RESYNC_ANSWERED = "resync_answered"
    RESYNC_RINGING = "resync_ringing"
    RESYNC_ABANDONED = "resync_abandoned"  # alive but of no recovered call: hung up
    RESYNC_GONE = "resync_gone"


_S = AttemptState
_T = AttemptTrigger

ATTEMPT_TRANSITIONS: Mapping[tuple[AttemptState, AttemptTrigger], AttemptState] = {
    (_S.PENDING, _T.LEG_SEEN): _S.RINGING,
    (_S.PENDING, _T.ANSWER): _S.ANSWERED,  # the leg's Newchannel may come after the answer
    (_S.RINGING, _T.ANSWER): _S.ANSWERED,
    (_S.ANSWERED, _T.ANSWER_UNWANTED): _S.CANCELLED,
    (_S.PENDING, _T.RING_FAILED): _S.DONE,
    (_S.RINGING, _T.RING_FAILED): _S.DONE,
    (_S.PENDING, _T.CANCEL): _S.CANCELLED,
    (_S.RINGING, _T.CANCEL): _S.CANCELLED,
    (_S.PENDING, _T.LEG_HUNG_UP): _S.DONE,
    (_S.RINGING, _T.LEG_HUNG_UP): _S.DONE,
    (_S.ANSWERED, _T.LEG_HUNG_UP): _S.DONE,
    (_S.CANCELLED, _T.LEG_HUNG_UP): _S.DONE,
    **{(state, _T.RESYNC_ANSWERED): _S.ANSWERED for state in _S},
    **{(state, _T.RESYNC_RINGING): _S.RINGING for state in _S},
    **{(state, _T.RESYNC_ABANDONED): _S.CANCELLED for state in _S if state is not _S.DONE},
    **{(state, _T.RESYNC_GONE): _S.DONE for state in _S},
}

# Not yet answered nor given up: the ring is still the ACD's to win or lose.
RINGING_STATES = frozenset({_S.PENDING, _S.RINGING})


class IllegalAttemptTransition(RuntimeError):
    def __init__(self, channel_id: str, state: AttemptState, trigger: AttemptTrigger) -> None:
        super().__init__(f"ring attempt {channel_id}: no transition from {state} on {trigger}")
        self.state = state
        self.trigger = trigger


def accepts(state: AttemptState, trigger: AttemptTrigger) -> bool:
    return (state, trigger) in ATTEMPT_TRANSITIONS


def next_attempt_state(
    channel_id: str, current: AttemptState, trigger: AttemptTrigger
) -> AttemptState:
    """The state ``trigger`` leads to from ``current``; raises IllegalAttemptTransition."""
    target = ATTEMPT_TRANSITIONS.get((current, trigger))
    if target is None:
        raise IllegalAttemptTransition(channel_id, current, trigger)
    return target


@dataclass(slots=True)
class Attempt:
    """One ring of one agent for one call, and what the runtime knows of its leg."""

    channel_id: str
    call_id: str
    agent_id: str
    state: AttemptState = AttemptState.PENDING
    channel: str = ""  # the agent leg's channel name once seen
    transferring: bool = False  # redirected out on purpose: its hangup is not a completion
    holding: bool = False
    transfer_target: str = ""  # set by attended_transfer until Asterisk reports the result
    ahead: bool = False  # rung by the caller's own Dial() (ring ahead)
    leg_cause: int | None = None  # a ring ahead's leg hung up unanswered (Q.850 cause)

    @property
    def ringing(self) -> bool:
        return self.state in RINGING_STATES

    @property
    def leg(self) -> str:
        """What names the agent leg in an action: its channel once seen, else our id."""
        return self.channel or self.channel_id

    def accepts(self, trigger: AttemptTrigger) -> bool:
        return accepts(self.state, trigger)

    def advance(self, trigger: AttemptTrigger) -> AttemptState:
        """Move on ``trigger``; returns the state it left (raises if illegal)."""
        previous = self.state
        self.state = next_attempt_state(self.channel_id, previous, trigger)
        return previous
