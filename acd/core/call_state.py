"""The call state machine and call outcomes: one transition table, illegal transitions raise."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from acd.core.errors import IllegalCallTransition


class CallState(StrEnum):
    IVR = "ivr"
    QUEUED = "queued"
    OFFERED = "offered"  # ringing one agent (or several, ring-all)
    CONNECTED = "connected"
    ENDED = "ended"


class CallOutcome(StrEnum):
    """Exactly one per call, carried by the ``CallEnded`` command."""

    ANSWERED = "answered"  # connected to an agent and completed
    ABANDONED_QUEUE = "abandoned_queue"  # caller hung up while waiting
    ABANDONED_RINGING = "abandoned_ringing"  # caller hung up while an agent was rung
    ENDED_IN_IVR = "ended_in_ivr"  # caller left (or the IVR finished) before queueing
    OVERFLOW_VOICEMAIL = "overflow_voicemail"
    CALLBACK_REQUESTED = "callback_requested"  # a callback entry keeps the caller's place
    TRANSFERRED = "transferred"  # transferred out of the ACD after connection
    MAX_WAIT = "max_wait"  # waited the queue's max_wait; the caller is disconnected
    SYSTEM_FAILURE = "system_failure"  # unknown queue, lost on recovery, ...


_S = CallState

CALL_TRANSITIONS: Mapping[CallState, frozenset[CallState]] = {
    _S.IVR: frozenset({_S.QUEUED, _S.ENDED}),
    _S.QUEUED: frozenset({_S.OFFERED, _S.ENDED}),
    _S.OFFERED: frozenset({_S.CONNECTED, _S.QUEUED, _S.ENDED}),
    _S.CONNECTED: frozenset({_S.QUEUED, _S.ENDED}),  # -> QUEUED: transferred to a queue
    _S.ENDED: frozenset(),
}


def check_call_transition(
    call_id: str, current: CallState, target: CallState, trigger: str
) -> None:
    """Raise :class:`IllegalCallTransition` unless ``current -> target`` is in the table."""
    if target not in CALL_TRANSITIONS[current]:
        raise IllegalCallTransition(f"call {call_id}", current, target, trigger)
